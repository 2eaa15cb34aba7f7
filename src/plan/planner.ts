/**
 * The planner: a pure function from (expanded plugins, facts read from the target, installed
 * manifests, options) to a Plan. It decides, for every path, whether anything would change, and
 * refuses conflicts before anything is touched.
 */
import path from "node:path";
import { TaskFailure, type Diagnostic } from "../model/diagnostic.js";
import { handlerKey, type Change, type FileOp, type Op, type Plan, type PlannedStep, type PluginPlan } from "../model/plan.js";
import {
  MANIFEST_FORMAT,
  manifestPath,
  ownersOf,
  preservedPath,
  serializeManifest,
  type Handler,
  type Manifest,
  type ManifestEntry,
} from "../state/manifest.js";
import { sha256 } from "../util/hash.js";
import type { Desired, Expanded, KeptFiles } from "./expand.js";
import { unreachable } from "../util/unreachable.js";
import { escapeOf, rooted, unfitPath, type Fact, type FactQuery, type Facts } from "./facts.js";
import { folderKept } from "./folders.js";

export interface PlanOptions {
  force?: boolean;
  /** ISO time written into manifests (passed in to keep planning pure). */
  now: string;
  /** Run every plugin's steps and handlers again, even when nothing changed (wazo-plugind's `reinstall`). */
  reinstall?: boolean;
}

/** What the planner will ask facts about: every target and recorded path, and the content of the
 * folders a `remove:` names (a folder holding others' files is kept). */
export function pathsOfInterest(expanded: Expanded[], manifests: Map<string, Manifest>): FactQuery {
  const paths: string[] = [];
  const listed: string[] = [];
  const walked: string[] = [];
  for (const e of expanded) {
    for (const item of e.items) if ("target" in item) paths.push(item.target);
    for (const item of e.items) if (item.kind === "remove") listed.push(item.target);
    for (const f of manifests.get(e.plugin.name)?.files ?? []) paths.push(f.path);
    if (e.kept) walked.push(e.kept.tree);
  }
  return { paths, listed, walked };
}

/**
 * The install plan, as passes over data, in order: what each plugin brings (beside its installed
 * version), what stands in the way of each path (with the conflicts between plugins), ownership
 * against the manifests, the folders to create, the operations per step, the refusal of any
 * conflict, then per plugin its format's steps, files no longer shipped, changed or unchanged and
 * the manifest; `finishPlan` orders the whole run.
 */
export function buildInstallPlan(expanded: Expanded[], facts: Facts, manifests: Map<string, Manifest>, opts: PlanOptions): Plan {
  const owners = ownersOf(manifests);
  const inputs = pluginInputs(expanded, manifests);
  const inTheWay = pathConflicts(inputs, facts, owners);
  const overwritten = overwrites(inputs, facts, keysOf(inTheWay), opts.force === true);
  const refusals = keysOf([...inTheWay, ...overwritten.conflicts]);
  const folders = foldersToCreate(inputs, facts, refusals);
  const placed = inputs.map((p) => stepOps(p, facts, owners, refusals, folders));
  refuseConflicts([...inTheWay, ...overwritten.conflicts, ...placed.flatMap((x) => x.conflicts)]);
  const plugins = inputs.map((p) => finishPlugin(p, placed[p.index], overwritten.kept[p.index], facts, opts));
  return finishPlan(facts.root, "install", plugins);
}

/** What one plugin brings to the planner, read once. */
interface PluginInput {
  /** Its place in the run: conflicts are listed in plugin order, then item order. */
  index: number;
  e: Expanded;
  name: string;
  prev?: Manifest;
  /** Where a conflict without a step position is reported. */
  where: string;
  /** The installed version's entries by path. */
  recorded: Map<string, ManifestEntry>;
  /** Folders the installed version created. */
  ours: Set<string>;
}

