/**
 * The AMI transport: one connection per run, shared by reloads, `asterisk` steps and
 * verifications. Connects lazily on first use (the preflight, before any change).
 */
import { AsteriskError, type AsteriskControl } from "./control.js";
import { AmiError, createAmiClient, type AmiClient } from "./ami-client.js";
import type { AmiSettings } from "./settings.js";

export function amiControl(settings: AmiSettings, opts: { log?: (line: string) => void; timeoutMs?: number } = {}): AsteriskControl {
  let client: Promise<AmiClient> | undefined;
  const facts = { ami: { user: settings.username, host: settings.host, port: settings.port } };
  const get = () =>
    (client ??= createAmiClient(
      {
        host: settings.host,
        port: settings.port,
        username: settings.username,
        secret: settings.secret,
        timeoutMs: opts.timeoutMs ?? settings.timeoutMs,
        actionTimeoutMs: settings.actionTimeoutMs,
      },
      { log: opts.log },
    ).catch((e: Error) => {
      throw new AsteriskError(`${e.message} (AMI settings from ${settings.origin})`, e instanceof AmiError ? e.reason : "ami-unreachable", facts);
    }));
  const wrap = async <T>(what: string, f: (c: AmiClient) => Promise<T>): Promise<T> => {
    const c = await get();
    try {
      return await f(c);
    } catch (e) {
      throw new AsteriskError(`${what}: ${(e as Error).message}`, e instanceof AmiError ? e.reason : "ami-failed", facts);
    }
  };
  return {
    transport: "ami",
    reload: (module) => wrap(`reload ${module}`, (c) => c.reload(module)),
    command: (cli) => wrap(`asterisk '${cli}'`, (c) => c.command(cli)),
    hasExtension: (extension, context) => wrap(`verify ${extension}@${context}`, (c) => c.dialplanHasExtension(extension, context)),
    preflight: (actions) => wrap("AMI permissions", (c) => c.checkPermissions(actions)),
    async close() {
      if (client) await (await client.catch(() => undefined))?.close();
    },
  };
}
