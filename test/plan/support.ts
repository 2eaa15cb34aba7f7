/**
 * In-memory inputs for the planner: `Expanded` plugins, `Facts` and manifests built by hand, so a
 * plan is checked without any file on disk.
 */
import type { Plugin } from "../../src/load/plugin.js";
import type { Desired, Expanded } from "../../src/plan/expand.js";
import type { Fact, Facts } from "../../src/plan/facts.js";
import { buildInstallPlan, type PlanOptions } from "../../src/plan/planner.js";
import { MANIFEST_FORMAT, type Manifest, type ManifestEntry } from "../../src/state/manifest.js";
import { TaskFailure } from "../../src/model/diagnostic.js";
import type { Plan, PluginPlan } from "../../src/model/plan.js";

export const ROOT = "/r";
export const NOW = "2026-01-01T00:00:00.000Z";
export const EXTRA = "/etc/asterisk/extensions_extra.d";

/** A fake checksum that names its content. */
export const sum = (content: string) => `sha-${content}`;

export function plugin(name: string, version = "1.0.0", extra: Partial<Plugin> = {}): Plugin {
  return {
    name,
    version,
    description: `${name} plugin`,
    dir: `/plugins/${name}`,
    kind: "descriptor",
    metaFile: `/plugins/${name}/package.yml`,
    tasksFile: `/plugins/${name}/tasks.yml`,
    tasks: { install: [] },
    ...extra,
  } as Plugin;
}

/** A file item: `content` stands for its bytes (checksum and size follow from it). */
export const file = (step: number, target: string, content: string, mode = 0o644): Desired => ({
  kind: "file",
  step,
  source: `/plugins/src${target}`,
  target,
  mode,
  sourceMode: 0o644,
  sha256: sum(content),
  size: content.length,
});

export interface StepSpec {
  kind: string;
  label?: string;
  items?: Desired[];
}

/** An Expanded plugin from its steps, in order (step i holds the items given for it). */
export function expanded(p: Plugin, steps: StepSpec[], extra: Partial<Expanded> = {}): Expanded {
  return {
    plugin: p,
    labels: steps.map((s, i) => s.label ?? `step ${i}`),
    kinds: steps.map((s) => s.kind),
    items: steps.flatMap((s) => s.items ?? []),
    handlers: [],
    asterisk: [],
    verify: [],
    extensions: [],
    ...extra,
  };
}

/** The facts of a target tree: display path → fact; the parents listed are folders. */
export function facts(tree: Record<string, Fact>, escapes: Record<string, string> = {}): Facts {
  return { root: ROOT, paths: new Map(Object.entries(tree)), escapes: new Map(Object.entries(escapes)) };
}

export const fileFact = (content: string, mode = 0o644): Fact => ({ type: "file", mode, size: content.length, sha256: sum(content) });
export const dirFact = (mode = 0o755, entries?: string[]): Fact => ({ type: "dir", mode, ...(entries ? { entries } : {}) });

/** The folders a PBX has, as facts. */
export const pbxFolders = (): Record<string, Fact> => ({ "/etc": dirFact(), "/etc/asterisk": dirFact(), [EXTRA]: dirFact() });

export const fileEntry = (p: string, content: string, mode = 0o644): ManifestEntry => ({
  path: p,
  type: "file",
  sha256: sum(content),
  mode,
  size: content.length,
});

export function manifest(name: string, files: ManifestEntry[], extra: Partial<Manifest> = {}): Manifest {
  return {
    format: MANIFEST_FORMAT,
    name,
    version: "1.0.0",
    description: `${name} plugin`,
    source: `/plugins/${name}`,
    installedBy: "descriptor",
    installedAt: "2025-01-01T00:00:00.000Z",
    files,
    handlers: [],
    verify: [],
    uninstall: [],
    extensions: [],
    preserved: [],
    reloadPending: [],
    ...extra,
  };
}

export const manifests = (...ms: Manifest[]) => new Map(ms.map((m) => [m.name, m]));

export const plan = (es: Expanded[], f: Facts, ms: Map<string, Manifest> = new Map(), opts: Partial<PlanOptions> = {}) =>
  buildInstallPlan(es, f, ms, { now: NOW, ...opts });

/** The conflicts a plan is refused with. */
export function refusal(fn: () => Plan): TaskFailure {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaskFailure) return e;
    throw e;
  }
  throw new Error("the plan was not refused");
}

/** Each step as `kind label: op display change, …`, for short assertions. */
export const stepsOf = (p: PluginPlan) =>
  p.steps.map(
    (s) =>
      `${s.kind} ${s.label}: ${s.ops.map((o) => `${o.op} ${o.display} ${o.change}${"mode" in o && o.op !== "write" ? ` ${o.mode.toString(8)}` : ""}`).join(", ")}`,
  );

/** Every change of a plan that is not `none`. */
export const changes = (p: Plan) => p.ops.filter((o) => o.change !== "none").map((o) => `${o.op} ${o.display} ${o.change}`);
