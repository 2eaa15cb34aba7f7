/**
 * Planning an uninstall from the manifests: remove what install created (admin-edited files are
 * kept unless forced), put back originals kept with --force, run the extra uninstall steps, drop
 * the manifest, and notify the same handlers.
 */
import path from "node:path";
import type { FileOp, PlannedStep, PluginPlan, Plan } from "../model/plan.js";
import { STATE_DIR, manifestPath, stateDir, type Manifest } from "../state/manifest.js";
import type { Expanded, ProgramStep } from "./expand.js";
import { rooted, type FactQuery, type Facts } from "./facts.js";
import { finishPlan, removalOp, removalsUnder } from "./planner.js";

/** What planning an uninstall asks facts about: the recorded paths, the extra steps' targets, and
 * the kept folders, read whole. */
export function uninstallPaths(manifests: Manifest[], extra: Expanded[]): FactQuery {
  return {
    paths: [
      ...manifests.flatMap((m) => [...m.files.map((f) => f.path), ...m.preserved.map((p) => p.path)]),
      ...extra.flatMap((e) => e.items.flatMap((i) => ("target" in i ? [i.target] : []))),
    ],
    walked: extra.flatMap((e) => (e.kept ? [e.kept.tree] : [])),
  };
}

const programStep = (plugin: string, s: ProgramStep): PlannedStep => ({ plugin, kind: s.kind, label: s.label, notSimulated: true, ops: [s.op] });

/** The removal of a kept folder and what it holds, then of the folders holding it up to the
 * state folder (each kept while not empty). */
function keptRemoval(facts: Facts, tree: string): FileOp[] {
  const real = (p: string) => rooted(facts.root, p);
  const ops: FileOp[] = removalsUnder(facts, tree).map((p) => ({ op: "remove", path: real(p), display: real(p), change: "remove" }));
  const top = "/" + STATE_DIR;
  for (let d = path.posix.dirname(tree); d.startsWith(top + "/"); d = path.posix.dirname(d))
    ops.push({ op: "remove", path: real(d), display: real(d), change: "remove" });
  return ops;
}

/** What one plugin's uninstall is planned from: its manifest, what its format adds, the facts. */
interface Removal {
  m: Manifest;
  /** What the format adds (extra steps, a program run in the plugin's place, removal programs, a kept folder). */
  e: Expanded | undefined;
  facts: Facts;
  force: boolean;
}

/** Pass: the extra uninstall steps (descriptor `uninstall:`), first: they may stop something that uses the files. */
function extraSteps({ m, e, facts }: Removal): PlannedStep[] {
  return (e?.items ?? []).flatMap((item): PlannedStep[] => {
    if (item.kind === "remove")
      return [{ plugin: m.name, kind: "remove", label: item.target, ops: [removalOp(facts, { path: item.target, type: "symlink", target: "" }, true)!] }];
    if (item.kind === "run")
      return [
        {
          plugin: m.name,
          kind: "run",
          label: item.argv.join(" "),
          notSimulated: true,
          ops: [{ op: "run", argv: item.argv, cwd: item.cwd, display: item.argv.join(" "), change: "update" }],
        },
      ];
    return [];
  });
}

/** Pass: the recorded files, last first (an original kept with --force is put back instead);
 * an admin-edited file is kept unless forced, with a warning. */
function fileRemovals({ m, facts, force }: Removal): { step: PlannedStep; warnings: string[] } {
  const step: PlannedStep = { plugin: m.name, kind: "remove", label: "installed files", ops: [] };
  const warnings: string[] = [];
  const preserved = new Set(m.preserved.map((p) => p.path));
  for (const f of [...m.files].reverse()) {
    if (preserved.has(f.path)) continue;
    const op = removalOp(facts, f, force);
    if (!op) continue;
    if (op.kept) warnings.push(op.kept);
    step.ops.push(op);
  }
  return { step, warnings };
}

/** Pass: a program that removes the plugin itself (`make uninstall`), run before the recorded
 * files still there are removed. */
