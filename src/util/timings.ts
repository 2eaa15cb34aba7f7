/**
 * Time spent in each phase of a run, for the summary (`timings`, ms) and `-v`: what makes a slow
 * PBX explainable without a profiler. Phases not reached stay at 0.
 */
import { PHASES, type Timings } from "../model/event.js";
export type { Timings };
export type Phase = keyof Timings;
export { PHASES };

export class PhaseTimer {
  private readonly ms: Timings = { load: 0, plan: 0, lock: 0, apply: 0, reload: 0, dialplanCheck: 0 };

  /** Runs `fn`, adding its wall time to `phase` (also when it throws). */
  async time<T>(phase: Phase, fn: () => Promise<T>): Promise<T> {
    // process.hrtime, not performance.now(): the `performance` global loads perf_hooks.
    const t = process.hrtime.bigint();
    try {
      return await fn();
    } finally {
      this.ms[phase] += Number(process.hrtime.bigint() - t) / 1e6;
    }
  }

  /** Whole milliseconds, like `durationMs`. */
  result(): Timings {
    const out = { ...this.ms };
    for (const p of PHASES) out[p] = Math.round(out[p]);
    return out;
  }
}
