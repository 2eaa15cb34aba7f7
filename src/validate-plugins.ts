/** `validate`: load and expand each plugin without touching any target; every problem listed. */
import { scanOnce, type SearchOptions } from "./load/lookup.js";
import { resolveArg } from "./sources/resolve.js";
import { SourceSession } from "./sources/session.js";
import type { SourceEnv } from "./sources/types.js";
import { shownArgs } from "./sources/load.js";
import { checkPlugin, loadFolder } from "./formats/index.js";
import { isTaskFailure, TaskFailure, type Diagnostic } from "./model/diagnostic.js";
import type { LoadContext } from "./load/plugin.js";
import { tasksTsLoading } from "./run-context.js";

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
  // tasks.ts files are evaluated in one child for the whole command, started from `env`.
  const own = tasksTsLoading({ env: opts.env ?? {} });
  try {
    return await validateAll(args, opts, session, own.loading);
  } finally {
    own.stop();
    await session.close(false);
  }
}

async function validateAll(args: string[], opts: SearchOptions, session: SourceSession, loading: LoadContext): Promise<ValidationResult[]> {
  const out: ValidationResult[] = [];
  const scan = scanOnce(opts);
  for (const given of args) {
    const [arg] = shownArgs([given]);
    try {
      const { dir } = await resolveArg(given, { session, search: opts, scan });
      const loaded = await loadFolder(dir, loading);
      if (!loaded.ok) {
        out.push({ arg, ok: false, diagnostics: session.relabel(new TaskFailure("invalid", "", loaded.diagnostics)).diagnostics });
        continue;
      }
      const p = loaded.plugin;
      const diagnostics = await checkPlugin(p);
      out.push({ arg, ok: !diagnostics.some((d) => d.severity === "error"), name: p.name, version: p.version, kind: p.kind, diagnostics });
    } catch (e) {
      if (!isTaskFailure(e)) throw e;
      const f = session.relabel(e);
      out.push({ arg, ok: false, diagnostics: f.diagnostics.length ? f.diagnostics : [{ severity: "error", file: arg, message: f.message, hint: f.hint }] });
    }
  }
  return out;
}
