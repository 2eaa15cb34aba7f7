/**
 * The pipeline for one command, composed from its stages: load → expand → plan → apply (or
 * preview) → summary. Expected failures come back as a summary with `ok: false` and an exit
 * code, never as a thrown error. The stages' parts live in their own modules: the run context
 * (src/run-context.ts), the formats (src/formats/), the planner (src/plan/), the executor
 * (src/apply/), the summary events (src/summary.ts).
 */
import { applyPlan } from "./apply/executor.js";
import { expandPlugin, expandUninstall, loadFolders, preparePlugins, uninstallReads, type ExpandContext } from "./formats/index.js";
import { scanOnce } from "./load/lookup.js";
import { TaskFailure, invalid, isTaskFailure } from "./model/diagnostic.js";
import type { Emit, Event } from "./model/event.js";
import { failureOf, refineIoError, taskFailureOf, throwIfAborted } from "./model/failure.js";
import type { Plan, PluginPlan } from "./model/plan.js";
import type { Plugin } from "./model/plugin.js";
import { checkRoot, composeOutcome } from "./outcome.js";
import { hostOf } from "./host.js";
import type { ApplyResult } from "./model/outcome.js";
import type { Expanded } from "./plan/expand.js";
import { gatherFacts } from "./plan/facts.js";
import { lintDialplans } from "./plan/lint.js";
import { buildInstallPlan, pathsOfInterest } from "./plan/planner.js";
import { emitPreview } from "./plan/preview.js";
import { buildUninstallPlan, uninstallPaths } from "./plan/uninstall.js";
import { openRunContext, rootOf, tasksTsLoading, underLock, type RunContext } from "./run-context.js";
import type { LoadContext } from "./load/plugin.js";
import type { InternalRunOptions, RunOptions, RunSummary } from "./run-options.js";
import { selectInstalled } from "./select-installed.js";
import { dropCachedTrees, SourceSession } from "./sources/session.js";
import { emitUpToDate, loadSources, partitionUpToDate, shownArgs } from "./sources/load.js";
import { readManifests } from "./state/manifest.js";
import { announce, closeSummary, emitPlan, failedSummary, needsOf, summaryOf, type StagesDone } from "./summary.js";
import { codeCredentials, maskingEmit, type CodeCredentials } from "./code-credentials.js";

export type { InternalRunOptions, RunOptions, RunSummary } from "./run-options.js";

/** Runs `work` in a new run context and turns what it returns, or the failure that stopped it,
 * into the closing summary. */
async function summarize(opts: RunOptions, emit: Emit, work: (ctx: RunContext) => Promise<StagesDone>): Promise<RunSummary> {
  const started = Date.now();
  const ctx = openRunContext(opts, emit, hostOf(opts));
  const dryRun = opts.dryRun === true;
  let summary: Awaited<ReturnType<typeof failedSummary>>;
  try {
    throwIfAborted(opts.signal);
    summary = summaryOf(await work(ctx), dryRun);
  } catch (e) {
    summary = await failedSummary(e, dryRun, emit);
  } finally {
    await ctx.close();
  }
  return closeSummary(summary, Date.now() - started, ctx.timer, emit);
}

/** The sources of a run (git cache, market): `opts.sources`, or a new session. */
export function sourcesFor(opts: RunOptions): SourceSession {
  return (
    opts.sources ??
    new SourceSession({
      root: rootOf(opts),
      dryRun: opts.dryRun,
      emit: opts.emit,
      env: opts.env,
      processEnv: hostOf(opts).env,
      ref: opts.ref,
      subdirectory: opts.subdirectory,
      market: opts.market,
      wazoVersion: opts.wazoVersion,
      upgradeFrom: opts.upgradeFrom,
    })
  );
}

/** Loads the plugins named on the command line (names, folders, git URLs, market names), with
 * the run's `loading` (else one of its own, stopped at the end). */
export async function loadArgs(args: string[], opts: RunOptions, loading?: LoadContext): Promise<Plugin[]> {
  if (!args.length) throw invalid("no plugin given", [], "wazo-tasks install NAME|FOLDER|GIT-URL...");
  if (!loading) {
    const own = tasksTsLoading(hostOf(opts));
    return loadArgs(args, opts, own.loading).finally(own.stop);
  }
  const root = rootOf(opts);
  const search = { ...opts, root };
  const session = sourcesFor(opts);
  try {
    const plugins = await loadSources(args, session, search, scanOnce(search), (dirs) => loadFolders(dirs, loading));
    for (const p of plugins) for (const line of p.loadOutput ?? []) opts.emit?.({ type: "output", plugin: p.name, stream: "stdout", line });
    // The environment is read only when the caller asked for it (the command line does).
    const env = opts.env ?? (opts.ami === "auto" ? hostOf(opts).env : undefined);
    return await preparePlugins(plugins, { ...opts, env, root, sources: session, programPath: hostOf(opts).env.PATH, loading });
  } catch (e) {
    throw isTaskFailure(e) ? session.relabel(e) : e;
  }
}

