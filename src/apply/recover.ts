/**
 * Crash recovery: a journal left by a run that was killed is rolled back before anything else
 * happens on that root, so the tree and the state match the state before that run.
 */
import type { Emit } from "../model/event.js";
import { pendingJournal, rollback } from "./transaction.js";

/** Rolls back an interrupted run, if any; returns whether something was recovered. Call under the lock. */
export async function recoverRoot(root: string, emit: Emit): Promise<boolean> {
  const journal = await pendingJournal(root);
  if (!journal) return false;
  await rollback(root, journal);
  emit({ type: "recovered", root, paths: journal.entries.length, startedAt: journal.startedAt, command: journal.command });
  return true;
}
