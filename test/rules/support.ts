/** Helpers for the wazo-plugind (wazo/plugin.yml + wazo/rules) tests. */
import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { access, cp, mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { FIXTURE_BIN, REPO, tempDir, type Snapshot } from "../support/rig.js";

export const RULES_FIXTURES = path.join(REPO, "test/fixtures/wazo-plugins");
export const fixture = (name: string) => path.join(RULES_FIXTURES, name);

/** The environment of a run: the recording stand-ins first on PATH, no Wazo version, python3 "installed". */
export function rulesEnv(calls: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, WAZO_TEST_CALLS: calls, WAZO_VERSION: "", FAKE_DPKG_INSTALLED: "python3", ...extra };
}

/** The calls recorded by the stand-ins, as "program arg...". */
export async function readCalls(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { argv: string[] }).argv)
    .map((argv) => `${/^-[a-z]*x$/.test(argv[0] ?? "") ? "asterisk" : argv.includes("-W") ? "dpkg-query" : "systemctl"} ${argv.join(" ")}`);
}

/** The calls other than dpkg-query's. */
export const actions = async (file: string) => (await readCalls(file)).filter((c) => !c.startsWith("dpkg-query"));

/** A snapshot without the state folder of wazo-tasks (and the folders only it needed). */
export function withoutState(s: Snapshot): Snapshot {
  const out = new Map([...s].filter(([k]) => !k.startsWith("var/lib/wazo-tasks")));
  for (const d of ["var/lib/", "var/"]) if (![...out.keys()].some((k) => k !== d && k.startsWith(d))) out.delete(d);
  return out;
}

/** A copy of a fixture plugin in `dir` (to change it). */
export async function copyFixture(name: string, dir: string): Promise<string> {
  const to = path.join(dir, name);
  await mkdir(dir, { recursive: true });
  await cp(fixture(name), to, { recursive: true });
  return to;
}

/**
 * What an admin gets by running the rules by hand, as wazo-plugind does: the targets in a copy of
 * the plugin folder, `package` with pkgdir set. Returns the pkgdir.
 */
export async function byHand(plugin: string, targets: string[]): Promise<string> {
  const dir = await tempDir("wt-hand-");
  const copy = path.join(dir, "plugin");
  const pkgdir = path.join(dir, "pkgdir");
  await cp(plugin, copy, { recursive: true });
  await mkdir(pkgdir);
  const executable = await access(path.join(copy, "wazo/rules"), constants.X_OK).then(
    () => true,
    () => false,
  );
  const shebang = (await readFile(path.join(copy, "wazo/rules"), "utf8")).split("\n")[0].slice(2).trim();
  for (const t of targets) {
    const r = spawnSync(executable ? "./wazo/rules" : shebang, executable ? [t] : ["wazo/rules", t], {
      cwd: copy,
      env: { ...process.env, pkgdir },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`wazo/rules ${t} by hand: ${r.stderr}`);
  }
  return pkgdir;
}
