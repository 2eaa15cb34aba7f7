/**
 * The executor applies a Plan and nothing else: file operations inside one transaction, then —
 * once the files are committed — Asterisk commands, the de-duplicated handlers and verifications.
 */
import { chmod } from "node:fs/promises";
import path from "node:path";
import type { AmiConfig } from "../asterisk/ami-url.js";
import { TaskFailure } from "../model/diagnostic.js";
import { abortedBy, isErrnoError, ioFailure, refineIoError } from "../model/failure.js";
import type { Emit, StepStatus } from "../model/event.js";
import { handlerKey, handlerLabel, runsProgram, type Op, type Plan, type PlannedStep } from "../model/plan.js";
import { manifestPath, readPending, serializeManifest, writePending, type Handler, type Manifest, type ManifestEntry } from "../state/manifest.js";
import { factOf, rooted } from "../plan/facts.js";
import { sha256 } from "../util/hash.js";
import { childEnv, describeExit, runProcess, type ContainedPrograms } from "../util/process.js";
import { removePath, replaceFileDurably, symlinkAtomic } from "./fsops.js";
import { Flusher, WriteQueue, writeBatch } from "./durable.js";
import { mapPool } from "../util/pool.js";
import type { Phase, PhaseTimer } from "../util/timings.js";
import type { Host } from "../model/host.js";
import { pendingOf, type ApplyOutcome, type StageOutcome } from "../model/outcome.js";
import { runHandlers, type HandlerContext } from "./handlers.js";
import { checkDialplanAfterReload } from "./dialplan-check.js";
import { causeOf } from "../state/io-failure.js";
import { beginTransaction, commitTransaction, injectedError, rollback, rollbackIncomplete, type Fault, type Journal } from "./transaction.js";
import { unreachable } from "../util/unreachable.js";

export interface ApplyOptions extends HandlerContext {
  emit: Emit;
  /** The environment of plugin programs and the pid of the journal. */
  host: Host;
  /** The run's contained programs (make, `run:`, wazo/rules) while they run. */
  programs?: ContainedPrograms;
  /** Test-only fault injection (WAZO_TASKS_FAULT, see docs/architecture.md). */
  fault?: Fault;
  /** Aborting it during the file changes stops the program in flight (make, `run:`) with its
   * process group and rolls back every change; the command line aborts it on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Where the time of each phase is added (the summary's `timings`). */
  timer?: PhaseTimer;
  /** The AMI settings handed to a plugin's code, when it declares `needs: [ami]`. */
  amiFor?: (plugin: string) => AmiConfig | undefined;
}

export type { ApplyOutcome };

const changes = (op: Op) => op.change !== "none";

function stepStatus(step: PlannedStep): { status: StepStatus; detail?: string } {
  const kept = step.ops.find((o) => o.op === "remove" && o.kept);
  if (kept && kept.op === "remove") return { status: "kept", detail: kept.kept };
  const n = step.ops.filter(changes).length;
  if (n === 0)
    return {
      status: step.ops.some((o) => o.op === "run") ? "skipped" : "unchanged",
      detail: step.ops.some((o) => o.op === "run") ? "nothing changed" : undefined,
    };
  const files = step.ops.filter((o) => o.op === "write").length;
  const by = step.viaMake ? "by make" : undefined;
  return {
    status: "changed",
    detail: files > 1 ? `${step.ops.filter((o) => o.op === "write" && changes(o)).length} of ${files} files${by ? `, ${by}` : ""}` : by,
  };
}

const PARALLEL_FILES = 16;

/** Consecutive operations that do not depend on each other: file writes, file removals. */
function batches(ops: Op[]): Op[][] {
  const out: Op[][] = [];
  const free = (o: Op) => o.op === "write" || (o.op === "remove" && o.isFile === true);
  for (const op of ops) {
    const last = out[out.length - 1];
    if (last && free(op) && free(last[0]) && last[0].op === op.op) last.push(op);
    else out.push([op]);
  }
  return out;
}

/** The order steps run in: kept originals first, then plugin steps, then the state. */
const phase = (s: PlannedStep) => (s.kind === "preserve" ? 0 : s.kind === "state" ? 2 : 1);

