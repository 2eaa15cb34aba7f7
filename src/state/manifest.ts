/**
 * Installed state, dpkg-style: one manifest per installed plugin under
 * <root>/var/lib/wazo-tasks/installed/NAME.json, listing every path it created with its checksum.
 * Manifests are written through the same transaction as the files they describe.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { invalid } from "../model/diagnostic.js";
import type { Manifest, ManifestEntry } from "../model/manifest.js";
import type { Handler } from "../model/plugin.js";
import { readRegularFileSync } from "../util/read-limited.js";
import { checkState } from "./check.js";
import { replaceStateFile } from "./durable.js";

import { STATE_DIR, stateDir } from "./paths.js";

export { STATE_DIR, stateDir };
export const MANIFEST_FORMAT = 1;

export type { Handler, Manifest, ManifestEntry };

/** A plugin name as one file name: `NAMESPACE/NAME` (rules plugins) becomes `NAMESPACE+NAME` (no plain name has a '+'). */
export const stateKey = (name: string) => name.replace(/\//g, "+");
export const manifestPath = (root: string, name: string) => path.join(stateDir(root), "installed", `${stateKey(name)}.json`);
/** Where originals overwritten with --force are kept (never next to the file). */
export const preservedPath = (root: string, name: string, target: string) => path.join(stateDir(root), "preserved", stateKey(name), target.replace(/^\/+/, ""));

/** A manifest that cannot be trusted: its file and what is wrong with it. */
export interface CorruptState {
  file: string;
  problem: string;
}

/** Every manifest, checked; a corrupt one stops the command (before any change) with the way out. */
export async function readManifests(root: string): Promise<Map<string, Manifest>> {
  const { manifests, corrupt } = await readManifestsChecked(root);
  if (corrupt.length) throw corruptStateFailure(root, corrupt);
  return manifests;
}

export function corruptStateFailure(root: string, corrupt: CorruptState[]) {
  const where = root === "/" ? "" : ` --root ${root}`;
  return invalid(
    corrupt.length === 1 ? `corrupt state file ${corrupt[0].file}: ${corrupt[0].problem}` : `${corrupt.length} corrupt state files`,
    corrupt.length === 1 ? [] : corrupt.map((c) => ({ severity: "error" as const, file: c.file, message: c.problem })),
    `\`wazo-tasks verify --repair${where}\` rebuilds it from the disk or sets it aside (no installed file is removed), or restore it from a backup`,
  );
}

/** A state file's text, or why it cannot be read. Synchronous: a run reads every manifest, each small. */
function readText(file: string): string | Error {
  try {
    return readRegularFileSync(file).toString("utf8");
  } catch (e) {
    return new Error(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Every manifest that passes the schema, and the others with their problem. */
export async function readManifestsChecked(root: string): Promise<{ manifests: Map<string, Manifest>; corrupt: CorruptState[] }> {
  const dir = path.join(stateDir(root), "installed");
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith(".json")).sort();
  const manifests = new Map<string, Manifest>();
  const corrupt: CorruptState[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    const text = readText(file);
    if (text instanceof Error) {
      corrupt.push({ file, problem: text.message });
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      corrupt.push({ file, problem: text.trim() ? `not valid JSON (${(e as Error).message})` : "empty file" });
      continue;
    }
    const checked = await checkState("manifest", json);
    if (!checked.ok) corrupt.push({ file, problem: checked.problem });
    else if (`${stateKey(checked.value.name)}.json` !== n)
      corrupt.push({ file, problem: `records plugin "${checked.value.name}", not the one its file name says` });
    else manifests.set(checked.value.name, checked.value);
  }
  return { manifests, corrupt };
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
  const r = await readPendingChecked(root);
  if (r.corrupt) throw corruptStateFailure(root, [r.corrupt]);
  return r.handlers;
}

export async function readPendingChecked(root: string): Promise<{ handlers: Handler[]; corrupt?: CorruptState }> {
  const file = pendingPath(root);
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) =>
    e.code === "ENOENT" ? undefined : new Error(`cannot be read (${e.code ?? e.message})`),
  );
  if (text === undefined) return { handlers: [] };
  if (text instanceof Error) return { handlers: [], corrupt: { file, problem: text.message } };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { handlers: [], corrupt: { file, problem: text.trim() ? `not valid JSON (${(e as Error).message})` : "empty file" } };
  }
  const checked = await checkState("pending", json);
  return checked.ok ? { handlers: checked.value.handlers } : { handlers: [], corrupt: { file, problem: checked.problem } };
}

/** Writes the pending handlers (de-duplicated), or removes the file when there are none. */
export async function writePending(root: string, handlers: Handler[]): Promise<void> {
  const unique = [...new Map(handlers.map((h) => [JSON.stringify(h), h])).values()];
  if (unique.length) await replaceStateFile(pendingPath(root), JSON.stringify({ handlers: unique }, null, 2) + "\n");
  else await rm(pendingPath(root), { force: true });
}
