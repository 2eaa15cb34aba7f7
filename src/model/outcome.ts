/**
 * What applying a plan did, as values: the executor reads the plan and returns an outcome made of
 * parts, one for each stage after the file changes (the runs once the files are in place, the
 * Asterisk commands, handlers and verifications, the dialplan check); the engine composes them
 * into the run's result (src/outcome.ts). No stage changes the plan it runs.
 */
import type { FailureFacts } from "./diagnostic.js";
import type { Plan } from "./plan.js";

type Handler = Plan["handlers"][number];

/** A failure after the files were applied (exit code 3): the reason, what failed as a phrase
 * ("reload dialplan failed: …"), and its facts. */
export interface AfterFailure {
  reason: "reload-failed" | "verify-failed" | "dialplan-lost" | "rules-failed";
  what: string;
  facts: FailureFacts;
}

/** What one stage after the file changes did. */
export interface StageOutcome {
  /** Handlers that failed or were not run; recorded as `reload pending`. */
  pending: Handler[];
  reloads: string[];
  restarts: string[];
  /** What failed, in the order it happened. */
  failures: AfterFailure[];
}

export const emptyStage = (): StageOutcome => ({ pending: [], reloads: [], restarts: [], failures: [] });

/** What applying a plan did: the file steps, then each stage after them, in the order they ran. */
export interface ApplyOutcome {
  changed: number;
  unchanged: number;
  stages: StageOutcome[];
  /** Set when the run was undone after a reload lost dialplan: says why. */
  rolledBack?: string;
  /** The files were applied, but the pending handlers could not be recorded (a warning says so). */
  pendingNotRecorded?: boolean;
}

/** The composed result of a run's apply, as the summary reports it. */
export interface ApplyResult {
  changed: number;
  unchanged: number;
  /** Handlers that failed or were not run; recorded as `reload pending`. */
  pending: Handler[];
  handlerFailed: boolean;
  /** Set when the run was undone after a reload lost dialplan: says why. */
  rolledBack?: string;
  /** What failed first after the files were applied, and its facts. */
  failedReason?: AfterFailure["reason"];
  failedFacts?: FailureFacts;
  /** What failed first, as a phrase ("reload dialplan failed: …"). */
  failedWhat?: string;
  reloads: string[];
  restarts: string[];
}

/** Handlers left pending by any stage, in the order the stages ran. */
export const pendingOf = (stages: StageOutcome[]): Handler[] => stages.flatMap((s) => s.pending);
