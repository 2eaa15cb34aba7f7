/**
 * Where the AMI settings come from, highest first: command-line flags, WAZO_TASKS_AMI_URL
 * (ami://user:secret@host:port), then <root>/etc/wazo-tasks/config.yml. The secret is read from
 * a file or the URL and never printed.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import { issuesToDiagnostics, yamlLocator } from "../load/validate.js";
import { parseYaml } from "../load/yaml.js";
import { readLimited } from "../util/read-limited.js";

import type { AmiConfig } from "./ami-url.js";

/** AMI settings as resolved, with where they came from (for messages). */
export interface AmiSettings extends AmiConfig {
  /** Where the settings came from, for messages. */
  origin: string;
}

export interface AmiFlags {
  amiHost?: string;
  amiPort?: number;
  amiUser?: string;
  amiSecretFile?: string;
}

export const configPath = (root: string) => path.join(root, "etc/wazo-tasks/config.yml");

async function readSecretFile(file: string, origin: string): Promise<string> {
  await stat(file).catch((e: NodeJS.ErrnoException) => {
    throw invalid(`cannot read the AMI secret file ${file} (${e.code ?? "error"}), named by ${origin}`);
  });
  const text = await readLimited(file, { what: "secret files", hint: `the file named by ${origin} holds the AMI secret only` });
  return text.replace(/\r?\n$/, "");
}

export function parseAmiUrlSafe(url: string): Omit<AmiSettings, "origin"> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid("WAZO_TASKS_AMI_URL is not a valid URL", [], "use ami://USER:SECRET@HOST:PORT");
  }
  if (u.protocol !== "ami:" || !u.username) throw invalid("WAZO_TASKS_AMI_URL must look like ami://USER:SECRET@HOST:PORT");
  return {
    host: u.hostname || "127.0.0.1",
    port: u.port ? Number(u.port) : 5038,
    username: decodeURIComponent(u.username),
    secret: decodeURIComponent(u.password),
  };
}

/** The AMI settings in force, or undefined when none are configured. */
export async function resolveAmiSettings(flags: AmiFlags, env: Readonly<Record<string, string | undefined>>, root: string): Promise<AmiSettings | undefined> {
  const fromFile = await readConfig(root);
  const url = env.WAZO_TASKS_AMI_URL ? parseAmiUrlSafe(env.WAZO_TASKS_AMI_URL) : undefined;
  const flagged = flags.amiHost || flags.amiPort || flags.amiUser || flags.amiSecretFile;
  if (!flagged && !url && !fromFile) return undefined;
  const base = url ?? fromFile;
  const username = flags.amiUser ?? base?.username;
  if (!username) throw invalid("AMI user not set", [], "pass --ami-user, or set WAZO_TASKS_AMI_URL");
  let secret = base?.secret;
  if (flags.amiSecretFile) secret = await readSecretFile(flags.amiSecretFile, "--ami-secret-file");
  if (secret === undefined) throw invalid("AMI secret not set", [], "pass --ami-secret-file FILE (the file holds the secret)");
  return {
    host: flags.amiHost ?? base?.host ?? "127.0.0.1",
    port: flags.amiPort ?? base?.port ?? 5038,
    username,
    secret,
    origin: flagged ? "command-line flags" : url ? "WAZO_TASKS_AMI_URL" : configPath(root),
  };
}

/** The text of the configuration file, undefined when there is none; refused (exit 2, file named)
 * when it is not a regular file or is over 1 MB. The market address is read from it too. */
export const readConfigText = (root: string): Promise<string | undefined> =>
  readLimited(configPath(root), { what: "configuration files", hint: "config.yml holds the ami: and market: settings only (docs/ami.md)", optional: true });

async function readConfig(root: string): Promise<Omit<AmiSettings, "origin"> | undefined> {
  const file = configPath(root);
  const text = await readConfigText(root);
  if (text === undefined) return undefined;
  const parsed = parseYaml(text, file);
  if (!parsed.ok) throw invalid("invalid configuration file", withoutSecrets([parsed.diagnostic]));
  // zod is loaded only when there is a configuration file to check.
  const { ConfigSchema } = await import("./config-schema.js");
  const r = ConfigSchema.safeParse(parsed.doc.value ?? {});
  if (!r.success)
    throw invalid("invalid configuration file", withoutSecrets(issuesToDiagnostics(r.error, parsed.doc.value, ConfigSchema, [], yamlLocator(parsed.doc))));
  const ami = r.data.ami;
  if (!ami) return undefined;
  const secret = ami.secret_file
    ? await readSecretFile(path.isAbsolute(ami.secret_file) ? path.join(root, ami.secret_file) : path.join(path.dirname(file), ami.secret_file), file)
    : ami.secret;
  if (secret === undefined) throw invalid(`${file}: ami needs secret_file (or secret)`);
  return { host: ami.host, port: ami.port, username: ami.username, secret };
}

/** The configuration file holds the secret: its errors name the line but never show it, nor a
 * value found under a secret key. */
function withoutSecrets(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.map(({ source: _source, ...d }) =>
    /"secret[^"]*"/.test(d.message) ? { ...d, message: d.message.replace(/, not .*$/s, " (its value is not shown)") } : d,
  );
}
