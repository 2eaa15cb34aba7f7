/**
 * `wazo-tasks reload`: reload the dialplan or a module on demand, or run the handlers that a
 * previous run could not (`--pending`), then check every installed plugin's dialplan.
 */
import path from "node:path";
import { checkLoadedDialplan } from "./apply/dialplan-check.js";
import { replaceFileDurably } from "./apply/fsops.js";
import { acquireLock } from "./apply/lock.js";
import { recoverRoot } from "./apply/recover.js";
import { systemctlControl, type AsteriskControl } from "./asterisk/control.js";
import { connectAsterisk } from "./asterisk/connect.js";
import { resolveAmiSettings } from "./asterisk/settings.js";
import type { RunOptions } from "./engine.js";
import { EXIT_CODES, TaskFailure, invalid, isTaskFailure } from "./model/diagnostic.js";
import { handlerKey, handlerLabel } from "./model/plan.js";
import { manifestPath, readManifests, readPending, serializeManifest, writePending, type Handler } from "./state/manifest.js";

export interface ReloadOptions extends RunOptions {
  /** Run what earlier runs recorded as pending. */
  pending?: boolean;
}

async function control(opts: RunOptions, root: string): Promise<AsteriskControl> {
  if (opts.asterisk) return opts.asterisk;
  const c = await connectAsterisk({ ami: opts.ami ?? (await resolveAmiSettings(opts.amiFlags ?? {}, process.env, root)), staging: false, log: opts.amiLog });
  return c;
}

/** Returns the exit code; reports through `opts.emit`. */
export async function reloadAsterisk(targets: string[], opts: ReloadOptions): Promise<number> {
  const emit = opts.emit ?? (() => {});
  const root = path.resolve(opts.root ?? "/");
  const started = Date.now();
  let ast: AsteriskControl | undefined;
  const reloads: string[] = [];
  const restarts: string[] = [];
  let failed = 0;
  let exitCode = 0;
  let error: string | undefined;
  const lock = await acquireLock(root, opts.lockTimeoutMs ?? 10_000).catch((e) => e as Error);
  try {
    if (lock instanceof Error) throw lock;
    await recoverRoot(root, emit);
    const manifests = await readManifests(root);
    let handlers: Handler[];
    if (opts.pending) {
      const all = [...[...manifests.values()].flatMap((m) => m.reloadPending), ...(await readPending(root))];
      handlers = [...new Map(all.map((h) => [handlerKey(h), h])).values()];
      if (!handlers.length) emit({ type: "info", message: "nothing pending" });
    } else {
      if (!targets.length) targets = ["dialplan"];
      handlers = targets.map((t) => ({ reload: t }));
    }
    const done = new Set<string>();
    for (const h of handlers) {
      try {
        if ("reload" in h) {
          ast ??= await control(opts, root);
          if (ast.transport === "none") throw invalid("no way to reach Asterisk", [], "configure AMI (docs/ami.md)");
          await ast.reload(h.reload);
          reloads.push(h.reload);
        } else {
          await (opts.services ?? (await systemctlControl())).restart(h.restart);
          restarts.push(h.restart);
        }
        done.add(handlerKey(h));
        emit({ type: "handler", kind: "reload" in h ? "reload" : "restart", name: handlerLabel(h), status: "done" });
      } catch (e) {
        if (isTaskFailure(e) && e.reason === "invalid") throw e;
        failed++;
        emit({ type: "handler", kind: "reload" in h ? "reload" : "restart", name: handlerLabel(h), status: "failed", message: (e as Error).message.split("\n")[0] });
      }
    }
    // Clear what was done from the manifests that recorded it as pending.
    for (const m of manifests.values()) {
      const left = m.reloadPending.filter((h) => !done.has(handlerKey(h)));
      if (left.length === m.reloadPending.length) continue;
      await replaceFileDurably(manifestPath(root, m.name), serializeManifest({ ...m, reloadPending: left }));
    }
    if (opts.pending) await writePending(root, (await readPending(root)).filter((h) => !done.has(handlerKey(h))));
    if (ast?.transport === "ami" && reloads.includes("dialplan")) {
      const check = await checkLoadedDialplan([...manifests.values()], [], ast);
      if (check) {
        emit({ type: "dialplan-check", checked: check.checked, status: check.missing.length ? "failed" : "ok", missing: check.missing });
        if (check.missing.length) failed++;
      }
    }
    if (failed) {
      exitCode = EXIT_CODES.handler;
      error = "a reload or the dialplan check failed";
    }
  } catch (e) {
    if (!isTaskFailure(e) && !(e instanceof Error && "reason" in e)) throw e;
    const f = isTaskFailure(e) ? e : new TaskFailure("runtime", (e as Error).message);
    for (const diagnostic of f.diagnostics) emit({ type: "diagnostic", diagnostic });
    exitCode = EXIT_CODES[f.reason];
    error = f.hint ? `${f.message}\n  hint: ${f.hint}` : f.message;
    failed++;
  } finally {
    if (!(lock instanceof Error)) await lock.release();
    if (ast && !opts.asterisk) await ast.close();
  }
  emit({ type: "summary", ok: exitCode === 0, exitCode, dryRun: false, changed: 0, unchanged: 0, failed, reloads, restarts, plugins: [], error, durationMs: Date.now() - started });
  return exitCode;
}
