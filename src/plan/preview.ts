/**
 * The dry run: the plan told as events, with a unified diff for each text file that would
 * change. It reads files (for the diffs) and writes nothing; there is no second code path that
 * pretends to apply.
 */
import { readRegularFileSync } from "../util/read-limited.js";
import type { Diagnostic } from "../model/diagnostic.js";
import type { Emit, StepFile, StepStatus } from "../model/event.js";
import { handlerLabel, isOwnRun, runsProgram, type FileOp, type Plan, type PlannedStep } from "../model/plan.js";
import { isText, unifiedDiff } from "../util/diff.js";
import { modeNote } from "./modes.js";

const MAX_DIFF_BYTES = 1 << 20;

/** A file's bytes for a diff; nothing when it cannot be read. */
function orEmpty(file: string): Buffer {
  try {
    return readRegularFileSync(file);
  } catch {
    return Buffer.alloc(0);
  }
}

export async function diffFor(op: FileOp): Promise<string | undefined> {
  if (op.op !== "write" || op.change !== "update" || op.size > MAX_DIFF_BYTES) return undefined;
  const before = orEmpty(op.path);
  const after = op.content ? Buffer.from(op.content) : readRegularFileSync(op.source!);
  if (!isText(before) || !isText(after)) return `binary file ${op.display} would change`;
  return unifiedDiff(before.toString("utf8"), after.toString("utf8"), `${op.display} (installed)`, `${op.display} (new)`);
}

/** A new text file as a diff from nothing, for consumers that show one diff per file (Ansible). */
async function createDiff(op: FileOp): Promise<string | undefined> {
  if (op.op !== "write" || op.change !== "create" || op.size > MAX_DIFF_BYTES) return undefined;
  const after = op.content ?? readRegularFileSync(op.source!);
  return isText(after) ? unifiedDiff("", after.toString("utf8"), "/dev/null", `${op.display} (new)`) : `binary file ${op.display} would be created`;
}

/** One entry per path that would change, each with its own diff when it is a text file. */
async function fileChanges(changing: FileOp[]): Promise<StepFile[]> {
  const out: StepFile[] = [];
  for (const op of changing) {
    const diff = op.change === "update" ? await diffFor(op) : await createDiff(op);
    out.push({ op: op.op, path: op.display, change: op.change, ...(diff ? { diff } : {}) });
  }
  return out;
}

async function stepPreview(step: PlannedStep): Promise<{ status: StepStatus; detail?: string; diff?: string; files?: StepFile[] }> {
  if (step.notSimulated)
    return {
      status: "not simulated",
      detail: step.recipe
        ? `make recipe, run as written:\n${step.recipe.map((r) => `        ${r.line}: ${r.text}`).join("\n")}`
        : "programs are not run in a dry run",
    };
  if (step.ops.some(isOwnRun))
    return step.ops.some((o) => o.change !== "none")
      ? { status: "would change", detail: "runs the real make; its effect is shown above" }
      : { status: "unchanged" };
  const kept = step.ops.find((o) => o.op === "remove" && o.kept);
  if (kept && kept.op === "remove") return { status: "kept", detail: kept.kept };
  const changing = step.ops.filter((o) => o.change !== "none");
  if (!changing.length) {
    const modes = modeNote(step.ops);
    return modes ? { status: "unchanged", detail: modes } : { status: "unchanged" };
  }
  const files = await fileChanges(changing.filter((o): o is FileOp => !runsProgram(o)));
  const diffs = files.filter((f) => f.op === "write" && f.change === "update" && f.diff).map((f) => f.diff!);
  const writes = step.ops.filter((o) => o.op === "write").length;
  const kinds = [...new Set(changing.map((o) => o.change))].join(", ");
  const modes = modeNote(step.ops);
  const detail = (writes > 1 ? `${changing.length} of ${step.ops.length} paths: ${kinds}` : kinds) + (modes ? `, ${modes}` : "");
  return { status: "would change", detail, diff: diffs.length ? diffs.join("") : undefined, files };
}

/** Emits the dry run; returns how many steps would change and how many would not. */
export async function emitPreview(plan: Plan, emit: Emit): Promise<{ changing: number; unchanged: number }> {
  let changing = 0;
  let unchanged = 0;
  for (const p of plan.plugins) {
    for (const step of p.steps) {
      if (step.kind === "state" || step.kind === "preserve" || step.ops.length === 0) continue;
      const s = await stepPreview(step);
      if (s.status === "would change") changing++;
      else if (s.status === "unchanged") unchanged++;
      emit({ type: "step", plugin: p.name, kind: step.kind, target: step.label, ...s });
    }
    for (const w of p.warnings) emit({ type: "warning", plugin: p.name, message: w });
    for (const cli of p.asterisk) emit({ type: "handler", kind: "asterisk", name: cli, status: "would run" });
    for (const op of p.after ?? [])
      emit({
        type: "step",
        plugin: p.name,
        kind: "rules",
        target: op.display,
        status: "not simulated",
        detail: "plugin code, run after the files are in place",
      });
  }
  for (const h of plan.handlers) emit({ type: "handler", kind: "reload" in h ? "reload" : "restart", name: handlerLabel(h), status: "would run" });
  for (const p of plan.plugins)
    for (const v of p.verify)
      if (p.changed) emit({ type: "verify", plugin: p.name, extension: v.extension, context: v.context, expect: v.expect, status: "would verify" });
  return { changing, unchanged };
}

/** Reads the diffs that conflict diagnostics ask for (an admin edit about to be refused). */
export async function attachDiffs(diagnostics: Diagnostic[]): Promise<void> {
  for (const d of diagnostics) {
    if (!d.diffWith) continue;
    const { installed, incoming, display } = d.diffWith;
    const [a, b] = [orEmpty(installed), orEmpty(incoming)];
    d.diff = isText(a) && isText(b) ? unifiedDiff(a.toString("utf8"), b.toString("utf8"), `${display} (on disk)`, `${display} (plugin)`) : undefined;
    delete d.diffWith;
  }
}
