/**
 * One run = one transaction. Before the first change, a journal in the state folder records the
 * previous state of every path the run may touch, with a hard link (or copy) of each existing
 * file (backups never sit next to the file, where Asterisk's `#include extensions_extra.d/*`
 * would load them). Commit deletes the journal; rollback — after an error, or by the next run
 * after a crash — puts back what the run changed, by link or rename (no free space needed).
 * A rollback goes on past a path it cannot put back; those stay in the journal for the next
 * command or `wazo-tasks recover` once the cause is fixed.
 */
import { chmod, link, lstat, mkdir, readlink, realpath, rename, rm, unlink } from "node:fs/promises";
import type { Stats } from "node:fs";
import path from "node:path";
import { invalid } from "../model/diagnostic.js";
import type { Fault } from "../model/fault.js";
import type { Op } from "../model/plan.js";
import { ioFailure, causeOf } from "../state/io-failure.js";
import { entryPath, journalFile, readJournal, txnDir, type Journal, type JournalEntry, type Prior } from "../state/journal.js";
import { ensureRootId, isPlainRelative, syncRootId } from "../state/root-id.js";
import { sha256File } from "../util/hash.js";
import { mapPool } from "../util/pool.js";
import { Flusher } from "./durable.js";
import { unreachable } from "../util/unreachable.js";
import { backupFile, replaceFileDurably, symlinkAtomic, syncDir, tempPathFor, writeAtomic } from "./fsops.js";

export { txnDir, type Journal, type JournalEntry, type Prior };

export type { Fault };

