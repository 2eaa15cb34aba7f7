/**
 * Picks the transport for a run: an injected control, AMI when configured, `asterisk -rx` when an
 * `asterisk` executable is on PATH, else nothing (skipped under --root; refused otherwise, before
 * any change).
 */
import { invalid } from "../model/diagnostic.js";
import { which } from "../util/process.js";
import { noAsterisk, rxControl, type AsteriskControl } from "./control.js";
import { parseAmiUrl, type AmiConfig } from "./ami-url.js";
import { resolveAmiSettings, type AmiFlags, type AmiSettings } from "./settings.js";

/**
 * How a library call reaches Asterisk: an `ami://user:secret@host:port` URL, an AmiConfig (what
 * parseAmiUrl returns), or "auto": the `--ami-*` flags, WAZO_TASKS_AMI_URL, the root's
 * etc/wazo-tasks/config.yml, then `asterisk` on PATH, as the command line does.
 */
export type AmiOption = "auto" | (string & {}) | AmiConfig;

/** Environment variables, as the process has them. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface ConnectOptions {
  ami?: AmiSettings;
  /** True under --root. */
  staging: boolean;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** Where to look for `asterisk`; none: not looked for. */
  envPath?: string;
}

/** The AMI settings a library call asked for (as controlFor reads them), or undefined when it
 * gave none: nothing is read from the environment unless `ami` is "auto" (then `env`, handed
 * down by the entry point: none, no variable set). */
export async function amiSettingsFor(o: { ami?: AmiOption; amiFlags?: AmiFlags; env?: Environment }, root: string): Promise<AmiConfig | undefined> {
  if (o.ami === undefined) return undefined;
  if (o.ami === "auto") return resolveAmiSettings(o.amiFlags ?? {}, o.env ?? {}, root);
  return typeof o.ami === "string" ? parseAmiUrl(o.ami) : o.ami;
}

/** The control a library call asked for: nothing is read from the environment unless `ami` is
 * "auto" (then `env`, with the PATH `asterisk` is looked up on, handed down by the entry point). */
export async function controlFor(
  o: { ami?: AmiOption; amiFlags?: AmiFlags; env?: Environment; amiLog?: (line: string) => void },
  root: string,
  staging: boolean,
): Promise<AsteriskControl> {
  if (o.ami === "auto") {
    const env = o.env ?? {};
    return connectAsterisk({ ami: await resolveAmiSettings(o.amiFlags ?? {}, env, root), staging, log: o.amiLog, envPath: env.PATH ?? "" });
  }
  if (o.ami === undefined) {
    if (staging) return noAsterisk("no `ami` option given (staging root)");
    throw invalid(
      "this run needs to reload Asterisk, but no `ami` option was given",
      [],
      'pass ami: "ami://USER:SECRET@127.0.0.1:5038", an AmiConfig, or "auto" to read the environment as the command line does (docs/api.md), or noReload: true',
    );
  }
  const config = typeof o.ami === "string" ? parseAmiUrl(o.ami) : o.ami;
  const origin = (config as Partial<AmiSettings>).origin ?? "the ami option";
  return connectAsterisk({ ami: { ...config, origin }, staging, log: o.amiLog });
}

export async function connectAsterisk(opts: ConnectOptions): Promise<AsteriskControl> {
  if (opts.ami) {
    const { amiControl } = await import("./ami-control.js");
    return amiControl(opts.ami, { log: opts.log, timeoutMs: opts.timeoutMs });
  }
  const exe = opts.envPath === undefined ? undefined : await which("asterisk", opts.envPath);
  if (exe) return rxControl(exe);
  if (opts.staging) return noAsterisk("no AMI configured and no asterisk on PATH (staging root)");
  throw invalid(
    "this run needs to reload Asterisk, but no AMI is configured and no asterisk executable is on PATH",
    [],
    "set WAZO_TASKS_AMI_URL=ami://USER:SECRET@127.0.0.1:5038 or pass --ami-user/--ami-secret-file (see docs/ami.md), or pass --no-reload",
  );
}
