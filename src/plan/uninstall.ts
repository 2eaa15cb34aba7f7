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

export function buildUninstallPlan(manifests: Manifest[], extra: Map<string, Expanded>, facts: Facts, opts: { force?: boolean }): Plan {
  const plugins: PluginPlan[] = manifests.map((m) => {
    const warnings: string[] = [];
    const steps: PlannedStep[] = [];
    const e = extra.get(m.name);
    // Extra uninstall steps first (they may stop something that uses the files).
    e?.items.forEach((item) => {
      if (item.kind === "remove")
        steps.push({ plugin: m.name, kind: "remove", label: item.target, ops: [removalOp(facts, { path: item.target, type: "symlink", target: "" }, true)!] });
      if (item.kind === "run")
        steps.push({
          plugin: m.name,
          kind: "run",
          label: item.argv.join(" "),
          notSimulated: true,
          ops: [{ op: "run", argv: item.argv, cwd: item.cwd, display: item.argv.join(" "), change: "update" }],
        });
    });
    const removals: PlannedStep = { plugin: m.name, kind: "remove", label: "installed files", ops: [] };
    const preservedAt = new Map(m.preserved.map((p) => [p.path, p.backup]));
    for (const f of [...m.files].reverse()) {
      if (preservedAt.has(f.path)) continue;
      const op = removalOp(facts, f, opts.force === true);
      if (!op) continue;
      if (op.kept) warnings.push(op.kept);
      removals.ops.push(op);
    }
    // A program that removes the plugin itself (`make uninstall`) runs first; whatever it
    // leaves of the recorded files is removed after it.
    if (e?.run)
      steps.push({
        plugin: m.name,
        kind: e.run.kind,
        label: e.run.label,
        ops: [
          {
            op: e.run.op.op,
            dir: e.run.op.dir,
            target: e.run.op.target,
            destdir: facts.root === "/" ? undefined : facts.root,
            display: e.run.op.display,
            change: "update",
          },
        ],
      });
    warnings.push(...(e?.warnings ?? []));
    steps.push(removals);
    if (m.preserved.length) {
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
      steps.push(restore);
    }
    // Nothing left to remove (an admin deleted the files already): the state goes, but nothing
    // Asterisk or a service reads changed, so nothing is reloaded or verified.
    const touches = steps.some((s) => s.ops.some((o) => o.change !== "none"));
    // The programs removing the plugin come first and last, counted as touching nothing.
    steps.unshift(...(e?.removal?.before ?? []).map((s) => programStep(m.name, s)));
    steps.push(...(e?.removal?.after ?? []).map((s) => programStep(m.name, s)));
    const mp = manifestPath(facts.root, m.name);
    const state: FileOp[] = [...(e?.kept ? keptRemoval(facts, e.kept.tree) : []), { op: "remove", path: mp, display: mp, change: "remove" }];
    steps.push({ plugin: m.name, kind: "state", label: "installed state", ops: state });
    return {
      name: m.name,
      version: m.version,
      previousVersion: m.version,
      action: "uninstall",
      steps,
      handlers: [...(touches ? [...m.handlers, ...(e?.handlers.map((h) => h.handler) ?? [])] : []), ...(e?.removal?.handlers ?? [])].map((handler) => ({
        handler,
        always: false,
      })),
      asterisk: touches ? (e?.asterisk ?? []) : [],
      // A kept (edited) dialplan file may still define the extensions: do not expect them gone.
      verify: warnings.length || !touches ? [] : m.verify.map((v) => ({ ...v, expect: "absent" as const })),
      removedExtensions: m.extensions.filter((x) => !removals.ops.some((o) => o.op === "remove" && o.kept && o.display === x.file)),
      changed: true,
      warnings,
    };
  });
  return finishPlan(facts.root, "uninstall", plugins);
}
