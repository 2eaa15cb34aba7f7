/** Read-only commands first finish the rollback of an interrupted run, so they report the truth. */
export { recoverIfInterrupted } from "../apply/recover-first.js";
