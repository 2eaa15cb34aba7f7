/**
 * The identity of a root: `<root>/var/lib/wazo-tasks/root-id`, made once with a random id. A
 * journal records it, so recovery can tell its own journal from one copied from another root,
 * and still trusts its own after the whole root was moved (`mv A B`). The file also lists the
 * folders made to hold the state folder, so they — and only they — go with the last plugin.
 */
import { randomUUID } from "node:crypto";
import { open, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { isPlainRelative, stateDir } from "./paths.js";
import { createWhole } from "../util/create-file.js";

export { isPlainRelative };

export interface RootId {
  id: string;
  /** Folders (relative to the root, outermost first) that were made for the state folder. */
  created: string[];
}

export const rootIdPath = (root: string) => path.join(stateDir(root), "root-id");

/** The root's id, or undefined when it has none yet (or an unreadable one). */
export async function readRootId(root: string): Promise<RootId | undefined> {
  const text = await readFile(rootIdPath(root), "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as Partial<RootId>;
    if (typeof v.id !== "string" || !v.id) return undefined;
    const created = Array.isArray(v.created) ? v.created.filter((d): d is string => typeof d === "string" && isPlainRelative(d)) : [];
    return { id: v.id, created };
  } catch {
    return undefined;
  }
}

/** The root's id, made now (exclusively, complete or not at all) when it has none. */
export async function ensureRootId(root: string, created: string[] = []): Promise<RootId> {
  const have = await readRootId(root);
  if (have) return have;
  const file = rootIdPath(root);
  const mine: RootId = { id: randomUUID(), created };
  // Not flushed here but by the first journal that records it (syncRootId): a run that changes
  // nothing does not wait for the disk. A link never replaces: a concurrent creator's id wins, and
  // only a file that is not a root id at all is replaced.
  const data = JSON.stringify(mine) + "\n";
  if (!(await createWhole(file, data)) && !(await readRootId(root))) {
    await unlink(file);
    await createWhole(file, data);
  }
  return (await readRootId(root)) ?? mine;
}

/** Makes the root id durable before a journal that records it is written. */
export async function syncRootId(root: string): Promise<void> {
  const fh = await open(rootIdPath(root), "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
