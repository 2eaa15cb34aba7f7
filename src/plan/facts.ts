/**
 * Facts: read-only probes of the target tree that the planner needs — what exists at each path,
 * its checksum and mode, whether the path would resolve outside the root, what a folder read
 * whole holds, and the text of the few files planning reads (a kept `wazo/rules`).
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync } from "node:fs";
import { access, open, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { sha256, sha256File } from "../util/hash.js";
import { mapPool } from "../util/pool.js";

export type Fact =
  | { type: "absent" }
  | { type: "file"; mode: number; size: number; sha256: string }
  | { type: "dir"; mode: number; entries?: string[] }
  | { type: "symlink"; target: string }
  | { type: "other" };

export interface Facts {
  root: string;
  /** Keyed by path on the PBX (display path). */
  paths: Map<string, Fact>;
  /** Display paths whose real location is outside the root, with where they lead. */
  escapes: Map<string, string>;
  /** The files asked for by `read` that are regular files (links followed), by display path. */
  texts?: Map<string, FileText>;
}

/** A file's text, and whether this process may execute it. */
export interface FileText {
  text: string;
  executable: boolean;
}

export const rooted = (root: string, p: string) => path.join(root, p);

/** What a path is, from one lstat: a file's checksum reads it once more, with the size lstat gave.
 * `scratch` (64 KiB) holds small files while they are hashed. */
export async function factOf(real: string, scratch?: Buffer): Promise<Fact> {
  // Synchronous probes: one lstat is cheaper than the thread-pool round trip an asynchronous one takes.
  const st = attempt(() => lstatSync(real, { throwIfNoEntry: false }));
  if (!st) return { type: "absent" };
  if (st.isSymbolicLink()) return { type: "symlink", target: readlinkSync(real) };
  if (st.isDirectory()) return { type: "dir", mode: st.mode & 0o7777 };
  if (st.isFile()) return { type: "file", mode: st.mode & 0o7777, size: st.size, sha256: await hashOf(real, st.size, scratch) };
  return { type: "other" };
}

/** What the planner asks of the target: paths (their parent folders are read too), and the folders
 * among them whose names inside it needs (a `remove:` of a folder). */
export interface FactQuery {
  paths: Iterable<string>;
  listed?: Iterable<string>;
  /** Folders read whole: every path under them (a kept copy whose stale files go). */
  walked?: Iterable<string>;
  /** Files whose text planning needs (a format's kept script, `uninstallReads`). */
  read?: Iterable<string>;
}

/**
 * Reads the facts of the query's paths and all their parent folders in one pass, a bounded number
 * at a time: each path once (one lstat; a file's checksum, a link's target and where it leads, a
 * listed folder's names), never twice.
 */
export async function gatherFacts(root: string, query: FactQuery | Iterable<string>): Promise<Facts> {
  const { paths: wanted, listed = [], walked = [], read = [] } = isQuery(query) ? query : { paths: query };
  const rootReal = attempt(() => realpathSync(root)) ?? path.resolve(root);
  const all = new Set<string>();
  const tops = new Set(walked);
  for (const p of [...wanted, ...tops]) for (let d = p; d !== "/" && !all.has(d); d = path.posix.dirname(d)) all.add(d);
  const list = new Set(listed);
  const inWalked = (p: string) => {
    for (let d = p; d !== "/"; d = path.posix.dirname(d)) if (tops.has(d)) return true;
    return false;
  };
  const paths = new Map<string, Fact>();
  const escapes = new Map<string, string>();
  // A bounded pool: thousands of probes at once only grow the heap.
  // Small files are read synchronously, one at a time: one buffer serves them all.
  const scratch = Buffer.allocUnsafe(SMALL);
  // What a walked folder holds is read in the next round, each path still once.
  for (let probes = [...all]; probes.length;) {
    const found = await mapPool(probes, 16, (p) => probe(rooted(root, p), rootReal, list.has(p) || inWalked(p), scratch));
    const next: string[] = [];
    probes.forEach((p, i) => {
      const { fact, leadsTo } = found[i];
      paths.set(p, fact);
      if (leadsTo !== undefined) escapes.set(p, leadsTo);
      if (fact.type !== "dir" || !inWalked(p)) return;
      for (const name of fact.entries ?? []) {
        const child = path.posix.join(p, name);
        if (all.has(child)) continue;
        all.add(child);
        next.push(child);
      }
    });
    probes = next;
  }
  const texts = new Map<string, FileText>();
  for (const p of new Set(read)) {
    const t = await textOf(rooted(root, p));
    if (t) texts.set(p, t);
  }
  return { root, paths, escapes, texts };
}

