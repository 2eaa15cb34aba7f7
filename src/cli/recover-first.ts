/** Read-only commands first finish the rollback of an interrupted run, so they report the truth. */
export { DEFAULT_LOCK_TIMEOUT_MS, recoverIfInterrupted } from "../apply/recover-first.js";
