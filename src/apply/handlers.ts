/**
 * After the files are committed: Asterisk CLI commands, then each notified handler once
 * (reloads, restarts), then verifications. A failure here keeps the files and is recorded as
 * `reload pending`; the run ends with exit code 3.
 */
import { AsteriskError, type AsteriskControl, type ServiceControl } from "../asterisk/control.js";
import type { FailureFacts } from "../model/diagnostic.js";
import type { ApplyResult } from "./executor.js";
import type { Emit } from "../model/event.js";
import { handlerLabel, type Plan } from "../model/plan.js";

export interface HandlerContext {
  emit: Emit;
  /** Connected on first use; one connection per run. */
  asterisk: () => Promise<AsteriskControl>;
  services: () => Promise<ServiceControl>;
  noReload?: boolean;
  /** True under --root: a missing transport means "skipped", not an error. */
  staging?: boolean;
}

const oneLine = (e: unknown) => ((e as Error).message ?? String(e)).split("\n")[0];

/** Records the first thing that failed after the files were applied (the run's failure). */
export function failedAfterApply(
  result: ApplyResult,
  reason: NonNullable<ApplyResult["failedReason"]>,
  what: string,
  e?: unknown,
  facts: FailureFacts = {},
): void {
  result.handlerFailed = true;
  if (result.failedReason) return;
  result.failedReason = reason;
  result.failedWhat = e === undefined ? what : what ? `${what}: ${oneLine(e)}` : oneLine(e);
  result.failedFacts = { ...(e instanceof AsteriskError ? e.facts : {}), ...facts };
}

export async function runHandlers(plan: Plan, ctx: HandlerContext, result: ApplyResult): Promise<void> {
  const { emit } = ctx;
  // Programs run once the files are in place, before the handlers (a rules plugin's `wazo/rules install`).
  if (plan.plugins.some((p) => p.after?.length)) await (await import("../rules/after.js")).runAfterCommit(plan, ctx, result);
  for (const p of plan.plugins) {
    for (const cli of p.asterisk) {
      if (ctx.noReload) {
        emit({ type: "handler", kind: "asterisk", name: cli, status: "skipped", message: "--no-reload" });
        continue;
      }
      const ast = await ctx.asterisk();
      if (ast.transport === "none") {
        emit({ type: "handler", kind: "asterisk", name: cli, status: "skipped", message: ast.note });
        continue;
      }
      try {
        await ast.command(cli);
        emit({ type: "handler", kind: "asterisk", name: cli, status: "done" });
      } catch (e) {
        failedAfterApply(result, "reload-failed", `asterisk '${cli}' failed`, e, { command: cli, plugin: p.name });
        emit({ type: "handler", kind: "asterisk", name: cli, status: "failed", message: oneLine(e) });
      }
    }
  }
  let reloaded = false;
  for (const h of plan.handlers) {
    const kind = "reload" in h ? "reload" : "restart";
    const name = handlerLabel(h);
    if (ctx.noReload) {
      emit({ type: "handler", kind, name, status: "skipped", message: "--no-reload: run `wazo-tasks reload --pending` later" });
      result.pending.push(h);
      continue;
    }
    try {
      if ("reload" in h) {
        const ast = await ctx.asterisk();
        if (ast.transport === "none") {
          emit({ type: "handler", kind, name, status: "skipped", message: ast.note });
          continue;
        }
        await ast.reload(h.reload);
        result.reloads.push(h.reload);
        reloaded = true;
      } else {
        const svc = await ctx.services();
        if (!svc.available && ctx.staging) {
          emit({ type: "handler", kind, name, status: "skipped", message: "systemctl not found; staging root" });
          continue;
        }
        await svc.restart(h.restart);
        result.restarts.push(h.restart);
      }
      emit({ type: "handler", kind, name, status: "done" });
    } catch (e) {
      // The error names the handler already ("reload dialplan: …", "systemctl restart …").
      failedAfterApply(result, "reload-failed", "", e);
      result.pending.push(h);
      emit({ type: "handler", kind, name, status: "failed", message: oneLine(e) });
    }
  }
  if (!reloaded && !plan.plugins.some((p) => p.verify.length)) return;
  for (const p of plan.plugins) {
    for (const v of p.verify) {
      const base = { type: "verify" as const, plugin: p.name, extension: v.extension, context: v.context, expect: v.expect };
      if (!reloaded) {
        if (p.changed) emit({ ...base, status: "skipped", message: "no dialplan reload was done" });
        continue;
      }
      const ast = await ctx.asterisk();
      try {
        const found = await ast.hasExtension(v.extension, v.context);
        if (found === undefined) emit({ ...base, status: "skipped", message: `cannot check through ${ast.transport}` });
        else if (found === (v.expect === "present")) emit({ ...base, status: "ok" });
        else {
          failedAfterApply(result, "verify-failed", `${v.extension}@${v.context} is ${found ? "still loaded" : "not loaded"} after the reload`, undefined, {
            plugin: p.name,
          });
          emit({ ...base, status: "failed", message: `${v.extension}@${v.context} is ${found ? "still loaded" : "not loaded"} after the reload` });
        }
      } catch (e) {
        failedAfterApply(result, "verify-failed", `the check of ${v.extension}@${v.context} failed`, e, { plugin: p.name });
        emit({ ...base, status: "failed", message: oneLine(e) });
      }
    }
  }
}
