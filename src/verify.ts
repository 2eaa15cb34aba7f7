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
import { readManifests } from "./state/manifest.js";
import { recoverIfInterrupted } from "./apply/recover-first.js";

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
  durationMs: number;
}

export async function verifyPlugins(opts: VerifyOptions = {}): Promise<VerifyResult> {
  const root = path.resolve(opts.root ?? "/");
  const started = Date.now();
  let plugins: string[] = [];
  const drift: Drift[] = [];
  let dialplanChecked: number | undefined;
  let failure: Failure | undefined;
  try {
    throwIfAborted(opts.signal, "before verifying");
    await recoverIfInterrupted(root, opts.emit ?? (() => {}));
    const manifests = await readManifests(root);
    const wanted = opts.plugins ?? [];
    for (const a of wanted) if (!manifests.has(a)) throw invalid(`plugin "${a}" is not installed in ${root}`, [], manifests.size ? `installed: ${[...manifests.keys()].join(", ")}` : "nothing is installed there");
    const chosen = [...manifests.values()].filter((m) => !wanted.length || wanted.includes(m.name));
    plugins = chosen.map((m) => m.name);
    drift.push(...(await findDrift(root, chosen)));
    if (opts.dialplan) {
      throwIfAborted(opts.signal, "before asking Asterisk");
      const ast = opts.asterisk ?? (await controlFor(opts, root, false));
      try {
        const check = await checkLoadedDialplan(chosen, [], ast);
        if (!check) throw new TaskFailure("ami-failed", `cannot check the dialplan through ${ast.transport}`, [], "configure AMI (docs/ami.md)");
        dialplanChecked = check.checked;
        for (const m of check.missing) drift.push({ plugin: m.plugin, path: m.file, kind: "not-loaded", detail: `${m.extension}@${m.context} is not loaded in Asterisk`, extension: m.extension, context: m.context });
      } finally {
        if (!opts.asterisk) await ast.close();
      }
    }
    if (drift.length) failure = { reason: "drift", message: `${drift.length} path(s) drifted from the installed state`, hint: "reinstall the plugin to restore it, or uninstall it", diagnostics: [], exitCode: 1 };
  } catch (e) {
    failure = publicFailure(failureOf(e));
  }
  return { ok: !failure, exitCode: failure?.exitCode ?? 0, plugins, drift, ...(dialplanChecked === undefined ? {} : { dialplanChecked }), ...(failure ? { failure } : {}), durationMs: Date.now() - started };
}