/** Desired state per plugin, beside what its installed version recorded. */
function pluginInputs(expanded: Expanded[], manifests: Map<string, Manifest>): PluginInput[] {
  return expanded.map((e, index) => {
    const prev = manifests.get(e.plugin.name);
    const recorded = new Map<string, ManifestEntry>();
    for (const x of prev?.files ?? []) if (!recorded.has(x.path)) recorded.set(x.path, x);
    return {
      index,
      e,
      name: e.plugin.name,
      prev,
      where: e.plugin.tasksFile ?? e.plugin.dir,
      recorded,
      ours: new Set((prev?.files ?? []).filter((x) => x.type === "dir").map((x) => x.path)),
    };
  });
}

/** A refusal, tied to the item that caused it. */
interface Conflict {
  plugin: number;
  item: number;
  diagnostic: Diagnostic;
  adminEdit?: true;
}

const key = (plugin: number, item: number) => `${plugin}/${item}`;
const itemKey = (p: PluginInput, item: number) => key(p.index, item);

function refused(p: PluginInput, item: number, file: string, message: string, hint?: string, diffWith?: Diagnostic["diffWith"]): Conflict {
  return { plugin: p.index, item, diagnostic: { severity: "error", file, message: `${p.name}: ${message}`, hint, diffWith } };
}

/** At the step that caused it, when the descriptor has positions. */
function refusedAt(p: PluginInput, item: number, step: number, message: string, hint?: string): Conflict {
  const key = p.e.kinds[step] === "copy" ? "to" : p.e.kinds[step];
  const d = p.e.plugin.locate?.diagnostic(["install", step, key], `${p.name}: ${message}`, { hint });
  return d ? { plugin: p.index, item, diagnostic: d } : refused(p, item, p.where, message, hint);
}

const factAt = (facts: Facts, p: string): Fact => facts.paths.get(p) ?? { type: "absent" };

/**
 * What stands in the way of each path: a name that cannot be written, a link out of the root, two
 * steps or plugins of this run wanting it, an installed plugin owning it, the wrong kind of file.
 */
function pathConflicts(inputs: PluginInput[], facts: Facts, owners: Map<string, string>): Conflict[] {
  const claimed = new Map<string, string>(); // target → plugin, within this run
  const out: Conflict[] = [];
  for (const p of inputs)
    p.e.items.forEach((item, i) => {
      const c = pathConflict(p, item, i, facts, owners, claimed);
      if (c) out.push(c);
    });
  return out;
}

function pathConflict(p: PluginInput, item: Desired, i: number, facts: Facts, owners: Map<string, string>, claimed: Map<string, string>): Conflict | undefined {
  switch (item.kind) {
    case "file":
    case "symlink": {
      // A file or link is renamed over a link at the target, never written through it, so only
      // its folders can lead out of the root (an absolute link installed before is fine).
      const c = placeConflict(p, item, i, facts, path.posix.dirname(item.target)) ?? claimConflict(p, item, i, owners, claimed);
      if (c) return c;
      const f = factAt(facts, item.target);
      if (item.kind === "file") {
        if (f.type === "dir") return refused(p, i, p.where, `${item.target} exists and is not a file`, "copy into it by ending \"to\" with '/'");
        if (f.type === "other")
          return refused(p, i, p.where, `${item.target} is a FIFO, socket or device, not a regular file`, "move it away; wazo-tasks never writes into one");
        return undefined;
      }
      // Only a file or a link can be kept and put back; never replace a FIFO, device or folder.
      if (f.type === "other" || f.type === "dir")
        return refused(
          p,
          i,
          item.target,
          `${item.target} is a ${f.type === "dir" ? "folder" : "FIFO, socket or device"}, not a file or link`,
          "move it away; wazo-tasks never replaces one",
        );
      return undefined;
    }
    case "dir": {
      const unfit = unfitPath(facts, item.target);
      if (unfit) return refusedAt(p, i, item.step, unfit, "move it away, or change the target");
      const f = factAt(facts, item.target);
      if (f.type !== "absent" && f.type !== "dir") return refused(p, i, p.where, `${item.target} exists and is not a folder`);
      return placeConflict(p, item, i, facts, item.target);
    }
    case "remove": {
      const owner = owners.get(item.target);
      if (owner && owner !== p.name) return refused(p, i, p.where, `remove: ${item.target} belongs to installed plugin "${owner}"`);
      return undefined;
    }
    case "chmod":
    case "run":
      return undefined;
    default:
      return unreachable(item);
  }
}

