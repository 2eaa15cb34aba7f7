/** `validate`: load and expand each plugin without touching any target; every problem listed. */
import { expandSteps } from "./plan/expand.js";
import { buildInstallPlan } from "./plan/planner.js";
import { lintDialplans } from "./plan/lint.js";
import { resolvePluginArg, type SearchOptions } from "./load/lookup.js";
import { loadPlugin } from "./load/plugin.js";
import { isTaskFailure, type Diagnostic } from "./model/diagnostic.js";

export interface ValidationResult {
  arg: string;
  ok: boolean;
  name?: string;
  version?: string;
  kind?: string;
  diagnostics: Diagnostic[];
}

export async function validatePlugins(args: string[], opts: SearchOptions): Promise<ValidationResult[]> {
  const out: ValidationResult[] = [];
  for (const arg of args) {
    try {
      const dir = await resolvePluginArg(arg, opts);
      const loaded = await loadPlugin(dir);
      if (!loaded.ok) {
        out.push({ arg, ok: false, diagnostics: loaded.diagnostics });
        continue;
      }
      const p = loaded.plugin;
      const diagnostics: Diagnostic[] = [...(p.rules?.warnings ?? [])]; // rules plugins: unknown keys, uncalled targets
      if (p.kind === "descriptor") {
        for (const list of ["install", "uninstall"] as const) {
          const steps = p.tasks?.[list];
          if (!steps) continue;
          try {
            const expanded = await expandSteps(p, list, steps);
            if (list === "install") await lintDialplans([expanded], { emit: () => {} });
            // Planning against an empty target finds what needs no target to be wrong (duplicates).
            if (list === "install") buildInstallPlan([expanded], { root: "/", paths: new Map(), escapes: new Map() }, new Map(), { now: "" });
          } catch (e) {
            if (!isTaskFailure(e)) throw e;
            diagnostics.push(...e.diagnostics);
          }
        }
      }
      out.push({ arg, ok: !diagnostics.some((d) => d.severity === "error"), name: p.name, version: p.version, kind: p.kind, diagnostics });
    } catch (e) {
      if (!isTaskFailure(e)) throw e;
      out.push({ arg, ok: false, diagnostics: e.diagnostics.length ? e.diagnostics : [{ severity: "error", file: arg, message: e.message, hint: e.hint }] });
    }
  }
  return out;
}
