/** A small state file replaced atomically and durably: temp file, flush, rename, flush of the folder. */
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";

export async function replaceStateFile(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, "w", 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => undefined); // a full disk leaves no half-written temp file
    throw e;
  }
  await fh.close();
  await rename(tmp, file);
  const dir = await open(path.dirname(file), "r").catch(() => undefined);
  await dir?.sync().catch(() => undefined);
  await dir?.close();
}
