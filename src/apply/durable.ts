/**
 * Durability bounded by the run's own writes, in the order dpkg settled on for ext4: every new
 * file of a batch is written to its temp name; then all of them are flushed, many at a time
 * (the file system merges concurrent flushes into few journal commits); then all are renamed
 * into place; and before the commit point each folder the run touched is flushed once. No
 * flush of the whole file system: its cost would grow with other programs' dirty data
 * (recordings, logs, databases), not with this run's.
 */
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import type { Op } from "../model/plan.js";
import { mapPool } from "../util/pool.js";
import { fsyncPath, tempPathFor, writeTemp } from "./fsops.js";

type WriteOp = Extract<Op, { op: "write" }>;

/** Files written (and renamed) this many at a time: enough to keep the disk busy, few open files. */
const PARALLEL_WRITES = 16;
/** Flushes queued at once: Node's 4 I/O threads always have one to start, and the file system
 * sees several at a time to merge into one journal commit. */
const PARALLEL_FLUSHES = 64;

/** What must be flushed before the commit point: folders whose entries changed, and paths
 * whose own inode changed (mode, new folder) without a flushed write. */
export class Flusher {
  private readonly dirs = new Set<string>();
  private readonly inodes = new Set<string>();
  private readonly known = new Set<string>();

  /** An entry of `p`'s folder was added, renamed or removed. */
  entryChanged(p: string): void {
    this.dirs.add(path.dirname(p));
  }

  /** `p` itself changed (mode), or is a new folder. */
  inodeChanged(p: string): void {
    this.inodes.add(p);
  }

  /** mkdir -p that records every folder it created, and the folder that got the first one. */
  async ensureDir(dir: string, mode?: number): Promise<void> {
    if (this.known.has(dir)) return;
    const first = await mkdir(dir, { recursive: true, mode });
    if (first !== undefined) {
      for (let d = dir; d.length >= first.length; d = path.dirname(d)) this.inodeChanged(d);
      this.entryChanged(first);
    }
    this.known.add(dir);
  }

  /** Flushes everything recorded, then forgets it. A path gone since (removed later in the
   * run) needs no flush: its folder's flush covers the removal. */
  async flush(): Promise<void> {
    const all = [...new Set([...this.inodes, ...this.dirs])];
    this.inodes.clear();
    this.dirs.clear();
    await mapPool(all, PARALLEL_FLUSHES, (p) =>
      fsyncPath(p).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      }),
    );
  }
}

/**
 * Writes a batch of independent files: all to their temp names, then all flushed, then all
 * renamed. `written` is called as each temp file is complete (progress); `renamed` as each
 * file is in place (the operation is done; it may throw to stop the run, which is then rolled
 * back — the journal knows every temp name); `failed` with the operation that failed first.
 */
export async function writeBatch(ops: WriteOp[], flusher: Flusher, hooks: BatchHooks): Promise<void> {
  let failed = false;
  const each = (fn: (op: WriteOp) => Promise<void>) => async (op: WriteOp) => {
    try {
      await fn(op);
    } catch (e) {
      if (!failed) hooks.failed?.(op);
      failed = true;
      throw e;
    }
  };
  await mapPool(
    ops,
    PARALLEL_WRITES,
    each(async (op) => {
      await flusher.ensureDir(path.dirname(op.path));
      await writeTemp(op.path, { source: op.source, content: op.content }, op.mode, op.sourceMode);
      hooks.written(op);
    }),
  );
  await mapPool(
    ops,
    PARALLEL_FLUSHES,
    each((op) => fsyncPath(tempPathFor(op.path))),
  );
  await mapPool(
    ops,
    PARALLEL_WRITES,
    each(async (op) => {
      await rename(tempPathFor(op.path), op.path);
      flusher.entryChanged(op.path);
      hooks.renamed(op);
    }),
  );
}

export interface BatchHooks {
  written: (op: WriteOp) => void;
  renamed: (op: WriteOp) => void;
  failed?: (op: WriteOp) => void;
}

/**
 * File writes gathered across steps (20 plugins' files and their 20 manifests are one batch,
 * one round of flushes, not 40), written when an operation of another kind comes, when a path
 * would be written twice, or at the end. `T` tells which step a write belongs to.
 */
export class WriteQueue<T> {
  private pending: { op: WriteOp; owner: T }[] = [];
  private paths = new Set<string>();

  constructor(
    private readonly flusher: Flusher,
    private readonly hooks: { written: (op: WriteOp) => void; renamed: (owner: T) => void; failed: (owner: T) => void },
  ) {}

  async add(op: WriteOp, owner: T): Promise<void> {
    if (this.paths.has(op.path)) await this.flush();
    this.pending.push({ op, owner });
    this.paths.add(op.path);
  }

  async flush(): Promise<void> {
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.paths.clear();
    const owner = new Map(batch.map((x) => [x.op, x.owner]));
    await writeBatch(
      batch.map((x) => x.op),
      this.flusher,
      {
        written: this.hooks.written,
        renamed: (op) => this.hooks.renamed(owner.get(op)!),
        failed: (op) => this.hooks.failed(owner.get(op)!),
      },
    );
  }
}
