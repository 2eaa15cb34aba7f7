/**
 * The identity of a root: `<root>/var/lib/wazo-tasks/root-id`, made once with a random id. A
 * journal records it, so recovery can tell its own journal from one copied from another root,
 * and still trusts its own after the whole root was moved (`mv A B`). The file also lists the
 * folders made to hold the state folder, so they — and only they — go with the last plugin.
 */
import { randomUUID } from "node:crypto";
import { link, open, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { isPlainRelative, stateDir } from "./paths.js";

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
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await open(tmp, "w", 0o644);
  try {
    // Flushed by the first journal that records it (syncRootId), not here: a run that changes
    // nothing does not wait for the disk.
    await fh.writeFile(JSON.stringify(mine) + "\n");
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  try {
    // A link never replaces: an unreadable root-id is kept for a human to look at, and a
    // concurrent creator's id wins.
    await link(tmp, file).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== "EEXIST") throw e;
      const again = await readRootId(root);
      if (!again) {
        await unlink(file);
        await link(tmp, file);
      }
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
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
