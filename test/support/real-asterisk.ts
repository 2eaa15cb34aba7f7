/**
 * The real Asterisk instance that scripts/test-asterisk.mjs started for test/real-asterisk/:
 * its folder (laid out by ../shared/asterisk/instance.sh, usable as `--root`), its AMI URL, and
 * helpers to run CLI commands, reset its dialplan and read what it loaded and logged.
 */
import { spawnSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseDialplanShow, type Shown } from "./dialplan-show.js";

export type { Loaded, Shown } from "./dialplan-show.js";

const dir = process.env.WAZO_TASKS_TEST_ASTERISK_DIR;
const port = process.env.WAZO_TASKS_TEST_AMI_PORT;
if (!dir || !port) throw new Error("test/real-asterisk runs only through `npm run test:asterisk` (scripts/test-asterisk.mjs)");

export const ROOT = dir;
export const AMI_PORT = Number(port);
export const ETC = path.join(ROOT, "etc/asterisk");
export const EXTRA = path.join(ETC, "extensions_extra.d");
export const LOG = path.join(ROOT, "var/log/asterisk/messages");
export const amiUrl = (user = "wazo", secret = "wazosecret") => `ami://${user}:${secret}@127.0.0.1:${AMI_PORT}`;

/** What instance.sh ships in extensions_extra.d (kept, so the folder is never empty). */
export const EXAMPLE_CONF =
  "; An example subroutine, as a Wazo server ships one in this folder.\n[pre-example]\nexten = s,1,NoOp(example subroutine)\nsame  =   n,Return()\n";

/** One CLI command through `DIR/rx`; its output. */
export function rx(command: string): string {
  const r = spawnSync(path.join(ROOT, "rx"), [command], { encoding: "utf8", timeout: 30_000 });
  if (r.status !== 0) throw new Error(`rx '${command}' failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function startAsterisk(): void {
  const r = spawnSync(path.join(ROOT, "start"), [], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`start failed: ${r.stderr}`);
}

export function stopAsterisk(): void {
  spawnSync(path.join(ROOT, "stop"), [], { encoding: "utf8", timeout: 60_000 });
}

/** Puts the instance back as instance.sh laid it out: only example.conf, no wazo-tasks state. */
export async function resetInstance(): Promise<void> {
  for (const f of await readdir(EXTRA)) await rm(path.join(EXTRA, f), { recursive: true, force: true });
  await writeFile(path.join(EXTRA, "example.conf"), EXAMPLE_CONF);
  await rm(path.join(ROOT, "var/lib/wazo-tasks"), { recursive: true, force: true });
  await rm(path.join(ROOT, "var/backups"), { recursive: true, force: true });
  await restoreExtensionsConf();
  rx("dialplan reload");
}

let extensionsConf: string | undefined;
/** Remembers extensions.conf before a test breaks it; resetInstance puts it back. */
export async function saveExtensionsConf(): Promise<string> {
  extensionsConf ??= await readFile(path.join(ETC, "extensions.conf"), "utf8");
  return extensionsConf;
}
async function restoreExtensionsConf(): Promise<void> {
  if (extensionsConf !== undefined) await writeFile(path.join(ETC, "extensions.conf"), extensionsConf);
}

/** The size of the log now, to read what a reload logged afterwards. */
export async function logMark(): Promise<number> {
  return (await stat(LOG)).size;
}

/**
 * Log lines written since `mark`. Asterisk's logger writes from its own thread, so this waits
 * until the log has stopped growing for 150 ms first.
 */
export async function logSince(mark: number): Promise<string[]> {
  for (let size = -1, now = (await stat(LOG)).size; size !== now;) {
    size = now;
    await new Promise((r) => setTimeout(r, 150));
    now = (await stat(LOG)).size;
  }
  const text = (await readFile(LOG)).subarray(mark).toString("utf8");
  return text.split("\n").filter(Boolean);
}

/** Parses the whole `dialplan show`. */
export function dialplanShow(): Shown {
  return parseDialplanShow(rx("dialplan show"));
}

/** Writes files into extensions_extra.d. */
export async function putExtra(files: Record<string, string | Buffer>): Promise<void> {
  await mkdir(EXTRA, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(EXTRA, name), content);
}
