/**
 * Test rig: temp folders, the real compiled CLI run as a process, and a snapshot of a tree
 * (paths, bytes, modes, link targets) to assert that nothing else changed.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(fileURLToPath(new URL("../../", import.meta.url)));
export const CLI = path.join(REPO, "dist/cli/main.cjs");
export const EXAMPLES = path.join(REPO, "plugins-examples");
export const FIXTURE_BIN = path.join(REPO, "test/fixtures/bin");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export async function tempDir(prefix = "wt-"): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Runs `wazo-tasks ARGS` as a real process (the compiled CLI). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, NO_COLOR: "1", WAZO_TASKS_PLUGINS_PATH: "", WAZO_TASKS_AMI_URL: "", WAZO_TASKS_MARKET_URL: NO_MARKET, ...opts.env };
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? REPO, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses NDJSON output. */
export const events = (stdout: string) =>
  stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

export type Snapshot = Map<string, string>;

/** Every path under `dir` with its type, mode and content hash (or link target). */
export async function snapshot(dir: string): Promise<Snapshot> {
  const out: Snapshot = new Map();
  async function walk(rel: string) {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const r = path.join(rel, e.name);
      const p = path.join(dir, r);
      const st = await lstat(p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.set(r, `link ${await readlink(p)}`);
      else if (st.isDirectory()) {
        out.set(r + "/", `dir ${mode}`);
        await walk(r);
      } else if (!st.isFile())
        out.set(r, `special ${mode}`); // a FIFO is never read: that would block
      else
        out.set(
          r,
          `file ${mode} ${createHash("sha256")
            .update(await readFile(p))
            .digest("hex")}`,
        );
    }
  }
  await walk("");
  return out;
}

/** Writes files (path → content) under `dir`; returns `dir`. */
export async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<string> {
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, content);
  }
  return dir;
}

/** A plugin folder with package.yml and the given files. */
export async function makePlugin(parent: string, name: string, files: Record<string, string | Buffer>, meta?: string): Promise<string> {
  const dir = path.join(parent, name);
  await writeTree(dir, { "package.yml": meta ?? `name: ${name}\ndescription: test plugin ${name}\nversion: "1.0.0"\n`, ...files });
  return dir;
}

export async function makeExecutable(file: string, content: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  await chmod(file, 0o755);
}

export async function cleanup(...dirs: string[]): Promise<void> {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}

/** A PATH holding only the stand-ins in `binDir` plus what node and make need. */
export function pathWith(binDir: string, keepSystem = true): string {
  return keepSystem ? `${binDir}:${process.env.PATH}` : binDir;
}

/** No test reaches the public market: unless a test sets its own, the market is a missing file. */
export const NO_MARKET = "file:///nonexistent/wazo-tasks-test-market.json";

export const HELLO_CONF = "[xivo-extrafeatures]\nexten = ***42,1,Playback(hello-world)\nsame = n,Return()\n";
