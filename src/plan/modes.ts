/**
 * File modes users should see: any mode other than 0644/0755 is shown in the dry run; setuid,
 * setgid and world-writable modes are a warning, and refused with --strict.
 */
import type { Expanded } from "./expand.js";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { Op } from "../model/plan.js";
import { definitionFile } from "../model/plugin.js";

export const octal = (mode: number) => (mode & 0o7777).toString(8).padStart(4, "0");

/** What is risky about a mode, in words, or undefined. */
export function riskyMode(mode: number): string | undefined {
  const what = [mode & 0o4000 ? "setuid" : "", mode & 0o2000 ? "setgid" : "", mode & 0o002 ? "world-writable" : ""].filter(Boolean);
  return what.length ? what.join(", ") : undefined;
}

const usual = (op: Op) => (op.op === "write" ? op.mode === 0o644 || op.mode === 0o755 : op.op === "mkdir" ? op.mode === 0o755 : op.op !== "chmod");

/** The unusual modes among a step's operations, for its dry-run line ("mode 0600", or a list). */
export function modeNote(ops: Op[]): string | undefined {
  const odd = ops.filter((o) => !usual(o) && "mode" in o) as (Op & { mode: number; display: string })[];
  if (!odd.length) return undefined;
  if (odd.length === 1 && ops.filter((o) => o.op === "write" || o.op === "chmod").length <= 1) return `mode ${octal(odd[0].mode)}`;
  const shown = odd.slice(0, 3).map((o) => `${o.display} ${octal(o.mode)}`);
  return `modes: ${shown.join(", ")}${odd.length > 3 ? ` and ${odd.length - 3} more` : ""}`;
}

/** One warning per path the plugins would give a risky mode. */
export function riskyModeDiagnostics(expanded: Expanded[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const e of expanded)
    for (const item of e.items) {
      if (item.kind !== "file" && item.kind !== "dir" && item.kind !== "chmod") continue;
      const risk = riskyMode(item.mode);
      if (!risk) continue;
      const at = e.plugin.locate?.diagnostic(["install", item.step], "");
      out.push({
        severity: "warning",
        file: definitionFile(e.plugin) ?? e.plugin.dir,
        line: at?.line,
        message: `${item.target} would get mode ${octal(item.mode)} (${risk})`,
        hint: "use 0644 or 0755 unless the plugin really needs it; --strict refuses it",
      });
    }
  return out;
}

/** Risky modes: warnings, or with --strict a refusal before anything changes. */
export function checkModes(expanded: Expanded[], strict: boolean | undefined, emit: Emit): void {
  const found = riskyModeDiagnostics(expanded);
  if (strict && found.length)
    throw invalid(
      "setuid, setgid or world-writable modes refused (--strict)",
      found.map((d) => ({ ...d, severity: "error" as const })),
    );
  for (const d of found) emit({ type: "diagnostic", diagnostic: d });
}
