/**
 * The make fallback in the pipeline. A Makefile-only plugin is installed by the real `make
 * install`; the analysis of its Makefile gives the plan that a dry run shows, the paths the
 * transaction journals before make runs (so a failing make is rolled back), and the files the
 * manifest records.
 */
import { readText } from "../../load/plugin.js";
import type { Step } from "../../load/schema.js";
import { invalid, isTaskFailure, type Diagnostic } from "../../model/diagnostic.js";
import type { MakePlugin } from "../../model/plugin.js";
import { analyzeMakefile, type MakefileAnalysis } from "../../make/analyze.js";
import { convertAnalysis } from "../../make/convert.js";
import { hasErrors } from "../../make/parse.js";
import { findOnPath } from "../../make/runner.js";
import { expandSteps, type Expanded } from "../../plan/expand.js";

/** What the analysis says about running make for one plugin. */
interface MakeInfo {
  target: "install" | "uninstall";
  dir: string;
  makefile: string;
  /** True when every recipe line was translated: the plan is exact. */
  convertible: boolean;
  /** The target's recipe as written, shown by a dry run when the plan is not exact. */
  recipe: { line: number; text: string }[];
  /** No recipe line writes an absolute path without $(DESTDIR): make can run into a staging folder (src/make/capture.ts). */
  honoursDestdir: boolean;
}

export interface MakeLoadOptions {
  staging: boolean;
  allowAbsolute?: boolean;
  /** Check that make is on PATH (not needed for a dry run). */
  needMake: boolean;
  /** The PATH make is looked up on. */
  path?: string;
}

export async function analyzePluginMakefile(plugin: MakePlugin): Promise<MakefileAnalysis> {
  const file = plugin.makefile;
  const analysis = analyzeMakefile(await readText(file), file);
  const errors = analysis.diagnostics.filter((d) => d.severity === "error");
  if (hasErrors(analysis.diagnostics)) throw invalid(`${plugin.name}: the Makefile cannot be read by make`, errors);
  const missing = (["install", "uninstall"] as const).filter((t) => !analysis.targets.has(t));
  if (missing.length)
    throw invalid(`${plugin.name}: ${file} has no ${missing.map((t) => `'${t}'`).join(" or ")} target`, [
      {
        severity: "error",
        file,
        message: `missing target${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
        hint: "a Makefile plugin needs install and uninstall targets",
      },
    ]);
  return analysis;
}

/** Expands a Makefile plugin for `target`: the analysed steps, run by make; `honoursDestdir`
 * tells whether make can run into a staging folder (src/make/capture.ts). */
export async function expandMakePlugin(
  plugin: MakePlugin,
  target: "install" | "uninstall",
  opts: MakeLoadOptions,
): Promise<{ expanded: Expanded; honoursDestdir: boolean }> {
  const analysis = await analyzePluginMakefile(plugin);
  const t = analysis.targets.get(target);
  if (!t) throw new Error(`${plugin.name}: no ${target} target after the analysis checked it`);
  const file = plugin.makefile;
  if (opts.staging && t.writesAbsoluteWithoutDestdir.length && !opts.allowAbsolute) {
    const diagnostics: Diagnostic[] = t.writesAbsoluteWithoutDestdir.map((w) => ({
      severity: "error",
      file,
      line: w.line,
      message: `writes to an absolute path without $(DESTDIR): ${w.text}`,
    }));
    throw invalid(
      `${plugin.name}: its Makefile ignores DESTDIR, so under --root it would write outside the root`,
      diagnostics,
      "prefix the paths with $(DESTDIR) in the Makefile, or pass --allow-absolute to run it anyway",
    );
  }
  if (opts.needMake && !findOnPath("make", opts.path))
    throw invalid(
      `${plugin.name} is a Makefile plugin, but make is not on PATH`,
      [],
      "install GNU make (apt install make), or convert the plugin with `wazo-tasks convert`",
    );
  const conv = convertAnalysis(analysis, plugin.dir);
  const recipe = t.recipe.map((r) => ({ line: r.line, text: r.text }));
  const info: MakeInfo = {
    target,
    dir: plugin.dir,
    makefile: file,
    convertible: conv.ok && t.untranslated.length === 0,
    recipe,
    honoursDestdir: t.writesAbsoluteWithoutDestdir.length === 0,
  };
  let steps: Step[] = [];
  if (conv.ok) steps = target === "install" ? conv.steps.install : conv.steps.uninstall;
  let expanded: Expanded;
  try {
    expanded = await expandSteps({ ...plugin, locate: undefined, tasksFile: file }, target, steps);
  } catch (e) {
    if (!isTaskFailure(e)) throw e;
    // make would fail on these too; the dry run says so through the recipe.
    info.convertible = false;
    expanded = await expandSteps(plugin, target, []);
  }
  // make runs its own reloads (`asterisk -x ...` in the recipe): none are added here.
  const run = {
    kind: "make",
    label: `make ${target}`,
    op: { op: "captured-run" as const, dir: info.dir, target, display: `make ${target}` },
    exact: info.convertible,
    recipe: info.recipe,
  };
  return { expanded: { ...expanded, handlers: [], asterisk: [], verify: [], run }, honoursDestdir: info.honoursDestdir };
}
