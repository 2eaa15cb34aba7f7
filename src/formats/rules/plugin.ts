/**
 * A rules plugin in the pipeline. Install: build and package run in a temporary copy, the staged
 * tree becomes an Expanded (typed file, folder and link items), so the planner and the executor
 * do the copying as for any plugin — transactional, recorded, conflict-checked, previewed, rolled
 * back — and `wazo/rules install` runs once the files are in place. Uninstall: `wazo/rules
 * uninstall`, the recorded files removed, then `wazo/rules postrm` (plugin_format_version ≥ 1),
 * from the copy of `wazo/` kept in the state folder.
 */
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import type { Emit } from "../../model/event.js";
import type { FileOp, Plan, PlannedStep, RunOp } from "../../model/plan.js";
import type { RulesManifestInfo, RulesPlugin } from "../../model/plugin.js";
import type { Desired, Expanded, KeptFiles } from "../../plan/expand.js";
import { finishPlan } from "../../plan/planner.js";
import { handlersOnly, hasTarget, readRulesScript, rulesArgv, type RulesScript, type RulesTarget } from "../../rules/script.js";
import { stagedItems, type Stagings } from "../../rules/stage.js";
import { STATE_DIR, readManifests, stateKey, type Manifest } from "../../state/manifest.js";
import { sha256File } from "../../util/hash.js";

export interface RulesExpandOptions {
  dryRun?: boolean;
  previewBuild?: boolean;
  emit?: Emit;
  /** The run's staging folders (removed when the run ends). */
  stagings: Stagings;
  /** The environment build and package start from. */
  programEnv: Readonly<Record<string, string | undefined>>;
}

/** Where the copy of a plugin's `wazo/` folder is kept, relative to the root. */
export const rulesCopyDir = (name: string) => path.posix.join(STATE_DIR, "rules", stateKey(name));

const runOp = (script: RulesScript, file: string, target: RulesTarget, cwd: string): RunOp => ({
  op: "run",
  argv: rulesArgv(script, file, target),
  cwd,
  display: `wazo/rules ${target}`,
  change: "update",
});

/** Expands a rules plugin for install: build + package into a staging folder, the staged tree as items. */
export async function expandRulesPlugin(plugin: RulesPlugin, opts: RulesExpandOptions): Promise<Expanded> {
  const rules = plugin.rules;
  const meta = rules.meta;
  // Recorded in the manifest; `copy` is where the copy of wazo/ is kept for uninstall.
  const info: RulesManifestInfo = {
    namespace: meta.namespace,
    name: meta.name,
    formatVersion: meta.pluginFormatVersion,
    copy: rulesCopyDir(plugin.name),
    depends: meta.depends,
  };
  // `wazo/rules install` runs when the plugin changed, or when a previous run left it undone.
  const after = (install: RunOp | undefined) => (install ? { after: { runs: [install], pending: (m: Manifest) => m.rules?.installPending === true } } : {});
  const base = { plugin, asterisk: [], verify: [], recorded: { rules: info } };
  if (opts.dryRun && !opts.previewBuild) {
    // The targets execute plugin code: a dry run lists them, unless --preview-build.
    const script = await readRulesScript(rules.rulesFile);
    const items: Desired[] = [];
    const labels: string[] = [];
    const kinds: string[] = [];
    for (const target of ["build", "package"] as const) {
      if (!hasTarget(script, target)) continue;
      items.push({ kind: "run", step: kinds.length, argv: rulesArgv(script, rules.rulesFile, target), cwd: plugin.dir });
      labels.push(`wazo/rules ${target}`);
      kinds.push("rules");
    }
    const handlers = handlersOnly(script, "install");
    const install = !handlers && hasTarget(script, "install") ? runOp(script, rules.rulesFile, "install", plugin.dir) : undefined;
    return {
      ...base,
      labels,
      kinds,
      items,
      handlers: (handlers ?? []).map((handler) => ({ handler, always: false })),
      // Without the build the files are unknown.
      partial: true,
      ...after(install),
    };
  }
  const staging = await opts.stagings.stage(plugin, { emit: opts.emit, env: opts.programEnv });
  const { items, labels, kinds } = await stagedItems(plugin, staging.pkgdir);
  const handlers = handlersOnly(staging.script, "install");
  const install =
    !handlers && hasTarget(staging.script, "install") ? runOp(staging.script, path.join(staging.copy, "wazo", "rules"), "install", staging.copy) : undefined;
  return {
    ...base,
    labels,
    kinds,
    items,
    handlers: (handlers ?? []).map((handler) => ({ handler, always: false })),
    ...after(install),
    // The copy of wazo/ uninstall runs from, kept in the state folder.
    kept: await keptCopy(path.join(staging.copy, "wazo"), "/" + path.posix.join(rulesCopyDir(plugin.name), "wazo")),
  };
}

