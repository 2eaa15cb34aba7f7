/**
 * Evaluating tasks.ts outside this process: one child (src/load/tasks-child.ts) serves every
 * tasks.ts of a run, one file at a time, under a time limit. A file that exits the process,
 * crashes it or runs too long fails alone; the next file gets a fresh child. Each run has its
 * own evaluator (src/run-context.ts), stopped when the run ends.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { childEnv, findOnPath } from "../util/process.js";

export type TsResult = { ok: true; value: unknown; output: string[] } | { ok: false; message: string; line?: number; col?: number; output: string[] };

interface Job {
  id: number;
  file: string;
  done: (r: TsResult) => void;
  timer?: NodeJS.Timeout;
  /** The child evaluating it. */
  owner?: ChildProcess;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** The time limit `env` asks for (WAZO_TASKS_TS_TIMEOUT_MS), else 10 s. */
function timeoutMs(env: Readonly<Record<string, string | undefined>>): number {
  const v = Number(env.WAZO_TASKS_TS_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

export class TasksTsEvaluator {
  private child: ChildProcess | undefined;
  private busy: Job | undefined;
  private readonly queue: Job[] = [];
  private nextId = 1;
  private readonly ready = new WeakSet<ChildProcess>();
  private readonly limit: number;

  /** `env`: the environment of the process the run is in: the child gets it scrubbed (childEnv),
   * the time limit is read from it, and `setpriv` is looked up on its PATH. */
  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {
    this.limit = timeoutMs(env);
  }

  /** The default export of `file`, evaluated in the child. */
  evaluate(file: string): Promise<TsResult> {
    return new Promise((done) => {
      this.queue.push({ id: this.nextId++, file, done });
      this.pump();
    });
  }

  /** Kills the child, if any (the run is over, or the process exits). */
  stop(): void {
    const c = this.child;
    this.child = undefined;
    c?.kill("SIGKILL");
  }

  private pump(): void {
    if (this.busy) return;
    const job = this.queue.shift();
    if (!job) {
      this.idle();
      return;
    }
    this.busy = job;
    const c = this.child ?? this.start();
    job.owner = c;
    c.ref();
    (c.channel as { ref?: () => void } | undefined)?.ref?.();
    c.send({ id: job.id, file: job.file });
    // The limit is for the module, not for starting Node: it runs from the child's first word.
    if (this.ready.has(c)) this.arm(job);
  }

  private arm(job: Job): void {
    const limit = this.limit;
    job.timer = setTimeout(() => {
      this.stop();
      this.finish(job, { ok: false, message: `tasks.ts did not finish loading within ${limit / 1000} s (a loop that never ends, or a wait)`, output: [] });
    }, limit);
  }

  private finish(job: Job, r: TsResult): void {
    if (this.busy !== job) return;
    clearTimeout(job.timer);
    this.busy = undefined;
    job.done(r);
    this.pump();
  }

  private start(): ChildProcess {
    const here = new URL("../load/", import.meta.url);
    const js = fileURLToPath(new URL("tasks-child.js", here));
    // Run from the sources (tests through tsx): the .ts beside this file.
    const script = existsSync(js) ? [js] : ["--import", "tsx", fileURLToPath(new URL("tasks-child.ts", here))];
    // On Linux the child gets SIGKILL when this process dies, even by SIGKILL.
    const setpriv = process.platform === "linux" ? findOnPath("setpriv", this.env.PATH) : null;
    const argv = [...(setpriv ? [setpriv, "--pdeathsig", "KILL"] : []), process.execPath, ...script];
    const c = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "ignore", "ipc"], env: childEnv(this.env) });
    this.child = c;
    c.on("message", (m: ({ id: number } & TsResult) | { ready: true }) => {
      if ("ready" in m) {
        this.ready.add(c);
        if (this.busy?.owner === c && !this.busy.timer) this.arm(this.busy);
      } else if (this.busy?.id === m.id) this.finish(this.busy, m);
    });
    c.on("exit", (code, signal) => {
      if (this.child === c) this.child = undefined;
      if (this.busy?.owner === c)
        this.finish(this.busy, {
          ok: false,
          message: `the process loading tasks.ts ended (${signal ? `killed by ${signal}` : `exit code ${code}`})`,
          output: [],
        });
    });
    c.on("error", (e) => {
      if (this.child === c) this.child = undefined;
      if (this.busy?.owner === c) this.finish(this.busy, { ok: false, message: `cannot start the process loading tasks.ts: ${e.message}`, output: [] });
    });
    return c;
  }

  /** Between files the child does not keep this process alive. */
  private idle(): void {
    if (!this.child) return;
    this.child.unref();
    (this.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}
