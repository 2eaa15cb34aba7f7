/**
 * `wazo-tasks verify` and `verifyPlugins()`: compare the disk with the installed state and,
 * with `dialplan`, ask Asterisk that every plugin's extensions are loaded. Changes nothing.
 */
import path from "node:path";
import { checkLoadedDialplan } from "./apply/dialplan-check.js";
import { controlFor, type AmiOption, type Environment } from "./asterisk/connect.js";
import type { AsteriskControl } from "./asterisk/control.js";
import type { AmiFlags } from "./asterisk/settings.js";
import { TaskFailure, invalid, type ExitCode, type Failure } from "./model/diagnostic.js";
import type { Emit } from "./model/event.js";
import { failureOf, publicFailure, throwIfAborted } from "./model/failure.js";
import { findDrift, type Drift } from "./state/drift.js";
import { readManifestsChecked, readPendingChecked, type CorruptState, type Manifest } from "./state/manifest.js";
import type { RepairAction } from "./state/repair.js";
import { acquireLock, type Lock } from "./apply/lock.js";
import { recoverRoot } from "./apply/recover.js";
import { DEFAULT_LOCK_TIMEOUT_MS } from "./apply/recover-first.js";
import { hostOf } from "./host.js";

export interface VerifyOptions {
  /** Default `/`. */
  root?: string;
  /** Installed plugins to check (default: all). */
  plugins?: string[];
  /** Also ask Asterisk that every plugin's extensions are loaded (needs `ami` or `asterisk`). */
  dialplan?: boolean;
  ami?: AmiOption;
  amiFlags?: AmiFlags;
  env?: Environment;
  amiLog?: (line: string) => void;
  asterisk?: AsteriskControl;
  signal?: AbortSignal;
  /** Receives `recovered` when an interrupted run is rolled back first. */
  emit?: Emit;
  /** How long to wait for a run in progress on the root (default 10000). */
  lockTimeoutMs?: number;
  /** Rebuild a corrupt manifest (or pending.json) from the disk, or set it aside. */
  repair?: boolean;
}

export interface VerifyResult {
  /** No drift, no failure. */
  ok: boolean;
  /** 0, 1 on drift (failure reason `drift`), or the failure's code. */
  exitCode: ExitCode;
  /** The plugins checked. */
  plugins: string[];
  drift: Drift[];
  /** With `dialplan`: how many extensions were asked for. */
  dialplanChecked?: number;
  failure?: Failure;
  /** With `repair`: what was done to each corrupt state file. */
  repairs?: (RepairAction & { problem: string })[];
  durationMs: number;
}

export async function verifyPlugins(opts: VerifyOptions = {}): Promise<VerifyResult> {
  const root = path.resolve(opts.root ?? "/");
  const started = Date.now();
  let plugins: string[] = [];
  const drift: Drift[] = [];
  let dialplanChecked: number | undefined;
  let failure: Failure | undefined;
  let lock: Lock | undefined;
  let repairs: VerifyResult["repairs"];
  try {
    throwIfAborted(opts.signal, "before verifying");
    // Under the lock: a run in progress is waited for, never seen half done.
    lock = await acquireLock(root, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, { pid: hostOf(opts).pid });
    await recoverRoot(root, opts.emit ?? (() => {}));
    const state = await checkedState(root, opts.repair === true);
    const { manifests } = state;
    repairs = state.repairs;
    const wanted = opts.plugins ?? [];
    for (const a of wanted)
      if (!manifests.has(a))
        throw invalid(
          `plugin "${a}" is not installed in ${root}`,
          [],
          manifests.size ? `installed: ${[...manifests.keys()].join(", ")}` : "nothing is installed there",
        );
    const chosen = [...manifests.values()].filter((m) => !wanted.length || wanted.includes(m.name));
    plugins = chosen.map((m) => m.name);
    drift.push(...(await findDrift(root, chosen)));
    const where = root === "/" ? "" : ` --root ${root}`;
    for (const c of state.corrupt)
      drift.push({
        plugin: path.basename(c.file, ".json"),
        path: c.file,
        kind: "corrupt",
        detail: `${c.problem}; \`wazo-tasks verify --repair${where}\` rebuilds it or sets it aside`,
      });
    if (opts.dialplan) {
      throwIfAborted(opts.signal, "before asking Asterisk");
      const ast = opts.asterisk ?? (await controlFor(opts, root, false));
      try {
        const check = await checkLoadedDialplan(chosen, [], ast);
        if (!check) throw new TaskFailure("ami-failed", `cannot check the dialplan through ${ast.transport}`, [], "configure AMI (docs/ami.md)");
        dialplanChecked = check.checked;
        for (const m of check.missing)
          drift.push({
            plugin: m.plugin,
            path: m.file,
            kind: "not-loaded",
            detail: `${m.extension}@${m.context} is not loaded in Asterisk`,
            extension: m.extension,
            context: m.context,
          });
      } finally {
        if (!opts.asterisk) await ast.close();
      }
    }
    if (drift.length)
      failure = {
        reason: "drift",
        message: `${drift.length} path(s) drifted from the installed state`,
        hint: "reinstall the plugin to restore it, or uninstall it",
        diagnostics: [],
        exitCode: 1,
      };
  } catch (e) {
    failure = publicFailure(failureOf(e));
  } finally {
    await lock?.release();
  }
  return {
    ok: !failure,
    exitCode: failure?.exitCode ?? 0,
    plugins,
    drift,
    ...(dialplanChecked === undefined ? {} : { dialplanChecked }),
    ...(failure ? { failure } : {}),
    ...(repairs ? { repairs } : {}),
    durationMs: Date.now() - started,
  };
}

/** The manifests to compare, and corrupt state files: reported, or with `repair` repaired first. */
async function checkedState(
  root: string,
  repair: boolean,
): Promise<{ manifests: Map<string, Manifest>; corrupt: CorruptState[]; repairs?: VerifyResult["repairs"] }> {
  const state = await readManifestsChecked(root);
  const pending = (await readPendingChecked(root)).corrupt;
  const corrupt = [...state.corrupt, ...(pending ? [pending] : [])];
  if (!repair || !corrupt.length) return { manifests: state.manifests, corrupt };
  const { repairManifest, repairPending } = await import("./state/repair.js");
  const repairs: NonNullable<VerifyResult["repairs"]> = [];
  for (const c of corrupt) repairs.push({ ...(c === pending ? await repairPending(root, c) : await repairManifest(root, c)), problem: c.problem });
  const after = await readManifestsChecked(root);
  return { manifests: after.manifests, corrupt: after.corrupt, repairs };
}
