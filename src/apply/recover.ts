/**
 * Crash recovery: a journal left by a run that was killed is rolled back before anything else
 * happens on that root, so the tree and the state match the state before that run. A path the
 * rollback cannot put back stops the command (nothing else is done on a root in between) and
 * stays in the journal for the next try.
 */
import { TaskFailure } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import { pendingJournal, rollback, rollbackIncomplete } from "./transaction.js";

/** Rolls back an interrupted run, if any; returns whether something was recovered. Call under the lock. */
export async function recoverRoot(root: string, emit: Emit): Promise<boolean> {
  const journal = await pendingJournal(root, emit);
  if (!journal) return false;
  const failures = await rollback(root, journal);
  if (failures.length) {
    const { message, hint } = rollbackIncomplete(root, failures);
    throw new TaskFailure(
      "runtime",
      `an interrupted ${journal.command} (pid ${journal.pid}, started ${journal.startedAt}) could not be rolled back: ${message}`,
      [],
      hint,
    );
  }
  emit({ type: "recovered", root, paths: journal.entries.length, startedAt: journal.startedAt, command: journal.command });
  return true;
}
