/**
 * After a dialplan reload: prove that every installed plugin's extensions are loaded, and that
 * the removed ones are gone. Asterisk answers "Module Reloaded" even when a syntax error made it
 * drop the rest of a file and every file after it, so only asking the loaded dialplan tells.
 * When the loss comes from a file this run changed (one Asterisk reads at or before the lost one,
 * in the order of the include chain under the root), the run is rolled back and reloaded again.
 */
import path from "node:path";
import type { Emit, Event } from "../model/event.js";
import { mapPool } from "../util/pool.js";
import { runsProgram, type Plan } from "../model/plan.js";
import { readDialplanChain, wouldRead } from "../dialplan/chain.js";
import { readManifests, type Manifest } from "../state/manifest.js";
import type { AsteriskControl } from "../asterisk/control.js";
import { emptyStage, type StageOutcome } from "../model/outcome.js";
import { afterFailure, oneLine } from "./after-failure.js";
import { rollback, rollbackIncomplete, type Journal } from "./transaction.js";

type Missing = Extract<Event, { type: "dialplan-check" }>["missing"][number];

/** Dialplan files this run wrote or removed, in the order Asterisk reads them (the include chain). */
async function changedDialplanFiles(plan: Plan): Promise<{ changed: string[]; order: Map<string, number> }> {
  const chain = await readDialplanChain(plan.root);
  const order = new Map(chain.files.map((f, i) => [f.target, i]));
  const files = plan.ops.flatMap((o) => (!runsProgram(o) && o.change !== "none" && wouldRead(chain, o.display) ? [o.display] : []));
  const at = (f: string) => order.get(f) ?? Number.MAX_SAFE_INTEGER;
  return { changed: [...new Set(files)].sort((a, b) => at(a) - at(b) || (a < b ? -1 : a > b ? 1 : 0)), order };
}

/**
 * The last changed file Asterisk reads at or before `file`: what probably broke it, since a file
 * that stops Asterisk's reader drops everything read after it. Without a known order (a file no
 * longer in the chain), files of the same folder are compared by name, as a glob sorts them.
 */
export function probableCause(file: string, changed: string[], order: ReadonlyMap<string, number> = new Map()): string | undefined {
  const at = order.get(file);
  if (at !== undefined) return changed.filter((c) => (order.get(c) ?? Number.MAX_SAFE_INTEGER) <= at).at(-1);
  return changed.filter((c) => path.posix.dirname(c) === path.posix.dirname(file) && c <= file).at(-1);
}

/**
 * Asks Asterisk for every extension of the installed plugins (and those of `removed`, which
 * must be gone). Undefined when the transport cannot tell.
 */
export async function checkLoadedDialplan(
  installed: Manifest[],
  removed: { plugin: string; extensions: Manifest["extensions"] }[],
  control: AsteriskControl,
): Promise<{ checked: number; missing: Missing[] } | undefined> {
  const expected = new Map<string, Missing>();
  for (const m of installed) for (const x of m.extensions) expected.set(`${x.extension}@${x.context}`, { plugin: m.name, ...x, expect: "present" });
  for (const r of removed)
    for (const x of r.extensions)
      if (!expected.has(`${x.extension}@${x.context}`)) expected.set(`${x.extension}@${x.context}`, { plugin: r.plugin, ...x, expect: "absent" });
  // Pipelined over the one connection (answers are matched by ActionID).
  const list = [...expected.values()];
  const found = await mapPool(list, 8, (x) => control.hasExtension(x.extension, x.context).catch(() => undefined));
  if (found.some((f) => f === undefined)) return undefined;
  return { checked: expected.size, missing: list.filter((x, i) => found[i] !== (x.expect === "present")) };
}

/** What the check found; `rolledBack` says why the run was undone, when it was. */
export interface DialplanCheck {
  stage: StageOutcome;
  rolledBack?: string;
}

export async function checkDialplanAfterReload(
  plan: Plan,
  ctx: { emit: Emit; asterisk: () => Promise<AsteriskControl> },
  journal: Journal,
): Promise<DialplanCheck> {
  const stage = emptyStage();
  const control = await ctx.asterisk();
  // Only AMI answers reliably: `asterisk -rx` output is text meant for people.
  if (control.transport !== "ami") return { stage };
  const installed = [...(await readManifests(plan.root)).values()];
  const removed = plan.plugins.map((p) => ({ plugin: p.name, extensions: p.removedExtensions ?? [] }));
  const check = await checkLoadedDialplan(installed, removed, control);
  if (!check) return { stage };
  const { missing } = check;
  const expected = { size: check.checked };
  if (!missing.length) {
    ctx.emit({ type: "dialplan-check", checked: expected.size, status: "ok", missing: [] });
    return { stage };
  }
  const { changed, order } = await changedDialplanFiles(plan);
  for (const m of missing) m.cause = m.expect === "present" ? probableCause(m.file, changed, order) : undefined;
  stage.failures.push(
    afterFailure(
      "dialplan-lost",
      `after the dialplan reload ${missing.map((m) => `${m.extension}@${m.context} of ${m.plugin} is ${m.expect === "present" ? "not loaded" : "still loaded"}`).join(", ")}`,
      undefined,
      { plugin: missing[0]!.plugin },
    ),
  );
  if (!missing.some((m) => m.cause)) {
    ctx.emit({ type: "dialplan-check", checked: expected.size, status: "failed", missing });
    return { stage };
  }
  const failures = await rollback(plan.root, journal);
  const rolledBack = `the dialplan reload lost installed plugins' extensions (${missing.map((m) => `${m.extension}@${m.context} of ${m.plugin}`).join(", ")}), probably because of ${[...new Set(missing.flatMap((m) => (m.cause ? [m.cause] : [])))].join(", ")}: ${failures.length ? rollbackIncomplete(plan.root, failures).message : "every change of this run was rolled back"} and the dialplan reloaded again`;
  ctx.emit({ type: "dialplan-check", checked: expected.size, status: "rolled back", missing });
  ctx.emit({ type: "rolledback", cause: "the reload lost installed plugins' dialplan" });
  try {
    await control.reload("dialplan");
    ctx.emit({ type: "handler", kind: "reload", name: "dialplan", status: "done", message: "again, after the rollback" });
  } catch (e) {
    ctx.emit({ type: "handler", kind: "reload", name: "dialplan", status: "failed", message: oneLine(e) });
  }
  return { stage, rolledBack };
}
