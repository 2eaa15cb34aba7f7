/**
 * Installed state, dpkg-style: one manifest per installed plugin under
 * <root>/var/lib/wazo-tasks/installed/NAME.json, listing every path it created with its checksum.
 * Manifests are written through the same transaction as the files they describe.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Step } from "../load/schema.js";
import { invalid } from "../model/diagnostic.js";
import type { RulesManifestInfo } from "../rules/types.js";
import type { SourceRecord } from "../sources/types.js";

export const STATE_DIR = "var/lib/wazo-tasks";
export const MANIFEST_FORMAT = 1;

export type ManifestEntry =
  | { path: string; type: "file"; sha256: string; mode: number; size: number }
  | { path: string; type: "dir"; mode: number }
  | { path: string; type: "symlink"; target: string };

/** A handler recorded so uninstall and `reload --pending` can run it without the plugin folder. */
export type Handler = { reload: string } | { restart: string };

export interface Manifest {
  format: number;
  name: string;
  version: string;
  description: string;
  /** The plugin folder it was installed from. */
  source: string;
  installedBy: "descriptor" | "make" | "rules";
  installedAt: string;
  /** Paths on the PBX (not under --root), in creation order. */
  files: ManifestEntry[];
  handlers: Handler[];
  verify: { extension: string; context: string }[];
  /** Extra uninstall steps from the descriptor, kept so uninstall works when the folder is gone. */
  uninstall: Step[];
  /** Dialplan extensions provided by the plugin's dialplan files. */
  extensions: { context: string; extension: string; file: string }[];
  /** Files that existed before install and were overwritten with --force; put back on uninstall. */
  preserved: { path: string; backup: string; mode: number }[];
  /** Handlers that failed after the files were applied; `wazo-tasks reload --pending` runs them. */
  reloadPending: Handler[];
  /** For wazo-plugind plugins (`wazo/plugin.yml` + `wazo/rules`): see src/rules. */
  rules?: RulesManifestInfo;
  /** Where the plugin was fetched from (git, market); absent when installed from a folder. */
  origin?: SourceRecord;
}

export const stateDir = (root: string) => path.join(root, STATE_DIR);
/** A plugin name as one file name: `NAMESPACE/NAME` (rules plugins) becomes `NAMESPACE+NAME` (no plain name has a '+'). */
export const stateKey = (name: string) => name.replace(/\//g, "+");
export const manifestPath = (root: string, name: string) => path.join(stateDir(root), "installed", `${stateKey(name)}.json`);
/** Where originals overwritten with --force are kept (never next to the file). */
export const preservedPath = (root: string, name: string, target: string) =>
  path.join(stateDir(root), "preserved", stateKey(name), target.replace(/^\/+/, ""));

export async function readManifests(root: string): Promise<Map<string, Manifest>> {
  const dir = path.join(stateDir(root), "installed");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).sort();
  const out = new Map<string, Manifest>();
  for (const n of names) {
    const file = path.join(dir, n);
    try {
      const m = JSON.parse(await readFile(file, "utf8")) as Manifest;
      out.set(m.name, m);
    } catch (e) {
      throw invalid(`corrupt state file ${file}: ${(e as Error).message}`, [], "run `wazo-tasks verify`, or restore it from a backup");
    }
  }
  return out;
}

/** Which installed plugin owns each path. */
export function ownersOf(manifests: Map<string, Manifest>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const m of manifests.values()) for (const f of m.files) if (f.type !== "dir") owners.set(f.path, m.name);
  return owners;
}

export function serializeManifest(m: Manifest): Uint8Array {
  return Buffer.from(JSON.stringify(m, null, 2) + "\n");
}

/** Handlers left pending by runs whose plugins are gone (an uninstall with --no-reload...). */
export const pendingPath = (root: string) => path.join(stateDir(root), "pending.json");

export async function readPending(root: string): Promise<Handler[]> {
  const text = await readFile(pendingPath(root), "utf8").catch(() => undefined);
  return text ? (JSON.parse(text) as { handlers: Handler[] }).handlers : [];
}

/** Writes the pending handlers (de-duplicated), or removes the file when there are none. */
export async function writePending(root: string, handlers: Handler[]): Promise<void> {
  const { replaceFileDurably } = await import("../apply/fsops.js");
  const unique = [...new Map(handlers.map((h) => [JSON.stringify(h), h])).values()];
  if (unique.length) await replaceFileDurably(pendingPath(root), JSON.stringify({ handlers: unique }, null, 2) + "\n");
  else await rm(pendingPath(root), { force: true });
}
