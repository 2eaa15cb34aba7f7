/**
 * `wazo-tasks reload` and `reloadAsterisk()`: reload the dialplan or modules on demand, or run
 * the handlers that a previous run could not (`pending`), then check every installed plugin's
 * dialplan. It changes no file of the target, so every failure is exit 1 (2 for bad input).
 */
import path from "node:path";
import { checkLoadedDialplan } from "./apply/dialplan-check.js";
import { replaceFileDurably } from "./apply/fsops.js";
import { acquireLock, type Lock } from "./apply/lock.js";
import { hostOf } from "./host.js";
import { recoverRoot } from "./apply/recover.js";
import { systemctlControl, type AsteriskControl, type ServiceControl } from "./asterisk/control.js";
import { controlFor, type AmiOption, type Environment } from "./asterisk/connect.js";
import type { AmiFlags } from "./asterisk/settings.js";
import { TaskFailure, invalid, type ExitCode, type Failure } from "./model/diagnostic.js";
import type { Emit, Event } from "./model/event.js";
import { errorText, failureOf, publicFailure, throwIfAborted } from "./model/failure.js";
import { handlerKey, handlerLabel } from "./model/plan.js";
import { manifestPath, readManifests, readPending, serializeManifest, writePending, type Handler } from "./state/manifest.js";

export interface ReloadOptions {
  /** How to reach Asterisk: an `ami://` URL, an AmiConfig, or "auto" (as the command line). Required unless `asterisk` is given. */
  ami?: AmiOption;
  /** `dialplan` (the default) or module names (`res_pjsip.so`). */
  targets?: string[];
  /** Run what earlier runs recorded as pending instead of `targets`. */
  pending?: boolean;
  /** Aborting it stops before the next reload; the result has `failure.reason` "aborted". */
  signal?: AbortSignal;
  /** The root whose installed plugins are checked after a dialplan reload (default `/`). */
  root?: string;
  emit?: Emit;
  /** An Asterisk control to use instead of connecting. */
  asterisk?: AsteriskControl;
  services?: ServiceControl;
  amiFlags?: AmiFlags;
  /** The environment `ami: "auto"` reads its settings from (and the PATH `asterisk` is looked up on). */
  env?: Environment;
  /** The PATH systemctl is looked up on (else `env.PATH`); the library entry passes the process's. */
  searchPath?: string;
  amiLog?: (line: string) => void;
  lockTimeoutMs?: number;
}

type Missing = Extract<Event, { type: "dialplan-check" }>["missing"][number];

/** What `reloadAsterisk` did. */
export interface ReloadResult {
  ok: boolean;
  exitCode: ExitCode;
  /** Modules reloaded (`dialplan` for pbx_config). */
  reloads: string[];
  /** Units restarted (with `pending`). */
  restarts: string[];
  /** The check of the installed plugins' extensions after a dialplan reload through AMI; absent when not done. */
  dialplanCheck?: { checked: number; status: "ok" | "failed"; missing: Missing[] };
  failure?: Failure;
  durationMs: number;
}

/** Stops the whole command: Asterisk cannot be reached or used at all. */
const FATAL: ReadonlySet<string> = new Set(["ami-unreachable", "ami-auth", "ami-permission", "ami-timeout", "invalid-input", "invalid-url", "aborted"]);

