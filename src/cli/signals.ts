/**
 * The process a command's run is in, as a value for the library: its environment, its pid, and
 * SIGINT/SIGTERM as the abort of the run's signal. Signals are caught only while the run asks
 * (its file changes and what follows them, until the apply ends), so the run can roll back
 * rather than die with its journal open; at any other time they end the process as usual.
 * And the one exit hook of the process: what the open runs' contained programs left running is
 * killed when the process exits (src/util/process.ts, ContainedPrograms).
 */
import type { Host } from "../model/host.js";

export function hostProcess(): { host: Host; signal: AbortSignal } {
  const controller = new AbortController();
  // The signal's name is the abort's reason: the run says "interrupted by SIGTERM".
  const onSignal = (name: NodeJS.Signals) => controller.abort(name);
  let holds = 0;
  const open = new Set<{ kill(signal: "SIGKILL"): void }>();
  let hooked = false;
  return {
    signal: controller.signal,
    host: {
      env: process.env,
      pid: process.pid,
      catchSignals(on) {
        holds += on ? 1 : -1;
        if (on && holds === 1) process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
        else if (!on && holds === 0) process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
      },
      trackPrograms(programs) {
        if (!hooked) process.on("exit", () => open.forEach((p) => p.kill("SIGKILL")));
        hooked = true;
        open.add(programs);
        return () => open.delete(programs);
      },
    },
  };
}
