/** Runs a command body; an expected failure is printed (no stack) and becomes its exit code. */
import { EXIT_CODES, isTaskFailure } from "../model/diagnostic.js";
import { formatDiagnostic } from "../report/diagnostic.js";
import type { CommonFlags } from "./options.js";

export async function reportFailure(flags: CommonFlags, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (!isTaskFailure(e)) throw e;
    if (flags.json) {
      for (const d of e.diagnostics) process.stdout.write(JSON.stringify({ v: 1, type: "diagnostic", diagnostic: { ...d, source: undefined } }) + "\n");
      process.stdout.write(JSON.stringify({ v: 1, type: "summary", ok: false, exitCode: EXIT_CODES[e.reason], error: e.message }) + "\n");
    } else {
      for (const d of e.diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
      process.stderr.write(`error: ${e.message}${e.hint ? `\n  hint: ${e.hint}` : ""}\n`);
    }
    return EXIT_CODES[e.reason];
  }
}
