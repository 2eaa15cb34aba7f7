/**
 * Running a program: an argument list (never a shell string built by us), a timeout that kills
 * the whole process group (children included), output streamed line by line and the last lines
 * kept for the error message.
 */
import type { ChildProcess, spawn as Spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { createRequire } from "node:module";
import { constants as osConstants } from "node:os";
import path from "node:path";

// node:child_process (with net, dgram, streams) is loaded on the first spawn, not by every run
// that imports this module (a dry run never spawns).
const requireBuiltin = createRequire(import.meta.url);
const spawn: typeof Spawn = ((...a: Parameters<typeof Spawn>) =>
  (requireBuiltin("node:child_process") as typeof import("node:child_process")).spawn(...a)) as typeof Spawn;

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

type Env = Readonly<Record<string, string | undefined>>;

export interface RunOptions {
  cwd?: string;
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 2000 ms). */
  killGraceMs?: number;
  onLine?: (stream: Stream, line: string) => void;
  tailLines?: number;
  /**
   * Plugin code (make, `run:`, wazo/rules): started under a supervisor that kills the whole
   * process group when this process dies, even by SIGKILL; what the program left running is
   * killed when it exits; killChildren() stops it.
   */
  contain?: boolean;
  /**
   * With `contain`, as root on Linux: the program also runs in its own PID namespace (util-linux
   * `unshare`), so the kernel kills whatever it started, `setsid` included, when it ends or when
   * this process dies. Off for a program that sets up its own namespace.
   */
  pidNamespace?: boolean;
}

/** Absolute path of an executable found on PATH, or null. Empty PATH entries are skipped. */
export function findOnPath(name: string, pathVar: string | undefined = process.env.PATH): string | null {
  const candidates = name.includes("/")
    ? [name]
    : (pathVar ?? "")
        .split(path.delimiter)
        .filter(Boolean)
        .map((d) => path.join(d, name));
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
    const env = opts.env ?? process.env;
    if (opts.contain && !findOnPath(argv[0], env.PATH)) {
      resolve({ command: argv, exitCode: null, signal: null, timedOut: false, tail, durationMs: 0, ok: false, error: `cannot run ${argv[0]}: ENOENT` });
      return;
    }
    const ns = opts.contain && opts.pidNamespace !== false ? pidNamespace() : undefined;
    // In the namespace the program is not its first process (which would ignore signals it has no handler for).
    const run = ns ? [...ns, "/bin/sh", "-c", '"$@" & wait $!', "wazo-tasks-init", ...argv] : argv;
    // detached: the program leads its own process group, so a timeout can kill its children too.
    const child: ChildProcess = opts.contain
      ? spawn("/bin/sh", ["-c", SUPERVISOR, "wazo-tasks-supervisor", ...run], {
          cwd: opts.cwd,
          env,
          stdio: ["ignore", "pipe", "pipe", "pipe"],
          detached: true,
        })
      : spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    if (opts.contain && child.pid) live.add(child.pid);
    readLines(child.stdout!, "stdout", onLine);
    readLines(child.stderr!, "stderr", onLine);
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
    child.on("close", (code, signal) => {
      const [c, s] = opts.contain ? fromSupervisor(code, signal) : [code, signal];
      finish(c, s);
    });
    // A daemon started by the program may keep our pipes open after it exits: stop reading then.
    child.on("exit", () => {
      if (opts.contain && child.pid) {
        // Nothing plugin code started outlives it.
        killGroup("SIGKILL");
        live.delete(child.pid);
        child.stdio[3]?.destroy();
      }
      const t = setTimeout(() => [child.stdout, child.stderr].forEach((s) => s?.destroy()), 500);
      t.unref();
      timers.push(t);
    });
  });
}

/**
 * The supervisor (POSIX sh, so nothing to install): runs the program with the lifeline (fd 3, a
 * socket whose other end only this process holds) closed, and a watcher that reads the lifeline
 * and kills the whole process group when it reaches end of file, which the kernel makes happen
 * when this process dies, however it dies. When the program exits, whatever it left in the group
 * gets SIGTERM (the supervisor ignores it) and its exit code is passed on.
 */
const SUPERVISOR = [
  '"$@" 3<&- &',
  "pid=$!",
  "{ read -r _ <&3; kill -KILL 0; } </dev/null >/dev/null 2>&1 &",
  "exec 3<&-",
  'wait "$pid"; rc=$?',
  "trap '' TERM",
  "kill -TERM 0 2>/dev/null",
  'exit "$rc"',
].join("\n");

/** A program killed by a signal shows through the supervisor as exit code 128 + n. */
function fromSupervisor(code: number | null, signal: NodeJS.Signals | null): [number | null, NodeJS.Signals | null] {
  if (code === null || code <= 128) return [code, signal];
  const name = Object.entries(osConstants.signals).find(([, n]) => n === code - 128)?.[0] as NodeJS.Signals | undefined;
  return name ? [null, name] : [code, signal];
}

// Process groups of contained programs still running.
const live = new Set<number>();
process.on("exit", () => killChildren("SIGKILL"));

let unshareArgv: string[] | null | undefined;
/** `unshare --pid --fork --kill-child` when this process may use it (root on Linux), else undefined. */
function pidNamespace(): string[] | undefined {
  if (unshareArgv === undefined) {
    const unshare = process.platform === "linux" && process.getuid?.() === 0 ? findOnPath("unshare") : null;
    unshareArgv = unshare ? [unshare, "--pid", "--fork", "--kill-child"] : null;
  }
  return unshareArgv ?? undefined;
}

/** Sends `signal` to every contained program's process group (on rollback, SIGINT, SIGTERM). */
export function killChildren(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): void {
  for (const pid of live) {
    try {
      process.kill(-pid, signal);
    } catch {
      live.delete(pid); // the group is gone
    }
  }
}

/**
 * The environment plugin code gets: this process's, without wazo-tasks' own settings (the AMI
 * URL holds a secret) nor anything naming AMI. `ami`, for a plugin that declares `needs: [ami]`:
 * the run's AMI settings, one variable each (no URL to decode, whatever the secret holds).
 */
export function childEnv(
  env: Env = process.env,
  extra: Env = {},
  ami?: { host: string; port: number; username: string; secret: string },
): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) if (!/^WAZO_TASKS_|(^|_)AMI(_|$)/i.test(k)) out[k] = v;
  const granted = ami
    ? { WAZO_TASKS_AMI_HOST: ami.host, WAZO_TASKS_AMI_PORT: String(ami.port), WAZO_TASKS_AMI_USER: ami.username, WAZO_TASKS_AMI_SECRET: ami.secret }
    : {};
  return { ...out, ...extra, ...granted };
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
