/** `validate`: load and expand each plugin without touching any target; every problem listed. */
import { expandSteps } from "./plan/expand.js";
import { buildInstallPlan } from "./plan/planner.js";
import { lintDialplans } from "./plan/lint.js";
import { scanOnce, type SearchOptions } from "./load/lookup.js";
import { resolveArg } from "./sources/resolve.js";
import { SourceSession } from "./sources/session.js";
import type { SourceEnv } from "./sources/types.js";
import { shownArgs } from "./sources/load.js";
import { loadPlugin } from "./load/plugin.js";
import { riskyModeDiagnostics } from "./plan/modes.js";
import { isTaskFailure, TaskFailure, type Diagnostic } from "./model/diagnostic.js";

export interface ValidationResult {
  arg: string;
  ok: boolean;
  name?: string;
  version?: string;
  kind?: string;
  diagnostics: Diagnostic[];
}

export async function validatePlugins(args: string[], opts: SearchOptions & { env?: SourceEnv }): Promise<ValidationResult[]> {
  // Git and market sources are fetched into a temporary folder, removed at the end.
  const session = new SourceSession({ root: opts.root ?? "/", dryRun: true, env: opts.env });
  try {
    return await validateAll(args, opts, session);
  } finally {
    await session.close(false);
  }
}

async function validateAll(args: string[], opts: SearchOptions, session: SourceSession): Promise<ValidationResult[]> {
  const out: ValidationResult[] = [];
  const scan = scanOnce(opts);
  for (const given of args) {
    const [arg] = shownArgs([given]);
    try {
      const { dir } = await resolveArg(given, { session, search: opts, scan });
      const loaded = await loadPlugin(dir);
      if (!loaded.ok) {
        out.push({ arg, ok: false, diagnostics: session.relabel(new TaskFailure("invalid", "", loaded.diagnostics)).diagnostics });
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
            if (list === "install") diagnostics.push(...riskyModeDiagnostics([expanded]));
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
      const f = session.relabel(e);
      out.push({ arg, ok: false, diagnostics: f.diagnostics.length ? f.diagnostics : [{ severity: "error", file: arg, message: f.message, hint: f.hint }] });
    }
  }
  return out;
}