/** The kept copy of `src` at `tree` on the target: folders, files and links, each folder before what it holds, names in order. */
async function keptCopy(src: string, tree: string): Promise<KeptFiles> {
  const items: KeptFiles["items"] = [];
  async function walk(rel: string) {
    const s = path.join(src, rel);
    const target = rel ? path.posix.join(tree, rel) : tree;
    const st = await lstat(s);
    if (st.isDirectory()) {
      items.push({ kind: "dir", step: 0, target, mode: st.mode & 0o7777 });
      for (const e of (await readdir(s)).sort()) await walk(path.posix.join(rel, e));
    } else if (st.isSymbolicLink()) items.push({ kind: "symlink", step: 0, target, linkTo: await readlink(s) });
    else if (st.isFile()) {
      const mode = st.mode & 0o7777;
      items.push({ kind: "file", step: 0, source: s, target, mode, sourceMode: mode, sha256: await sha256File(s, st.size), size: st.size });
    }
  }
  await walk("");
  return { tree, items };
}

/** Completes an uninstall plan for rules plugins: `rules uninstall` first, `rules postrm` after the files, the kept copy removed. */
export async function finishRulesUninstall(plan: Plan, manifests: Manifest[]): Promise<Plan> {
  const rulesOnes = manifests.flatMap((m) => (m.installedBy === "rules" && m.rules ? [{ ...m, rules: m.rules }] : []));
  if (!rulesOnes.length) return plan;
  const staying = [...(await readManifests(plan.root)).values()].filter((x) => !manifests.some((m) => m.name === x.name));
  for (const m of rulesOnes) {
    const p = plan.plugins.find((x) => x.name === m.name);
    if (!p) continue;
    const users = staying.filter((x) => x.rules?.depends.some((d) => `${d.namespace}/${d.name}` === m.name)).map((x) => x.name);
    if (users.length) p.warnings.push(`still installed and depending on it: ${users.join(", ")}`);
    const copyDir = path.join(plan.root, m.rules.copy);
    const file = path.join(copyDir, "wazo", "rules");
    if (
      await stat(file).then(
        (s) => s.isFile(),
        () => false,
      )
    ) {
      const script = await readRulesScript(file);
      const step = (target: RulesTarget): PlannedStep | undefined => {
        if (!hasTarget(script, target)) return undefined;
        const hs = handlersOnly(script, target);
        // A target that only reloads or restarts becomes a handler, run once after the files are gone.
        if (hs) {
          p.handlers.push(...hs.map((handler) => ({ handler, always: false })));
          return undefined;
        }
        return { plugin: p.name, kind: "rules", label: `wazo/rules ${target}`, notSimulated: true, ops: [runOp(script, file, target, copyDir)] };
      };
      const before = step("uninstall");
      if (before) p.steps.unshift(before);
      const after = m.rules.formatVersion >= 1 ? step("postrm") : undefined;
      if (after) {
        const at = p.steps.findIndex((s) => s.kind === "state");
        p.steps.splice(at < 0 ? p.steps.length : at, 0, after);
      }
    } else p.warnings.push(`the copy of wazo/ kept at install (${file}) is gone: wazo/rules uninstall and postrm were not run`);
    const state = p.steps.find((s) => s.kind === "state");
    if (state)
      state.ops.unshift(...(await removalOps(copyDir)), { op: "remove", path: path.dirname(copyDir), display: path.dirname(copyDir), change: "remove" });
  }
  return finishPlan(plan.root, "uninstall", plan.plugins);
}

/** Removal of everything under `dir` and `dir` itself: files and links first, then folders, deepest first. */
async function removalOps(dir: string): Promise<FileOp[]> {
  const files: FileOp[] = [];
  const dirs: FileOp[] = [];
  async function walk(p: string) {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) {
      for (const e of await readdir(p)) await walk(path.join(p, e));
      dirs.push({ op: "remove", path: p, display: p, change: "remove" });
    } else files.push({ op: "remove", path: p, display: p, change: "remove" });
  }
  await walk(dir);
  return [...files, ...dirs];
}
