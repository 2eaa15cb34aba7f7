/**
 * Finding plugin folders. Search order for a name: each --plugins-dir, then
 * WAZO_TASKS_PLUGINS_PATH (colon-separated), then <root>/usr/share/wazo-tasks/plugins, then the
 * bundled plugins-examples/. An argument with a '/' or starting with '.' is a folder path —
 * except a NAMESPACE/NAME that is no folder: the wazo-plugind plugin of that name (src/rules).
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { invalid } from "../model/diagnostic.js";
import { isDirectory } from "../util/exists.js";
import { readPackageName } from "./quick-meta.js";

/** `NAMESPACE/NAME`, the name a rules plugin is installed and shown under. */
export const RULES_NAME = /^[a-z0-9]+\/[a-z0-9-]+$/;

export interface SearchOptions {
  pluginsDirs?: string[];
  /** Value of WAZO_TASKS_PLUGINS_PATH. */
  envPath?: string;
  root?: string;
  /** Include the bundled examples (default true). */
  bundled?: boolean;
}

/** The bundled examples folder (next to dist/ or src/). */
export const BUNDLED_PLUGINS = path.resolve(fileURLToPath(new URL("../../plugins-examples/", import.meta.url)));

export function searchDirs(opts: SearchOptions): string[] {
  const dirs = [...(opts.pluginsDirs ?? [])];
  if (opts.envPath) dirs.push(...opts.envPath.split(":").filter(Boolean));
  dirs.push(path.join(opts.root ?? "/", "usr/share/wazo-tasks/plugins"));
  if (opts.bundled !== false) dirs.push(BUNDLED_PLUGINS);
  return dirs.map((d) => path.resolve(d));
}

export const isPathArgument = (arg: string) => arg.includes("/") || arg.startsWith(".");

export interface AvailablePlugin {
  name: string;
  dir: string;
  searchDir: string;
}

/** The plugin folders of one search folder, in plain code-unit order of their folder names. */
async function scanSearchDir(searchDir: string): Promise<AvailablePlugin[]> {
  const entries = await readdir(searchDir, { withFileTypes: true }).catch(() => []);
  // Plain code-unit order: localeCompare's first call builds an ICU collator (≈ 5 ms of start-up).
  const dirs = entries
    .filter((e) => e.isDirectory() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const names = await Promise.all(dirs.map((d) => readPackageName(path.join(searchDir, d))));
  return dirs.flatMap((d, i) => (names[i] ? [{ name: names[i], dir: path.join(searchDir, d), searchDir }] : []));
}

/** The first plugin of each name, in search order. */
function firstPerName(lists: AvailablePlugin[][]): AvailablePlugin[] {
  const found = new Map<string, AvailablePlugin>();
  for (const p of lists.flat()) if (!found.has(p.name)) found.set(p.name, p);
  return [...found.values()];
}

/** Every plugin folder in the search folders, first one winning per name, in search order. */
export async function listAvailable(opts: SearchOptions): Promise<AvailablePlugin[]> {
  return firstPerName(await Promise.all(searchDirs(opts).map(scanSearchDir)));
}

/**
 * The search folders, each scanned at most once and only when needed, for resolving many names in
 * one run: a name found in a folder is not looked for in the later ones (the first one wins).
 */
export interface Scan {
  /** The first plugin named `name`, in search order. */
  find(name: string): Promise<AvailablePlugin | undefined>;
  /** Every plugin, as listAvailable gives them. */
  all(): Promise<AvailablePlugin[]>;
}

export function scanOnce(opts: SearchOptions): Scan {
  const dirs = searchDirs(opts);
  const scans: Promise<AvailablePlugin[]>[] = [];
  const scan = (i: number) => (scans[i] ??= scanSearchDir(dirs[i]));
  return {
    async find(name) {
      for (let i = 0; i < dirs.length; i++) {
        const hit = (await scan(i)).find((p) => p.name === name);
        if (hit) return hit;
      }
      return undefined;
    },
    all: async () => firstPerName(await Promise.all(dirs.map((_, i) => scan(i)))),
  };
}

/** Resolves a command-line argument to a plugin folder (pass `scan` when resolving several). */
export async function resolvePluginArg(arg: string, opts: SearchOptions, scan = scanOnce(opts)): Promise<string> {
  if (isPathArgument(arg)) {
    const dir = path.resolve(arg);
    if (await isDirectory(dir)) return dir;
    if (!RULES_NAME.test(arg)) throw invalid(`plugin folder not found: ${arg}`, [], "give the path of a folder holding package.yml");
  }
  const hit = await scan.find(arg);
  if (hit) return hit.dir;
  const available = await scan.all();
  // A wazo-plugind plugin may be named without its namespace when only one has that name.
  const named = arg.includes("/") ? [] : available.filter((p) => p.name.endsWith(`/${arg}`));
  if (named.length === 1) return named[0].dir;
  if (named.length > 1) throw invalid(`"${arg}" names several plugins: ${named.map((p) => p.name).join(", ")}`, [], "give NAMESPACE/NAME");
  const names = available.map((p) => p.name);
  const near = suggest(arg, names);
  throw invalid(
    `unknown plugin "${arg}"`,
    [],
    `${near ? `did you mean "${near}"? ` : ""}searched: ${searchDirs(opts).join(", ")}${names.length ? `; available: ${names.join(", ")}` : ""}`,
  );
}

/** The closest name by edit distance, if close enough to be a typo. */
export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]++;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}