/** The text of a regular file (a link followed), and whether it may be executed; else undefined. */
async function textOf(real: string): Promise<FileText | undefined> {
  const st = await stat(real).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const text = await readFile(real, "utf8");
  const executable = await access(real, constants.X_OK).then(
    () => true,
    () => false,
  );
  return { text, executable };
}

const isQuery = (q: FactQuery | Iterable<string>): q is FactQuery => "paths" in q;

/** One path's fact; for a link that leads outside the root, where to; for a listed folder, its names. */
async function probe(real: string, rootReal: string, listed: boolean, scratch: Buffer): Promise<{ fact: Fact; leadsTo?: string }> {
  const fact = await factOf(real, scratch);
  if (fact.type === "dir" && listed) fact.entries = (attempt(() => readdirSync(real)) ?? []).sort();
  if (fact.type !== "symlink") return { fact };
  // A symlinked folder (or a link at the target) may lead out of the root: those paths are refused.
  const to = attempt(() => realpathSync(real)) ?? path.resolve(path.dirname(real), fact.target);
  return to !== rootReal && !to.startsWith(rootReal + path.sep) ? { fact, leadsTo: to } : { fact };
}

const SMALL = 1 << 16;

/** `f()`, or undefined when it throws (the path cannot be probed: it counts as absent). */
function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

/** sha256 of a file of known size: small ones read at once without a second stat, large ones streamed. */
async function hashOf(real: string, size: number, scratch?: Buffer): Promise<string> {
  if (size > 1 << 20) return sha256File(real, size);
  const buf = size <= SMALL && scratch ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
  let n = 0;
  if (size <= SMALL) {
    // For the thousands of small files of a sound folder, one blocking read beats thread-pool round trips.
    const fd = openSync(real, "r");
    try {
      while (n < size) {
        const got = readSync(fd, buf, n, size - n, null);
        if (got === 0) break;
        n += got;
      }
    } finally {
      closeSync(fd);
    }
  } else {
    const fh = await open(real, "r");
    try {
      while (n < size) {
        const { bytesRead } = await fh.read(buf, n, size - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return sha256(buf.subarray(0, n));
}

/** The first path among `p` and its parents that leads outside the root, if any. */
export function escapeOf(facts: Facts, p: string): { via: string; to: string } | undefined {
  for (let d = p; d !== "/"; d = path.posix.dirname(d)) {
    const to = facts.escapes.get(d);
    if (to) return { via: d, to };
  }
  return undefined;
}

/** The longest file name the file systems of a PBX take (NAME_MAX), and the longest path (PATH_MAX). */
const NAME_MAX = 255;
const PATH_MAX = 4095;

/** Why `target` cannot be written at all (a file where a folder is needed, a name too long), if so. */
export function unfitPath(facts: Facts, target: string): string | undefined {
  // A UTF-16 code unit is at most 3 bytes of UTF-8: short strings need no counting.
  const tooLong = (s: string, max: number) => s.length * 3 > max && Buffer.byteLength(s) > max;
  const long = tooLong(target, NAME_MAX) ? target.split("/").find((seg) => tooLong(seg, NAME_MAX)) : undefined;
  if (long) return `${target}: the name ${long.slice(0, 24)}… is ${Buffer.byteLength(long)} bytes long, more than the ${NAME_MAX} a file name can have`;
  if ((facts.root.length + target.length + 1) * 3 > PATH_MAX && Buffer.byteLength(rooted(facts.root, target)) > PATH_MAX)
    return `${target} is longer than the ${PATH_MAX} bytes a path can have`;
  for (let d = path.posix.dirname(target); d !== "/"; d = path.posix.dirname(d)) {
    const f = facts.paths.get(d);
    if (f?.type === "file") return `${d} is a file where a folder is needed for ${target}`;
    if (f?.type === "other") return `${d} is a FIFO, socket or device where a folder is needed for ${target}`;
  }
  return undefined;
}