/** Applies the plan and returns what it did; the plan is only read. */
export async function applyPlan(plan: Plan, opts: ApplyOptions): Promise<ApplyOutcome> {
  const steps = plan.plugins
    .flatMap((p) => p.steps)
    .map((s, i) => ({ s, i }))
    .sort((a, b) => phase(a.s) - phase(b.s) || a.i - b.i)
    .map((x) => x.s);
  // The manifests this run writes, as they are on disk (refreshed after programs, marked by the
  // runs after the file changes).
  let manifests = new Map(plan.plugins.flatMap((p) => (p.manifest ? [[p.name, p.manifest] as const] : [])));
  // An abort (SIGINT/SIGTERM from the command line) during the run stops the program in flight
  // and, during the file changes, rolls back, rather than leave the journal open.
  const stop = new AbortController();
  const unfollow = follow(opts.signal, stop);
  opts.host.catchSignals?.(true);
  try {
    const run: RunOptions = { ...opts, stop, signal: stop.signal, by: opts.signal };
    const timed = <T>(phase: Phase, fn: () => Promise<T>) => (opts.timer ? opts.timer.time(phase, fn) : fn());
    let journal = await timed("apply", () => applyOperations(plan, steps, run, manifests));
    let changed = 0;
    let unchanged = 0;
    for (const step of steps) {
      if (step.kind === "state" || step.kind === "preserve" || step.ops.length === 0) continue;
      const { status, detail } = stepStatus(step);
      if (status === "changed") changed++;
      else if (status === "unchanged") unchanged++;
      opts.emit({ type: "step", plugin: step.plugin, kind: step.kind, target: step.label, status, detail });
    }
    for (const p of plan.plugins) for (const message of p.warnings) opts.emit({ type: "warning", plugin: p.name, message });
    const stages: StageOutcome[] = [];
    let rolledBack: string | undefined;
    // The transaction stays open through the reloads: a reload that silently lost dialplan
    // because of this run's files is undone with the journal, then reloaded again.
    try {
      await timed("reload", async () => {
        // Programs run once the files are in place, before the handlers (a rules plugin's `wazo/rules install`).
        if (plan.plugins.some((p) => p.after?.length)) {
          const after = await (
            await import("../rules/after.js")
          ).runAfterFileChanges(
            plan,
            { emit: opts.emit, noReload: opts.noReload, env: opts.host.env, programs: opts.programs, signal: stop.signal },
            manifests,
          );
          stages.push(after.stage);
          manifests = after.manifests;
        }
        stages.push(await runHandlers(plan, opts));
      });
      if (journal && stages.some((s) => s.reloads.includes("dialplan"))) {
        const check = await timed("dialplanCheck", () => checkDialplanAfterReload(plan, opts, journal!));
        stages.push(check.stage);
        if (check.rolledBack) {
          rolledBack = check.rolledBack;
          changed = 0;
          journal = undefined;
        }
      }
    } finally {
      if (journal) await timed("apply", () => commitTransaction(plan.root));
    }
    // The files are committed: a state write failing now (a full disk) must not say "failed".
    const pending = pendingOf(stages);
    let pendingNotRecorded = false;
    if (pending.length)
      await recordPending(plan, pending, manifests).catch((e: unknown) => {
        pendingNotRecorded = true;
        opts.emit({
          type: "warning",
          plugin: "",
          message: `the files were applied, but the pending ${pending.map(handlerLabel).join(", ")} could not be recorded (${causeOf(e)}): run them by hand, e.g. \`wazo-tasks reload\``,
        });
      });
    return { changed, unchanged, stages, ...(rolledBack ? { rolledBack } : {}), ...(pendingNotRecorded ? { pendingNotRecorded } : {}) };
  } finally {
    unfollow();
    opts.host.catchSignals?.(false);
  }
}

/** Aborts `stop` when `signal` is aborted; returns the unsubscription. A signal that can only be
 * read (no events) is still read between operations. */
function follow(signal: AbortSignal | undefined, stop: AbortController): () => void {
  const onAbort = () => stop.abort();
  if (signal?.aborted) onAbort();
  else if (typeof signal?.addEventListener === "function") {
    signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  }
  return () => undefined;
}

/** The options inside a run: `stop` is aborted by the caller's signal, or to stop what runs. */
type RunOptions = ApplyOptions & { stop: AbortController; signal: AbortSignal; by?: AbortSignal };

/** Journals and applies the file operations; on any failure rolls back and throws. Returns the
 * open journal (undefined when nothing had to change). Refreshes `manifests` after programs. */
