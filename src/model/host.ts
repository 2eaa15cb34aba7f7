/**
 * What a run needs from the process it runs in, handed down as a value: the command line reads
 * it from `process` (src/cli/), a library call gets this process's by default. Nothing below
 * the command line reads `process` for these.
 */
export interface Host {
  /** The environment plugin programs (make, `run:`, wazo/rules) start from; wazo-tasks' own
   * settings are removed before they see it. */
  env: Readonly<Record<string, string | undefined>>;
  /** The process id written in the journal and the lock. */
  pid: number;
  /**
   * Told `true` when the file changes start (a stop must then be rolled back) and `false` once
   * the run's apply has ended. The command line turns SIGINT and SIGTERM into an abort of the
   * run's signal only in between; otherwise they end the process as they always do.
   */
  catchSignals?: (on: boolean) => void;
  /**
   * Told of a run's contained programs when the run opens; the function it returns is called
   * when the run closes. The command line kills what is left of the open runs' programs when
   * the process exits (a library caller's process relies on the supervisors' lifelines).
   */
  trackPrograms?: (programs: { kill(signal: "SIGKILL"): void }) => () => void;
}
