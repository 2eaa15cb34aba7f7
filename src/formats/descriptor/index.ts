/** The descriptor format: package.yml with tasks.yml or tasks.ts, planned and applied by the engine. */
import path from "node:path";
import { describePackage, exists, loadPackage } from "../package.js";
import { isTaskFailure, type Diagnostic } from "../../model/diagnostic.js";
import type { Manifest } from "../../model/manifest.js";
import type { DescriptorPlugin } from "../../model/plugin.js";
import type { PluginFormat } from "../types.js";

/** The plugin an uninstall stands for, rebuilt from its manifest (its folder may be gone). */
function pluginFromManifest(m: Manifest): DescriptorPlugin {
  return {
    name: m.name,
    version: m.version,
    description: m.description,
    dir: m.source,
    kind: "descriptor",
    metaFile: path.join(m.source, "package.yml"),
    // Only the extra uninstall steps are needed from the descriptor.
    tasks: { install: [], uninstall: m.uninstall },
  };
}

export const descriptorFormat: PluginFormat<DescriptorPlugin> = {
  kind: "descriptor",
  async detect(dir) {
    if (!(await exists(path.join(dir, "package.yml")))) return false;
    return (await exists(path.join(dir, "tasks.yml"))) || (await exists(path.join(dir, "tasks.ts")));
  },
  load: loadPackage,
  describe: describePackage,
  async check(plugin) {
    const [{ expandSteps }, { lintDialplans }, { riskyModeDiagnostics }, { buildInstallPlan }] = await Promise.all([
      import("../../plan/expand.js"),
      import("../../plan/lint.js"),
      import("../../plan/modes.js"),
      import("../../plan/planner.js"),
    ]);
    const diagnostics: Diagnostic[] = [];
    for (const list of ["install", "uninstall"] as const) {
      const steps = plugin.tasks[list];
      if (!steps) continue;
      try {
        const expanded = await expandSteps(plugin, list, steps);
        if (list === "install") await lintDialplans([expanded], { emit: () => {} });
        if (list === "install") diagnostics.push(...riskyModeDiagnostics([expanded]));
        // Planning against an empty target finds what needs no target to be wrong (duplicates).
        if (list === "install") buildInstallPlan([expanded], { root: "/", paths: new Map(), escapes: new Map() }, new Map(), { now: "" });
      } catch (e) {
        if (!isTaskFailure(e)) throw e;
        diagnostics.push(...e.diagnostics);
      }
    }
    return diagnostics;
  },
  async expand(plugin) {
    const { expandSteps } = await import("../../plan/expand.js");
    const expanded = await expandSteps(plugin, "install", plugin.tasks.install);
    return { ...expanded, uninstall: plugin.tasks.uninstall };
  },
  async expandUninstall(m) {
    if (!m.uninstall.length) return undefined;
    const { expandSteps } = await import("../../plan/expand.js");
    return expandSteps(pluginFromManifest(m), "uninstall", m.uninstall);
  },
};
