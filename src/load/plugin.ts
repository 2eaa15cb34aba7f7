/**
 * Loading a plugin folder into a validated value. Nothing here touches the target tree.
 * A folder holds package.yml plus one executor: tasks.yml, tasks.ts, or a Makefile.
 */
import path from "node:path";
import { invalid, positionOf, type Diagnostic } from "../model/diagnostic.js";
import { exists } from "../util/exists.js";
import { readLimited } from "../util/read-limited.js";
import type { DescriptorPlugin, LoadResult, MakePlugin, Plugin, PluginKind } from "../model/plugin.js";
import type { PackageMeta } from "./schema.js";
import { validatePackage, validateTasks, yamlLocator, type Locator } from "./validate.js";
import { parseYaml, type YamlPath } from "./yaml.js";

export type { DescriptorPlugin, LoadResult, MakePlugin, Plugin, PluginKind };

/** What loading a folder may use of the run: the evaluator of tasks.ts files (src/load/tasks-ts.ts). */
export interface LoadContext {
  evaluateTs(file: string): Promise<import("./tasks-ts.js").TsResult>;
}

/** The text of a descriptor file; refused (exit 2, file named) when it is not a regular file or
 * is over the size limit (1 MB), before anything reads it (a FIFO would hang, a device never end). */
export const readText = (file: string): Promise<string> =>
  readLimited(file, { what: "descriptors", hint: "keep data files beside the descriptor and copy them with a step" });

/** What loading a package.yml plugin's executor (tasks.yml, tasks.ts, a Makefile) gives. */
export type ExecutorResult<E> = { ok: true; value: E } | { ok: false; diagnostics: Diagnostic[] };

/** package.yml's fields, and where the plugin is. */
export type PackagePart = PackageMeta & { dir: string; metaFile: string };

/**
 * Loads and validates a folder holding package.yml and the executor `loadExecutor` reads (the
 * formats say which, src/formats/package.ts); every problem found is returned, not only the first.
 */
export async function loadPackagePlugin<E extends object>(
  dir: string,
  loadExecutor: (dir: string) => Promise<ExecutorResult<E>>,
): Promise<{ ok: true; plugin: PackagePart & E } | { ok: false; diagnostics: Diagnostic[] }> {
  const abs = path.resolve(dir);
  const metaFile = path.join(abs, "package.yml");
  if (!(await exists(metaFile))) {
    return {
      ok: false,
      diagnostics: [
        {
          severity: "error",
          file: metaFile,
          message: "no package.yml in the plugin folder",
          hint: "a plugin folder holds package.yml (name, description, version) and tasks.yml, tasks.ts or a Makefile",
        },
      ],
    };
  }
  const diagnostics: Diagnostic[] = [];
  const metaText = await readText(metaFile);
  const parsed = parseYaml(metaText, metaFile);
  let meta: PackageMeta | undefined;
  if (!parsed.ok) diagnostics.push(parsed.diagnostic);
  else {
    const v = await validatePackage(parsed.doc.value, yamlLocator(parsed.doc));
    if (v.ok) meta = v.value;
    else diagnostics.push(...v.diagnostics);
  }
  const executor = await loadExecutor(abs);
  if (!executor.ok) diagnostics.push(...executor.diagnostics);
  if (diagnostics.length || !meta || !executor.ok) return { ok: false, diagnostics };
  return { ok: true, plugin: { ...meta, dir: abs, metaFile, ...executor.value } };
}

/** A tasks.yml, validated. */
export async function loadTasksYaml(file: string) {
  const text = await readText(file);
  const parsed = parseYaml(text, file);
  if (!parsed.ok) return { ok: false as const, diagnostics: [parsed.diagnostic] };
  const at = yamlLocator(parsed.doc);
  const v = await validateTasks(parsed.doc.value, at);
  if (!v.ok) return v;
  return { ok: true as const, value: { tasks: v.value, tasksFile: file, locate: at } };
}

/** tasks.ts is evaluated in a child process (src/load/tasks-ts.ts) and validated by the same schema. */
export async function loadTasksTs(file: string, ctx: LoadContext) {
  const text = await readText(file);
  const r = await ctx.evaluateTs(file);
  const shown = r.output.slice(-5);
  if (!r.ok)
    return {
      ok: false as const,
      diagnostics: [
        {
          severity: "error" as const,
          file,
          line: r.line,
          col: r.col,
          source: r.line ? text : undefined,
          message: `cannot load tasks.ts: ${r.message}`,
          hint: shown.length ? `its last output:\n    ${shown.join("\n    ")}` : undefined,
        },
      ],
    };
  const value = r.value;
  if (value === undefined)
    return {
      ok: false as const,
      diagnostics: [{ severity: "error" as const, file, message: "tasks.ts has no default export", hint: "export default defineTasks({ install: [...] })" }],
    };
  const at = textLocator(file, text, value);
  const v = await validateTasks(value, at);
  if (!v.ok) return v;
  return { ok: true as const, value: { tasks: v.value, tasksFile: file, locate: at, loadOutput: r.output } };
}

/** For sources without a YAML position map: points at the first mention of the value or key. */
function textLocator(file: string, text: string, root: unknown): Locator {
  return {
    file,
    diagnostic(p: YamlPath, message: string, opts = {}) {
      let v: unknown = root;
      for (const k of p) v = v && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined;
      const last = p[p.length - 1];
      const needles = typeof v === "string" && !opts.key ? [JSON.stringify(v), `'${v}'`] : typeof last === "string" ? [`${last}:`, `"${last}"`] : [];
      const offset = needles.map((n) => text.indexOf(n)).find((i) => i >= 0);
      if (offset === undefined) return { severity: "error", file, message, hint: opts.hint };
      const { line, col } = positionOf(text, offset);
      return { severity: "error", file, line, col, length: needles[0]?.length, message, hint: opts.hint, source: text };
    },
  };
}

/** Loads every plugin with `load` (src/formats/: loadFolder), or fails with all their diagnostics together. */
export async function loadPlugins(dirs: string[], load: (dir: string) => Promise<LoadResult>): Promise<Plugin[]> {
  const results = await Promise.all(dirs.map((d) => load(d)));
  const diagnostics = results.flatMap((r) => (r.ok ? [] : r.diagnostics));
  if (diagnostics.length) throw invalid(`invalid plugin${results.filter((r) => !r.ok).length > 1 ? "s" : ""}`, diagnostics);
  const plugins = results.map((r) => (r as { plugin: Plugin }).plugin);
  const seen = new Map<string, Plugin>();
  for (const p of plugins) {
    const other = seen.get(p.name);
    if (other && other.dir !== p.dir) throw invalid(`two plugins named "${p.name}": ${other.dir} and ${p.dir}`);
    seen.set(p.name, p);
  }
  return [...seen.values()];
}
