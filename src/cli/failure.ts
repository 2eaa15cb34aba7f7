/** Runs a command body; any failure is printed (no stack) and becomes its exit code. */
import { errorText, failureOf, publicFailure } from "../model/failure.js";
import type { Failure } from "../model/diagnostic.js";
import { formatDiagnostic } from "../report/diagnostic.js";
import type { CommonFlags } from "./options.js";

export async function reportFailure(flags: CommonFlags, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    return printFailure(failureOf(e), flags.json === true);
  }
}

/** Prints a failure: diagnostics and a closing `summary` in JSON, else `error:` lines on stderr. */
export function printFailure(failure: Failure, json: boolean): number {
  if (json) {
    const f = publicFailure(failure);
    for (const diagnostic of f.diagnostics) process.stdout.write(JSON.stringify({ v: 1, type: "diagnostic", diagnostic }) + "\n");
    process.stdout.write(JSON.stringify({ v: 1, type: "summary", ok: false, exitCode: f.exitCode, error: errorText(f), failure: f }) + "\n");
  } else {
    for (const d of failure.diagnostics) process.stderr.write(formatDiagnostic(d, process.cwd()) + "\n");
    process.stderr.write(`error: ${errorText(failure)}\n`);
  }
  return failure.exitCode;
}
