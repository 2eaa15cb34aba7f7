/**
 * File operations that never leave a half-written file where Asterisk can read it: content goes
 * to a temp file in the same folder, is flushed, then renamed into place. Nothing here flushes a
 * whole file system: only the files and folders a run wrote are flushed.
 */
import { chmod, copyFile, link, lstat, mkdir, open, readlink, rename, rmdir, symlink, unlink } from "node:fs/promises";
import { constants as fsConstants } from "node:fs";
import { createHash } from "node:crypto";
import path from "node:path";

/** The temp name used while writing `target`; fixed so a rollback can find and remove it. A
 * long name gets a short temp name of its hash, so the temp name is never too long when the
 * name itself is not. */
export const tempPathFor = (target: string) => {
  const base = path.basename(target);
  const name = Buffer.byteLength(base) > 200 ? `.${createHash("sha256").update(base).digest("hex").slice(0, 32)}.wazo-tasks-tmp` : `.${base}.wazo-tasks-tmp`;
  return path.join(path.dirname(target), name);
};

export async function fsyncPath(p: string): Promise<void> {
  // A file the run gave a write-only mode (0200) cannot be opened for reading by its owner
  // unless that is root; opened for writing, it can still be flushed.
  const fh = await open(p, "r").catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "EACCES") throw e;
    return open(p, fsConstants.O_WRONLY);
  });
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

const removeIfThere = (p: string) =>
  unlink(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  });

/**
 * Writes `target`'s content to its temp name, with its mode, and nothing more: the caller
 * flushes it and renames it into place (see src/apply/durable.ts). The temp file is created
 * exclusively (a link planted at that name is never followed); a stale one left by an
 * interrupted run is removed and the write tried again. `sourceMode`: the mode a copy already
 * has, to spare a chmod. Returns the temp path.
 */
export async function writeTemp(target: string, data: { source?: string; content?: Uint8Array }, mode: number, sourceMode?: number): Promise<string> {
  const tmp = tempPathFor(target);
  const create = async () => {
    if (data.content !== undefined) {
      const fh = await open(tmp, "wx", mode);
      try {
        await fh.writeFile(data.content);
      } finally {
        await fh.close();
      }
    } else await copyFile(data.source!, tmp, fsConstants.COPYFILE_EXCL);
  };
  try {
    await create();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    await removeIfThere(tmp);
    await create();
  }
  if (data.content === undefined && sourceMode !== mode) await chmod(tmp, mode);
  else if (data.content !== undefined) await chmod(tmp, mode); // open()'s mode is masked by the umask
  return tmp;
}

/** One file written through its temp name, flushed, then renamed into place (the folder's
 * flush is the caller's: it is done once per folder for a whole batch). */
export async function writeAtomic(target: string, data: { source?: string; content?: Uint8Array }, mode: number, sourceMode?: number): Promise<void> {
  const tmp = await writeTemp(target, data, mode, sourceMode);
  await fsyncPath(tmp);
  await rename(tmp, target);
}

export async function symlinkAtomic(target: string, linkTo: string): Promise<void> {
  const tmp = tempPathFor(target);
  await removeIfThere(tmp);
  await symlink(linkTo, tmp);
  await rename(tmp, target);
}

/** Removes a file or link; a folder only when empty (returns false when it was kept). */
export async function removePath(p: string): Promise<boolean> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return true;
  if (st.isDirectory()) {
    try {
      await rmdir(p);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOTEMPTY" || (e as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw e;
    }
  }
  await unlink(p);
  return true;
}

/** Keeps a copy of `p` at `backup`: a hard link when possible (instant, and the rename that
 * replaces `p` leaves the old inode intact), a copy across file systems. */
export async function backupFile(p: string, backup: string): Promise<void> {
  await mkdir(path.dirname(backup), { recursive: true });
  try {
    await link(p, backup);
  } catch {
    await copyFile(p, backup);
    await fsyncPath(backup);
  }
}

export async function readLinkSafe(p: string): Promise<string | undefined> {
  return readlink(p).catch(() => undefined);
}

export async function syncDir(dir: string): Promise<void> {
  await fsyncPath(dir).catch(() => undefined);
}

/** Replaces a small state file atomically and durably (one implementation, in state/). */
export { replaceStateFile as replaceFileDurably } from "../state/durable.js";
