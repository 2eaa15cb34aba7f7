/**
 * Running a program: an argument list (never a shell string built by us), a timeout that kills
 * the whole process group (children included), output streamed line by line and the last lines
 * kept for the error message.
 */
import type { spawn as Spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// node:child_process (with net, dgram, streams) is loaded on the first spawn, not by every run
// that imports this module (a dry run never spawns).
const requireBuiltin = createRequire(import.meta.url);
const spawn: typeof Spawn = ((...a: Parameters<typeof Spawn>) => (requireBuiltin("node:child_process") as typeof import("node:child_process")).spawn(...a)) as typeof Spawn;

export interface ProcessResult {
  command: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The last lines of stdout and stderr, interleaved as they came. */
  tail: string[];
  durationMs: number;
  ok: boolean;
  /** Set when the program could not be started at all. */
  error?: string;
}

export type Stream = "stdout" | "stderr";

export interface RunOptions {
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  killGraceMs?: number;
  onLine?: (stream: Stream, line: string) => void;
  tailLines?: number;
}

/** Absolute path of an executable found on PATH, or null. Empty PATH entries are skipped. */
export function findOnPath(name: string, pathVar: string | undefined = process.env.PATH): string | null {
  const candidates = name.includes("/") ? [name] : (pathVar ?? "").split(path.delimiter).filter(Boolean).map((d) => path.join(d, name));
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // missing or not executable: keep looking, as the shell would
    }
  }
  return null;
}

/** The executable `name` as found on PATH, or undefined. */
export async function which(name: string, envPath = process.env.PATH ?? ""): Promise<string | undefined> {
  return findOnPath(name, envPath) ?? undefined;
}

export function runProcess(argv: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const started = Date.now();
  const tail: string[] = [];
  const keep = opts.tailLines ?? 20;
  const onLine = (stream: Stream, line: string) => {
    tail.push(line);
    if (tail.length > keep) tail.shift();
    opts.onLine?.(stream, line);
  };
  return new Promise((resolve) => {
    // detached: the program leads its own process group, so a timeout can kill its children too.
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    readLines(child.stdout, "stdout", onLine);
    readLines(child.stderr, "stderr", onLine);
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // the group is already gone
      }
    };
    if (opts.timeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup("SIGTERM");
          timers.push(setTimeout(() => killGroup("SIGKILL"), opts.killGraceMs ?? 2000));
        }, opts.timeoutMs),
      );
    let settled = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      resolve({ command: argv, exitCode, signal, timedOut, tail, durationMs: Date.now() - started, ok: exitCode === 0 && !timedOut && !error, error });
    };
    child.on("error", (e) => finish(null, null, `cannot run ${argv[0]}: ${(e as NodeJS.ErrnoException).code ?? e.message}`));
    child.on("close", (code, signal) => finish(code, signal));
    // A daemon started by the program may keep our pipes open after it exits: stop reading then.
    child.on("exit", () => {
      const t = setTimeout(() => [child.stdout, child.stderr].forEach((s) => s.destroy()), 500);
      t.unref();
      timers.push(t);
    });
  });
}

function readLines(stream: NodeJS.ReadableStream, name: Stream, onLine: (stream: Stream, line: string) => void): void {
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

/** One line describing how a process ended, for error messages. */
export function describeExit(r: ProcessResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return `timed out after ${r.durationMs} ms`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
