/**
 * The sources of one run: the git cache (under the state folder; a temporary folder in a dry
 * run, removed at the end, so a preview leaves the target as it was), the market read at most
 * once, and the trees this run fetched — dropped again when the run does not install them.
 */
import { mkdir, mkdtemp, readdir, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import type { SourceEnv } from "./types.js";
import { invalid, TaskFailure } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import { stateDir } from "../state/manifest.js";
import { fetchGit, type FetchRequest } from "./git.js";
import { tempDirOf } from "../util/temp-dir.js";
import { marketUrl, readMarket, type Market } from "./market.js";
import type { SourceRecord } from "./types.js";

export interface SourceOptions {
  root: string;
  dryRun?: boolean;
  emit?: Emit;
  /** The environment the caller handed down: the market's address (WAZO_TASKS_MARKET_URL) is read from it. */
  env?: SourceEnv;
  /** The environment of the process the run is in, when `env` is not given: git starts from it
   * (and finds itself on its PATH), WAZO_VERSION is read from it. A dry run's fetches go into a
   * temporary folder under its TMPDIR (else `env`'s). */
  processEnv?: SourceEnv;
  /** --ref and --subdirectory: for the one git plugin of the run. */
  ref?: string;
  subdirectory?: string;
  /** --market URL. */
  market?: string;
  wazoVersion?: string;
  /** `upgrade`: installed plugins fetched again from where they came from. */
  upgradeFrom?: Map<string, SourceRecord>;
}

/** A plugin folder and, when it was fetched, where from. */
export interface Resolved {
  dir: string;
  source?: SourceRecord;
}

/** The git cache, relative to the root. */
export const GIT_CACHE = "cache/git";

export class SourceSession {
  private cache?: Promise<string>;
  private temporary?: string;
  private createdDir?: string;
  private fresh: string[] = [];
  private marketRead?: Promise<Market>;
  private fetched = new Map<string, Promise<Resolved>>();
  /** Fetched trees → what they are, to name their files in errors (the tree may be gone by then). */
  private trees = new Map<string, string>();
  readonly emit: Emit;
  readonly env: SourceEnv;

  constructor(readonly opts: SourceOptions) {
    this.emit = opts.emit ?? (() => {});
    this.env = opts.env ?? opts.processEnv ?? {};
  }

  private cacheDir(): Promise<string> {
    return (this.cache ??= (async () => {
      if (this.opts.dryRun) return (this.temporary = await mkdtemp(path.join(tempDirOf(this.opts.processEnv ?? this.env), "wazo-tasks-fetch-")));
      const dir = path.join(stateDir(this.opts.root), GIT_CACHE);
      this.createdDir = await mkdir(dir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
        throw invalid(`cannot create the git cache ${dir}: ${e.code ?? e.message}`, [], "check that the state folder is writable");
      });
      return dir;
    })());
  }

  /** Fetches a git source and finds the plugin in it; the tree is dropped again if it holds none. */
  fetch(req: FetchRequest, record: Omit<SourceRecord, "commit" | "url" | "ref" | "subdirectory">): Promise<Resolved> {
    // Each source is fetched once per run, however often it is named.
    const key = JSON.stringify([req.url, req.ref, req.subdirectory, record]);
    let done = this.fetched.get(key);
    if (!done) this.fetched.set(key, (done = this.fetchOnce(req, record)));
    return done;
  }

  private async fetchOnce(req: FetchRequest, record: Omit<SourceRecord, "commit" | "url" | "ref" | "subdirectory">): Promise<Resolved> {
    const sub = req.subdirectory?.replace(/^\.\/+|\/+$/g, "") || undefined;
    if (sub && (path.isAbsolute(sub) || sub.split("/").includes("..")))
      throw invalid(
        `--subdirectory ${sub}: must be a relative path inside the repository`,
        [],
        "give the folder of the plugin relative to the repository's top, e.g. plugins/my-plugin",
      );
    const fetched = await fetchGit({ ...req, subdirectory: sub }, await this.cacheDir(), this.env);
    if (fetched.fresh) this.fresh.push(fetched.tree);
    const dir = sub ? path.join(fetched.tree, sub) : fetched.tree;
    const at = `${req.display}${req.ref ? ` (ref ${req.ref})` : ""} at ${fetched.commit.slice(0, 12)}`;
    if (!(await hasPlugin(dir))) {
      const found = await pluginFolders(fetched.tree);
      if (fetched.fresh) await this.drop(fetched.tree);
      throw invalid(
        `no plugin ${sub ? `in subdirectory ${sub}` : "at the top"} of ${at}`,
        [],
        found.length
          ? `plugins found in: ${found.join(", ")}; pass --subdirectory ${found[0]}`
          : "a plugin folder holds package.yml, or wazo/plugin.yml and wazo/rules",
      );
    }
    this.trees.set(fetched.tree, `${req.display}@${fetched.commit.slice(0, 12)}`);
    this.emit({
      type: "fetched",
      method: record.method,
      url: req.display,
      ...(req.ref ? { ref: req.ref } : {}),
      ...(sub ? { subdirectory: sub } : {}),
      commit: fetched.commit,
      dryRun: this.opts.dryRun === true,
    });
    return {
      dir,
      source: {
        ...record,
        url: req.display,
        ...(req.ref ? { ref: req.ref } : {}),
        ...(sub ? { subdirectory: sub } : {}),
        commit: fetched.commit,
      } as SourceRecord,
    };
  }

  /** A failure whose diagnostics name files of fetched trees as `URL@COMMIT:PATH`. */
  relabel(e: TaskFailure): TaskFailure {
    const name = (file: string) => {
      for (const [tree, label] of this.trees) if (file.startsWith(tree + path.sep)) return `${label}:${path.relative(tree, file)}`;
      return file;
    };
    if (!e.diagnostics.some((d) => name(d.file) !== d.file)) return e;
    return new TaskFailure(
      e.reason,
      e.message,
      e.diagnostics.map((d) => ({ ...d, file: name(d.file) })),
      e.hint,
    );
  }

  /** The market, read once per run. */
  market(): Promise<Market> {
    return (this.marketRead ??= marketUrl(this.opts.market, this.opts.env, this.opts.root).then((m) => readMarket(m.url)));
  }

  /**
   * After an install: the other commits of the URLs this run fetched go, unless an installed
   * plugin still comes from them (a Makefile plugin's uninstall runs there) or they are recent.
   */
  private async prune(): Promise<void> {
    const { readManifests } = await import("../state/manifest.js");
    const used = [...(await readManifests(this.opts.root)).values()].map((m) => m.source);
    for (const tree of this.trees.keys()) {
      const keyDir = path.dirname(tree);
      for (const commit of await readdir(keyDir).catch(() => [] as string[])) {
        const other = path.join(keyDir, commit);
        if (other === tree || commit.startsWith(".") || used.some((s) => s === other || s.startsWith(other + path.sep))) continue;
        const age = await stat(other).then(
          (s) => Date.now() - s.mtimeMs,
          () => 0,
        );
        if (age > PRUNE_AFTER_MS) await rm(other, { recursive: true, force: true });
      }
    }
  }

  private async drop(tree: string) {
    await rm(tree, { recursive: true, force: true });
    this.fresh = this.fresh.filter((t) => t !== tree);
    await rmdir(path.dirname(tree)).catch(() => {}); // the URL's folder, when empty
  }

  /**
   * Ends the run's use of the sources. `installed`: the run installed what it fetched (the trees
   * stay, manifests point at them); else what this run fetched is removed, and the cache folder
   * too when this run created it and it is empty again.
   */
  async close(installed: boolean): Promise<void> {
    if (this.temporary) await rm(this.temporary, { recursive: true, force: true });
    if (this.temporary) return;
    if (installed) return this.prune();
    for (const t of [...this.fresh]) await this.drop(t);
    if (this.createdDir) {
      // Empty folders this run created, from the cache up: rmdir fails on anything not empty.
      const top = path.resolve(this.createdDir);
      for (let d = path.join(stateDir(this.opts.root), GIT_CACHE); d.length >= top.length; d = path.dirname(d)) {
        if (
          !(await rmdir(d).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    }
  }
}

/** Trees younger than this are never pruned: another run may have just fetched them. */
const PRUNE_AFTER_MS = 3_600_000;

/** After an uninstall: the cached trees the removed plugins came from, unless another installed plugin uses them. */
const CACHE_KEY = /^(?!\.\.?$)[A-Za-z0-9._-]+$/;
const COMMIT = /^[0-9a-f]{7,64}$/;

export async function dropCachedTrees(root: string, removed: { source: string; origin?: SourceRecord }[]): Promise<void> {
  const { readManifests } = await import("../state/manifest.js");
  const cache = path.join(stateDir(root), GIT_CACHE) + path.sep;
  const used = [...(await readManifests(root)).values()].map((m) => m.source);
  for (const m of removed) {
    if (!m.origin || !path.resolve(m.source).startsWith(cache)) continue;
    const [key, commit] = path.relative(cache, path.resolve(m.source)).split(path.sep);
    // Only a folder this cache made: a tampered manifest must not name anything else.
    if (!key || !commit || !CACHE_KEY.test(key) || !COMMIT.test(commit)) continue;
    const tree = path.join(cache, key, commit);
    if (used.some((s) => s === tree || s.startsWith(tree + path.sep))) continue;
    await rm(tree, { recursive: true, force: true });
    await rmdir(path.join(cache, key)).catch(() => {});
  }
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const hasPlugin = async (dir: string) => (await exists(path.join(dir, "package.yml"))) || (await exists(path.join(dir, "wazo", "plugin.yml")));

/** Folders (two levels down at most) holding a plugin, for the hint. */
async function pluginFolders(tree: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string, depth: number) {
    const entries = await readdir(path.join(tree, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const sub = rel ? `${rel}/${e.name}` : e.name;
      if (await hasPlugin(path.join(tree, sub))) out.push(sub);
      else if (depth < 2) await walk(sub, depth + 1);
    }
  }
  await walk("", 1);
  return out;
}