/** A target that cannot be written, or that `through` leads outside the root. */
function placeConflict(p: PluginInput, item: Desired & { target: string }, i: number, facts: Facts, through: string): Conflict | undefined {
  const unfit = unfitPath(facts, item.target);
  if (unfit) return refusedAt(p, i, item.step, unfit, "move it away, or change the target");
  const esc = escapeOf(facts, through);
  if (esc)
    return refusedAt(
      p,
      i,
      item.step,
      `target ${item.target} leads outside the root through ${esc.via} (to ${esc.to})`,
      "remove the symbolic link or install without it",
    );
  return undefined;
}

/** Conflicts between plugins: one owner per path in this run, and none owned by another installed plugin. */
function claimConflict(
  p: PluginInput,
  item: Desired & { target: string },
  i: number,
  owners: Map<string, string>,
  claimed: Map<string, string>,
): Conflict | undefined {
  const other = claimed.get(item.target);
  if (other)
    return refusedAt(
      p,
      i,
      item.step,
      `${item.target} is also a target of ${other === p.name ? "another step of this plugin" : `plugin "${other}"`} in this run`,
      "each path can have one owner",
    );
  claimed.set(item.target, p.name);
  const owner = owners.get(item.target);
  if (owner && owner !== p.name)
    return refused(p, i, p.where, `${item.target} belongs to installed plugin "${owner}"`, `uninstall "${owner}" first, or change the target`);
  return undefined;
}

/** Originals a plugin replaces with --force: recorded, and copied into the state folder first. */
interface Kept {
  preserved: Manifest["preserved"];
  ops: FileOp[];
}

/**
 * Ownership against the manifests, for a file or link already there and different: the plugin's
 * own, unless an admin edited it (refused unless --force); anyone else's, refused unless --force,
 * which keeps the original to put back on uninstall.
 */
function overwrites(inputs: PluginInput[], facts: Facts, refusals: ReadonlySet<string>, force: boolean): { conflicts: Conflict[]; kept: Kept[] } {
  const conflicts: Conflict[] = [];
  const kept = inputs.map((p) => {
    const k: Kept = { preserved: [], ops: [] };
    p.e.items.forEach((item, i) => {
      if ((item.kind !== "file" && item.kind !== "symlink") || refusals.has(itemKey(p, i))) return;
      const f = factAt(facts, item.target);
      const same = item.kind === "file" ? f.type === "file" && f.sha256 === item.sha256 : f.type === "symlink" && f.target === item.linkTo;
      if (f.type === "absent" || same) return;
      const diffWith =
        item.kind === "file" && f.type === "file" ? { installed: rooted(facts.root, item.target), incoming: item.source, display: item.target } : undefined;
      const recorded = p.recorded.get(item.target);
      if (recorded) {
        if (recorded.type === "file" && f.type === "file" && recorded.sha256 !== f.sha256 && !force)
          conflicts.push({
            ...refused(
              p,
              i,
              item.target,
              `${item.target} was changed since it was installed (an admin edit?)`,
              "keep the edit by copying it into the plugin, or pass --force to overwrite it",
              diffWith,
            ),
            adminEdit: true,
          });
        return;
      }
      if (!force) {
        conflicts.push(
          refused(
            p,
            i,
            item.target,
            `${item.target} already exists and is not owned by any plugin`,
            "pass --force to replace it (the original is kept and put back on uninstall)",
            diffWith,
          ),
        );
        return;
      }
      const backup = preservedPath(facts.root, p.name, item.target);
      // A link is kept as the link itself (its target), to be put back as it was.
      k.preserved.push({
        path: item.target,
        backup: path.relative(facts.root, backup),
        mode: f.type === "file" ? f.mode : 0o644,
        ...(f.type === "symlink" ? { link: f.target } : {}),
      });
      if (f.type === "file")
        k.ops.push({
          op: "write",
          path: backup,
          display: backup,
          source: rooted(facts.root, item.target),
          mode: f.mode,
          sha256: f.sha256,
          size: f.size,
          change: "create",
        });
    });
    return k;
  });
  return { conflicts, kept };
}