/** The error a failing system call would give, for fault injection. */
export function injectedError(code: string, syscall: string, p: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected fault, ${syscall} '${p}'`), { code, syscall, path: p });
}

/** A path a rollback could not put back, and why. */
export interface RollbackFailure {
  path: string;
  operation: string;
  cause: string;
}

/** Every path an operation may change (the temp file is handled with its target). */
function touched(op: Op): string[] {
  switch (op.op) {
    case "run":
    case "captured-run":
      return [];
    default:
      return [op.path];
  }
}

/** Records the previous state of every path in `ops` and makes the journal durable; `pid` is
 * the running process's, recorded for the messages of a later recovery. */
export async function beginTransaction(root: string, command: string, ops: Op[], pid: number): Promise<Journal> {
  const dir = txnDir(root);
  try {
    return await journalOps(root, command, ops, pid);
  } catch (e) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw ioFailure(e, "write the journal", "free some space in the state folder (or make it writable), then run the command again; nothing was changed");
  }
}

async function journalOps(root: string, command: string, ops: Op[], pid: number): Promise<Journal> {
  const dir = txnDir(root);
  const { id } = await ensureRootId(root);
  await syncRootId(root);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, "backup"), { recursive: true });
  const seen = new Set<string>();
  const paths: string[] = [];
  // Folders this run creates; a path inside one cannot exist yet, so it needs no look.
  const created = new Set<string>();
  const exists = new Map<string, Promise<boolean>>();
  const dirExists = (d: string) => {
    let e = exists.get(d);
    if (!e)
      exists.set(
        d,
        (e = lstat(d).then(
          () => true,
          () => false,
        )),
      );
    return e;
  };
  for (const op of ops) {
    for (const p of touched(op)) {
      // Folders the run will create on the way are journaled first, so rollback removes them last.
      if (op.op !== "remove" && op.op !== "chmod") {
        const missing: string[] = [];
        for (let d = path.dirname(p); d !== path.dirname(d) && d.startsWith(root + path.sep) && !seen.has(d) && !(await dirExists(d)); d = path.dirname(d))
          missing.unshift(d);
        for (const d of missing) if (!seen.has(d)) (seen.add(d), created.add(d), paths.push(d));
      }
      if (!seen.has(p)) (seen.add(p), paths.push(p));
    }
  }
  const entries: JournalEntry[] = await mapPool(paths, 32, async (p, i) => ({
    path: relative(root, p),
    prior: created.has(p) || created.has(path.dirname(p)) ? { type: "absent" as const } : await capture(p, dir, `backup/${i}`),
  }));
  // The backups' names must be on disk before the first change replaces what they keep.
  if (entries.some((e) => e.prior.type === "file")) await syncDir(path.join(dir, "backup"));
  const journal: Journal = { format: 2, rootId: id, root, pid, startedAt: new Date().toISOString(), command, entries };
  await replaceFileDurably(journalFile(root), JSON.stringify(journal));
  return journal;
}

function relative(root: string, p: string): string {
  const rel = path.relative(root, p);
  if (!isPlainRelative(rel)) throw invalid(`refusing to change ${p}: it is outside the root ${root}`);
  return rel;
}

async function capture(p: string, dir: string, backup: string): Promise<Prior> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return { type: "absent" };
  if (st.isDirectory()) return { type: "dir", mode: st.mode & 0o7777 };
  if (st.isSymbolicLink()) return { type: "symlink", target: await readlink(p) };
  await backupFile(p, path.join(dir, backup));
  return { type: "file", mode: st.mode & 0o7777, backup };
}

/** The run succeeded: the journal goes, and with it the backups. */
export async function commitTransaction(root: string): Promise<void> {
  await rm(journalFile(root), { force: true });
  await syncDir(txnDir(root));
  await rm(txnDir(root), { recursive: true, force: true });
}

/**
 * Puts back every journaled path the run changed, last touched first, going on past failures.
 * Safe to run again (after a crash in it, or once a failure's cause is fixed): a path already
 * as it was is left alone. Returns the paths it could not put back; they stay in the journal.
 */
export async function rollback(root: string, journal: Journal, fault?: Fault): Promise<RollbackFailure[]> {
  const failures: RollbackFailure[] = [];
  const left: JournalEntry[] = [];
  let n = 0;
  const rootReal = await realpath(root).catch(() => root);
  const flusher = new Flusher();
  for (const entry of [...journal.entries].reverse()) {
    const step = { operation: "restore" };
    const p = path.join(root, entry.path);
    flusher.entryChanged(p);
    if (entry.prior.type === "dir") flusher.inodeChanged(p);
    try {
      if (fault?.rollbackAfter && ++n === fault.rollbackAfter) throw injectedError(fault.rollbackErrno ?? "EIO", "restore", entry.path);
      await checkInside(root, rootReal, entry.path);
      await restore(root, entry, step);
    } catch (e) {
      failures.push({ path: "/" + entry.path, operation: step.operation, cause: causeOf(e) });
      left.unshift(entry);
    }
  }
  // The restored state is on disk before the journal that could restore it again goes.
  await flusher.flush().catch(() => undefined);
  if (!failures.length) {
    await commitTransaction(root);
    return [];
  }
  // What is left is retried by the next command; if even that cannot be written, the whole
  // journal stays, which is as good (putting back a path twice changes nothing).
  await replaceFileDurably(journalFile(root), JSON.stringify({ ...journal, entries: left })).catch(() => undefined);
  return failures;
}

/** A journaled path whose folder now leads out of the root (a link put there since) is not touched. */
async function checkInside(root: string, rootReal: string, rel: string): Promise<void> {
  for (let d = path.dirname(entryPath(root, rel)); ; d = path.dirname(d)) {
    const real = await realpath(d).catch(() => undefined);
    if (real === undefined && d.length > root.length) continue;
    if (real !== undefined && real !== rootReal && !real.startsWith(rootReal + path.sep))
      throw new Error(`${path.relative(root, d) || "."} leads outside the root (to ${real}): left alone`);
    return;
  }
}

const lstatOrNone = (p: string) =>
  lstat(p).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" || e.code === "ENOTDIR") return undefined;
    throw e;
  });

const removeAny = async (p: string, st: Stats) => (st.isDirectory() ? rm(p, { recursive: true, force: true }) : unlink(p));

async function restore(root: string, { path: rel, prior }: JournalEntry, step: { operation: string }): Promise<void> {
  const p = entryPath(root, rel);
  step.operation = "remove the temp file of";
  await unlink(tempPathFor(p)).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT" && e.code !== "ENOTDIR") throw e;
  });
  const now = await lstatOrNone(p);
  switch (prior.type) {
    case "absent":
      step.operation = "remove";
      if (now) await removeAny(p, now);
      return;
    case "dir":
      step.operation = "recreate the folder";
      if (now && !now.isDirectory()) await removeAny(p, now);
      if (!now || !now.isDirectory()) await mkdir(p, { mode: prior.mode });
      if (!now || (now.mode & 0o7777) !== prior.mode) await chmod(p, prior.mode);
      return;
    case "symlink":
      step.operation = "put back the link";
      if (now?.isSymbolicLink() && (await readlink(p)) === prior.target) return;
      if (now?.isDirectory()) await removeAny(p, now);
      await symlinkAtomic(p, prior.target);
      return;
    case "file":
      step.operation = "put back";
      return restoreFile(p, path.join(txnDir(root), prior.backup), prior.mode, now);
    default:
      unreachable(prior);
  }
}

/** Puts a file back from its backup unless it is still the same; by link, or rename, never a copy when avoidable. */
async function restoreFile(p: string, backup: string, mode: number, now: Stats | undefined): Promise<void> {
  const saved = await lstatOrNone(backup);
  if (now?.isFile() && (!saved || (await sameContent(p, now, backup, saved)))) {
    // Unchanged by the run (or put back already by a rollback that renamed its backup).
    if ((now.mode & 0o7777) !== mode) await chmod(p, mode);
    return;
  }
  if (!saved) throw Object.assign(new Error(`its backup ${backup} is missing`), { code: "ENOENT" });
  if (now?.isDirectory()) await removeAny(p, now);
  const tmp = tempPathFor(p);
  try {
    await link(backup, tmp);
  } catch {
    // No link (another file system, a link limit): the backup itself is moved into place.
    try {
      await rename(backup, tmp);
    } catch {
      await writeAtomic(p, { source: backup }, mode);
      return;
    }
  }
  await chmod(tmp, mode);
  await rename(tmp, p);
}

async function sameContent(p: string, now: Stats, backup: string, saved: Stats): Promise<boolean> {
  if (now.ino === saved.ino && now.dev === saved.dev) return true;
  if (now.size !== saved.size) return false;
  return (await sha256File(p, now.size)) === (await sha256File(backup, saved.size));
}

/** A journal left by an interrupted run, if any (a txn folder without one means nothing changed). */
export async function pendingJournal(root: string, emit?: Parameters<typeof readJournal>[1]): Promise<Journal | undefined> {
  return readJournal(root, emit);
}

/** The message for paths a rollback could not put back, and the way out. */
export function rollbackIncomplete(root: string, failures: RollbackFailure[]): { message: string; hint: string } {
  const where = root === "/" ? "" : ` --root ${root}`;
  return {
    message: `the rollback could not put back ${failures.length} path(s):\n${failures.map((f) => `    ${f.path}: cannot ${f.operation}: ${f.cause}`).join("\n")}`,
    hint: `they stay in the journal: fix the cause, then run \`wazo-tasks recover${where}\` (any command on this root retries it first)`,
  };
}
