/**
 * Programs run once the files are in place, before the handlers (called by runHandlers; the
 * journal is committed after the handlers): a rules plugin's `wazo/rules install` (dpkg's
 * postinst). A failure keeps the files (exit code 3) and is recorded in the manifest, so the next
 * `install` of the plugin runs it again even when nothing else changed.
 */
import { replaceFileDurably } from "../apply/fsops.js";
import type { ApplyResult } from "../apply/executor.js";
import type { Emit } from "../model/event.js";
import type { Plan, PluginPlan } from "../model/plan.js";
import { manifestPath, serializeManifest } from "../state/manifest.js";
import { runRules, type RulesTarget } from "./script.js";

export async function runAfterCommit(plan: Plan, ctx: { emit: Emit; noReload?: boolean }, result: ApplyResult): Promise<void> {
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
        await markPending(plan, p, true);
        continue;
      }
      const r = await runRules(op.argv, target, { cwd: op.cwd, plugin: p.name, emit: ctx.emit });
      if (r.ok) {
        ctx.emit({ type: "step", plugin: p.name, kind: "rules", target: op.display, status: "changed" });
        await markPending(plan, p, false);
      } else {
        result.handlerFailed = true;
        if (!result.failedReason)
          Object.assign(result, {
            failedReason: "rules-failed",
            failedWhat: `${op.display} failed: ${r.message}`,
            failedFacts: { plugin: p.name, command: op.display },
          });
        ctx.emit({ type: "step", plugin: p.name, kind: "rules", target: op.display, status: "failed", detail: r.message });
        ctx.emit({
          type: "warning",
          plugin: p.name,
          message: `the files are installed, but ${op.display} failed: fix the cause, then \`wazo-tasks install ${p.name}\` runs it again`,
        });
        await markPending(plan, p, true);
      }
    }
  }
}

/** Records (or clears) `rules.installPending` in the manifest written by this run. */
async function markPending(plan: Plan, p: PluginPlan, pending: boolean): Promise<void> {
  const m = p.manifest;
  if (!m?.rules || (m.rules.installPending === true) === pending) return;
  const rules = { ...m.rules };
  if (pending) rules.installPending = true;
  else delete rules.installPending;
  p.manifest = { ...m, rules };
  const file = manifestPath(plan.root, p.name);
  await replaceFileDurably(file, serializeManifest(p.manifest));
}