/** The items refused so far, as keys (the others are accepted). */
const keysOf = (conflicts: Conflict[]): ReadonlySet<string> => new Set(conflicts.map((c) => key(c.plugin, c.item)));

/** The folders an item needs, outermost first: recorded as the plugin's, made unless the run makes them already. */
interface FolderPlan {
  parents: { path: string; create: boolean }[];
  /** A folder item: made by an earlier item of the run (nothing to do), and whether it is recorded as the plugin's. */
  madeAlready?: boolean;
  record?: boolean;
}

/**
 * Folders to create, over the whole run in order: the missing parents of every accepted file,
 * link and folder, each made once (by the first plugin that needs it) and recorded by every
 * plugin that needs it, with the folders its installed version made.
 */
function foldersToCreate(inputs: PluginInput[], facts: Facts, refusals: ReadonlySet<string>): Map<string, FolderPlan> {
  const created = new Set<string>(); // folders this run creates
  const out = new Map<string, FolderPlan>();
  for (const p of inputs) {
    const recordedDirs = new Set<string>();
    p.e.items.forEach((item, i) => {
      if ((item.kind !== "file" && item.kind !== "symlink" && item.kind !== "dir") || refusals.has(itemKey(p, i))) return;
      const missing: string[] = [];
      for (let d = path.posix.dirname(item.target); d !== "/" && !recordedDirs.has(d); d = path.posix.dirname(d))
        if (factAt(facts, d).type === "absent" || p.ours.has(d)) missing.unshift(d);
      const plan: FolderPlan = { parents: [] };
      for (const d of missing) {
        const create = factAt(facts, d).type === "absent" && !created.has(d);
        if (create) created.add(d);
        recordedDirs.add(d);
        plan.parents.push({ path: d, create });
      }
      if (item.kind === "dir") {
        const absent = factAt(facts, item.target).type === "absent";
        plan.madeAlready = absent && created.has(item.target);
        if (!plan.madeAlready) {
          if (absent) created.add(item.target);
          plan.record = (absent || p.ours.has(item.target)) && !recordedDirs.has(item.target);
          if (plan.record) recordedDirs.add(item.target);
        }
      }
      out.set(itemKey(p, i), plan);
    });
  }
  return out;
}

/** A plugin's steps in order with their operations, and the entries its manifest records. */
interface Placed {
  steps: PlannedStep[];
  entries: ManifestEntry[];
  conflicts: Conflict[];
}

