/**
 * Expected failures are values. A Diagnostic says what is wrong and where (file:line:col); a
 * TaskFailure carries diagnostics and the exit code the CLI ends with.
 */

/** A problem with a place in a file. `line`/`col` are 1-based; absent when only the file is known. */
export interface Diagnostic {
  severity: "error" | "warning";
  file: string;
  line?: number;
  col?: number;
  /** Characters to underline from `col`. */
  length?: number;
  message: string;
  /** What to do about it. */
  hint?: string;
  /** The source text, to show the offending line. */
  source?: string;
  /** Files to show a diff of (what is installed vs. what would replace it); read before printing. */
  diffWith?: { installed: string; incoming: string; display: string };
  /** The unified diff, once read. */
  diff?: string;
}

/**
 * Why a run stopped, told apart by `reason`. Each maps to one exit code:
 * - `invalid`: bad arguments, metadata or descriptor, unknown plugin, refused conflict (exit 2).
 * - `runtime`: failed while applying; everything was rolled back (exit 1).
 * - `handler`: files applied, but a reload, restart or verification failed (exit 3).
 */
export type FailureReason = "invalid" | "runtime" | "handler";

export const EXIT_CODES: Record<FailureReason, number> = { invalid: 2, runtime: 1, handler: 3 };

/** Thrown for expected failures so deep code can stop a run; the CLI prints it without a stack. */
export class TaskFailure extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly hint?: string,
  ) {
    super(message);
    this.name = "TaskFailure";
  }
}

export function invalid(message: string, diagnostics: Diagnostic[] = [], hint?: string): TaskFailure {
  return new TaskFailure("invalid", message, diagnostics, hint);
}

export function isTaskFailure(e: unknown): e is TaskFailure {
  return e instanceof TaskFailure;
}

/** Line and column (1-based) of an offset in a text. */
export function positionOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}
