/**
 * Programs run once the files are in place, before the handlers and before the journal is
 * committed: a rules plugin's `wazo/rules install` (dpkg's postinst). A failure keeps the files
 * (exit code 3) and is recorded in the manifest, so the next `install` of the plugin runs it
 * again even when nothing else changed. Called by the executor, which hands in the manifests this
 * run wrote and gets back the ones rewritten here; the plan is only read.
 */
import type { Emit } from "../model/event.js";
import { emptyStage, type StageOutcome } from "../model/outcome.js";
import type { Plan } from "../model/plan.js";
import { replaceStateFile } from "../state/durable.js";
import { manifestPath, serializeManifest, type Manifest } from "../state/manifest.js";
import type { ContainedPrograms } from "../util/process.js";
import { runRules, type RulesTarget } from "./script.js";

export interface AfterFileChangesContext {
  emit: Emit;
  noReload?: boolean;
  /** The environment the programs start from. */
  env: Readonly<Record<string, string | undefined>>;
  /** Aborting it stops the program in flight. */
  signal?: AbortSignal;
  /** The run's contained programs. */
  programs?: ContainedPrograms;
}

/** Runs each plugin's `after` programs; `manifests` (by plugin name) are the manifests this run
 * wrote. Returns what was done, and the manifests as they are now. */
export async function runAfterFileChanges(
  plan: Plan,
  ctx: AfterFileChangesContext,
  manifests: ReadonlyMap<string, Manifest>,
): Promise<{ stage: StageOutcome; manifests: Map<string, Manifest> }> {
  const stage = emptyStage();
  const now = new Map(manifests);
  for (const p of plan.plugins) {
    for (const op of p.after ?? []) {
      const target = (op.argv[op.argv.length - 1] ?? "install") as RulesTarget;
      if (ctx.noReload) {
        ctx.emit({
          type: "step",
          plugin: p.name,
          kind: "rules",
          target: op.display,
          status: "skipped",
          detail: "--no-reload: plugin code that reloads or restarts; `wazo-tasks install` runs it later",
        });
        await markPending(plan.root, p.name, now, true);
        continue;
      }
      const r = await runRules(op.argv, target, { cwd: op.cwd, env: ctx.env, programs: ctx.programs, signal: ctx.signal, plugin: p.name, emit: ctx.emit });
      if (r.ok) {
        ctx.emit({ type: "step", plugin: p.name, kind: "rules", target: op.display, status: "changed" });
        await markPending(plan.root, p.name, now, false);
      } else {
        stage.failures.push({ reason: "rules-failed", what: `${op.display} failed: ${r.message}`, facts: { plugin: p.name, command: op.display } });
        ctx.emit({ type: "step", plugin: p.name, kind: "rules", target: op.display, status: "failed", detail: r.message });
        ctx.emit({
          type: "warning",
          plugin: p.name,
          message: `the files are installed, but ${op.display} failed: fix the cause, then \`wazo-tasks install ${p.name}\` runs it again`,
        });
        await markPending(plan.root, p.name, now, true);
      }
    }
  }
  return { stage, manifests: now };
}

/** Records (or clears) `rules.installPending` in the manifest written by this run. */
async function markPending(root: string, plugin: string, manifests: Map<string, Manifest>, pending: boolean): Promise<void> {
  const m = manifests.get(plugin);
  if (!m?.rules || (m.rules.installPending === true) === pending) return;
  const rules = { ...m.rules };
  if (pending) rules.installPending = true;
  else delete rules.installPending;
  const next = { ...m, rules };
  manifests.set(plugin, next);
  await replaceStateFile(manifestPath(root, plugin), serializeManifest(next));
}
