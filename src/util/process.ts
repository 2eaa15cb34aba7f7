/**
 * Running a program: an argument list (never a shell string built by us), a timeout that kills
 * the whole process group (children included), output streamed line by line and the last lines
 * kept for the error message.
 */
import type { ChildProcess, spawn as Spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants, readdirSync, readFileSync, statSync } from "node:fs";
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
   * killed when it exits. Every process it starts, one that left the group with `setsid`
   * included, carries the run's token in its environment (`WAZO_TASKS_RUN`) and is found by it
   * in /proc and killed too (Linux).
   */
  contain?: boolean;
  /** With `contain`: the run's programs, which the program is one of while it runs (so that
   * what is left of them can be killed when the run ends, or the process exits). */
  programs?: ContainedPrograms;
  /**
   * With `contain`, as root on Linux: the program also runs in its own PID namespace (util-linux
   * `unshare`). Off unless asked: in a PID namespace a program cannot see or signal this
   * machine's processes by pid, so plugin code such as `kill -0 $(cat /run/asterisk/asterisk.pid)`
   * or a daemon's stop script would find nothing running and do nothing.
   */
  pidNamespace?: boolean;
  /** Aborting it stops the program: its whole process group gets SIGTERM, then SIGKILL after
   * `killGraceMs`. */
  signal?: AbortSignal;
}

/** Absolute path of an executable found on PATH, or null. Empty PATH entries are skipped. */
export function findOnPath(name: string, pathVar: string | undefined): string | null {
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

/** The executable `name` as found on `envPath` (a PATH value), or undefined. */
export async function which(name: string, envPath: string | undefined): Promise<string | undefined> {
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
    // No `env`: the program gets this process's environment, as spawn gives it.
    const env = opts.env;
    if (opts.contain && !findOnPath(argv[0], pathFor(env))) {
      resolve({ command: argv, exitCode: null, signal: null, timedOut: false, tail, durationMs: 0, ok: false, error: `cannot run ${argv[0]}: ENOENT` });
      return;
    }
    const ns = opts.contain && opts.pidNamespace === true ? pidNamespace(env) : undefined;
    // In the namespace the program is not its first process (which would ignore signals it has no handler for).
    const run = ns ? [...ns, "/bin/sh", "-c", '"$@" & wait $!', "wazo-tasks-init", ...argv] : argv;
    // detached: the program leads its own process group, so a timeout can kill its children too.
    const token = opts.contain ? (opts.programs?.token() ?? `${randomBytes(8).toString("hex")}`) : "";
    const child: ChildProcess = opts.contain
      ? spawn("/bin/sh", ["-c", SUPERVISOR, "wazo-tasks-supervisor", token, ...run], {
          cwd: opts.cwd,
          // The supervisor does not carry a token: only the program gets its own.
          env: { ...env, [TOKEN_VAR]: undefined },
          stdio: ["ignore", "pipe", "pipe", "pipe"],
          detached: true,
        })
      : spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    if (opts.contain && child.pid) opts.programs?.started(child.pid, token);
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
      if (token) sweep(token, signal, child.pid);
    };
    if (opts.timeoutMs !== undefined)
      timers.push(
        setTimeout(() => {
          timedOut = true;
          killGroup("SIGTERM");
          timers.push(setTimeout(() => killGroup("SIGKILL"), opts.killGraceMs ?? 2000));
        }, opts.timeoutMs),
      );
    const onAbort = () => {
      killGroup("SIGTERM");
      timers.push(setTimeout(() => killGroup("SIGKILL"), opts.killGraceMs ?? 2000));
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    let settled = false;
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: string) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      opts.signal?.removeEventListener("abort", onAbort);
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
        sweep(token, "SIGKILL", child.pid);
        opts.programs?.ended(child.pid);
        child.stdio[3]?.destroy();
      }
      const t = setTimeout(() => [child.stdout, child.stderr].forEach((s) => s?.destroy()), 500);
      t.unref();
      timers.push(t);
    });
  });
}

/**
 * The supervisor (POSIX sh, so nothing to install): takes the run's token first and runs the
 * program with it in the program's environment only and the lifeline (fd 3, a socket whose other
 * end only this process holds) closed, and a watcher that reads the lifeline and, when it reaches
 * end of file (the kernel makes that happen when this process dies, however it dies), kills every
 * process carrying the token, `setsid` or not, then the whole process group. When the program
 * exits, whatever it left in the group gets SIGTERM (the supervisor ignores it) and its exit code
 * is passed on.
 */
