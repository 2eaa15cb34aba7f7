/**
 * One run's context: the root resolved once, where events go, the Asterisk connection opened
 * on first use and closed at the end, the phase timer, the contained programs still running;
 * and the lock with a recovered root.
 */
import path from "node:path";
import { acquireLock, type Lock } from "./apply/lock.js";
import { recoverRoot } from "./apply/recover.js";
import { systemctlControl, type AsteriskControl } from "./asterisk/control.js";
import { controlFor } from "./asterisk/connect.js";
import type { Emit } from "./model/event.js";
import type { Host } from "./model/host.js";
import type { LoadContext } from "./load/plugin.js";
import type { TasksTsEvaluator } from "./load/tasks-ts.js";
import type { CaptureSession } from "./make/capture.js";
import type { Stagings } from "./rules/stage.js";
import type { RunOptions } from "./run-options.js";
import { readPending } from "./state/manifest.js";
import { ContainedPrograms } from "./util/process.js";
import { tempDirOf } from "./util/temp-dir.js";
import { PhaseTimer } from "./util/timings.js";

const DEFAULT_LOCK_TIMEOUT = 10_000;

export type RunContext = ReturnType<typeof openRunContext>;

/** The root `opts` name, resolved (default "/"). */
export const rootOf = (opts: Pick<RunOptions, "root">) => path.resolve(opts.root ?? "/");

/** `host`: the process the run is in (its environment and PATH with `ami: "auto"`, systemctl's
 * PATH, the pid of the lock), told of the run's programs while it is open. */
export function openRunContext(opts: RunOptions, emit: Emit, host: Host) {
  let control: Promise<AsteriskControl> | undefined;
  let stagings: Promise<Stagings> | undefined;
  let captures: Promise<CaptureSession> | undefined;
  const root = rootOf(opts);
  const programs = new ContainedPrograms(host.pid);
  const tasksTs = tasksTsLoading(host);
  const untrack = host.trackPrograms?.({
    kill(signal) {
      programs.kill(signal);
      tasksTs.stop();
    },
  });
  return {
    root,
    host,
    /** The contained programs of the run (make, `run:`, wazo/rules) while they run: what is left
     * of them is killed by close(), or by the command line if the process exits first. */
    programs,
    /** How the run loads folders: one tasks.ts evaluator for the run, stopped by close(). */
    loading: tasksTs.loading,
    /** The run's staging folders for plugin builds, made on first use and removed by close(). */
    stagings: () => (stagings ??= import("./rules/stage.js").then((m) => new m.Stagings(tempDirOf(host.env), programs))),
    /** The run's make captures: their temporary folders are removed by close(). */
    captures: () => (captures ??= import("./make/capture.js").then((m) => new m.CaptureSession(tempDirOf(host.env)))),
    asterisk: () => (control ??= opts.asterisk ? Promise.resolve(opts.asterisk) : controlFor({ ...opts, env: opts.env ?? host.env }, root, root !== "/")),
    services: async () => opts.services ?? systemctlControl(host.env.PATH),
    async close() {
      programs.kill("SIGKILL");
      tasksTs.stop();
      untrack?.();
      if (control && !opts.asterisk) await (await control.catch(() => undefined))?.close();
      if (stagings) await (await stagings).release();
      if (captures) await (await captures).release();
    },
    emit,
    timer: new PhaseTimer(),
  };
}

/** A LoadContext whose tasks.ts evaluator (src/load/tasks-ts.ts) starts on first use, and its stop. */
export function tasksTsLoading(host: Pick<Host, "env">): { loading: LoadContext; stop: () => void } {
  let evaluator: Promise<TasksTsEvaluator> | undefined;
  let made: TasksTsEvaluator | undefined;
  return {
    loading: {
      evaluateTs: async (file) => (await (evaluator ??= import("./load/tasks-ts.js").then((m) => (made = new m.TasksTsEvaluator(host.env))))).evaluate(file),
    },
    stop: () => made?.stop(),
  };
}

/** Runs `body` with the lock and a recovered root, or without either in a dry run. */
export async function underLock<T>(opts: RunOptions, ctx: Pick<RunContext, "root" | "emit" | "timer" | "host">, body: () => Promise<T>): Promise<T> {
  const { emit, root } = ctx;
  if (opts.dryRun) return body();
  let lock: Lock | undefined;
  try {
    await ctx.timer.time("lock", async () => {
      lock = await acquireLock(root, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT, {
        pid: ctx.host.pid,
        onWait: (pid) => emit({ type: "info", message: `waiting for the lock held by pid ${pid}` }),
      });
      await recoverRoot(root, emit);
      // A corrupt pending.json is refused now, not after the commit that would add to it.
      await readPending(root);
    });
    return await body();
  } finally {
    await lock?.release();
  }
}