/** `opts` with the environment `ami: "auto"` reads its settings from: the caller's, else the host's. */
const amiEnv = (opts: RunOptions): RunOptions => (opts.env || opts.ami !== "auto" ? opts : { ...opts, env: hostOf(opts).env });

function expandContext(
  opts: RunOptions,
  root: string,
  run: Pick<RunContext, "stagings" | "captures" | "programs" | "host">,
  code?: CodeCredentials,
): ExpandContext {
  const { host } = run;
  return {
    stagings: run.stagings,
    captures: run.captures,
    programs: run.programs,
    programEnv: host.env,
    signal: opts.signal,
    catchSignals: host.catchSignals,
    root,
    dryRun: opts.dryRun === true,
    previewBuild: opts.previewBuild,
    allowAbsolute: opts.allowAbsolute,
    emit: opts.emit,
    path: opts.searchPath ?? opts.env?.PATH,
    amiFor: code?.amiFor,
  };
}

interface Planned {
  plan: Plan;
  /** Every plugin of the run, dependencies included. */
  plugins: Plugin[];
  /** Those whose source did not move: planned as unchanged, with no step. */
  same: PluginPlan[];
  /** What the plugins' code is handed (package.yml `needs:`). */
  code: CodeCredentials;
}

/**
 * The stages of an install up to its plan: load, set aside what is up to date, expand, check
 * modes, lint; then, under the lock (none in a dry run), the facts and the plan, and `next`.
 */
async function planStages<T>(
  args: string[],
  opts: RunOptions,
  ctx: RunContext,
  masked: ReturnType<typeof maskingEmit>,
  next: (planned: Planned) => Promise<T>,
): Promise<T> {
  const { root, emit } = ctx;
  await checkRoot(root);
  const plugins = await ctx.timer.time("load", () => loadArgs(args, opts, ctx.loading));
  // The same source at the same commit: nothing to do, nothing run (unless --reinstall).
  const { todo, same } = partitionUpToDate(plugins, await readManifests(root), opts.reinstall === true);
  const code = await codeCredentials(todo, amiEnv(opts), root, masked);
  const expanded = await ctx.timer.time("plan", async () => {
    const ectx = expandContext({ ...opts, emit }, root, ctx, code);
    const all = await Promise.all(todo.map((p) => expandPlugin(p, ectx)));
    (await import("./plan/modes.js")).checkModes(all, opts.strict, emit);
    await lintDialplans(all, { noLint: opts.noLint, emit, root });
    return all;
  });
  return underLock(opts, ctx, async () => {
    let plan = await ctx.timer.time("plan", async () => {
      const manifests = await readManifests(root);
      const facts = await gatherFacts(root, pathsOfInterest(expanded, manifests));
      return buildInstallPlan(expanded, facts, manifests, { force: opts.force, reinstall: opts.reinstall, now: new Date().toISOString() });
    });
    if (same.length)
      plan = {
        ...plan,
        plugins: plugins.map((p) => plan.plugins.find((x) => x.name === p.name) ?? same.find((x) => x.name === p.name)).filter((x) => x !== undefined),
      };
    return next({ plan, plugins, same, code });
  });
}

/** Plans an install without changing anything: the plan as data (library API), by the stages of
 * an install stopping before the preview. Throws a TaskFailure (invalid input, conflicts, io…),
 * never a raw error. */
export async function planInstall(args: string[], opts: RunOptions = {}): Promise<Plan> {
  const sources = opts.sources ?? sourcesFor({ ...opts, dryRun: true });
  const masked = maskingEmit(opts.emit ?? (() => {}));
  const dry: RunOptions = { ...opts, emit: masked.emit, dryRun: true, sources };
  const ctx = openRunContext(dry, masked.emit, hostOf(dry));
  try {
    throwIfAborted(opts.signal, "before planning");
    return await planStages(args, dry, ctx, masked, async ({ plan }) => plan);
  } catch (e) {
    throw taskFailureOf(await refineIoError(e));
  } finally {
    await ctx.close();
    if (!opts.sources) await sources.close(false);
  }
}

