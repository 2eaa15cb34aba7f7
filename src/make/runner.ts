/**
 * Runs a plugin's Makefile with the real GNU make (legacy plugins): no shell in between,
 * DESTDIR passed both ways make reads it, output streamed by line, a timeout that kills the
 * whole process group (make's children included).
 */
import type { AmiConfig } from "../asterisk/ami-url.js";
import { TaskFailure } from "../model/diagnostic.js";
import type { CapturedRunOp } from "../model/plan.js";
import { childEnv, findOnPath, runProcess, type ContainedPrograms } from "../util/process.js";
import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseMakefile } from "./parse.js";

export type MakeStream = "stdout" | "stderr";

export interface RunMakeOptions {
  /** Staging root: passed as DESTDIR=<dir> on the command line and in the environment. */
  destdir?: string;
  timeoutMs?: number;
  /** Environment for make (scrubbed here); PATH is searched for make in it. */
  env: Readonly<Record<string, string | undefined>>;
  onLine?: (stream: MakeStream, line: string) => void;
  /** How many last lines to keep in the result (default 20). */
  keepLines?: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  killGraceMs?: number;
  /** The AMI settings, for a plugin that declares `needs: [ami]` (see childEnv). */
  ami?: AmiConfig;
  /** Runs make through another program (the overlay capture's namespace): the command to run instead. */
  wrap?: (command: string[]) => Promise<string[]>;
  /** Aborting it stops make and what it started (its process group). */
  signal?: AbortSignal;
  /** The run's contained programs. */
  programs?: ContainedPrograms;
}

export interface MakeRun {
  ok: boolean;
  notFound?: false;
  exitCode: number | null;
  signal: string | null;
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

const MAKEFILE_NAMES: readonly string[] = ["GNUmakefile", "makefile", "Makefile"]; // GNU make's search order

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

export { findOnPath };

export async function runMake(pluginDir: string, target: string, opts: RunMakeOptions): Promise<MakeResult> {
  // A target like "-f x" or "VAR=1" would be read by make as an option or a variable.
  if (!/^[A-Za-z0-9_.\/][^=\s]*$/.test(target)) throw new Error(`invalid make target: ${JSON.stringify(target)}`);
  const env = makeEnv(opts);
  const make = findOnPath("make", env.PATH);
  if (!make) return { ok: false, notFound: true, message: `make not found on PATH (${env.PATH ?? "unset"}); install GNU make to run Makefile plugins` };
  const args = [target];
  if (opts.destdir !== undefined) args.push(`DESTDIR=${env.DESTDIR}`);
  const command = [make, ...args];
  if (!isDirectory(pluginDir)) return startFailure(command, `plugin folder not found: ${pluginDir}`);
  const r = await runProcess(opts.wrap ? await opts.wrap(command) : command, {
    cwd: pluginDir,
    env,
    timeoutMs: opts.timeoutMs,
    killGraceMs: opts.killGraceMs,
    onLine: opts.onLine,
    tailLines: opts.keepLines,
    contain: true,
    programs: opts.programs,
    signal: opts.signal,
  });
  return { ok: r.ok, exitCode: r.exitCode, signal: r.signal, timedOut: r.timedOut, lines: r.tail, durationMs: r.durationMs, command, error: r.error };
}

/**
 * The executor's captured run of a Makefile plugin: `make TARGET` in its folder, DESTDIR set
 * under --root, for at most 10 minutes; a make not found or failing throws a `make-failed`
 * TaskFailure with the last lines it printed.
 */
export async function runCaptured(op: CapturedRunOp, opts: Pick<RunMakeOptions, "ami" | "env" | "programs" | "signal" | "onLine">): Promise<void> {
  const r = await runMake(op.dir, op.target, { ...opts, destdir: op.destdir, timeoutMs: 10 * 60_000 });
  if (r.notFound) throw new TaskFailure("make-failed", r.message, [], undefined, { command: `make ${op.target}` });
  const facts = { command: `make ${op.target}`, exitStatus: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) };
  if (!r.ok)
    throw new TaskFailure(
      "make-failed",
      `make ${op.target} failed (${r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`})${r.lines.length ? `; last lines:\n    ${r.lines.slice(-5).join("\n    ")}` : ""}`,
      [],
      undefined,
      facts,
    );
}

function makeEnv(opts: RunMakeOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = childEnv(opts.env, {}, opts.ami);
  // Started from inside another make, these would pass its jobserver and variables down.
  for (const name of ["MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"]) delete env[name];
  if (opts.destdir !== undefined) env.DESTDIR = opts.destdir === "" ? "" : resolve(opts.destdir);
  return env;
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
