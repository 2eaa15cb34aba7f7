/**
 * The pipeline for one command: load → plan → apply (or preview) → summary. Expected failures
 * come back as a summary with `ok: false` and an exit code, never as a thrown error.
 */
import path from "node:path";
import { applyPlan, type ApplyResult } from "./apply/executor.js";
import { acquireLock, type Lock } from "./apply/lock.js";
import { recoverRoot } from "./apply/recover.js";
import type { AsteriskControl, ServiceControl } from "./asterisk/control.js";
import { systemctlControl } from "./asterisk/control.js";
import { controlFor, type AmiOption } from "./asterisk/connect.js";
import type { AmiFlags } from "./asterisk/settings.js";
import { scanOnce, type SearchOptions } from "./load/lookup.js";
import type { Plugin } from "./model/plugin.js";
import { expandPlugin, expandUninstall, finishInstall, finishUninstall, loadFolders, preparePlugins, type ExpandContext } from "./formats/index.js";
import { TaskFailure, invalid, isTaskFailure, type Diagnostic, type ExitCode } from "./model/diagnostic.js";
import { errorText, failureOf, publicFailure, refineIoError, taskFailureOf, throwIfAborted } from "./model/failure.js";
import { checkRoot, handlerFailure } from "./outcome.js";
import type { Emit, Event } from "./model/event.js";
import { handlerLabel, type Plan } from "./model/plan.js";
import type { Expanded } from "./plan/expand.js";
import { gatherFacts } from "./plan/facts.js";
import { buildInstallPlan, pathsOfInterest } from "./plan/planner.js";
import { lintDialplans } from "./plan/lint.js";
import { attachDiffs, emitPreview } from "./plan/preview.js";
import { buildUninstallPlan, uninstallPaths } from "./plan/uninstall.js";
import { readManifests, readPending, type Manifest } from "./state/manifest.js";
import type { RulesRunOptions } from "./rules/types.js";
import { dropCachedTrees, SourceSession } from "./sources/session.js";
import type { SourceRecord } from "./sources/types.js";
import { emitUpToDate, loadSources, partitionUpToDate, shownArgs } from "./sources/load.js";
import { PhaseTimer } from "./util/timings.js";
import { codeCredentials, maskingEmit, type CodeCredentials } from "./code-credentials.js";

export interface RunOptions extends SearchOptions, RulesRunOptions {
  /** The PATH make is looked up on (else `env.PATH`); the library entry passes the process's. */
  searchPath?: string;
  /** Staging root; every absolute target is taken under it. Default "/". */
  root?: string;
  dryRun?: boolean;
  force?: boolean;
  noReload?: boolean;
  lockTimeoutMs?: number;
  emit?: Emit;
  /** An Asterisk control to use instead of connecting (library users, tests). */
  asterisk?: AsteriskControl;
  services?: ServiceControl;
  /**
   * How to reach Asterisk: an `ami://` URL, an AmiConfig, or "auto" (the `amiFlags`,
   * WAZO_TASKS_AMI_URL, `<root>/etc/wazo-tasks/config.yml`, then `asterisk` on PATH, as the
   * command line does). Absent: no Asterisk; a staging root skips the reloads, `/` refuses them.
   */
  ami?: AmiOption;
  /** With `ami: "auto"`: the `--ami-*` flags. */
  amiFlags?: AmiFlags;
  /** Log AMI traffic (secrets masked). */
  amiLog?: (line: string) => void;
  /** Aborting it stops the run: before any change nothing is done; during the file changes they
   * are rolled back, as on SIGINT. The result then has `failure.reason` "aborted". */
  signal?: AbortSignal;
  /** Do not lint dialplan files before install (for a false alarm). */
  noLint?: boolean;
  /** Run a Makefile that ignores DESTDIR even under --root. */
  allowAbsolute?: boolean;
  /** Git sources: the ref and the folder in the repository of the run's one git plugin. */
  ref?: string;
  subdirectory?: string;
  /** The market's address (else WAZO_TASKS_MARKET_URL, the config file, the public market). */
  market?: string;
  /** Run everything again even for a plugin that is unchanged (same source, same commit...). */
  reinstall?: boolean;
  /** The run's sources (git cache, market); made by the run when absent. */
  sources?: SourceSession;
  /** `upgrade`: installed plugins named by these keys are fetched again from these sources. */
  upgradeFrom?: Map<string, SourceRecord>;
}

/** Options the command line passes that programs do not need. */
export interface InternalRunOptions extends RunOptions {
  /** Test-only fault injection (WAZO_TASKS_FAULT; see docs/architecture.md). */
  fault?: import("./model/fault.js").Fault;
}

