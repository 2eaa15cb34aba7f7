/** A small file that appears whole or not at all, and never replaces another: written under a
 * unique temp name, then hard-linked into place (a link fails with EEXIST instead of replacing). */
import { randomBytes } from "node:crypto";
import { link, open, unlink } from "node:fs/promises";

/** Creates `file` holding `data`; false when a file is already there. Not flushed. */
export async function createWhole(file: string, data: string): Promise<boolean> {
  // Random, so that concurrent writers never share it (opened with "wx": a clash fails, never mixes).
  const tmp = `${file}.${randomBytes(8).toString("hex")}`;
  const fh = await open(tmp, "wx", 0o644);
  try {
    await fh.writeFile(data);
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined); // a full disk leaves no half-written temp file
    throw e;
  }
  await fh.close();
  try {
    await link(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