const TOKEN_VAR = "WAZO_TASKS_RUN";
const SUPERVISOR = [
  "tok=$1; shift",
  `${TOKEN_VAR}="$tok" "$@" 3<&- &`,
  "pid=$!",
  "{ read -r _ <&3",
  // One grep for all of /proc: a shell loop forking one per process is slow on a busy machine.
  `  for p in $(grep -lz "^${TOKEN_VAR}=$tok\$" /proc/[0-9]*/environ 2>/dev/null); do p=\${p#/proc/}; p=\${p%/environ}; [ "$p" = "$$" ] || kill -KILL "$p"; done`,
  "  kill -KILL 0; } </dev/null >/dev/null 2>&1 &",
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

/**
 * Sends `signal` to every process whose environment holds the run's token (a program started
 * with `setsid` has left the group but not the environment), a few rounds so that one forked
 * while looking is found too. Never this process nor the supervisor. Linux only: without a
 * readable /proc, nothing.
 */
function sweep(token: string, signal: NodeJS.Signals, supervisor?: number): void {
  const entry = Buffer.from(`\0${TOKEN_VAR}=${token}\0`);
  for (let round = 0; round < 5; round++) {
    let pids: string[];
    try {
      pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p));
    } catch {
      return;
    }
    let found = false;
    for (const p of pids) {
      const pid = Number(p);
      if (pid === process.pid || pid === supervisor) continue;
      try {
        const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${p}/environ`)]);
        if (!environ.includes(entry)) continue;
        process.kill(pid, signal);
        found = true;
      } catch {
        // gone, or not ours to read
      }
    }
    if (!found || signal !== "SIGKILL") return;
  }
}

/**
 * The PATH a program started with `env` is looked up on. No `env`: the program inherits this
 * process's environment, so the PATH is the one a shell started the same way sees (only direct
 * calls of runProcess without an environment come here; the pipeline always hands one down).
 */
function pathFor(env: Env | undefined): string | undefined {
  if (env) return env.PATH;
  const r = (requireBuiltin("node:child_process") as typeof import("node:child_process")).spawnSync("/bin/sh", ["-c", 'printf %s "$PATH"'], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout : undefined;
}

/** `unshare --pid --fork --kill-child` when this process may use it (root on Linux), else undefined. */
function pidNamespace(env: Env | undefined): string[] | undefined {
  const unshare = process.platform === "linux" && process.getuid?.() === 0 ? findOnPath("unshare", pathFor(env)) : null;
  return unshare ? [unshare, "--pid", "--fork", "--kill-child"] : undefined;
}

/**
 * The contained programs of one run still running, each process group with its token: made by
 * the run (src/run-context.ts), which kills what is left of them when it ends, and which the
 * command line asks to when the process exits while the run is open.
 */
export class ContainedPrograms {
  private readonly live = new Map<number, string>();
  private count = 0;
  /** `owner`: the process id the tokens start with (the run's host). */
  constructor(private readonly owner: number) {}

  /** A new token for a program of this run. */
  token(): string {
    return `${this.owner}-${++this.count}-${randomBytes(8).toString("hex")}`;
  }

  started(pid: number, token: string): void {
    this.live.set(pid, token);
  }

  ended(pid: number): void {
    this.live.delete(pid);
  }

  /** Sends `signal` to every running program's process group and to what carries its token. */
  kill(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): void {
    for (const [pid, token] of this.live) {
      try {
        process.kill(-pid, signal);
      } catch {
        this.live.delete(pid); // the group is gone
      }
      sweep(token, signal, pid);
    }
  }
}

/**
 * The environment plugin code gets: this process's, without wazo-tasks' own settings (the AMI
 * URL holds a secret) nor anything naming AMI. `ami`, for a plugin that declares `needs: [ami]`:
 * the run's AMI settings, one variable each (no URL to decode, whatever the secret holds).
 */
export function childEnv(
  env: Env,
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

/** Whether a process with this id runs (one of another user counts). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** One line describing how a process ended, for error messages. */
export function describeExit(r: ProcessResult): string {
  if (r.error) return r.error;
  if (r.timedOut) return `timed out after ${r.durationMs} ms`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
