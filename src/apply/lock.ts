/**
 * One writer per root: a lock file in the state folder holding its owner (pid, start time,
 * host). It is written complete under a temp name, then linked into place — a link fails when
 * the lock exists, so taking it is atomic and the lock is never seen empty. A second run waits
 * up to the timeout; a lock whose process is gone, or an unreadable one older than a few seconds
 * (a crash, a full disk), is stale and taken over.
 */
import { hostname } from "node:os";
import { link, lstat, mkdir, open, readdir, rename, rm, rmdir, unlink } from "node:fs/promises";
import path from "node:path";
import { TaskFailure } from "../model/diagnostic.js";
import { refineIoError } from "../model/failure.js";
import { stateDir } from "../state/manifest.js";
import { ensureRootId, readRootId, rootIdPath } from "../state/root-id.js";
import { ioFailure } from "../state/io-failure.js";
import { createWhole } from "../util/create-file.js";
import { isRunning } from "../util/process.js";

export interface Lock {
  release(): Promise<void>;
}

/** An unreadable or empty lock older than this is stale. */
const UNREADABLE_STALE_MS = 5_000;

interface Holder {
  pid?: number;
  host?: string;
  startedAt?: string;
  ino: number;
  ageMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Who holds the lock; undefined when there is no lock any more. Accepts the older "PID\n" form. */
async function readHolder(file: string): Promise<Holder | undefined> {
  const fh = await open(file, "r").catch(() => undefined);
  if (!fh) return undefined;
  try {
    const st = await fh.stat();
    const text = await fh.readFile("utf8").catch(() => "");
    const h: Holder = { ino: st.ino, ageMs: Date.now() - st.mtimeMs };
    const pid = /^\s*(\d+)\s*$/.exec(text)?.[1];
    if (pid) {
      if (Number(pid) > 0) h.pid = Number(pid);
      return h;
    }
    try {
      const v = JSON.parse(text) as { pid?: unknown; host?: unknown; startedAt?: unknown };
      if (Number.isInteger(v.pid) && (v.pid as number) > 0) h.pid = v.pid as number;
      if (typeof v.host === "string") h.host = v.host;
      if (typeof v.startedAt === "string") h.startedAt = v.startedAt;
    } catch {
      // Empty or damaged: stale once old enough.
    }
    return h;
  } finally {
    await fh.close();
  }
}

function isStale(h: Holder): boolean {
  if (h.pid === undefined) return h.ageMs > UNREADABLE_STALE_MS;
  // Another host's pid cannot be checked from here: its lock holds until it is removed.
  if (h.host !== undefined && h.host !== hostname()) return false;
  return !isRunning(h.pid);
}

/** Tries to create the lock; false when it exists. No flush: after a power cut the lock is
 * stale anyway (an empty one too, once old enough). */
const tryCreate = (file: string, pid: number) => createWhole(file, JSON.stringify({ pid, startedAt: new Date().toISOString(), host: hostname() }) + "\n");

/** Moves a stale lock away; if what was moved is not the lock judged stale, puts it back. */
async function takeOver(file: string, stale: Holder, pid: number): Promise<void> {
  const aside = `${file}.stale.${pid}`;
  if (
    !(await rename(file, aside).then(
      () => true,
      () => false,
    ))
  )
    return;
  const moved = await lstat(aside).catch(() => undefined);
  if (moved && moved.ino !== stale.ino) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

const describe = (h: Holder | undefined) =>
  h?.pid === undefined
    ? "an unknown process (the lock file is empty or unreadable)"
    : `pid ${h.pid}${h.host && h.host !== hostname() ? ` on ${h.host}` : ""}${h.startedAt ? `, started ${h.startedAt}` : ""}`;

/** Takes the lock of `root` for the process `pid`, waiting up to `timeoutMs` for another run;
 * `onWait` is told the pid of the run waited for. */
export async function acquireLock(root: string, timeoutMs: number, opts: { pid: number; onWait?: (pid: number) => void }): Promise<Lock> {
  const { pid, onWait } = opts;
  const dir = stateDir(root);
  const file = path.join(dir, "lock");
  const deadline = Date.now() + timeoutMs;
  let told = false;
  let made: string[] = [];
  let retries = 0;
  // The state folder removed under us by a run that just released it is made again; a folder
  // that cannot be made at all (a read-only file system also says ENOENT) is not retried forever.
  const again = (e: unknown) => (e as NodeJS.ErrnoException).code === "ENOENT" && ++retries < 20;
  for (;;) {
    try {
      const first = await mkdir(dir, { recursive: true });
      if (first) made = folderChain(root, first, dir);
    } catch (e) {
      if (again(e)) continue;
      throw await refineIoError(e);
    }
    try {
      if (await tryCreate(file, pid)) break;
    } catch (e) {
      if (again(e)) continue;
      throw ioFailure(e, "create the lock", "the state folder must be writable (a read-only or full file system?)");
    }
    const holder = await readHolder(file);
    if (!holder) continue;
    if (isStale(holder)) {
      await takeOver(file, holder, pid);
      continue;
    }
    if (Date.now() >= deadline)
      throw new TaskFailure(
        "lock-held",
        `another wazo-tasks run (${describe(holder)}) holds the lock ${file}`,
        [],
        "wait for it to finish, or raise --lock-timeout",
      );
    if (!told && holder.pid !== undefined) onWait?.(holder.pid);
    told = true;
    await sleep(25 + Math.random() * 50);
  }
  try {
    await ensureRootId(root, made);
  } catch (e) {
    await unlink(file).catch(() => undefined);
    throw ioFailure(e, "write the root id", "the state folder must be writable (a read-only or full file system?)");
  }
  return { release: () => release(root, file) };
}

/** The folders from `first` down to `dir`, relative to the root. */
function folderChain(root: string, first: string, dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.length >= first.length && d.startsWith(path.resolve(root) + path.sep); d = path.dirname(d)) out.unshift(path.relative(root, d));
  return out;
}

/** Unlocks; once nothing is left in the state folder, it goes, with the folders made for it. */
async function release(root: string, file: string): Promise<void> {
  const dir = stateDir(root);
  const left = (await readdir(dir).catch(() => [] as string[])).filter((n) => n !== "lock" && n !== "root-id");
  const empty =
    left.length === 0 ||
    (left.length === 1 &&
      left[0] === "installed" &&
      (await rmdir(path.join(dir, "installed")).then(
        () => true,
        () => false,
      )));
  const made = empty ? ((await readRootId(root))?.created ?? []) : [];
  if (empty) await rm(rootIdPath(root), { force: true }).catch(() => undefined);
  await unlink(file).catch(() => undefined);
  if (!empty) return;
  for (const d of [...made].reverse())
    if (
      !(await rmdir(path.join(root, d)).then(
        () => true,
        () => false,
      ))
    )
      break;
}