/** Operations per step: what each accepted item changes, from its fact. */
function stepOps(p: PluginInput, facts: Facts, owners: Map<string, string>, refusals: ReadonlySet<string>, folders: Map<string, FolderPlan>): Placed {
  const { e, name } = p;
  const steps = new Map<number, PlannedStep>();
  const stepOf = (i: number) => {
    let s = steps.get(i);
    if (!s) steps.set(i, (s = { plugin: name, kind: e.kinds[i], label: e.labels[i], ops: [] }));
    return s;
  };
  const entries: ManifestEntry[] = [];
  const conflicts: Conflict[] = [];
  const real = (target: string) => rooted(facts.root, target);
  e.items.forEach((item, i) => {
    const step = stepOf(item.step);
    if (refusals.has(itemKey(p, i))) return;
    const folder = folders.get(itemKey(p, i));
    for (const d of folder?.parents ?? []) {
      if (d.create) step.ops.push({ op: "mkdir", path: real(d.path), display: d.path, mode: 0o755, change: "create" });
      entries.push({ path: d.path, type: "dir", mode: 0o755 });
    }
    switch (item.kind) {
      case "file": {
        const f = factAt(facts, item.target);
        const change: Change =
          f.type === "absent" ? "create" : f.type !== "file" || f.sha256 !== item.sha256 ? "update" : f.mode !== item.mode ? "mode" : "none";
        step.ops.push({
          op: "write",
          path: real(item.target),
          display: item.target,
          source: item.source,
          mode: item.mode,
          sourceMode: item.sourceMode,
          sha256: item.sha256,
          size: item.size,
          change,
        });
        entries.push({ path: item.target, type: "file", sha256: item.sha256, mode: item.mode, size: item.size });
        break;
      }
      case "dir": {
        if (folder?.madeAlready) break;
        const f = factAt(facts, item.target);
        const change: Change = f.type === "absent" ? "create" : f.type === "dir" && f.mode !== item.mode && e.kinds[item.step] === "mkdir" ? "mode" : "none";
        step.ops.push({ op: "mkdir", path: real(item.target), display: item.target, mode: item.mode, change });
        if (folder?.record) entries.push({ path: item.target, type: "dir", mode: item.mode });
        break;
      }
      case "symlink": {
        const f = factAt(facts, item.target);
        const same = f.type === "symlink" && f.target === item.linkTo;
        step.ops.push({
          op: "symlink",
          path: real(item.target),
          display: item.target,
          target: item.linkTo,
          change: f.type === "absent" ? "create" : same ? "none" : "update",
        });
        entries.push({ path: item.target, type: "symlink", target: item.linkTo });
        break;
      }
      case "chmod": {
        // A chmod of a file or folder this plugin creates folds into that operation.
        const own = [...steps.values()].flatMap((s) => s.ops).find((o) => (o.op === "write" || o.op === "mkdir") && o.display === item.target);
        const f = factAt(facts, item.target);
        if (own && (own.op === "write" || own.op === "mkdir")) {
          own.mode = item.mode;
          if (own.change === "none" || own.change === "mode") {
            const sameContent = own.op === "mkdir" ? f.type === "dir" : f.type === "file" && f.sha256 === own.sha256;
            own.change = sameContent && "mode" in f && f.mode === item.mode ? "none" : "mode";
          }
          const entry = entries.find((x) => x.path === item.target);
          if (entry && entry.type !== "symlink") entry.mode = item.mode;
          break;
        }
        if (f.type !== "file" && f.type !== "dir") {
          conflicts.push(refused(p, i, p.where, `chmod: ${item.target} does not exist and is not installed by this plugin`));
          break;
        }
        step.ops.push({ op: "chmod", path: real(item.target), display: item.target, mode: item.mode, change: f.mode === item.mode ? "none" : "mode" });
        break;
      }
      case "remove": {
        const f = factAt(facts, item.target);
        step.ops.push(
          folderKept(real(item.target), item.target, f, name, owners) ?? {
            op: "remove",
            path: real(item.target),
            display: item.target,
            change: f.type === "absent" ? "none" : "remove",
          },
        );
        break;
      }
      case "run":
        step.notSimulated = true;
        step.ops.push({ op: "run", argv: item.argv, cwd: item.cwd, display: item.argv.join(" "), change: "update" });
        break;
      default:
        unreachable(item);
    }
  });
  // Steps without operations (handlers, verify) still appear in order in the output.
  e.kinds.forEach((_, i) => stepOf(i));
  for (const s of steps.values()) {
    const writes = s.ops.filter((o) => o.op === "write");
    if (s.kind === "copy" && writes.length === 1) s.label = writes[0].display;
  }
  return { steps: [...steps.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s), entries, conflicts };
}

/** A plugin's plan from its operations: format steps, files no longer shipped, changed or not, the manifest. */
function finishPlugin(p: PluginInput, placed: Placed, kept: Kept, facts: Facts, opts: PlanOptions): PluginPlan {
  const { e, name, prev } = p;
  const steps = [...placed.steps];
  const format = formatOf(e);
  if (format.stepsViaRun) for (const s of steps) s.viaMake = true;
  const warnings: string[] = [];
  const dropped = noLongerShipped(name, prev, placed.entries, facts, opts.force === true);
  // Items that are not all the plugin installs (its build did not run): nothing is shown as no
  // longer shipped, though the recorded files still count as changing.
  if (dropped) {
    if (!e.partial) steps.push(dropped.step);
    warnings.push(...dropped.warnings);
  }
  const decision = decideChange(e, prev, e.partial && dropped ? [...steps, dropped.step] : steps, placed.entries, format, opts);
  const runStep = format.runStep?.(facts.root, decision.changed);
  if (runStep) steps.push(runStep);
  if (!decision.changed) quietRuns(steps);
  const state = manifestStep(e, prev, placed.entries, kept.preserved, format, decision, facts.root, opts.now);
  const stateOps = [...keptFileOps(e.kept, facts), ...state.ops];
  return assemblePlugin(e, prev, { preserveOps: kept.ops, steps, stateOps, warnings }, state.manifest, decision);
}

