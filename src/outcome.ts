/**
 * How a run ended, as a Failure: a root that is not a folder, and the failures after the files
 * were applied (a reload, a check or a verification: exit 3).
 */
import { stat } from "node:fs/promises";
import { TaskFailure, type Failure } from "./model/diagnostic.js";
import { isErrnoError } from "./model/failure.js";
import type { ApplyOutcome, ApplyResult } from "./model/outcome.js";
import { handlerLabel } from "./model/plan.js";

/** A root that exists must be a folder (a missing one is created): else bad input, exit 2. */
export async function checkRoot(root: string): Promise<void> {
  const s = await stat(root).catch((e: unknown) => (isErrnoError(e) && e.code === "ENOENT" ? undefined : Promise.reject(e)));
  if (s && !s.isDirectory())
    throw new TaskFailure("io", `the root ${root} is not a folder`, [], "--root names the staging root folder (created when missing)", {
      path: root,
      operation: "stat",
      code: "ENOTDIR",
      exitCode: 2,
    });
}

/** The run's result from what its apply did: the file steps, then each stage after them; the
 * first failure after the files is the run's failure. */
export function composeOutcome(outcome: ApplyOutcome): ApplyResult {
  const first = outcome.stages.flatMap((s) => s.failures)[0];
  return {
    changed: outcome.changed,
    unchanged: outcome.unchanged,
    pending: outcome.stages.flatMap((s) => s.pending),
    handlerFailed: outcome.pendingNotRecorded === true || outcome.stages.some((s) => s.failures.length > 0),
    ...(outcome.rolledBack ? { rolledBack: outcome.rolledBack } : {}),
    ...(first ? { failedReason: first.reason, failedWhat: first.what, failedFacts: first.facts } : {}),
    reloads: outcome.stages.flatMap((s) => s.reloads),
    restarts: outcome.stages.flatMap((s) => s.restarts),
  };
}

/** The failure of a run whose files were applied: a reload, check or verification after them failed. */
export function handlerFailure(result: ApplyResult): Failure | undefined {
  if (result.rolledBack) return { reason: "dialplan-lost", message: result.rolledBack, diagnostics: [], exitCode: 3 };
  if (!result.handlerFailed) return undefined;
  const reason = result.failedReason ?? "reload-failed";
  return {
    reason,
    message: handlerFailureMessage(result),
    ...(result.pending.length ? { hint: "run `wazo-tasks reload --pending` once fixed" } : {}),
    diagnostics: [],
    exitCode: 3,
    ...result.failedFacts,
  };
}

function handlerFailureMessage(result: ApplyResult): string {
  if (result.failedWhat) return `files applied, but ${result.failedWhat}`;
  return result.pending.length
    ? `files applied, but ${result.pending.map(handlerLabel).join(", ")} failed`
    : "files applied, but a verification or an asterisk command failed (see above)";
}
