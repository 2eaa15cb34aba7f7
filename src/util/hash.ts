import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";

/** sha256 of a file; small files are read at once, large ones streamed. */
export async function sha256File(file: string, size?: number): Promise<string> {
  if (size !== undefined && size <= 1 << 20) return createHash("sha256").update(await readFile(file)).digest("hex");
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

export const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