/** The files kept in the state folder made as wanted: what the target's copy has more removed
 * first (files and links, then folders, deepest first), then each item created, updated or left. */
function keptFileOps(kept: KeptFiles | undefined, facts: Facts): FileOp[] {
  if (!kept) return [];
  const real = (p: string) => rooted(facts.root, p);
  const wanted = new Set(kept.items.map((i) => i.target));
  const stale = removalsUnder(facts, kept.tree).filter((p) => !wanted.has(p));
  const ops: FileOp[] = kept.items.map((item) => {
    const f = factAt(facts, item.target);
    const at = real(item.target);
    switch (item.kind) {
      case "dir":
        return {
          op: "mkdir",
          path: at,
          display: at,
          mode: item.mode,
          change: f.type === "absent" ? "create" : f.type === "dir" && f.mode === item.mode ? "none" : "update",
        };
      case "symlink":
        return {
          op: "symlink",
          path: at,
          display: at,
          target: item.linkTo,
          change: f.type === "absent" ? "create" : f.type === "symlink" && f.target === item.linkTo ? "none" : "update",
        };
      case "file": {
        const same = f.type === "file" && f.mode === item.mode && f.sha256 === item.sha256;
        return {
          op: "write",
          path: at,
          display: at,
          source: item.source,
          mode: item.mode,
          sha256: item.sha256,
          size: item.size,
          change: f.type === "absent" ? "create" : same ? "none" : "update",
        };
      }
      default:
        return unreachable(item);
    }
  });
  return [...stale.map((p): FileOp => ({ op: "remove", path: real(p), display: real(p), change: "remove" })), ...ops];
}

/** What `dir` holds on the target and `dir` itself, in removal order: files and links first, then folders, deepest first. */
export function removalsUnder(facts: Facts, dir: string): string[] {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (p: string) => {
    const f = factAt(facts, p);
    if (f.type === "absent") return;
    if (f.type !== "dir") return void files.push(p);
    for (const name of f.entries ?? []) walk(path.posix.join(p, name));
    dirs.push(p);
  };
  walk(dir);
  return [...files, ...dirs];
}

/** Any conflict refuses the whole run before any change, every one listed in plugin and item order. */
function refuseConflicts(conflicts: Conflict[]): void {
  if (!conflicts.length) return;
  const list = [...conflicts].sort((a, b) => a.plugin - b.plugin || a.item - b.item);
  const adminEdits = list.filter((c) => c.adminEdit).length;
  throw new TaskFailure(
    adminEdits === list.length ? "admin-edit" : "conflict",
    "refused before any change",
    list.map((c) => c.diagnostic),
  );
}

/**
 * The few facts of the plugin's format the planner needs, read in one place: whether another
 * program does what the steps describe (make: the steps are only journaled and previewed), the
 * step that runs it, and what the manifest records of the format.
 */
interface FormatInfo {
  stepsViaRun: boolean;
  /** Its effect cannot be predicted: it runs every time, as make would. */
  alwaysRuns: boolean;
  /** The step running that program, after the plugin's own steps. */
  runStep?: (root: string, changed: boolean) => PlannedStep;
  installedBy: Manifest["installedBy"];
  uninstall: Manifest["uninstall"];
}

function formatOf(e: Expanded): FormatInfo {
  const run = e.run;
  return {
    stepsViaRun: run !== undefined,
    alwaysRuns: run !== undefined && !run.exact,
    runStep: run
      ? (root, changed) => ({
          plugin: e.plugin.name,
          kind: run.kind,
          label: run.label,
          notSimulated: !run.exact,
          recipe: run.exact ? undefined : run.recipe,
          viaMake: false,
          ops: [
            {
              op: run.op.op,
              dir: run.op.dir,
              target: run.op.target,
              destdir: root === "/" ? undefined : root,
              display: run.op.display,
              change: changed ? "update" : "none",
            },
          ],
        })
      : undefined,
    installedBy: e.plugin.kind,
    uninstall: e.uninstall ?? [],
  };
}

