/**
 * Test-only fault injection (WAZO_TASKS_FAULT, docs/architecture.md): `after` N file
 * operations, stop (an exception) or `kill` (SIGKILL); with `errno`, the N-th operation fails
 * with that error instead; with `rollbackAfter`, the rollback's M-th restore fails with
 * `rollbackErrno`.
 */
export interface Fault {
  after: number;
  kill: boolean;
  /** With `kill`: ends the process at once (the command line passes a SIGKILL of itself). */
  die?: () => void;
  errno?: string;
  rollbackAfter?: number;
  rollbackErrno?: string;
}
