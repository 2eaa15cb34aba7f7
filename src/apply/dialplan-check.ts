/**
 * After a dialplan reload: prove that every installed plugin's extensions are loaded, and that
 * the removed ones are gone. Asterisk answers "Module Reloaded" even when a syntax error made it
 * drop the rest of a file and every file after it, so only asking the loaded dialplan tells.
 * When the loss comes from a file this run changed, the run is rolled back and reloaded again.
 */
import path from "node:path";
import type { Event } from "../model/event.js";
import { mapPool } from "../util/pool.js";
import type { Plan } from "../model/plan.js";
import { DIALPLAN_DIR } from "../plan/lint.js";
import { readManifests, type Manifest } from "../state/manifest.js";
import type { AsteriskControl } from "../asterisk/control.js";
import type { ApplyResult } from "./executor.js";
import { failedAfterApply, type HandlerContext } from "./handlers.js";
import { rollback, rollbackIncomplete, type Journal } from "./transaction.js";

type Missing = Extract<Event, { type: "dialplan-check" }>["missing"][number];

/** Dialplan files this run wrote or removed, in the order Asterisk's glob include reads them. */
function changedDialplanFiles(plan: Plan): string[] {
  const files = plan.ops.flatMap((o) => (o.op !== "run" && o.op !== "make" && o.change !== "none" && o.display.startsWith(DIALPLAN_DIR) ? [o.display] : []));
  return [...new Set(files)].sort();
}

/** The last changed file at or before `file` in include order: what probably broke it. */
export function probableCause(file: string, changed: string[]): string | undefined {
  return changed.filter((c) => path.posix.dirname(c) === path.posix.dirname(file) && c <= file).at(-1);
}

/**
 * Asks Asterisk for every extension of the installed plugins (and those of `removed`, which
 * must be gone). Undefined when the transport cannot tell.
 */
export async function checkLoadedDialplan(installed: Manifest[], removed: { plugin: string; extensions: Manifest["extensions"] }[], control: AsteriskControl): Promise<{ checked: number; missing: Missing[] } | undefined> {
  const expected = new Map<string, Missing>();
  for (const m of installed) for (const x of m.extensions) expected.set(`${x.extension}@${x.context}`, { plugin: m.name, ...x, expect: "present" });
  for (const r of removed) for (const x of r.extensions) if (!expected.has(`${x.extension}@${x.context}`)) expected.set(`${x.extension}@${x.context}`, { plugin: r.plugin, ...x, expect: "absent" });
  // Pipelined over the one connection (answers are matched by ActionID).
  const list = [...expected.values()];
  const found = await mapPool(list, 8, (x) => control.hasExtension(x.extension, x.context).catch(() => undefined));
  if (found.some((f) => f === undefined)) return undefined;
  return { checked: expected.size, missing: list.filter((x, i) => found[i] !== (x.expect === "present")) };
}

/** Returns true when the run was rolled back. */
export async function checkDialplanAfterReload(plan: Plan, ctx: HandlerContext, result: ApplyResult, journal: Journal): Promise<boolean> {
  const control = await ctx.asterisk();
  // Only AMI answers reliably: `asterisk -rx` output is text meant for people.
  if (control.transport !== "ami") return false;
  const installed = [...(await readManifests(plan.root)).values()];
  const removed = plan.plugins.map((p) => ({ plugin: p.name, extensions: p.removedExtensions ?? [] }));
  const check = await checkLoadedDialplan(installed, removed, control);
  if (!check) return false;
  const { missing } = check;
  const expected = { size: check.checked };
  if (!missing.length) {
    ctx.emit({ type: "dialplan-check", checked: expected.size, status: "ok", missing: [] });
    return false;
  }
  const changed = changedDialplanFiles(plan);
  for (const m of missing) m.cause = m.expect === "present" ? probableCause(m.file, changed) : undefined;
  failedAfterApply(result, "dialplan-lost", `after the dialplan reload ${missing.map((m) => `${m.extension}@${m.context} of ${m.plugin} is ${m.expect === "present" ? "not loaded" : "still loaded"}`).join(", ")}`, undefined, { plugin: missing[0]!.plugin });
  if (!missing.some((m) => m.cause)) {
    ctx.emit({ type: "dialplan-check", checked: expected.size, status: "failed", missing });
    return false;
  }
  const failures = await rollback(plan.root, journal);
  result.changed = 0;
  result.rolledBack = `the dialplan reload lost installed plugins' extensions (${missing.map((m) => `${m.extension}@${m.context} of ${m.plugin}`).join(", ")}), probably because of ${[...new Set(missing.flatMap((m) => (m.cause ? [m.cause] : [])))].join(", ")}: ${failures.length ? rollbackIncomplete(plan.root, failures).message : "every change of this run was rolled back"} and the dialplan reloaded again`;
  ctx.emit({ type: "dialplan-check", checked: expected.size, status: "rolled back", missing });
  ctx.emit({ type: "rolledback", cause: "the reload lost installed plugins' dialplan" });
  try {
    await control.reload("dialplan");
    ctx.emit({ type: "handler", kind: "reload", name: "dialplan", status: "done", message: "again, after the rollback" });
  } catch (e) {
    ctx.emit({ type: "handler", kind: "reload", name: "dialplan", status: "failed", message: (e as Error).message.split("\n")[0] });
  }
  return true;
}