/** Upgrade: what the installed version had and this one no longer ships goes away. */
function noLongerShipped(
  name: string,
  prev: Manifest | undefined,
  entries: ManifestEntry[],
  facts: Facts,
  force: boolean,
): { step: PlannedStep; warnings: string[] } | undefined {
  const keep = new Set(entries.map((x) => x.path));
  const dropped = (prev?.files ?? []).filter((x) => !keep.has(x.path)).reverse();
  if (!dropped.length) return undefined;
  const step: PlannedStep = { plugin: name, kind: "remove", label: "files no longer shipped", ops: [] };
  const warnings: string[] = [];
  for (const x of dropped) {
    const op = removalOp(facts, x, force);
    if (op) step.ops.push(op);
    if (op?.kept) warnings.push(op.kept);
  }
  return { step, warnings };
}

interface ChangeDecision {
  /** Anything to do: its runs and handlers run, its manifest is written. */
  changed: boolean;
  versionChanged: boolean;
  /** Only the recorded source changed (a new commit with the same files and version). */
  originChanged: boolean;
  /** Only what the plugin declares it needs changed (`needs:` in package.yml). */
  needsChanged: boolean;
  /** Only the recorded checksums changed: a file already on disk with the incoming content was
   * adopted, so the manifest must record it or uninstall would take it for an admin edit. */
  recordChanged: boolean;
}

/** Changed or unchanged: a file operation that changes something, a new version, a first install
 * that does anything, --reinstall, or a format whose effect cannot be predicted. */
function decideChange(
  e: Expanded,
  prev: Manifest | undefined,
  steps: PlannedStep[],
  entries: ManifestEntry[],
  format: FormatInfo,
  opts: PlanOptions,
): ChangeDecision {
  const fileChanged = steps.some((s) => s.ops.some((o) => o.op !== "run" && o.change !== "none"));
  const versionChanged = prev?.version !== e.plugin.version;
  const originChanged = (e.plugin.origin?.commit ?? "") !== (prev?.origin?.commit ?? "") || (e.plugin.origin?.url ?? "") !== (prev?.origin?.url ?? "");
  const changed = fileChanged || versionChanged || opts.reinstall === true || (!prev && steps.some((s) => s.ops.length > 0)) || format.alwaysRuns;
  const needsChanged = String(e.plugin.needs ?? []) !== String(prev?.needs ?? []);
  return { changed, versionChanged, originChanged, needsChanged, recordChanged: recordedSumsDiffer(prev, entries) };
}

/** A file whose checksum the installed manifest records differently from what is now in place. */
function recordedSumsDiffer(prev: Manifest | undefined, entries: ManifestEntry[]): boolean {
  if (!prev) return false;
  const before = new Map(prev.files.map((x) => [x.path, x]));
  return entries.some((x) => {
    const old = before.get(x.path);
    return x.type === "file" && old?.type === "file" && old.sha256 !== x.sha256;
  });
}

/** An unchanged plugin runs none of its programs. */
function quietRuns(steps: PlannedStep[]): void {
  for (const s of steps) if (s.ops.some((o) => o.op === "run")) s.ops = s.ops.map((o) => (o.op === "run" ? { ...o, change: "none" } : o));
}