/** The outcome of a run: the closing `summary` event's fields, the diagnostics and the plan. */
export type RunSummary = Omit<Extract<Event, { type: "summary" }>, "type"> & {
  diagnostics: Diagnostic[];
  plan?: Plan;
};

const DEFAULT_LOCK_TIMEOUT = 10_000;

/** Runs `body` with the lock and a recovered root, or without either in a dry run. */
async function withRoot<T>(opts: RunOptions, ctx: { emit: Emit; timer: PhaseTimer }, body: () => Promise<T>): Promise<T> {
  const { emit } = ctx;
  const root = path.resolve(opts.root ?? "/");
  if (opts.dryRun) return body();
  let lock: Lock | undefined;
  try {
    await ctx.timer.time("lock", async () => {
      lock = await acquireLock(root, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT, (pid) =>
        emit({ type: "info", message: `waiting for the lock held by pid ${pid}` }),
      );
      await recoverRoot(root, emit);
      // A corrupt pending.json is refused now, not after the commit that would add to it.
      await readPending(root);
    });
    return await body();
  } finally {
    await lock?.release();
  }
}

function makeContext(opts: RunOptions, emit: Emit) {
  let control: Promise<AsteriskControl> | undefined;
  const root = path.resolve(opts.root ?? "/");
  return {
    asterisk: () => (control ??= opts.asterisk ? Promise.resolve(opts.asterisk) : controlFor(opts, root, root !== "/")),
    services: async () => opts.services ?? systemctlControl(),
    async close() {
      if (control && !opts.asterisk) await (await control.catch(() => undefined))?.close();
    },
    emit,
    timer: new PhaseTimer(),
  };
}

