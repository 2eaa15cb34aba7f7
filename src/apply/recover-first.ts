/** Read-only commands first finish the rollback of an interrupted run, so they report the truth. */
import { stat } from "node:fs/promises";
import path from "node:path";
import { acquireLock } from "./lock.js";
import { recoverRoot } from "./recover.js";
import { txnDir } from "./transaction.js";
import type { Emit } from "../model/event.js";

export async function recoverIfInterrupted(root: string, emit: Emit): Promise<void> {
  if (!(await stat(path.join(txnDir(root), "journal.json")).then(() => true, () => false))) return;
  const lock = await acquireLock(root, 10_000);
  try {
    await recoverRoot(root, emit);
  } finally {
    await lock.release();
  }
}