async function applyOperations(plan: Plan, steps: PlannedStep[], opts: RunOptions, manifests: Map<string, Manifest>): Promise<Journal | undefined> {
  const mutating = plan.ops.filter(changes);
  if (!mutating.length) return undefined;
  const journal = await beginTransaction(plan.root, plan.command, mutating, opts.host.pid);
  const flusher = new Flusher();
  let count = 0;
  let current: PlannedStep | undefined;
  const progress = progressReporter(mutating, opts.emit);
  const interrupted = () => {
    if (opts.by?.aborted) opts.stop.abort();
    return opts.signal.aborted ? abortedBy(opts.by) : undefined;
  };
  const stopIfInterrupted = () => {
    const by = interrupted();
    if (by) throw new Interrupted(`interrupted by ${by}`);
  };
  const done = () => {
    count++;
    stopIfInterrupted();
    // Test-only: the N-th operation reported as failed with that error (the rollback undoes it).
    if (opts.fault?.errno && count === opts.fault.after) throw injectedError(opts.fault.errno, "write", `op#${count}`);
    if (opts.fault && count === opts.fault.after) {
      if (opts.fault.kill) opts.fault.die?.();
      throw new Error(`fault injected after file operation ${count}`);
    }
  };
  const writes = new WriteQueue<PlannedStep>(flusher, {
    written: (op) => {
      progress(op);
      stopIfInterrupted();
    },
    renamed: (step) => {
      current = step;
      done();
    },
    failed: (step) => (current = step),
  });
  try {
    for (const step of steps) {
      if (step.viaMake) continue;
      let ops = step.ops;
      if (step.kind === "state" && madeByProgram(plan, step)) {
        // The manifest records what is on disk: every earlier write first.
        await writes.flush();
        ops = await refreshMadeManifest(plan, step, manifests);
      }
      // File writes wait to be written together (WriteQueue); independent removals run in
      // parallel; the rest in order, after the writes before them.
      for (const batch of batches(ops.filter(changes))) {
        if (batch[0].op === "write") {
          for (const op of batch) if (op.op === "write") await writes.add(op, step);
          continue;
        }
        await writes.flush();
        current = step;
        await mapPool(batch, batch.length > 1 ? PARALLEL_FILES : 1, async (op) => {
          await applyOp(op, step, plan, opts, flusher);
          done();
        });
      }
    }
    await writes.flush();
    await flusher.flush();
    return journal;
  } catch (e) {
    // A program still running is stopped with its process group before the rollback.
    const by = interrupted();
    opts.stop.abort();
    const failures = await rollback(plan.root, journal, opts.fault);
    e = await refineIoError(e);
    // A program killed because of the signal failed because of it: the run was interrupted.
    if (by && !(e instanceof Interrupted)) e = new Interrupted(`interrupted by ${by}`);
    // A file-system error names the operation and the path on the PBX, not Node's system call.
    const cause = isErrnoError(e) ? ioFailure(e).message : (e as Error).message;
    const where = current ? `${current.plugin}: ${current.kind} ${current.label}: ` : "";
    opts.emit({ type: "step", plugin: current?.plugin ?? "", kind: current?.kind ?? "", target: current?.label ?? "", status: "failed", detail: cause });
    const plugin = current?.plugin;
    if (failures.length) {
      const { message, hint } = rollbackIncomplete(plan.root, failures);
      throw new TaskFailure(isErrnoError(e) ? "io" : e instanceof TaskFailure ? e.reason : "apply-failed", `${where}${cause}; ${message}`, [], hint, {
        plugin,
      });
    }
    opts.emit({ type: "rolledback", cause });
    const message = `${where}${cause}; every change of this run was rolled back`;
    if (e instanceof Interrupted) throw new TaskFailure("aborted", message, [], undefined, { plugin });
    if (e instanceof TaskFailure) throw new TaskFailure(e.reason, message, e.diagnostics, e.hint, { ...e.facts, plugin, exitCode: e.exitCode });
    if (isErrnoError(e)) {
      const io = ioFailure(e);
      throw new TaskFailure("io", message, [], io.hint, { ...io.facts, plugin });
    }
    throw new TaskFailure("apply-failed", message, [], undefined, { plugin });
  }
}

/** A run stopped by SIGINT, SIGTERM or its AbortSignal. */
class Interrupted extends Error {}

/** Applies one operation; records in `flusher` what it changed, to be flushed before the commit. */
async function applyOp(op: Op, step: PlannedStep, plan: Plan, opts: RunOptions, flusher: Flusher): Promise<void> {
  const { plugin } = step;
  const root = plan.root;
  switch (op.op) {
    case "mkdir":
      await flusher.ensureDir(op.path, op.mode);
      await chmod(op.path, op.mode);
      flusher.inodeChanged(op.path);
      return;
    case "write":
      await writeBatch([op], flusher, { written: () => undefined, renamed: () => undefined });
      return;
    case "symlink":
      await flusher.ensureDir(path.dirname(op.path));
      await symlinkAtomic(op.path, op.target);
      flusher.entryChanged(op.path);
      return;
    case "chmod":
      await chmod(op.path, op.mode);
      flusher.inodeChanged(op.path);
      return;
    case "remove":
      await removePath(op.path);
      flusher.entryChanged(op.path);
      return;
    case "captured-run": {
      // The program runs with the run's environment; a failure throws the TaskFailure naming it.
      const { runCaptured } = await import("../make/runner.js");
      await runCaptured(op, {
        ami: opts.amiFor?.(plugin),
        env: opts.host.env,
        programs: opts.programs,
        signal: opts.signal,
        onLine: (stream, line) => opts.emit({ type: "output", plugin, stream, line }),
      });
      programWrote(plan, plugin, flusher);
      return;
    }
    case "run": {
      // DESTDIR tells a program (often a converted Makefile line) where the staging root is.
      const env = childEnv(opts.host.env, { DESTDIR: root === "/" ? "" : root }, opts.amiFor?.(plugin));
      const r = await runProcess(op.argv, {
        cwd: op.cwd,
        env,
        contain: true,
        programs: opts.programs,
        signal: opts.signal,
        timeoutMs: 10 * 60_000,
        onLine: (stream, line) => opts.emit({ type: "output", plugin, stream, line }),
      });
      if (!r.ok)
        throw new TaskFailure(
          "command-failed",
          `${op.display} failed (${describeExit(r)})${r.tail.length ? `: ${r.tail[r.tail.length - 1]}` : ""}`,
          [],
          undefined,
          { command: op.display, exitStatus: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) },
        );
      programWrote(plan, plugin, flusher);
      return;
    }
    default:
      unreachable(op);
  }
}

