/**
 * How a plugin folder is obtained from a command-line argument. Three sources, tried in order:
 * - `git`: a git URL (or a folder that is a git repository, with a ref or bare), fetched;
 * - `folder`: a plugin name in the search folders, or a folder path (src/load/lookup.ts);
 * - `market`: `NAMESPACE/NAME[@VERSION]` that no search folder has, through the market.
 * Whatever the source, the result is a folder, loaded like any other.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isPathArgument, resolvePluginArg, type Scan, type SearchOptions } from "../load/lookup.js";
import { invalid, isTaskFailure, TaskFailure } from "../model/diagnostic.js";
import { currentWazoVersion } from "../util/version.js";
import { chooseVersion, MARKET_ARG } from "./market.js";
import type { Resolved, SourceSession } from "./session.js";
import type { SourceRecord } from "./types.js";
import { checkRef, looksLikeUrl, parseGitArg, type GitArg } from "./url.js";

export interface ResolveContext {
  session: SourceSession;
  search: SearchOptions;
  scan: Scan;
  /** --ref / --subdirectory apply to this argument (the run's one git plugin). */
  flagsFor?: string;
}

export interface PluginSource {
  method: "folder" | "git" | "market";
  /** True when the argument is this source's to resolve. */
  accepts(arg: string, ctx: ResolveContext): Promise<boolean>;
  /** The plugin folder (and, when fetched, where from); throws an invalid-input failure. */
  resolve(arg: string, ctx: ResolveContext): Promise<Resolved>;
}

const isDir = (p: string) =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** A folder path given as a git source: `DIR#REF`, a bare repository, or a repository with --ref. */
async function localRepo(arg: string, ctx: ResolveContext): Promise<GitArg | undefined> {
  if (!isPathArgument(arg) || looksLikeUrl(arg)) return undefined;
  const [dirPart, ...rest] = arg.split("#");
  const dir = path.resolve(dirPart);
  if (!(await isDir(dir))) return undefined;
  const ref = rest.length ? rest.join("#") : undefined;
  const bare = (await exists(path.join(dir, "HEAD"))) && (await isDir(path.join(dir, "objects")));
  const worktree = await exists(path.join(dir, ".git"));
  const withFlags = ctx.flagsFor === arg && (ctx.session.opts.ref !== undefined || ctx.session.opts.subdirectory !== undefined);
  if (!(bare || (worktree && (ref !== undefined || withFlags)))) return undefined;
  if (ref !== undefined) checkRef(ref, dir);
  const url = pathToFileURL(dir).href;
  return { url, display: url, ref };
}

export const gitSource: PluginSource = {
  method: "git",
  async accepts(arg, ctx) {
    return looksLikeUrl(arg) || (await localRepo(arg, ctx)) !== undefined;
  },
  async resolve(arg, ctx) {
    const given = (await localRepo(arg, ctx)) ?? parseGitArg(arg);
    const flags: { ref?: string; subdirectory?: string } = ctx.flagsFor === arg ? ctx.session.opts : {};
    if (flags.ref !== undefined) checkRef(flags.ref, given.display);
    return ctx.session.fetch({ ...given, ref: given.ref ?? flags.ref, subdirectory: flags.subdirectory }, { method: "git" });
  },
};

export const folderSource: PluginSource = {
  method: "folder",
  async accepts() {
    return true;
  },
  async resolve(arg, ctx) {
    return { dir: await resolvePluginArg(arg, ctx.search, ctx.scan) };
  },
};

export const marketSource: PluginSource = {
  method: "market",
  async accepts(arg) {
    return MARKET_ARG.test(arg) && !(await isDir(path.resolve(arg)));
  },
  async resolve(arg, ctx) {
    const [, namespace, name, version] = MARKET_ARG.exec(arg)!;
    const found = await fromMarket(`${namespace}/${name}`, ctx.session, { version });
    if (typeof found === "string")
      throw invalid(found, [], "`wazo-tasks market` lists the versions for this Wazo; pass --wazo-version if the Wazo version is wrong");
    return found;
  },
};

/**
 * A market entry's source, fetched: the newest version for this Wazo (or `version` exactly, or
 * at least `atLeast`). A string when the market has no such plugin or version; throws when the
 * market cannot be read, the entry cannot be installed or the fetch fails.
 */
