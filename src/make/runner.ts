/**
 * Runs a plugin's Makefile with the real GNU make (legacy plugins): no shell in between,
 * DESTDIR passed both ways make reads it, output streamed by line, a timeout that kills the
 * whole process group (make's children included).
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { parseMakefile } from "./parse.js";

export type MakeStream = "stdout" | "stderr";

export interface RunMakeOptions {
  /** Staging root: passed as DESTDIR=<dir> on the command line and in the environment. */
  destdir?: string;
  timeoutMs?: number;
  /** Environment for make (default: this process's); PATH is searched for make in it. */
  env?: NodeJS.ProcessEnv;
  onLine?: (stream: MakeStream, line: string) => void;
  /** How many last lines to keep in the result (default 20). */
  keepLines?: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  killGraceMs?: number;
}

export interface MakeRun {
  ok: boolean;
  notFound?: false;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last lines of stdout and stderr, interleaved as they came. */
  lines: string[];
  durationMs: number;
  /** make's path and arguments, for messages. */
  command: string[];
  /** Set when make could not be started at all. */
  error?: string;
}

export interface MakeNotFound {
  ok: false;
  notFound: true;
  message: string;
}

export type MakeResult = MakeRun | MakeNotFound;

const MAKEFILE_NAMES = ["GNUmakefile", "makefile", "Makefile"]; // GNU make's search order

/** The Makefile make would read in dir, or null. */
export function findMakefile(dir: string): string | null {
  for (const name of MAKEFILE_NAMES) {
    const path = join(dir, name);
    if (isFile(path)) return path;
  }
  return null;
}

/** Explicit targets of a Makefile, in order (special and pattern targets left out). */
export function makefileTargets(text: string): string[] {
  return parseMakefile(text).targets.filter((t) => !t.includes("%"));
}

/** Absolute path of an executable found on PATH, or null. Empty PATH entries are skipped. */
export function findOnPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    try {
      if (isFile(candidate)) {
        accessSync(candidate, constants.X_OK);
        return candidate;
      }
    } catch {
      // not executable: keep looking, as the shell would
    }
  }
  return null;
}

export async function runMake(pluginDir: string, target: string, opts: RunMakeOptions = {}): Promise<MakeResult> {
  // A target like "-f x" or "VAR=1" would be read by make as an option or a variable.
  if (!/^[A-Za-z0-9_.\/][^=\s]*$/.test(target)) throw new Error(`invalid make target: ${JSON.stringify(target)}`);
  const env = makeEnv(opts);
  const make = findOnPath("make", env.PATH);
  if (!make) return { ok: false, notFound: true, message: `make not found on PATH (${env.PATH ?? "unset"}); install GNU make to run Makefile plugins` };
  const args = [target];
  if (opts.destdir !== undefined) args.push(`DESTDIR=${env.DESTDIR}`);
  const command = [make, ...args];
  if (!isDirectory(pluginDir)) return startFailure(command, `plugin folder not found: ${pluginDir}`);
  return spawnMake(command, pluginDir, env, opts);
}

function makeEnv(opts: RunMakeOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(opts.env ?? process.env) };
  // Started from inside another make, these would pass its jobserver and variables down.
  for (const name of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[name];
  if (opts.destdir !== undefined) env.DESTDIR = opts.destdir === "" ? "" : resolve(opts.destdir);
  return env;
}

function spawnMake(command: string[], cwd: string, env: NodeJS.ProcessEnv, opts: RunMakeOptions): Promise<MakeRun> {
  const started = Date.now();
  const keep = opts.keepLines ?? 20;
  const lines: string[] = [];
  let timedOut = false;
  return new Promise((done) => {
    // detached: make leads its own process group, so a timeout can kill its children too.
    const child = spawn(command[0], command.slice(1), { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const onLine = (stream: MakeStream, line: string) => {
      lines.push(line);
      if (lines.length > keep) lines.shift();
      opts.onLine?.(stream, line);
    };
    readLines(child.stdout, "stdout", onLine);
    readLines(child.stderr, "stderr", onLine);
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    const timers: NodeJS.Timeout[] = [];
    if (opts.timeoutMs !== undefined) {
      timers.push(setTimeout(() => {
        timedOut = true;
        killGroup("SIGTERM");
        timers.push(setTimeout(() => killGroup("SIGKILL"), opts.killGraceMs ?? 2000));
      }, opts.timeoutMs));
    }
    let settled = false;
    const finish = (result: Omit<MakeRun, "lines" | "durationMs" | "command" | "timedOut">) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      done({ ...result, timedOut, lines, durationMs: Date.now() - started, command });
    };
    child.on("error", (err) => finish({ ok: false, exitCode: null, signal: null, error: err.message }));
    child.on("close", (code, signal) => finish({ ok: code === 0 && !timedOut, exitCode: code, signal }));
    // A daemon started by a recipe may keep our pipes open after make exits: stop reading then.
    child.on("exit", () => {
      const t = setTimeout(() => [child.stdout, child.stderr].forEach((s) => s.destroy()), 500);
      t.unref();
      timers.push(t);
    });
  });
}

function readLines(stream: NodeJS.ReadableStream, name: MakeStream, onLine: (stream: MakeStream, line: string) => void): void {
  let buffer = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop() ?? "";
    for (const p of parts) onLine(name, p.replace(/\r$/, ""));
  });
  stream.on("end", () => {
    if (buffer !== "") onLine(name, buffer);
    buffer = "";
  });
}

function startFailure(command: string[], error: string): MakeRun {
  return { ok: false, exitCode: null, signal: null, timedOut: false, lines: [], durationMs: 0, command, error };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