/** After `make` or a program: what it is known to write (the make steps' files, the plugin's
 * manifest) is flushed before the commit, like the executor's own writes. */
function programWrote(plan: Plan, plugin: string, flusher: Flusher): void {
  const p = plan.plugins.find((x) => x.name === plugin);
  if (!p) return;
  for (const s of p.steps) {
    if (!s.viaMake) continue;
    for (const o of s.ops) {
      if (runsProgram(o)) continue;
      flusher.entryChanged(o.path);
      if (o.op === "write" || o.op === "mkdir" || o.op === "chmod") flusher.inodeChanged(o.path);
    }
  }
  for (const f of p.manifest?.files ?? []) {
    const real = rooted(plan.root, f.path);
    flusher.entryChanged(real);
    if (f.type !== "symlink") flusher.inodeChanged(real);
  }
}

/** Marks handlers that did not run in the manifests of the plugins that notified them. */
async function recordPending(plan: Plan, pending: Handler[], manifests: ReadonlyMap<string, Manifest>): Promise<void> {
  const keys = new Set(pending.map(handlerKey));
  const orphans: Handler[] = [];
  for (const p of plan.plugins) {
    const mine = p.handlers.map((h) => h.handler).filter((h) => keys.has(handlerKey(h)));
    if (!mine.length) continue;
    // An uninstalled plugin has no manifest left to hold them: the state folder keeps them.
    const m = manifests.get(p.name);
    if (!m || p.action === "uninstall") orphans.push(...mine);
    else await replaceFileDurably(manifestPath(plan.root, p.name), serializeManifest({ ...m, reloadPending: mine }));
  }
  if (orphans.length) await writePending(plan.root, [...(await readPending(plan.root)), ...orphans]);
}

/** Whether `step` (a state step) follows `make install` or `run` steps that ran. */
function madeByProgram(plan: Plan, step: PlannedStep): boolean {
  const p = plan.plugins.find((x) => x.name === step.plugin);
  return !!p?.manifest && p.steps.some((s) => s.ops.some((o) => runsProgram(o) && o.change !== "none"));
}

/** After `make install` or `run` steps, the manifest records what is really on disk (a program
 * may have edited an installed file), so it is not later mistaken for an admin edit. Returns the
 * step's operations with the manifest's content as it is now (and records it in `manifests`). */
async function refreshMadeManifest(plan: Plan, step: PlannedStep, manifests: Map<string, Manifest>): Promise<Op[]> {
  const m = manifests.get(step.plugin);
  if (!m) return step.ops;
  const files: ManifestEntry[] = [];
  for (const f of m.files) {
    const fact = await factOf(rooted(plan.root, f.path));
    if (fact.type === "absent") continue;
    files.push(f.type === "file" && fact.type === "file" ? { ...f, sha256: fact.sha256, mode: fact.mode, size: fact.size } : f);
  }
  const refreshed = { ...m, files };
  manifests.set(step.plugin, refreshed);
  const content = serializeManifest(refreshed);
  const file = manifestPath(plan.root, step.plugin);
  return step.ops.map((op) => (op.op === "write" && op.display === file ? { ...op, content, size: content.length, sha256: sha256(content) } : op));
}

/** Emits a progress event at most every 200 ms once a run has been copying for a second. */
function progressReporter(ops: Op[], emit: Emit): (op: Op) => void {
  const total = ops.filter((o) => o.op === "write").length;
  const started = Date.now();
  let done = 0;
  let bytes = 0;
  let last = 0;
  return (op) => {
    if (op.op !== "write") return;
    done++;
    bytes += op.size;
    const now = Date.now();
    if (now - started < 1000 || (now - last < 200 && done < total)) return;
    last = now;
    emit({ type: "progress", done, total, bytes, elapsedMs: now - started });
  };
}