export async function fromMarket(name: string, session: SourceSession, want: { version?: string; atLeast?: string } = {}): Promise<Resolved | string> {
  const market = await session.market();
  const item = market.items.find((i) => `${i.namespace}/${i.name}` === name);
  if (!item) return `${name}: not in the market at ${market.url}`;
  const wazo = await currentWazoVersion(session.opts.root, session.opts.wazoVersion, session.env.WAZO_VERSION);
  const v = chooseVersion(item, wazo?.version, want.version, want.atLeast);
  if (typeof v === "string") return v;
  const where = `market entry ${name} ${v.version} (${market.url})`;
  if (v.method !== "git")
    throw invalid(
      `${where}: install method "${v.method}" is not one wazo-tasks knows`,
      [],
      'the known method is "git" (options url, ref, subdirectory); install the plugin from its folder or its git URL instead',
    );
  const { url, ref, subdirectory } = v.options as { url?: unknown; ref?: unknown; subdirectory?: unknown };
  if (typeof url !== "string" || !url) throw invalid(`${where}: no options.url`, [], "the market entry is broken; tell its maintainers");
  const git = parseGitArg(url);
  const ranged = item.versions.some((x) => x.min_wazo_version || x.max_wazo_version);
  if (!wazo && ranged)
    session.emit({
      type: "warning",
      message: `${name}: the Wazo version is unknown: picked ${v.version}, the newest (pass --wazo-version, set WAZO_VERSION, or write it in <root>/usr/share/wazo/WAZO-VERSION)`,
    });
  const record: Omit<SourceRecord, "commit" | "url" | "ref" | "subdirectory"> = { method: "market", market: { url: market.url, name, version: v.version } };
  return session.fetch(
    { ...git, ref: typeof ref === "string" && ref ? ref : git.ref, subdirectory: typeof subdirectory === "string" ? subdirectory : undefined },
    record,
  );
}

/** True for a failure to read the market itself (not a plugin or version missing from it). */
export const isMarketUnreadable = (e: unknown) => isTaskFailure(e) && /^(cannot read the market|the market at|unknown market address)/.test(e.message);

/** Resolves one command-line argument through the sources. */
export async function resolveArg(arg: string, ctx: ResolveContext): Promise<Resolved> {
  const previous = ctx.session.opts.upgradeFrom?.get(arg);
  if (previous) return again(arg, previous, ctx);
  if (arg.startsWith("-")) throw invalid(`refused plugin argument "${arg}": it starts with '-'`, [], "give a plugin name, folder or git URL");
  if (await gitSource.accepts(arg, ctx)) return gitSource.resolve(arg, ctx);
  if (MARKET_ARG.exec(arg)?.[3] && (await marketSource.accepts(arg, ctx))) return marketSource.resolve(arg, ctx);
  try {
    return await folderSource.resolve(arg, ctx);
  } catch (e) {
    if (!isTaskFailure(e) || !/^unknown plugin/.test(e.message) || !(await marketSource.accepts(arg, ctx))) throw e;
    const found = await fromMarket(arg, ctx.session).catch((m: unknown) => {
      if (!isMarketUnreadable(m)) throw m;
      return `and ${(m as Error).message}`;
    });
    if (typeof found !== "string") return found;
    if (found.startsWith(`${arg}: not in the market`))
      throw new TaskFailure(e.reason, `${e.message}: not in the search folders, nor ${found.slice(arg.length + 6)}`, e.diagnostics, e.hint);
    if (found.startsWith("and ")) throw new TaskFailure(e.reason, `${e.message}: not in the search folders, ${found}`, e.diagnostics, e.hint);
    throw invalid(
      `${arg}: not in the search folders, and ${found}`,
      [],
      "pass --wazo-version if the Wazo version is wrong, or name a version: NAMESPACE/NAME@VERSION",
    );
  }
}

/** `upgrade`: the source an installed plugin came from, fetched again (the market's newest for a market plugin). */
async function again(name: string, previous: SourceRecord, ctx: ResolveContext): Promise<Resolved> {
  if (previous.method === "market") {
    const found = await fromMarket(previous.market?.name ?? name, ctx.session);
    if (typeof found === "string") throw invalid(`cannot upgrade ${name}: ${found}`, [], "uninstall it, or install it again from its git URL");
    return found;
  }
  return ctx.session.fetch({ url: previous.url, display: previous.url, ref: previous.ref, subdirectory: previous.subdirectory }, { method: "git" });
}