/** The manifest to record and the operation writing it; the installed one stays when nothing changed. */
function manifestStep(
  e: Expanded,
  prev: Manifest | undefined,
  entries: ManifestEntry[],
  preserved: Manifest["preserved"],
  format: FormatInfo,
  decision: ChangeDecision,
  root: string,
  now: string,
): { manifest: Manifest | undefined; ops: FileOp[] } {
  if (!decision.changed && prev && !decision.originChanged && !decision.needsChanged && !decision.recordChanged) return { manifest: prev, ops: [] };
  const name = e.plugin.name;
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name,
    version: e.plugin.version,
    description: e.plugin.description,
    source: e.plugin.dir,
    installedBy: format.installedBy,
    installedAt: now,
    files: entries,
    handlers: dedupe(e.handlers.map((h) => h.handler)),
    verify: e.verify,
    uninstall: format.uninstall,
    extensions: e.extensions ?? prev?.extensions ?? [],
    preserved: [...(prev?.preserved ?? []), ...preserved],
    reloadPending: [],
    ...(e.plugin.origin ? { origin: e.plugin.origin } : {}),
    ...(e.plugin.needs?.length ? { needs: e.plugin.needs } : {}),
    ...e.recorded,
  };
  const content = serializeManifest(manifest);
  const op: FileOp = {
    op: "write",
    path: manifestPath(root, name),
    display: manifestPath(root, name),
    content,
    mode: 0o644,
    sha256: sha256(content),
    size: content.length,
    change: prev ? "update" : "create",
  };
  return { manifest, ops: [op] };
}

/** One plugin's plan: the originals kept first, its steps, its state last. */
function assemblePlugin(
  e: Expanded,
  prev: Manifest | undefined,
  parts: { preserveOps: FileOp[]; steps: PlannedStep[]; stateOps: FileOp[]; warnings: string[] },
  manifest: Manifest | undefined,
  decision: ChangeDecision,
): PluginPlan {
  const name = e.plugin.name;
  const steps = [...parts.steps];
  if (parts.preserveOps.length) steps.unshift({ plugin: name, kind: "preserve", label: "originals kept in the state folder", ops: parts.preserveOps });
  if (parts.stateOps.length) steps.push({ plugin: name, kind: "state", label: "installed state", ops: parts.stateOps });
  return {
    name,
    version: e.plugin.version,
    previousVersion: prev?.version,
    action: !prev ? "install" : decision.versionChanged ? "upgrade" : "reinstall",
    steps,
    handlers: e.handlers,
    asterisk: decision.changed ? e.asterisk : [],
    verify: e.verify.map((v) => ({ ...v, expect: "present" as const })),
    manifest,
    changed: decision.changed,
    warnings: parts.warnings,
    ...(e.after && (decision.changed || (prev !== undefined && e.after.pending(prev))) ? { after: e.after.runs } : {}),
  };
}

/** The removal of a recorded path; an admin-edited file is kept unless forced. */
export function removalOp(facts: Facts, x: ManifestEntry, force: boolean): (FileOp & { op: "remove" }) | undefined {
  const f = facts.paths.get(x.path) ?? { type: "absent" };
  const real = rooted(facts.root, x.path);
  // A folder on the way replaced by a link out of the root: what it leads to is not ours.
  const esc = escapeOf(facts, path.posix.dirname(x.path));
  if (esc)
    return {
      op: "remove",
      path: real,
      display: x.path,
      change: "none",
      kept: `${x.path} is reached through ${esc.via}, a link leading outside the root (to ${esc.to}): left alone`,
    };
  if (f.type === "absent") return { op: "remove", path: real, display: x.path, change: "none" };
  if (x.type === "file" && f.type === "file" && f.sha256 !== x.sha256 && !force)
    return {
      op: "remove",
      path: real,
      display: x.path,
      change: "none",
      kept: `${x.path} was changed since install: left in place and no longer tracked (--force removes edited files)`,
    };
  return { op: "remove", path: real, display: x.path, change: "remove", isFile: x.type !== "dir" && f.type !== "dir" };
}

const dedupe = (hs: Handler[]) => [...new Map(hs.map((h) => [handlerKey(h), h])).values()];

/** Orders operations (file steps, then state) and collects the notified handlers once. */
export function finishPlan(root: string, command: Plan["command"], plugins: PluginPlan[]): Plan {
  const preserve: Op[] = [];
  const ops: Op[] = [];
  const state: Op[] = [];
  for (const p of plugins) for (const s of p.steps) (s.kind === "state" ? state : s.kind === "preserve" ? preserve : ops).push(...s.ops);
  const notified = plugins.flatMap((p) => p.handlers.filter((h) => h.always || p.changed).map((h) => h.handler));
  return { root, command, plugins, handlers: dedupe(notified), ops: [...preserve, ...ops, ...state] };
}
