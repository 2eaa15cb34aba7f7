/**
 * Evaluating tasks.ts outside this process: one child (src/load/tasks-child.ts) serves every
 * tasks.ts of a run, one file at a time, under a time limit. A file that exits the process,
 * crashes it or runs too long fails alone; the next file gets a fresh child.
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
let child: ChildProcess | undefined;
let busy: Job | undefined;
const queue: Job[] = [];
let nextId = 1;
const ready = new WeakSet<ChildProcess>();

/** The default export of `file`, evaluated in the child. */
export function evaluateTasksTs(file: string): Promise<TsResult> {
  return new Promise((done) => {
    queue.push({ id: nextId++, file, done });
    pump();
  });
}

function timeoutMs(): number {
  const v = Number(process.env.WAZO_TASKS_TS_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : DEFAULT_TIMEOUT_MS;
}

function pump(): void {
  if (busy) return;
  const job = queue.shift();
  if (!job) {
    idle();
    return;
  }
  busy = job;
  const c = child ?? start();
  job.owner = c;
  c.ref();
  (c.channel as { ref?: () => void } | undefined)?.ref?.();
  c.send({ id: job.id, file: job.file });
  // The limit is for the module, not for starting Node: it runs from the child's first word.
  if (ready.has(c)) arm(job);
}

function arm(job: Job): void {
  const limit = timeoutMs();
  job.timer = setTimeout(() => {
    stop();
    finish(job, { ok: false, message: `tasks.ts did not finish loading within ${limit / 1000} s (a loop that never ends, or a wait)`, output: [] });
  }, limit);
}

function finish(job: Job, r: TsResult): void {
  if (busy !== job) return;
  clearTimeout(job.timer);
  busy = undefined;
  job.done(r);
  pump();
}

function start(): ChildProcess {
  const here = new URL("../load/", import.meta.url);
  const js = fileURLToPath(new URL("tasks-child.js", here));
  // Run from the sources (tests through tsx): the .ts beside this file.
  const script = existsSync(js) ? [js] : ["--import", "tsx", fileURLToPath(new URL("tasks-child.ts", here))];
  // On Linux the child gets SIGKILL when this process dies, even by SIGKILL.
  const setpriv = process.platform === "linux" ? findOnPath("setpriv", process.env.PATH) : null;
  const argv = [...(setpriv ? [setpriv, "--pdeathsig", "KILL"] : []), process.execPath, ...script];
  const c = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "ignore", "ipc"], env: childEnv() });
  child = c;
  c.on("message", (m: ({ id: number } & TsResult) | { ready: true }) => {
    if ("ready" in m) {
      ready.add(c);
      if (busy?.owner === c && !busy.timer) arm(busy);
    } else if (busy?.id === m.id) finish(busy, m);
  });
  c.on("exit", (code, signal) => {
    if (child === c) child = undefined;
    if (busy?.owner === c)
      finish(busy, { ok: false, message: `the process loading tasks.ts ended (${signal ? `killed by ${signal}` : `exit code ${code}`})`, output: [] });
  });
  c.on("error", (e) => {
    if (child === c) child = undefined;
    if (busy?.owner === c) finish(busy, { ok: false, message: `cannot start the process loading tasks.ts: ${e.message}`, output: [] });
  });
  return c;
}

/** Between files the child does not keep this process alive. */
function idle(): void {
  if (!child) return;
  child.unref();
  (child.channel as { unref?: () => void } | undefined)?.unref?.();
}

function stop(): void {
  const c = child;
  child = undefined;
  c?.kill("SIGKILL");
}

process.on("exit", stop);
