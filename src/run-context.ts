/**
 * One run's context: the root resolved once, where events go, the Asterisk connection opened
 * on first use and closed at the end, the phase timer; and the lock with a recovered root.
 */
import path from "node:path";
import { acquireLock, type Lock } from "./apply/lock.js";
import { recoverRoot } from "./apply/recover.js";
import { systemctlControl, type AsteriskControl } from "./asterisk/control.js";
import { controlFor } from "./asterisk/connect.js";
import type { Emit } from "./model/event.js";
import type { CaptureSession } from "./make/capture.js";
import type { Stagings } from "./rules/stage.js";
import type { InternalRunOptions, RunOptions } from "./run-options.js";
import { readPending } from "./state/manifest.js";
import { PhaseTimer } from "./util/timings.js";

const DEFAULT_LOCK_TIMEOUT = 10_000;

export type RunContext = ReturnType<typeof openRunContext>;

/** The root `opts` name, resolved (default "/"). */
export const rootOf = (opts: Pick<RunOptions, "root">) => path.resolve(opts.root ?? "/");

export function openRunContext(opts: RunOptions, emit: Emit) {
  let control: Promise<AsteriskControl> | undefined;
  let stagings: Promise<Stagings> | undefined;
  let captures: Promise<CaptureSession> | undefined;
  const root = rootOf(opts);
  return {
    root,
    /** The run's staging folders for plugin builds, made on first use and removed by close(). */
    stagings: () => (stagings ??= import("./rules/stage.js").then((m) => new m.Stagings())),
    /** The run's make captures: their temporary folders are removed by close(). */
    captures: () => (captures ??= import("./make/capture.js").then((m) => new m.CaptureSession())),
    asterisk: () => (control ??= opts.asterisk ? Promise.resolve(opts.asterisk) : controlFor(opts, root, root !== "/")),
    services: async () => opts.services ?? systemctlControl(),
    async close() {
      if (control && !opts.asterisk) await (await control.catch(() => undefined))?.close();
      if (stagings) await (await stagings).release();
      if (captures) await (await captures).release();
    },
    emit,
    timer: new PhaseTimer(),
  };
}

/** Runs `body` with the lock and a recovered root, or without either in a dry run. */
export async function underLock<T>(opts: RunOptions, ctx: Pick<RunContext, "root" | "emit" | "timer">, body: () => Promise<T>): Promise<T> {
  const { emit, root } = ctx;
  if (opts.dryRun) return body();
  let lock: Lock | undefined;
  try {
    await ctx.timer.time("lock", async () => {
      lock = await acquireLock(root, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT, {
        pid: ((opts as InternalRunOptions).host ?? { pid: process.pid }).pid,
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