async function summarize(
  kind: "install" | "uninstall",
  opts: RunOptions,
  emit: Emit,
  work: (ctx: ReturnType<typeof makeContext>) => Promise<{ plan: Plan; result?: ApplyResult; preview?: { changing: number; unchanged: number } }>,
): Promise<RunSummary> {
  const started = Date.now();
  const ctx = makeContext(opts, emit);
  let summary: Omit<RunSummary, "durationMs">;
  try {
    throwIfAborted(opts.signal);
    const { plan, result, preview } = await work(ctx);
    const failure = result ? handlerFailure(result) : undefined;
    const exitCode: ExitCode = failure?.exitCode ?? 0;
    summary = {
      ok: exitCode === 0,
      exitCode,
      dryRun: opts.dryRun === true,
      changed: result?.changed ?? preview?.changing ?? 0,
      unchanged: result?.unchanged ?? preview?.unchanged ?? 0,
      failed: result?.handlerFailed ? 1 : 0,
      reloads: result?.reloads ?? [],
      restarts: result?.restarts ?? [],
      plugins: plan.plugins.map((p) => ({
        name: p.name,
        version: p.version,
        action: p.action,
        status: opts.dryRun
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
  } catch (e) {
    const failure = failureOf(await refineIoError(e));
    await attachDiffs(failure.diagnostics);
    for (const diagnostic of failure.diagnostics) emit({ type: "diagnostic", diagnostic });
    summary = {
      ok: false,
      exitCode: failure.exitCode,
      dryRun: opts.dryRun === true,
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
  } finally {
    await ctx.close();
  }
  const { diagnostics, plan, ...fields } = summary;
  const event = { ...fields, failure: fields.failure && publicFailure(fields.failure), durationMs: Date.now() - started, timings: ctx.timer.result() };
  if (!event.failure) delete event.failure;
  emit({ type: "summary", ...event });
  return { ...event, diagnostics, ...(plan ? { plan } : {}) };
}

/** The sources of a run (git cache, market): `opts.sources`, or a new session. */
export function sourcesFor(opts: RunOptions): SourceSession {
  return (
    opts.sources ??
    new SourceSession({
      root: path.resolve(opts.root ?? "/"),
      dryRun: opts.dryRun,
      emit: opts.emit,
      env: opts.env,
      ref: opts.ref,
      subdirectory: opts.subdirectory,
      market: opts.market,
      wazoVersion: opts.wazoVersion,
      upgradeFrom: opts.upgradeFrom,
    })
  );
}

/** Loads the plugins named on the command line (names, folders, git URLs, market names). */
export async function loadArgs(args: string[], opts: RunOptions): Promise<Plugin[]> {
  if (!args.length) throw invalid("no plugin given", [], "wazo-tasks install NAME|FOLDER|GIT-URL...");
  const search = { ...opts, root: path.resolve(opts.root ?? "/") };
  const session = sourcesFor(opts);
  try {
    const plugins = await loadSources(args, session, search, scanOnce(search), loadFolders);
    for (const p of plugins) for (const line of p.loadOutput ?? []) opts.emit?.({ type: "output", plugin: p.name, stream: "stdout", line });
    return await preparePlugins(plugins, { ...opts, root: path.resolve(opts.root ?? "/"), sources: session });
  } catch (e) {
    throw isTaskFailure(e) ? session.relabel(e) : e;
  }
}

function expandContext(opts: RunOptions, code?: CodeCredentials): ExpandContext {
  return {
    root: path.resolve(opts.root ?? "/"),
    dryRun: opts.dryRun === true,
    previewBuild: opts.previewBuild,
    allowAbsolute: opts.allowAbsolute,
    emit: opts.emit,
    path: opts.searchPath ?? opts.env?.PATH,
    amiFor: code?.amiFor,
  };
}

async function expandAll(plugins: Plugin[], opts: RunOptions, code?: CodeCredentials): Promise<Expanded[]> {
  const ctx = expandContext(opts, code);
  return Promise.all(plugins.map((p) => expandPlugin(p, ctx)));
}

/** Plans an install without changing anything: the plan as data (library API). Throws a
 * TaskFailure (invalid input, conflicts, io…), never a raw error. */
export async function planInstall(args: string[], opts: RunOptions = {}): Promise<Plan> {
  try {
    return await plan(args, opts);
  } catch (e) {
    throw taskFailureOf(await refineIoError(e));
  }
}

async function plan(args: string[], opts: RunOptions): Promise<Plan> {
  if (!opts.sources) {
    const sources = sourcesFor({ ...opts, dryRun: true });
    return planInstall(args, { ...opts, sources }).finally(() => sources.close(false));
  }
  const root = path.resolve(opts.root ?? "/");
  throwIfAborted(opts.signal, "before planning");
  await checkRoot(root);
  const expanded = await expandAll(await loadArgs(args, opts), { ...opts, dryRun: true });
  await lintDialplans(expanded, { noLint: opts.noLint, emit: opts.emit ?? (() => {}), root });
  const manifests = await readManifests(root);
  const facts = await gatherFacts(root, pathsOfInterest(expanded, manifests));
  const plan = buildInstallPlan(expanded, facts, manifests, { force: opts.force, now: new Date().toISOString() });
  return finishInstall(plan, expanded);
}

export async function installPlugins(args: string[], opts: RunOptions = {}): Promise<RunSummary> {
  const masked = maskingEmit(opts.emit ?? (() => {}));
  const emit = masked.emit;
  const root = path.resolve(opts.root ?? "/");
  const sources = opts.sources ?? sourcesFor({ ...opts, emit });
  let installed = false;
  return summarize("install", { ...opts, sources }, emit, async (ctx) => {
    emit({ type: "start", command: "install", root, dryRun: opts.dryRun === true, plugins: shownArgs(args) });
    await checkRoot(root);
    const plugins = await ctx.timer.time("load", () => loadArgs(args, { ...opts, emit, sources }));
    // The same source at the same commit: nothing to do, nothing run (unless --reinstall).
    const { todo, same } = partitionUpToDate(plugins, await readManifests(root), opts.reinstall === true);
    const code = await codeCredentials(todo, opts, root, masked);
    const expanded = await ctx.timer.time("plan", async () => {
      const all = await expandAll(todo, { ...opts, emit }, code);
      (await import("./plan/modes.js")).checkModes(all, opts.strict, emit);
      await lintDialplans(all, { noLint: opts.noLint, emit, root });
      return all;
    });
    return withRoot(opts, ctx, async () => {
      let plan = await ctx.timer.time("plan", async () => {
        const manifests = await readManifests(root);
        const facts = await gatherFacts(root, pathsOfInterest(expanded, manifests));
        const built = buildInstallPlan(expanded, facts, manifests, { force: opts.force, reinstall: opts.reinstall, now: new Date().toISOString() });
        return finishInstall(built, expanded);
      });
      if (same.length)
        plan = {
          ...plan,
          plugins: plugins.map((p) => plan.plugins.find((x) => x.name === p.name) ?? same.find((x) => x.name === p.name)).filter((x) => x !== undefined),
        };
      announce(plan, plugins, emit);
      emitUpToDate(same, emit);
      if (opts.dryRun) {
        const preview = await ctx.timer.time("plan", () => emitPreview(plan, emit));
        return { plan, preview: { ...preview, unchanged: preview.unchanged + same.length } };
      }
      await ctx.timer.time("reload", () => preflight(plan, opts, ctx));
      throwIfAborted(opts.signal);
      const result = await applyPlan(plan, {
        ...ctx,
        noReload: opts.noReload,
        staging: root !== "/",
        fault: (opts as InternalRunOptions).fault,
        signal: opts.signal,
        amiFor: code.amiFor,
      });
      installed = !result.rolledBack;
      return { plan, result: { ...result, unchanged: result.unchanged + same.length } };
    });
  }).finally(() => (opts.sources ? undefined : sources.close(installed)));
}

export async function uninstallPlugins(names: string[], opts: RunOptions = {}): Promise<RunSummary> {
  const masked = maskingEmit(opts.emit ?? (() => {}));
  const emit = masked.emit;
  const root = path.resolve(opts.root ?? "/");
  return summarize("uninstall", opts, emit, async (ctx) => {
    emit({ type: "start", command: "uninstall", root, dryRun: opts.dryRun === true, plugins: names });
    await checkRoot(root);
    if (!names.length) throw invalid("no plugin given", [], "wazo-tasks uninstall NAME...");
    return withRoot(opts, ctx, async () => {
      const { plan, manifests, chosen } = await ctx.timer.time("plan", async () => {
        const manifests = await readManifests(root);
        const chosen: Manifest[] = names.map((n) => {
          const byName = [...manifests.values()].filter((x) => x.name.endsWith(`/${n}`));
          if (!manifests.has(n) && byName.length > 1)
            throw invalid(`"${n}" names several installed plugins: ${byName.map((x) => x.name).join(", ")}`, [], "give NAMESPACE/NAME");
          const m = manifests.get(n) ?? byName[0];
          if (!m)
            throw invalid(
              `plugin "${n}" is not installed in ${root}`,
              [],
              manifests.size ? `installed: ${[...manifests.keys()].join(", ")}` : "nothing is installed there",
            );
          return m;
        });
        const extra = new Map<string, Expanded>();
        const ectx = expandContext(opts);
        for (const m of chosen) {
          const e = await expandUninstall(m, ectx);
          if (e) extra.set(m.name, e);
        }
        const facts = await gatherFacts(root, uninstallPaths(chosen, [...extra.values()]));
        const plan = await finishUninstall(buildUninstallPlan(chosen, extra, facts, { force: opts.force }), chosen);
        return { plan, manifests, chosen };
      });
      emitPlan(plan, emit);
      const code = await codeCredentials(chosen, opts, root, masked);
      for (const p of plan.plugins) {
        const m = manifests.get(p.name)!;
        emit({ type: "plugin", name: p.name, version: p.version, action: "uninstall", kind: m.installedBy, ...needsOf(m) });
      }
      if (opts.dryRun) return { plan, preview: await ctx.timer.time("plan", () => emitPreview(plan, emit)) };
      await ctx.timer.time("reload", () => preflight(plan, opts, ctx));
      throwIfAborted(opts.signal);
      const result = await applyPlan(plan, {
        ...ctx,
        noReload: opts.noReload,
        staging: root !== "/",
        fault: (opts as InternalRunOptions).fault,
        signal: opts.signal,
        amiFor: code.amiFor,
      });
      // Fetched trees nothing installed comes from any more (git and market plugins).
      if (!result.rolledBack) await dropCachedTrees(root, chosen);
      return { plan, result };
    });
  });
}

function emitPlan(plan: Plan, emit: Emit) {
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
function announce(plan: Plan, plugins: Plugin[], emit: Emit) {
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
const needsOf = (p: { needs?: Plugin["needs"] } | undefined) => (p?.needs?.length ? { needs: p.needs } : {});

/** Connects to Asterisk before the first change when the plan will need it, so a wrong
 * password or a missing permission leaves the target untouched. */
async function preflight(plan: Plan, opts: RunOptions, ctx: ReturnType<typeof makeContext>): Promise<void> {
  if (opts.noReload) return;
  const reloads = plan.handlers.some((h) => "reload" in h);
  const commands =
    plan.plugins.some((p) => p.changed && (p.asterisk.length || p.verify.length)) || plan.handlers.some((h) => "reload" in h && h.reload === "dialplan");
  if (!reloads && !commands) return;
  // Reload for the handlers; Command for asterisk steps and the dialplan checks after a reload.
  const actions = [...(reloads ? ["Reload"] : []), ...(commands ? ["Command"] : [])];
  try {
    const control = await ctx.asterisk();
    await control.preflight?.(actions);
  } catch (e) {
    if (isTaskFailure(e)) throw e;
    const f = failureOf(e);
    const { reason, diagnostics, hint, exitCode: _x, message: _m, ...facts } = f;
    throw new TaskFailure(reason === "reload-failed" ? "ami-failed" : reason, `cannot use Asterisk: ${f.message}; nothing was changed`, diagnostics, hint, {
      ...facts,
      exitCode: reason === "internal" ? 70 : 1,
    });
  }
}

export type { Event, Emit };