function ownRunSteps({ m, e, facts }: Removal): PlannedStep[] {
  if (!e?.run) return [];
  const { op } = e.run;
  return [
    {
      plugin: m.name,
      kind: e.run.kind,
      label: e.run.label,
      ops: [{ op: op.op, dir: op.dir, target: op.target, destdir: facts.root === "/" ? undefined : facts.root, display: op.display, change: "update" }],
    },
  ];
}

/** Pass: the originals kept at install with --force put back, their backups and emptied backup folders removed. */
function restoreSteps({ m, facts }: Removal): PlannedStep[] {
  if (!m.preserved.length) return [];
  const restore: PlannedStep = { plugin: m.name, kind: "restore", label: "originals kept at install", ops: [] };
  for (const p of m.preserved) {
    if (p.link !== undefined) {
      restore.ops.push({ op: "symlink", path: rooted(facts.root, p.path), display: p.path, target: p.link, change: "update" });
      continue;
    }
    const backup = path.join(facts.root, p.backup);
    const op: FileOp = {
      op: "write",
      path: rooted(facts.root, p.path),
      display: p.path,
      source: backup,
      mode: p.mode,
      sha256: "",
      size: 0,
      change: "update",
    };
    restore.ops.push(op, { op: "remove", path: backup, display: backup, change: "remove" });
    // The folders that held the backup go too once empty (a folder removal keeps non-empty ones).
    const top = path.join(stateDir(facts.root), "preserved");
    for (let d = path.dirname(backup); d.startsWith(top); d = path.dirname(d)) restore.ops.push({ op: "remove", path: d, display: d, change: "remove" });
  }
  return [restore];
}

/** Pass: the plugin's state: its kept folder (if its format keeps one) and its manifest. */
function stateStep({ m, e, facts }: Removal): PlannedStep {
  const mp = manifestPath(facts.root, m.name);
  const ops: FileOp[] = [...(e?.kept ? keptRemoval(facts, e.kept.tree) : []), { op: "remove", path: mp, display: mp, change: "remove" }];
  return { plugin: m.name, kind: "state", label: "installed state", ops };
}

/** One plugin's uninstall, its passes composed in order: the removal programs and extra steps
 * first, the program run in its place, the files, the originals, the removal programs after,
 * the state; then what is reloaded and verified. */
function planRemoval(r: Removal): PluginPlan {
  const { m, e } = r;
  const files = fileRemovals(r);
  const warnings = [...files.warnings, ...(e?.warnings ?? [])];
  const steps = [...extraSteps(r), ...ownRunSteps(r), files.step, ...restoreSteps(r)];
  // Nothing left to remove (an admin deleted the files already): the state goes, but nothing
  // Asterisk or a service reads changed, so nothing is reloaded or verified. The programs
  // removing the plugin (before and after) count as touching nothing.
  const touches = steps.some((s) => s.ops.some((o) => o.change !== "none"));
  const all = [
    ...(e?.removal?.before ?? []).map((s) => programStep(m.name, s)),
    ...steps,
    ...(e?.removal?.after ?? []).map((s) => programStep(m.name, s)),
    stateStep(r),
  ];
  return {
    name: m.name,
    version: m.version,
    previousVersion: m.version,
    action: "uninstall",
    steps: all,
    handlers: [...(touches ? [...m.handlers, ...(e?.handlers.map((h) => h.handler) ?? [])] : []), ...(e?.removal?.handlers ?? [])].map((handler) => ({
      handler,
      always: false,
    })),
    asterisk: touches ? (e?.asterisk ?? []) : [],
    // A kept (edited) dialplan file may still define the extensions: do not expect them gone.
    verify: warnings.length || !touches ? [] : m.verify.map((v) => ({ ...v, expect: "absent" as const })),
    removedExtensions: m.extensions.filter((x) => !files.step.ops.some((o) => o.op === "remove" && o.kept && o.display === x.file)),
    changed: true,
    warnings,
  };
}

/** The uninstall plan: each manifest's removal (with what its format added, `extra` by name)
 * planned against the facts, a pure function of them. */
export function buildUninstallPlan(manifests: Manifest[], extra: Map<string, Expanded>, facts: Facts, opts: { force?: boolean }): Plan {
  const plugins = manifests.map((m) => planRemoval({ m, e: extra.get(m.name), facts, force: opts.force === true }));
  return finishPlan(facts.root, "uninstall", plugins);
}
