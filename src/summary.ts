/**
 * The events that tell a run: the plan (one event, for --json consumers), one line per plugin,
 * and the closing summary, built from what the stages returned or from the failure that stopped them.
 */
import type { ApplyResult } from "./model/outcome.js";
import type { ExitCode } from "./model/diagnostic.js";
import type { Emit } from "./model/event.js";
import { errorText, failureOf, publicFailure, refineIoError } from "./model/failure.js";
import { handlerLabel, type Plan } from "./model/plan.js";
import type { Plugin } from "./model/plugin.js";
import { handlerFailure } from "./outcome.js";
import { attachDiffs } from "./plan/preview.js";
import type { RunSummary } from "./run-options.js";
import type { PhaseTimer } from "./util/timings.js";

/** What the stages of a run return: the plan, and what applying or previewing it did. */
export interface StagesDone {
  plan: Plan;
  result?: ApplyResult;
  preview?: { changing: number; unchanged: number };
}

type Summary = Omit<RunSummary, "durationMs">;

export function summaryOf({ plan, result, preview }: StagesDone, dryRun: boolean): Summary {
  const failure = result ? handlerFailure(result) : undefined;
  const exitCode: ExitCode = failure?.exitCode ?? 0;
  return {
    ok: exitCode === 0,
    exitCode,
    dryRun,
    changed: result?.changed ?? preview?.changing ?? 0,
    unchanged: result?.unchanged ?? preview?.unchanged ?? 0,
    failed: result?.handlerFailed ? 1 : 0,
    reloads: result?.reloads ?? [],
    restarts: result?.restarts ?? [],
    plugins: plan.plugins.map((p) => ({
      name: p.name,
      version: p.version,
      action: p.action,
      status: dryRun
        ? p.changed
          ? "would change"
          : "unchanged"
        : result?.rolledBack
          ? "rolled back"
          : p.changed
            ? result?.handlerFailed
              ? "applied, handler failed"
              : "changed"
            : "unchanged",
    })),
    ...(failure ? { error: errorText(failure), failure } : {}),
    diagnostics: [],
    plan,
  };
}

/** The summary of a run stopped by `e`; its diagnostics are emitted (with the diffs they ask for). */
export async function failedSummary(e: unknown, dryRun: boolean, emit: Emit): Promise<Summary> {
  const failure = failureOf(await refineIoError(e));
  await attachDiffs(failure.diagnostics);
  for (const diagnostic of failure.diagnostics) emit({ type: "diagnostic", diagnostic });
  return {
    ok: false,
    exitCode: failure.exitCode,
    dryRun,
    changed: 0,
    unchanged: 0,
    failed: 1,
    reloads: [],
    restarts: [],
    plugins: [],
    error: errorText(failure),
    failure,
    diagnostics: failure.diagnostics,
  };
}

/** Emits the closing `summary` event and returns the run's summary. */
export function closeSummary(summary: Summary, durationMs: number, timer: PhaseTimer, emit: Emit): RunSummary {
  const { diagnostics, plan, ...fields } = summary;
  const event = { ...fields, failure: fields.failure && publicFailure(fields.failure), durationMs, timings: timer.result() };
  if (!event.failure) delete event.failure;
  emit({ type: "summary", ...event });
  return { ...event, diagnostics, ...(plan ? { plan } : {}) };
}

export function emitPlan(plan: Plan, emit: Emit) {
  emit({
    type: "plan",
    command: plan.command,
    plugins: plan.plugins.map((p) => ({
      name: p.name,
      version: p.version,
      action: p.action,
      changed: p.changed,
      steps: p.steps
        .filter((s) => s.kind !== "state" && s.kind !== "preserve")
        .map((s) => ({ kind: s.kind, target: s.label, changes: s.ops.filter((o) => o.change !== "none").length, notSimulated: s.notSimulated === true })),
    })),
    handlers: plan.handlers.map(handlerLabel),
  });
}

/** The plan as one event (for --json consumers), then one line per plugin. */
export function announce(plan: Plan, plugins: Plugin[], emit: Emit) {
  emitPlan(plan, emit);
  for (const p of plan.plugins) {
    const plugin = plugins.find((x) => x.name === p.name);
    if (!plugin) continue;
    emit({
      type: "plugin",
      name: p.name,
      version: p.version,
      action: p.action,
      previousVersion: p.previousVersion,
      kind: plugin.kind,
      ...needsOf(plugin),
    });
  }
}

/** The plugin event's `needs`, only when the plugin declares something. */
export const needsOf = (p: { needs?: Plugin["needs"] } | undefined) => (p?.needs?.length ? { needs: p.needs } : {});
