/**
 * The sources in the pipeline: command-line arguments → folders (fetched when they are git or
 * market sources) → loaded plugins carrying where they came from; and the plugins that need
 * nothing because the same source at the same commit is installed.
 */
import type { Scan, SearchOptions } from "../load/lookup.js";
import type { Plugin } from "../model/plugin.js";
import { invalid, isTaskFailure, TaskFailure } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { PluginPlan } from "../model/plan.js";
import type { Manifest } from "../state/manifest.js";
import { gitSource, resolveArg, type ResolveContext } from "./resolve.js";
import type { Resolved, SourceSession } from "./session.js";
import { describeSource, sameSource } from "./types.js";
import { looksLikeUrl, stripCredentials } from "./url.js";

/** The arguments as they may be shown: URLs without credentials. */
export const shownArgs = (args: string[]) => args.map((a) => (looksLikeUrl(a) ? stripCredentials(a.replace(/^git\+/, "")) : a));

/** `load` loads the folders (src/formats/: loadFolders). */
export async function loadSources(
  args: string[],
  session: SourceSession,
  search: SearchOptions,
  scan: Scan,
  load: (dirs: string[]) => Promise<Plugin[]>,
): Promise<Plugin[]> {
  const ctx: ResolveContext = { session, search, scan };
  const flagged = session.opts.ref !== undefined || session.opts.subdirectory !== undefined;
  if (flagged) {
    const gits: string[] = [];
    for (const a of args) if (await gitSource.accepts(a, { ...ctx, flagsFor: a })) gits.push(a);
    if (gits.length !== 1)
      throw invalid(
        `--ref and --subdirectory apply to one git plugin, and ${gits.length ? `${gits.length} are given` : "none is given"}`,
        [],
        gits.length ? "give each URL its own ref as URL#REF" : "give a git URL (https://..., file://..., user@host:path)",
      );
    ctx.flagsFor = gits[0];
  }
  const resolved: Resolved[] = [];
  for (const a of args) resolved.push(await resolveArg(a, ctx));
  const plugins = await load(resolved.map((r) => r.dir)).catch((e: unknown) => {
    const fetched = resolved.filter((r) => r.source);
    if (!isTaskFailure(e) || !fetched.length || e.hint) throw e;
    const from = fetched.map((r) => `${r.source!.url} at ${r.source!.commit.slice(0, 12)}`).join(", ");
    throw new TaskFailure(e.reason, e.message, e.diagnostics, `fetched from ${from}: ask its maintainers for a fix, or install another ref (URL#REF, --ref)`);
  });
  for (const p of plugins) {
    const origin = resolved.find((r) => r.dir === p.dir)?.source;
    if (origin) p.origin = origin;
  }
  return plugins;
}

/**
 * Splits the plugins into those to plan and those already installed from the same source at
 * the same commit (their plan entry: unchanged, no step). `reinstall` plans them all.
 */
export function partitionUpToDate(plugins: Plugin[], manifests: Map<string, Manifest>, reinstall: boolean): { todo: Plugin[]; same: PluginPlan[] } {
  const todo: Plugin[] = [];
  const same: PluginPlan[] = [];
  for (const p of plugins) {
    const m = manifests.get(p.name);
    const pending = m && (m.reloadPending.length > 0 || m.rules?.installPending);
    if (reinstall || !m || pending || !sameSource(p.origin, m.origin) || m.version !== p.version) {
      todo.push(p);
      continue;
    }
    same.push({
      name: p.name,
      version: p.version,
      previousVersion: m.version,
      action: "reinstall",
      steps: [],
      handlers: [],
      asterisk: [],
      verify: [],
      manifest: m,
      changed: false,
      warnings: [],
    });
  }
  return { todo, same };
}

/** One line per plugin left as it was because its source did not move. */
export function emitUpToDate(same: PluginPlan[], emit: Emit): void {
  for (const p of same)
    emit({
      type: "step",
      plugin: p.name,
      kind: "source",
      target: describeSource(p.manifest!.origin!),
      status: "unchanged",
      detail: "installed from this commit; --reinstall runs it again",
    });
}
