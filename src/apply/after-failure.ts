/** A failure after the files were applied, as a value (the first one is the run's failure). */
import { AsteriskError } from "../asterisk/control.js";
import type { FailureFacts } from "../model/diagnostic.js";
import type { AfterFailure } from "../model/outcome.js";

export const oneLine = (e: unknown) => ((e as Error).message ?? String(e)).split("\n")[0];

/** `what` failed (with the error `e`, whose first line is added, and whose Asterisk facts are kept). */
export function afterFailure(reason: AfterFailure["reason"], what: string, e?: unknown, facts: FailureFacts = {}): AfterFailure {
  return {
    reason,
    what: e === undefined ? what : what ? `${what}: ${oneLine(e)}` : oneLine(e),
    facts: { ...(e instanceof AsteriskError ? e.facts : {}), ...facts },
  };
}
