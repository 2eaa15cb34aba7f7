/**
 * Reading a small file the user hands in (a descriptor, package.yml, the configuration file, a
 * secret file, a market list on disk): refused, before anything reads it, when it is not a
 * regular file (a FIFO would hang, a device never end) or is larger than the limit.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { invalid } from "../model/diagnostic.js";
import { kindOf } from "./file-kind.js";

/** Descriptors, package.yml, Makefiles and the configuration file are small: a larger one is a mistake. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export const megabytes = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export interface LimitedRead {
  /** How the limit is named in the message ("descriptors are limited to 1 MB"). */
  what: string;
  /** The fix, shown when the file is too large. */
  hint: string;
  /** Bytes; default MAX_INPUT_BYTES. */
  limit?: number;
  /** A missing file (or a missing folder on its path) is undefined rather than an error. */
  optional?: boolean;
}

/**
 * The text of `file` (UTF-8), or an invalid-input error (exit 2) naming it. The file is checked
 * through the descriptor it is read from, so what is checked is what is read.
 */
export async function readLimited(file: string, o: LimitedRead & { optional: true }): Promise<string | undefined>;
export async function readLimited(file: string, o: LimitedRead): Promise<string>;
export async function readLimited(file: string, o: LimitedRead): Promise<string | undefined> {
  const limit = o.limit ?? MAX_INPUT_BYTES;
  const refuse = (message: string, hint: string) => invalid(`cannot read ${file}`, [{ severity: "error", file, message, hint }]);
  const shown = megabytes(limit).replace(/\.0 /, " ");
  // O_NONBLOCK: opening a FIFO does not wait for a writer. Synchronous calls: these files are
  // small, and a plugin run reads dozens of them, where each asynchronous call would cost more
  // than the read itself.
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (o.optional && (code === "ENOENT" || code === "ENOTDIR")) return undefined;
    throw e; // the caller names the file (an io failure, a market that cannot be read)
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refuse(`${path.basename(file)} is ${kindOf(st)}, not a regular file`, "replace it with a regular file");
    if (st.size > limit) throw refuse(`${path.basename(file)} is ${megabytes(st.size)}; ${o.what} are limited to ${shown}`, o.hint);
    const buf = readToEnd(fd, st.size, limit);
    if (buf.length > limit) throw refuse(`${path.basename(file)} is over ${shown}; ${o.what} are limited to ${shown}`, o.hint);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads an open file to its end, as it may have grown since fstat gave `expected` bytes; stops
 * once past `limit` (the caller refuses such a file).
 */
function readToEnd(fd: number, expected: number, limit: number): Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  for (let n = -1; n !== 0 && length <= limit; length += n) {
    // The size fstat gave and one byte more (to see the end), then larger pieces if it grew.
    const chunk = Buffer.allocUnsafe(length < expected ? expected - length + 1 : 65536);
    n = readSync(fd, chunk, 0, chunk.length, null);
    chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/**
 * The bytes of a small regular file, read synchronously (a few calls instead of four thread-pool
 * round trips). Something else there (a FIFO, a device, a folder) is not read: an error with code
 * `ENOTREG`. Other errors are the system's (ENOENT...).
 */
export function readRegularFileSync(file: string): Buffer {
  // O_NONBLOCK: opening a FIFO does not wait for a writer.
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${file} is ${kindOf(st)}, not a regular file`), { code: "ENOTREG" });
    return readToEnd(fd, st.size, Infinity);
  } finally {
    closeSync(fd);
  }
}
