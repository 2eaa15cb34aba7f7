/**
 * One run = one transaction. Before the first change, a journal in the state folder records the
 * previous state of every path the run may touch, with a copy of each existing file (backups
 * never sit next to the file, where Asterisk's `#include extensions_extra.d/*` would load them).
 * Commit deletes the journal; rollback — after an error, or by the next run after a crash —
 * puts every path back exactly as it was.
 */
import { chmod, lstat, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { Op } from "../model/plan.js";
import { stateDir } from "../state/manifest.js";
import { mapPool } from "../util/pool.js";
import { Flusher } from "./durable.js";
import { backupFile, removePath, replaceFileDurably, symlinkAtomic, syncDir, tempPathFor, writeAtomic } from "./fsops.js";

export type Prior =
  | { type: "absent" }
  | { type: "file"; mode: number; backup: string }
  | { type: "dir"; mode: number }
  | { type: "symlink"; target: string };

export interface JournalEntry {
  path: string;
  prior: Prior;
}

export interface Journal {
  format: 1;
  pid: number;
  startedAt: string;
  command: string;
  entries: JournalEntry[];
}

export const txnDir = (root: string) => path.join(stateDir(root), "txn");
const journalFile = (root: string) => path.join(txnDir(root), "journal.json");

/** Every path an operation may change (the temp file is handled with its target). */
function touched(op: Op): string[] {
  switch (op.op) {
    case "run":
    case "make":
      return [];
    default:
      return [op.path];
  }
}

/** Records the previous state of every path in `ops` and makes the journal durable. */
export async function beginTransaction(root: string, command: string, ops: Op[]): Promise<Journal> {
  const dir = txnDir(root);
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.join(dir, "backup"), { recursive: true });
  const seen = new Set<string>();
  const paths: string[] = [];
  // Folders this run creates; a path inside one cannot exist yet, so it needs no look.
  const created = new Set<string>();
  const exists = new Map<string, Promise<boolean>>();
  const dirExists = (d: string) => {
    let e = exists.get(d);
    if (!e) exists.set(d, (e = lstat(d).then(() => true, () => false)));
    return e;
  };
  for (const op of ops) {
    for (const p of touched(op)) {
      // Folders the run will create on the way are journaled first, so rollback removes them last.
      if (op.op !== "remove" && op.op !== "chmod") {
        const missing: string[] = [];
        for (let d = path.dirname(p); d !== path.dirname(d) && !seen.has(d) && !(await dirExists(d)); d = path.dirname(d)) missing.unshift(d);
        for (const d of missing) if (!seen.has(d)) seen.add(d), created.add(d), paths.push(d);
      }
      if (!seen.has(p)) seen.add(p), paths.push(p);
    }
  }
  const entries: JournalEntry[] = await mapPool(paths, 32, async (p, i) => ({
    path: p,
    prior: created.has(p) || created.has(path.dirname(p)) ? { type: "absent" as const } : await capture(p, path.join(dir, "backup", String(i))),
  }));
  // The backups' names must be on disk before the first change replaces what they keep.
  if (entries.some((e) => e.prior.type === "file")) await syncDir(path.join(dir, "backup"));
  const journal: Journal = { format: 1, pid: process.pid, startedAt: new Date().toISOString(), command, entries };
  await replaceFileDurably(journalFile(root), JSON.stringify(journal));
  return journal;
}

async function capture(p: string, backup: string): Promise<Prior> {
  const st = await lstat(p).catch(() => undefined);
  if (!st) return { type: "absent" };
  if (st.isDirectory()) return { type: "dir", mode: st.mode & 0o7777 };
  if (st.isSymbolicLink()) {
    const { readlink } = await import("node:fs/promises");
    return { type: "symlink", target: await readlink(p) };
  }
  await backupFile(p, backup);
  return { type: "file", mode: st.mode & 0o7777, backup };
}

/** The run succeeded: the journal goes, and with it the backups. */
export async function commitTransaction(root: string): Promise<void> {
  await rm(journalFile(root), { force: true });
  await syncDir(txnDir(root));
  await rm(txnDir(root), { recursive: true, force: true });
}

/** Puts every journaled path back, last touched first. Safe to run twice (after a crash in it). */
export async function rollback(root: string, journal: Journal): Promise<void> {
  const flusher = new Flusher();
  for (const { path: p, prior } of [...journal.entries].reverse()) {
    flusher.entryChanged(p);
    if (prior.type === "dir") flusher.inodeChanged(p);
    await rm(tempPathFor(p), { force: true });
    const now = await lstat(p).catch(() => undefined);
    switch (prior.type) {
      case "absent":
        if (now) {
          if (now.isDirectory()) await rm(p, { recursive: true, force: true });
          else await removePath(p);
        }
        break;
      case "dir":
        if (!now) await mkdir(p, { mode: prior.mode });
        else if (!now.isDirectory()) {
          await removePath(p);
          await mkdir(p, { mode: prior.mode });
        }
        await chmod(p, prior.mode);
        break;
      case "symlink":
        if (now?.isDirectory()) await rm(p, { recursive: true, force: true });
        await symlinkAtomic(p, prior.target);
        break;
      case "file":
        if (now?.isDirectory()) await rm(p, { recursive: true, force: true });
        await writeAtomic(p, { source: prior.backup }, prior.mode);
        break;
    }
  }
  // The restored state is on disk before the journal that could restore it again goes.
  await flusher.flush();
  await commitTransaction(root);
}

/** A journal left by an interrupted run, if any (a txn folder without one means nothing changed). */
export async function pendingJournal(root: string): Promise<Journal | undefined> {
  const text = await readFile(journalFile(root), "utf8").catch(() => undefined);
  if (text === undefined) {
    await rm(txnDir(root), { recursive: true, force: true }).catch(() => undefined);
    return undefined;
  }
  return JSON.parse(text) as Journal;
}
