/** Read-only commands first finish the rollback of an interrupted run, so they report the truth. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { acquireLock } from "./lock.js";
import { recoverRoot } from "./recover.js";
import { txnDir } from "./transaction.js";
import type { Emit } from "../model/event.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 10_000;

/** `pid`: the running process's, for the lock. */
export async function recoverIfInterrupted(root: string, emit: Emit, pid: number, lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS): Promise<void> {
  if (
    !(await stat(path.join(txnDir(root), "journal.json")).then(
      () => true,
      () => false,
    ))
  )
    return;
  const lock = await acquireLock(root, lockTimeoutMs, { pid });
  try {
    await recoverRoot(root, emit);
  } finally {
    await lock.release();
  }
}
