import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

/** sha256 of a file. Small files are read synchronously: for the thousands of small files of a
 * sound folder, one blocking read beats four thread-pool round trips; large ones are streamed. */
export async function sha256File(file: string, size?: number): Promise<string> {
  if (size !== undefined && size <= 1 << 16) return createHash("sha256").update(readFileSync(file)).digest("hex");
  if (size !== undefined && size <= 1 << 20)
    return createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");
