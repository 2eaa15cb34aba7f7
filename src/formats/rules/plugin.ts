/**
 * A rules plugin in the pipeline. Install: build and package run in a temporary copy, the staged
 * tree becomes an Expanded (typed file, folder and link items), so the planner and the executor
 * do the copying as for any plugin — transactional, recorded, conflict-checked, previewed, rolled
 * back — and `wazo/rules install` runs once the files are in place. Uninstall: `wazo/rules
 * uninstall`, the recorded files removed, then `wazo/rules postrm` (plugin_format_version ≥ 1),
 * from the copy of `wazo/` kept in the state folder.
 */
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";
import type { Emit } from "../../model/event.js";
import type { RunOp } from "../../model/plan.js";
import type { RulesManifestInfo, RulesPlugin } from "../../model/plugin.js";
import type { Desired, Expanded, KeptFiles, ProgramStep } from "../../plan/expand.js";
import type { FileText } from "../../plan/facts.js";
import { handlersOnly, hasTarget, readRulesScript, rulesArgv, rulesScriptOf, type RulesScript, type RulesTarget } from "../../rules/script.js";
import { stagedItems, type Stagings } from "../../rules/stage.js";
import { STATE_DIR, stateKey, type Manifest } from "../../state/manifest.js";
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

/** What `wazo/rules install` becomes: handlers when it only reloads or restarts, else a run once the files are in place. */
function installTarget(script: RulesScript, file: string, cwd: string): Pick<Expanded, "handlers" | "after"> {
  const handlers = handlersOnly(script, "install");
  const install = !handlers && hasTarget(script, "install") ? runOp(script, file, "install", cwd) : undefined;
  return {
    handlers: (handlers ?? []).map((handler) => ({ handler, always: false })),
    // It runs when the plugin changed, or when a previous run left it undone.
    ...(install ? { after: { runs: [install], pending: (m: Manifest) => m.rules?.installPending === true } } : {}),
  };
}

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
    // Without the build the files are unknown.
    return { ...base, labels, kinds, items, ...installTarget(script, rules.rulesFile, plugin.dir), partial: true };
  }
  const staging = await opts.stagings.stage(plugin, { emit: opts.emit, env: opts.programEnv });
  const { items, labels, kinds } = await stagedItems(plugin, staging.pkgdir);
  return {
    ...base,
    labels,
    kinds,
    items,
    ...installTarget(staging.script, path.join(staging.copy, "wazo", "rules"), staging.copy),
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

/**
 * What removing a rules plugin takes besides its recorded files: `wazo/rules uninstall` first and
 * `postrm` once the files are gone (plugin_format_version ≥ 1), from the copy of `wazo/` kept in
 * the state folder, which goes too. `staying`: the installed plugins the run keeps; `kept`: the
 * kept wazo/rules as the facts read it (undefined: not a file any more).
 */
export async function expandRulesUninstall(
  m: Manifest & { rules: RulesManifestInfo },
  root: string,
  staying: readonly Manifest[],
  kept: FileText | undefined,
): Promise<Expanded> {
  const warnings: string[] = [];
  const users = staying.filter((x) => x.rules?.depends.some((d) => `${d.namespace}/${d.name}` === m.name)).map((x) => x.name);
  if (users.length) warnings.push(`still installed and depending on it: ${users.join(", ")}`);
  const copyDir = path.join(root, m.rules.copy);
  const file = path.join(copyDir, "wazo", "rules");
  const removal: NonNullable<Expanded["removal"]> = { before: [], after: [], handlers: [] };
  if (kept) {
    const script = rulesScriptOf(file, kept.text, kept.executable);
    const step = (target: RulesTarget): ProgramStep[] => {
      if (!hasTarget(script, target)) return [];
      const hs = handlersOnly(script, target);
      // A target that only reloads or restarts becomes a handler, run once after the files are gone.
      if (hs) {
        removal.handlers.push(...hs);
        return [];
      }
      return [{ kind: "rules", label: `wazo/rules ${target}`, op: runOp(script, file, target, copyDir) }];
    };
    removal.before.push(...step("uninstall"));
    if (m.rules.formatVersion >= 1) removal.after.push(...step("postrm"));
  } else warnings.push(`the copy of wazo/ kept at install (${file}) is gone: wazo/rules uninstall and postrm were not run`);
  return {
    plugin: pluginFromManifest(m, file),
    labels: [],
    kinds: [],
    items: [],
    handlers: [],
    asterisk: [],
    verify: [],
    warnings,
    removal,
    kept: { tree: "/" + m.rules.copy, items: [] },
  };
}

/** The installed plugin as a rules plugin, from its manifest (only its name is planned with). */
function pluginFromManifest(m: Manifest & { rules: RulesManifestInfo }, rulesFile: string): RulesPlugin {
  const metaFile = path.join(path.dirname(rulesFile), "plugin.yml");
  const locate = {
    file: metaFile,
    diagnostic: (_: unknown, message: string, o?: { hint?: string }) => ({ severity: "error" as const, file: metaFile, message, hint: o?.hint }),
  };
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    dir: m.source,
    kind: "rules",
    metaFile,
    tasksFile: rulesFile,
    locate,
    rules: {
      meta: {
        namespace: m.rules.namespace,
        name: m.rules.name,
        version: m.version,
        pluginFormatVersion: m.rules.formatVersion,
        depends: m.rules.depends,
        debianDepends: [],
      },
      metaFile,
      rulesFile,
      locate,
      warnings: [],
    },
  };
}
