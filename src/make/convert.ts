/**
 * `wazo-tasks convert`: turns a plugin's Makefile (install/uninstall targets) into a tasks.yml.
 * What cannot be translated is kept as a `run: [sh, -c, ...]` step with a warning, or refused
 * in strict mode, so the result never silently does less than the Makefile did.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { dump, type DumpOptions } from "js-yaml";
import { TasksSchema, type Step } from "../load/schema.js";
import { analyzeMakefile, type MakefileAnalysis, type TargetAnalysis } from "./analyze.js";
import type { Diagnostic } from "../model/diagnostic.js";
import { hasErrors } from "./parse.js";
import { findMakefile } from "./runner.js";

export interface ConvertOptions {
  /** Refuse when any recipe line cannot be translated. */
  strict?: boolean;
  destdirVar?: string;
}

export type ConvertResult =
  | { ok: true; yaml: string; steps: { install: Step[]; uninstall: Step[] }; warnings: Diagnostic[]; makefile: string }
  | { ok: false; diagnostics: Diagnostic[]; warnings: Diagnostic[] };

export const YAML_HEADER: readonly string[] = [
  "# yaml-language-server: $schema=https://unpkg.com/wazo-tasks/schema/tasks.schema.json",
  "# Converted by wazo-tasks convert from Makefile (install/uninstall targets); review before use.",
];

interface Entry {
  step: Step;
  line: number;
  /** Comment written above the step in the YAML. */
  comment?: string;
}

interface Sink {
  file: string;
  source: string;
  strict: boolean;
  warnings: Diagnostic[];
  errors: Diagnostic[];
}

export function convertMakefile(pluginDir: string, opts: ConvertOptions = {}): ConvertResult {
  const path = findMakefile(pluginDir);
  if (!path) return failed([whole(pluginDir, "no GNUmakefile, makefile or Makefile in the plugin folder")]);
  const file = basename(path);
  const analysis = analyzeMakefile(readFileSync(path, "utf8"), file, { destdirVar: opts.destdirVar });
  return convertAnalysis(analysis, pluginDir, opts);
}

/** The conversion proper, from an analysis (pluginDir is only used to check copy sources). */
export function convertAnalysis(analysis: MakefileAnalysis, pluginDir: string, opts: ConvertOptions = {}): ConvertResult {
  const file = analysis.makefile.file;
  const sink: Sink = {
    file,
    source: analysis.makefile.source,
    strict: opts.strict ?? false,
    warnings: analysis.diagnostics.filter((d) => d.severity === "warning"),
    errors: [],
  };
  if (hasErrors(analysis.diagnostics))
    return failed(
      analysis.diagnostics.filter((d) => d.severity !== "warning"),
      sink.warnings,
    );
  const installTarget = analysis.targets.get("install");
  if (!installTarget) return failed([whole(file, "no 'install' target")], sink.warnings);
  const uninstallTarget = analysis.targets.get("uninstall");
  const install = entries(installTarget, sink);
  const uninstall = uninstallTarget ? entries(uninstallTarget, sink) : [];
  if (!uninstallTarget) sink.warnings.push({ ...whole(file, "no 'uninstall' target: uninstall will only remove what install created"), severity: "warning" });
  checkSources(install, pluginDir, sink);
  if (install.length === 0) sink.errors.push(whole(file, "the install target does nothing that can be converted"));
  if (sink.errors.length > 0) return failed(sink.errors, sink.warnings);
  const steps = { install: install.map((e) => e.step), uninstall: uninstall.map((e) => e.step) };
  const valid = TasksSchema.safeParse(uninstallTarget ? steps : { install: steps.install });
  if (!valid.success) {
    return failed(
      valid.error.issues.map((i) => whole(file, `converted steps are invalid at ${i.path.join(".")}: ${i.message}`)),
      sink.warnings,
    );
  }
  const yaml = render(install, uninstallTarget ? uninstall : null);
  return { ok: true, yaml, steps, warnings: sink.warnings, makefile: file };
}

/** A target's steps in run order, untranslated commands as `run` steps, handlers last. */
function entries(target: TargetAnalysis, sink: Sink): Entry[] {
  const list: Entry[] = [];
  for (const item of target.items) {
    if (item.kind === "step") {
      list.push({ step: item.step, line: item.line });
      continue;
    }
    const diag: Diagnostic = {
      file: sink.file,
      line: item.line,
      col: item.col,
      message: `not translated: ${item.text}`,
      hint: item.reason,
      severity: "warning",
      source: sink.source,
    };
    if (!item.runnable) sink.errors.push({ ...diag, message: `cannot be converted: ${item.text}`, severity: "error" });
    else if (sink.strict) sink.errors.push({ ...diag, severity: "error" });
    else {
      addOnce(sink.warnings, diag);
      list.push({ step: { run: item.run }, line: item.line, comment: `${sink.file}:${item.line}: not translated (${item.reason}); runs through sh -c` });
    }
  }
  for (const warning of target.warnings) addOnce(sink.warnings, warning);
  return handlersLast(list);
}

/** Reload and restart are handlers: run once, after the file steps, like the descriptor runs them. */
function handlersLast(list: Entry[]): Entry[] {
  const isHandler = (e: Entry) => "reload" in e.step || "restart" in e.step;
  const handlers: Entry[] = [];
  for (const e of list.filter(isHandler)) {
    if (!handlers.some((h) => JSON.stringify(h.step) === JSON.stringify(e.step))) handlers.push(e);
  }
  return [...list.filter((e) => !isHandler(e)), ...handlers];
}

/** Copy sources missing from the plugin folder are likely built by make: the descriptor will not build them. */
function checkSources(list: Entry[], pluginDir: string, sink: Sink): void {
  for (const { step, line } of list) {
    if (!("copy" in step) || /[*?[]/.test(step.copy)) continue;
    if (!existsSync(join(pluginDir, step.copy))) {
      addOnce(sink.warnings, {
        file: sink.file,
        line,
        message: `copy source '${step.copy}' is not in the plugin folder`,
        severity: "warning",
        source: sink.source,
      });
    }
  }
}

const DUMP: DumpOptions = { quoteStyle: "double", lineWidth: -1 };

function render(install: Entry[], uninstall: Entry[] | null): string {
  const parts = [`${YAML_HEADER.join("\n")}\n`, renderList("install", install)];
  if (uninstall) parts.push(renderList("uninstall", uninstall));
  else parts.push("# No uninstall target in the Makefile: uninstall removes what install created.\n");
  return parts.join("\n");
}

function renderList(key: string, list: Entry[]): string {
  if (list.length === 0) return `${key}: []\n`;
  const lines = [`${key}:`];
  for (const e of list) {
    if (e.comment) lines.push(`  # ${e.comment.replace(/\s+/g, " ")}`);
    lines.push(
      ...dump([e.step], DUMP)
        .trimEnd()
        .split("\n")
        .map((l) => `  ${l}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

function addOnce(list: Diagnostic[], d: Diagnostic): void {
  if (!list.some((x) => x.line === d.line && x.message === d.message)) list.push(d);
}

function whole(file: string, message: string): Diagnostic {
  return { file, message, severity: "error" };
}

function failed(diagnostics: Diagnostic[], warnings: Diagnostic[] = []): ConvertResult {
  return { ok: false, diagnostics, warnings };
}
