/**
 * Expected failures are values. A Diagnostic says what is wrong and where (file:line:col); a
 * Failure says why a run stopped (`reason`), what to do (`hint`), the exit code, and the facts a
 * program needs (path, AMI user and host, the command and its exit status). A TaskFailure is
 * the thrown form, for deep code that has to stop a run.
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
 * Why a run (or an AMI operation) failed. Programs switch on it; docs/json-output.md lists them
 * with their exit codes. New reasons may be added within a JSON version: keep a default branch.
 */
export type FailureReason =
  /** Bad arguments, metadata, descriptor or configuration; unknown plugin (exit 2). */
  | "invalid-input"
  /** An `ami://` URL that cannot be read (exit 2). */
  | "invalid-url"
  /** A target belongs to another plugin or exists unowned (exit 2). */
  | "conflict"
  /** A file was changed by an admin since install; --force overwrites it (exit 2). */
  | "admin-edit"
  /** Asterisk refused the AMI login: wrong user or secret (exit 1). */
  | "ami-auth"
  /** The AMI user lacks a manager.conf permission an action needs (exit 1). */
  | "ami-permission"
  /** The AMI (or `asterisk -rx`) could not be reached, or the connection was lost (exit 1). */
  | "ami-unreachable"
  /** No AMI answer in time (exit 1). */
  | "ami-timeout"
  /** Asterisk answered an action with an error (a CLI command failed, an unknown action) (exit 1). */
  | "ami-failed"
  /** Files applied, but a reload, a restart or an `asterisk` command failed (exit 3). */
  | "reload-failed"
  /** Files applied and reloaded, but a `verify` step found an extension not as expected (exit 3). */
  | "verify-failed"
  /** A dialplan reload lost installed plugins' extensions; rolled back when this run caused it (exit 3). */
  | "dialplan-lost"
  /** `verify`: the disk or the loaded dialplan differs from the installed state (exit 1). */
  | "drift"
  /** A step failed while applying; every change was rolled back (exit 1). */
  | "apply-failed"
  /** `make` failed; rolled back (exit 1). */
  | "make-failed"
  /** A `run` step's program failed; rolled back (exit 1). */
  | "command-failed"
  /** A wazo-plugind `wazo/rules` step failed; rolled back (exit 1). */
  | "rules-failed"
  /** A git source could not be fetched: unreachable, no such ref, git missing; nothing changed (exit 2). */
  | "git-failed"
  /** The plugin market could not be read or is not a market list; nothing changed (exit 2). */
  | "market-failed"
  /** Another run holds the root's lock (exit 75). */
  | "lock-held"
  /** A file-system operation failed: not a folder, permission, read-only, disk full (exit 1). */
  | "io"
  /** Cancelled (AbortSignal, SIGINT, SIGTERM); rolled back (exit 1). */
  | "aborted"
  /** A bug in wazo-tasks (exit 70). */
  | "internal";

/** Every reason, in the order documented (for exhaustive tests and docs). */
export const FAILURE_REASONS = [
  "invalid-input",
  "invalid-url",
  "conflict",
  "admin-edit",
  "ami-auth",
  "ami-permission",
  "ami-unreachable",
  "ami-timeout",
  "ami-failed",
  "reload-failed",
  "verify-failed",
  "dialplan-lost",
  "drift",
  "apply-failed",
  "make-failed",
  "command-failed",
  "rules-failed",
  "git-failed",
  "market-failed",
  "lock-held",
  "io",
  "aborted",
  "internal",
] as const satisfies readonly FailureReason[];

/** The exit codes of wazo-tasks (docs/cli.md#exit-codes). */
export type ExitCode = 0 | 1 | 2 | 3 | 70 | 75;

/** Reasons of the first release, still accepted by TaskFailure: invalid (2), runtime (1), handler (3), lock (75). */
export type LegacyReason = "invalid" | "runtime" | "handler" | "lock";

const LEGACY: Record<LegacyReason, FailureReason> = { invalid: "invalid-input", runtime: "apply-failed", handler: "reload-failed", lock: "lock-held" };

/** The usual exit code of each reason; a failure may say otherwise (`reload` applies nothing: 1). */
export const EXIT_CODES: Record<FailureReason | LegacyReason, ExitCode> = {
  "invalid-input": 2,
  "invalid-url": 2,
  conflict: 2,
  "admin-edit": 2,
  "ami-auth": 1,
  "ami-permission": 1,
  "ami-unreachable": 1,
  "ami-timeout": 1,
  "ami-failed": 1,
  "reload-failed": 3,
  "verify-failed": 3,
  "dialplan-lost": 3,
  drift: 1,
  "apply-failed": 1,
  "make-failed": 1,
  "command-failed": 1,
  "rules-failed": 1,
  "git-failed": 2,
  "market-failed": 2,
  "lock-held": 75,
  io: 1,
  aborted: 1,
  internal: 70,
  invalid: 2,
  runtime: 1,
  handler: 3,
  lock: 75,
};

/** The facts of a failure, where they apply. */
export interface FailureFacts {
  /** The path concerned (on the PBX, or the real path under --root). */
  path?: string;
  /** The file-system call that failed (`mkdir`, `open`, `rename`…) and its error code (`ENOTDIR`…). */
  operation?: string;
  code?: string;
  /** The AMI user and where the manager is. */
  ami?: { user?: string; host: string; port: number };
  /** The command that failed (`make install`, a `run` step, a CLI command) and how it ended. */
  command?: string;
  exitStatus?: number | null;
  signal?: string;
  /** The plugin concerned. */
  plugin?: string;
}

/** Why a run failed: the `failure` of a RunSummary, of the JSON summary, of reload and verify results. */
export interface Failure extends FailureFacts {
  reason: FailureReason;
  /** One line: what went wrong. */
  message: string;
  /** What to do about it, when known. */
  hint?: string;
  /** The problems found, with file, line and column where they exist. */
  diagnostics: Diagnostic[];
  exitCode: ExitCode;
}

/** Thrown for expected failures so deep code can stop a run; turned into a Failure, never printed with a stack. */
export class TaskFailure extends Error {
  readonly reason: FailureReason;
  readonly exitCode: ExitCode;
  readonly facts: FailureFacts;

  constructor(
    reason: FailureReason | LegacyReason,
    message: string,
    readonly diagnostics: Diagnostic[] = [],
    readonly hint?: string,
    facts: FailureFacts & { exitCode?: ExitCode } = {},
  ) {
    super(message);
    this.name = "TaskFailure";
    const { exitCode, ...rest } = facts;
    this.reason = reason in LEGACY ? LEGACY[reason as LegacyReason] : (reason as FailureReason);
    this.exitCode = exitCode ?? EXIT_CODES[reason];
    this.facts = rest;
  }

  /** The failure as a plain value (what results and the JSON summary carry). */
  toFailure(): Failure {
    return {
      reason: this.reason,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      diagnostics: this.diagnostics,
      exitCode: this.exitCode,
      ...this.facts,
    };
  }
}

export function invalid(message: string, diagnostics: Diagnostic[] = [], hint?: string): TaskFailure {
  return new TaskFailure("invalid-input", message, diagnostics, hint);
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