/** Reloads through AMI (or the given control); never throws for expected failures. */
export async function reloadAsterisk(opts: ReloadOptions): Promise<ReloadResult> {
  const emit = opts.emit ?? (() => {});
  const root = path.resolve(opts.root ?? "/");
  const started = Date.now();
  const result: Omit<ReloadResult, "durationMs"> = { ok: true, exitCode: 0, reloads: [], restarts: [] };
  let ast: AsteriskControl | undefined;
  let lock: Lock | undefined;
  let failed = 0;
  try {
    throwIfAborted(opts.signal, "before any reload");
    lock = await acquireLock(root, opts.lockTimeoutMs ?? 10_000, { pid: hostOf(opts).pid });
    await recoverRoot(root, emit);
    const manifests = await readManifests(root);
    const handlers = await chooseHandlers(opts, root, manifests, emit);
    const done = new Set<string>();
    for (const h of handlers) {
      throwIfAborted(opts.signal, "before the next reload");
      const kind = "reload" in h ? "reload" : "restart";
      try {
        if ("reload" in h) {
          ast ??= opts.asterisk ?? (await controlFor(opts, root, false));
          if (ast.transport === "none") throw invalid("no way to reach Asterisk", [], "configure AMI (docs/ami.md)");
          await ast.reload(h.reload);
          result.reloads.push(h.reload);
        } else {
          await (opts.services ?? (await systemctlControl(opts.searchPath ?? opts.env?.PATH))).restart(h.restart);
          result.restarts.push(h.restart);
        }
        done.add(handlerKey(h));
        emit({ type: "handler", kind, name: handlerLabel(h), status: "done" });
      } catch (e) {
        const f = failureOf(e, 1);
        if (FATAL.has(f.reason) || f.reason === "internal") throw e;
        failed++;
        result.failure ??= f;
        emit({ type: "handler", kind, name: handlerLabel(h), status: "failed", message: f.message });
      }
    }
    await clearPending(root, manifests, done, opts.pending === true);
    if (ast?.transport === "ami" && result.reloads.includes("dialplan")) {
      const check = await checkLoadedDialplan([...manifests.values()], [], ast);
      if (check) {
        const status = check.missing.length ? "failed" : "ok";
        result.dialplanCheck = { checked: check.checked, status, missing: check.missing };
        emit({ type: "dialplan-check", checked: check.checked, status, missing: check.missing });
        if (check.missing.length) {
          failed++;
          const lost = check.missing.map((m) => `${m.extension}@${m.context} of ${m.plugin}`).join(", ");
          result.failure ??= new TaskFailure(
            "dialplan-lost",
            `the dialplan reload left installed plugins' extensions unloaded: ${lost}`,
            [],
            "run `wazo-tasks verify --dialplan` and check the Asterisk log",
            { plugin: check.missing[0]!.plugin, exitCode: 1 },
          ).toFailure();
        }
      }
    }
  } catch (e) {
    const f = failureOf(e);
    // Nothing was applied by this command: a failed reload is exit 1, not 3.
    const failure = f.exitCode === 3 ? { ...f, exitCode: 1 as const } : f;
    for (const diagnostic of failure.diagnostics) emit({ type: "diagnostic", diagnostic });
    result.failure = failure;
    failed++;
  } finally {
    await lock?.release();
    if (ast && !opts.asterisk) await ast.close();
  }
  if (result.failure) Object.assign(result, { ok: false, exitCode: result.failure.exitCode, failure: publicFailure(result.failure) });
  const durationMs = Date.now() - started;
  const error = result.failure && errorText(result.failure);
  emit({
    type: "summary",
    ok: result.ok,
    exitCode: result.exitCode,
    dryRun: false,
    changed: 0,
    unchanged: 0,
    failed,
    reloads: result.reloads,
    restarts: result.restarts,
    plugins: [],
    ...(error ? { error, failure: result.failure } : {}),
    durationMs,
  });
  return { ...result, durationMs };
}

async function chooseHandlers(opts: ReloadOptions, root: string, manifests: Awaited<ReturnType<typeof readManifests>>, emit: Emit): Promise<Handler[]> {
  if (!opts.pending) return (opts.targets?.length ? opts.targets : ["dialplan"]).map((t) => ({ reload: t }));
  const all = [...[...manifests.values()].flatMap((m) => m.reloadPending), ...(await readPending(root))];
  const handlers = [...new Map(all.map((h) => [handlerKey(h), h])).values()];
  if (!handlers.length) emit({ type: "info", message: "nothing pending" });
  return handlers;
}

/** Clears what was done from the manifests (and the state folder) that recorded it as pending. */
async function clearPending(root: string, manifests: Awaited<ReturnType<typeof readManifests>>, done: Set<string>, pending: boolean): Promise<void> {
  for (const m of manifests.values()) {
    const left = m.reloadPending.filter((h) => !done.has(handlerKey(h)));
    if (left.length === m.reloadPending.length) continue;
    await replaceFileDurably(manifestPath(root, m.name), serializeManifest({ ...m, reloadPending: left }));
  }
  if (pending)
    await writePending(
      root,
      (await readPending(root)).filter((h) => !done.has(handlerKey(h))),
    );
}
