/**
 * What the descriptor and Makefile formats share: a folder with package.yml and one executor,
 * tasks.yml, tasks.ts or a Makefile (loaded by src/load/plugin.ts).
 */
import path from "node:path";
import { readPackageSummary, type PluginSummary } from "../load/describe.js";
import { loadPackagePlugin, loadTasksTs, loadTasksYaml, type ExecutorResult, type LoadContext } from "../load/plugin.js";
import type { DescriptorPlugin, LoadResult, MakePlugin } from "../model/plugin.js";
import { exists } from "../util/exists.js";

/** The names GNU make reads, in its search order; loading and listing accept the same three. */
export const MAKEFILE_NAMES: readonly string[] = ["GNUmakefile", "makefile", "Makefile"];

export { exists };

type Executor = Pick<DescriptorPlugin, "kind" | "tasks" | "tasksFile" | "locate" | "loadOutput"> | Pick<MakePlugin, "kind" | "makefile">;

async function loadExecutor(dir: string, ctx: LoadContext): Promise<ExecutorResult<Executor>> {
  const yml = path.join(dir, "tasks.yml");
  const ts = path.join(dir, "tasks.ts");
  const [hasYml, hasTs] = await Promise.all([exists(yml), exists(ts)]);
  if (hasYml && hasTs)
    return { ok: false, diagnostics: [{ severity: "error", file: ts, message: "both tasks.yml and tasks.ts exist", hint: "keep one descriptor" }] };
  if (hasYml || hasTs) {
    const r = hasYml ? await loadTasksYaml(yml) : await loadTasksTs(ts, ctx);
    return r.ok ? { ok: true, value: { kind: "descriptor", ...r.value } } : r;
  }
  for (const name of MAKEFILE_NAMES) {
    const mk = path.join(dir, name);
    if (await exists(mk)) return { ok: true, value: { kind: "make", makefile: mk } };
  }
  return {
    ok: false,
    diagnostics: [
      {
        severity: "error",
        file: path.join(dir, "tasks.yml"),
        message: "no tasks.yml, tasks.ts or Makefile in the plugin folder",
        hint: "add a tasks.yml (see docs/descriptor.md)",
      },
    ],
  };
}

/** Loads a package.yml folder; a folder without package.yml or executor gets the diagnostics
 * saying what is missing. */
export const loadPackage = (dir: string, ctx: LoadContext): Promise<LoadResult> => loadPackagePlugin(dir, (d) => loadExecutor(d, ctx));

/** For listings: package.yml's fields, and the format its executor says. */
export async function describePackage(dir: string): Promise<PluginSummary> {
  const hasMakefile = async () => (await Promise.all(MAKEFILE_NAMES.map((n) => exists(path.join(dir, n))))).some(Boolean);
  const kind =
    (await exists(path.join(dir, "tasks.yml"))) || (await exists(path.join(dir, "tasks.ts"))) ? "descriptor" : (await hasMakefile()) ? "make" : "unknown";
  return { ...(await readPackageSummary(dir)), kind };
}
