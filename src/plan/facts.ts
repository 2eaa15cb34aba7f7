/**
 * Facts: read-only probes of the target tree that the planner needs — what exists at each path,
 * its checksum and mode, and whether the path would resolve outside the root.
 */
import { lstat, readdir, readlink, realpath } from "node:fs/promises";
import path from "node:path";
import { sha256File } from "../util/hash.js";
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
}

export const rooted = (root: string, p: string) => path.join(root, p);

export async function factOf(real: string): Promise<Fact> {
  const st = await lstat(real).catch(() => undefined);
  if (!st) return { type: "absent" };
  if (st.isSymbolicLink()) return { type: "symlink", target: await readlink(real) };
  if (st.isDirectory()) return { type: "dir", mode: st.mode & 0o7777 };
  if (st.isFile()) return { type: "file", mode: st.mode & 0o7777, size: st.size, sha256: await sha256File(real, st.size) };
  return { type: "other" };
}

/** Reads the facts for `displayPaths` and all their parent folders. */
export async function gatherFacts(root: string, displayPaths: Iterable<string>): Promise<Facts> {
  const rootReal = await realpath(root).catch(() => path.resolve(root));
  const all = new Set<string>();
  for (const p of displayPaths) for (let d = p; d !== "/" && !all.has(d); d = path.posix.dirname(d)) all.add(d);
  const list = [...all];
  // A bounded pool: thousands of probes at once only grow the heap.
  const facts = await mapPool(list, 16, (p) => factOf(rooted(root, p)));
  const paths = new Map(list.map((p, i) => [p, facts[i]]));
  // Folders asked about by name (not only as parents): what they hold, for a `remove:` of one.
  for (const p of new Set(displayPaths)) {
    const f = paths.get(p);
    if (f?.type === "dir") f.entries = (await readdir(rooted(root, p)).catch(() => [])).sort();
  }
  const escapes = new Map<string, string>();
  // A symlinked folder (or a link at the target) may lead out of the root: refuse those paths.
  for (const [p, f] of paths) {
    if (f.type !== "symlink") continue;
    const real = await realpath(rooted(root, p)).catch(() => path.resolve(path.dirname(rooted(root, p)), f.target));
    if (real !== rootReal && !real.startsWith(rootReal + path.sep)) escapes.set(p, real);
  }
  return { root, paths, escapes };
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
  const long = target.split("/").find((seg) => Buffer.byteLength(seg) > NAME_MAX);
  if (long) return `${target}: the name ${long.slice(0, 24)}… is ${Buffer.byteLength(long)} bytes long, more than the ${NAME_MAX} a file name can have`;
  if (Buffer.byteLength(rooted(facts.root, target)) > PATH_MAX) return `${target} is longer than the ${PATH_MAX} bytes a path can have`;
  for (let d = path.posix.dirname(target); d !== "/"; d = path.posix.dirname(d)) {
    const f = facts.paths.get(d);
    if (f?.type === "file") return `${d} is a file where a folder is needed for ${target}`;
    if (f?.type === "other") return `${d} is a FIFO, socket or device where a folder is needed for ${target}`;
  }
  return undefined;
}
