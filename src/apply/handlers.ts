/**
 * After the files are committed: Asterisk CLI commands, then each notified handler once
 * (reloads, restarts), then verifications. A failure here keeps the files and is recorded as
 * `reload pending`; the run ends with exit code 3.
 */
import type { AsteriskControl, ServiceControl } from "../asterisk/control.js";
import type { Emit } from "../model/event.js";
import { emptyStage, type StageOutcome } from "../model/outcome.js";
import { handlerLabel, type Plan } from "../model/plan.js";
import { afterFailure, oneLine } from "./after-failure.js";

export interface HandlerContext {
  emit: Emit;
  /** Connected on first use; one connection per run. */
  asterisk: () => Promise<AsteriskControl>;
  services: () => Promise<ServiceControl>;
  noReload?: boolean;
  /** True under --root: a missing transport means "skipped", not an error. */
  staging?: boolean;
}

/** Runs the Asterisk commands, the handlers and the verifications; returns what they did. */
export async function runHandlers(plan: Plan, ctx: HandlerContext): Promise<StageOutcome> {
  const { emit } = ctx;
  const result = emptyStage();
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
        result.failures.push(afterFailure("reload-failed", `asterisk '${cli}' failed`, e, { command: cli, plugin: p.name }));
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
      result.failures.push(afterFailure("reload-failed", "", e));
      result.pending.push(h);
      emit({ type: "handler", kind, name, status: "failed", message: oneLine(e) });
    }
  }
  if (!reloaded && !plan.plugins.some((p) => p.verify.length)) return result;
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
          result.failures.push(
            afterFailure("verify-failed", `${v.extension}@${v.context} is ${found ? "still loaded" : "not loaded"} after the reload`, undefined, {
              plugin: p.name,
            }),
          );
          emit({ ...base, status: "failed", message: `${v.extension}@${v.context} is ${found ? "still loaded" : "not loaded"} after the reload` });
        }
      } catch (e) {
        result.failures.push(afterFailure("verify-failed", `the check of ${v.extension}@${v.context} failed`, e, { plugin: p.name }));
        emit({ ...base, status: "failed", message: oneLine(e) });
      }
    }
  }
  return result;
}
