/**
 * The plugin formats, in the order they are tried on a folder. The pipeline reaches a format
 * only through these functions.
 */
import path from "node:path";
import type { PluginSummary } from "../load/describe.js";
import { loadPlugins, type LoadContext } from "../load/plugin.js";
import { describePackage, loadPackage } from "./package.js";
import type { Diagnostic } from "../model/diagnostic.js";
import type { Manifest } from "../model/manifest.js";
import type { LoadResult, Plugin, PluginKind } from "../model/plugin.js";
import type { Expanded } from "../plan/expand.js";
import { unreachable } from "../util/unreachable.js";
import { descriptorFormat } from "./descriptor/index.js";
import { makeFormat } from "./make/index.js";
import { rulesFormat } from "./rules/index.js";
import type { ExpandContext, PrepareContext } from "./types.js";

export type { ExpandContext, PluginFormat, PrepareContext } from "./types.js";

/** Tried in this order: the first whose `detect` says yes loads the folder. */
export const FORMATS = [descriptorFormat, makeFormat, rulesFormat] as const;

function formatOf(kind: PluginKind) {
  switch (kind) {
    case "descriptor":
      return descriptorFormat;
    case "make":
      return makeFormat;
    case "rules":
      return rulesFormat;
    default:
      return unreachable(kind);
  }
}

async function detected(dir: string) {
  for (const f of FORMATS) if (await f.detect(dir)) return f;
  return undefined;
}

/** Loads a plugin folder with its format; a folder no format knows gets the package.yml
 * loader's diagnostics (what is missing). */
export async function loadFolder(dir: string, ctx: LoadContext): Promise<LoadResult> {
  const abs = path.resolve(dir);
  return ((await detected(abs))?.load ?? loadPackage)(abs, ctx);
}

/** Loads every folder, or fails with all their diagnostics together. */
export const loadFolders = (dirs: string[], ctx: LoadContext): Promise<Plugin[]> => loadPlugins(dirs, (d) => loadFolder(d, ctx));

/** A light description of a plugin folder for listings: metadata and format, no validation. */
export async function describePlugin(dir: string): Promise<PluginSummary> {
  return ((await detected(dir))?.describe ?? describePackage)(dir);
}

/** Every format's `prepare`, in order, for the formats present in the run. */
export async function preparePlugins(plugins: Plugin[], ctx: Omit<PrepareContext, "load"> & { loading: LoadContext }): Promise<Plugin[]> {
  let out = plugins;
  const { loading, ...rest } = ctx;
  for (const f of FORMATS) {
    const prepare = f.prepare;
    if (prepare && out.some((p) => p.kind === f.kind)) out = await prepare(out, { ...rest, load: (dir) => loadFolder(dir, loading) });
  }
  return out;
}

/** What `validate` reports about a loaded plugin beyond its loading. */
export function checkPlugin(plugin: Plugin): Promise<Diagnostic[]> {
  switch (plugin.kind) {
    case "descriptor":
      return descriptorFormat.check(plugin);
    case "make":
      return makeFormat.check(plugin);
    case "rules":
      return rulesFormat.check(plugin);
    default:
      return unreachable(plugin);
  }
}

export function expandPlugin(plugin: Plugin, ctx: ExpandContext): Promise<Expanded> {
  switch (plugin.kind) {
    case "descriptor":
      return descriptorFormat.expand(plugin, ctx);
    case "make":
      return makeFormat.expand(plugin, ctx);
    case "rules":
      return rulesFormat.expand(plugin, ctx);
    default:
      return unreachable(plugin);
  }
}

export const expandUninstall = (m: Manifest, ctx: ExpandContext): Promise<Expanded | undefined> => formatOf(m.installedBy).expandUninstall(m, ctx);

/** The files on the target whose text expanding the uninstall of `m` reads (read through the facts). */
export const uninstallReads = (m: Manifest): string[] => formatOf(m.installedBy).uninstallReads?.(m) ?? [];