export async function installPlugins(args: string[], opts: RunOptions = {}): Promise<RunSummary> {
  // Secrets handed to a plugin's code are masked in every event of the run.
  const masked = maskingEmit(opts.emit ?? (() => {}));
  const emit = masked.emit;
  const sources = opts.sources ?? sourcesFor({ ...opts, emit });
  const run: RunOptions = { ...opts, emit, sources };
  let installed = false;
  return summarize(run, emit, async (ctx) => {
    emit({ type: "start", command: "install", root: ctx.root, dryRun: opts.dryRun === true, plugins: shownArgs(args) });
    return planStages(args, run, ctx, masked, async ({ plan, plugins, same, code }) => {
      announce(plan, plugins, emit);
      emitUpToDate(same, emit);
      if (opts.dryRun) {
        const preview = await ctx.timer.time("plan", () => emitPreview(plan, emit));
        return { plan, preview: { ...preview, unchanged: preview.unchanged + same.length } };
      }
      await ctx.timer.time("reload", () => preflight(plan, opts, ctx));
      throwIfAborted(opts.signal);
      const result = await apply(plan, opts, ctx, code.amiFor);
      installed = !result.rolledBack;
      return { plan, result: { ...result, unchanged: result.unchanged + same.length } };
    });
  }).finally(() => (opts.sources ? undefined : sources.close(installed)));
}

export async function uninstallPlugins(names: string[], opts: RunOptions = {}): Promise<RunSummary> {
  const masked = maskingEmit(opts.emit ?? (() => {}));
  const emit = masked.emit;
  return summarize(opts, emit, async (ctx) => {
    const { root } = ctx;
    emit({ type: "start", command: "uninstall", root, dryRun: opts.dryRun === true, plugins: names });
    await checkRoot(root);
    if (!names.length) throw invalid("no plugin given", [], "wazo-tasks uninstall NAME...");
    return underLock(opts, ctx, async () => {
      const { plan, manifests, chosen, code } = await ctx.timer.time("plan", async () => {
        const manifests = await readManifests(root);
        const chosen = names.map((n) => selectInstalled(n, manifests, root));
        // Before planning: a captured make uninstall runs while it is expanded, with what its code is handed.
        const code = await codeCredentials(chosen, amiEnv(opts), root, masked);
        const extra = new Map<string, Expanded>();
        const staying = [...manifests.values()].filter((x) => !chosen.some((m) => m.name === x.name));
        // What the formats read of the target to expand an uninstall (a kept wazo/rules), through the facts.
        const read = await gatherFacts(root, { paths: [], read: chosen.flatMap(uninstallReads) });
        const ectx = { ...expandContext({ ...opts, emit }, root, ctx, code), staying, facts: read };
        for (const m of chosen) {
          const e = await expandUninstall(m, ectx);
          if (e) extra.set(m.name, e);
        }
        const facts = await gatherFacts(root, uninstallPaths(chosen, [...extra.values()]));
        const plan = buildUninstallPlan(chosen, extra, facts, { force: opts.force });
        return { plan, manifests, chosen, code };
      });
      emitPlan(plan, emit);
      for (const p of plan.plugins) {
        const m = manifests.get(p.name);
        if (m) emit({ type: "plugin", name: p.name, version: p.version, action: "uninstall", kind: m.installedBy, ...needsOf(m) });
      }
      if (opts.dryRun) return { plan, preview: await ctx.timer.time("plan", () => emitPreview(plan, emit)) };
      await ctx.timer.time("reload", () => preflight(plan, opts, ctx));
      throwIfAborted(opts.signal);
      const result = await apply(plan, opts, ctx, code.amiFor);
      // Fetched trees nothing installed comes from any more (git and market plugins).
      if (!result.rolledBack) await dropCachedTrees(root, chosen);
      return { plan, result };
    });
  });
}

/** Applies the plan; what its stages did, composed into the run's result. */
async function apply(plan: Plan, opts: RunOptions, ctx: RunContext, amiFor: CodeCredentials["amiFor"]): Promise<ApplyResult> {
  const outcome = await applyPlan(plan, {
    ...ctx,
    noReload: opts.noReload,
    staging: ctx.root !== "/",
    fault: (opts as InternalRunOptions).fault,
    signal: opts.signal,
    amiFor,
  });
  return composeOutcome(outcome);
}

/** Connects to Asterisk before the first change when the plan will need it, so a wrong
 * password or a missing permission leaves the target untouched. */
async function preflight(plan: Plan, opts: RunOptions, ctx: RunContext): Promise<void> {
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
