/**
 * `wazo/rules build` and `wazo/rules package` run on a temporary copy of the plugin folder (some
 * package targets chmod or generate files in place), with that copy as working folder; package
 * gets `pkgdir` set to a fresh staging folder. The staged tree becomes the plan's files.
 *
 * As root on Linux with overlayfs, both run in an overlay of the machine (src/make/overlay.ts):
 * only the copy, `$pkgdir` and a private `TMPDIR` are really written; a write or a removal
 * anywhere else is refused with the paths named, and nothing of it reaches the disk. Elsewhere
 * they run as written, and a warning says so once per run.
 */
import fse from "fs-extra";
import { lstat, mkdir, mkdtemp, readdir, readlink, rm } from "node:fs/promises";
import path from "node:path";
import type { Plugin } from "../load/plugin.js";
import { TaskFailure, invalid } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { Desired } from "../plan/expand.js";
import { STATE_DIR } from "../state/manifest.js";
import { sha256File } from "../util/hash.js";
import { childEnv, type ContainedPrograms } from "../util/process.js";
import { overlayUnavailable, runInOverlay } from "../make/overlay.js";
import { hasTarget, readRulesScript, rulesArgv, rulesRun, runRules, type RulesRun, type RulesScript, type RulesTarget } from "./script.js";

export interface Staging {
  /** Temporary folder holding both. */
  base: string;
  /** The copy of the plugin folder the targets ran in. */
  copy: string;
  /** What `wazo/rules package` staged. */
  pkgdir: string;
  /** wazo/rules of the copy. */
  script: RulesScript;
}

/**
 * One run's staging folders: plugins are built one after the other, in the order asked
 * (dependencies first), and the folders are removed when the run ends (`release`). Each run has
 * its own; nothing is shared between runs of the same process.
 */
export class Stagings {
  private readonly temps = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();
  private warned = false;

  /** `tempDir`: where the staging folders are made (the run's TMPDIR, src/util/temp-dir.ts);
   * `programs`: the run's contained programs, which build and package are while they run. */
  constructor(
    private readonly tempDir: string,
    private readonly programs?: ContainedPrograms,
  ) {}

  /** Copies the plugin folder and runs build then package in the copy. */
  stage(plugin: Plugin, opts: { emit?: Emit; env: Readonly<Record<string, string | undefined>> }): Promise<Staging> {
    const warn = (why: string) => {
      if (!this.warned) opts.emit?.({ type: "warning", message: `wazo/rules build and package are not captured in an overlay (${why}): they run as written` });
      this.warned = true;
    };
    const run = this.queue.then(() => stage(plugin, { ...opts, warn, programs: this.programs }, () => this.tempFolder()));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Removes the run's temporary folders, once what was staged is no longer needed. */
  async release(): Promise<void> {
    await this.queue;
    const temps = [...this.temps];
    this.temps.clear();
    await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }).catch(() => undefined)));
  }

  private async tempFolder(): Promise<string> {
    const base = await mkdtemp(path.join(this.tempDir, "wazo-tasks-rules-"));
    this.temps.add(base);
    return base;
  }
}

async function stage(
  plugin: Plugin,
  opts: { emit?: Emit; env: Readonly<Record<string, string | undefined>>; warn: (why: string) => void; programs?: ContainedPrograms },
  tempFolder: () => Promise<string>,
): Promise<Staging> {
  const base = await tempFolder();
  const copy = path.join(base, "plugin");
  const pkgdir = path.join(base, "pkgdir");
  // fs-extra's copy: a stable recursive copy on Node 20 (fs.cp is experimental there) that keeps
  // modes, times and symbolic links as they are.
  await fse.copy(plugin.dir, copy, { dereference: false, preserveTimestamps: true });
  await mkdir(pkgdir, { mode: 0o755 });
  const file = path.join(copy, "wazo", "rules");
  const script = await readRulesScript(file);
  for (const target of ["build", "package"] as const) {
    if (!hasTarget(script, target)) continue;
    opts.emit?.({ type: "info", message: `${plugin.name}: running wazo/rules ${target} in ${copy}` });
    const env = target === "package" ? { ...opts.env, pkgdir } : opts.env;
    const argv = rulesArgv(script, file, target);
    const r =
      (await captured(plugin, target, argv, { base, copy, pkgdir, env, emit: opts.emit, warn: opts.warn, programs: opts.programs })) ??
      (await runRules(argv, target, { cwd: copy, env, plugin: plugin.name, emit: opts.emit, programs: opts.programs }));
    if (!r.ok)
      throw new TaskFailure(
        "rules-failed",
        `${plugin.name}: ${r.message}\n  nothing was changed (build and package run in a temporary copy of the plugin folder)`,
      );
  }
  return { base, copy, pkgdir, script };
}

const named = (paths: string[]) => paths.slice(0, 10).join(", ") + (paths.length > 10 ? `, and ${paths.length - 10} more` : "");

/**
 * `wazo/rules TARGET` in an overlay of the machine, the copy and `$pkgdir` writable; a write or a
 * removal anywhere else is refused (exit 2). Undefined when the overlay cannot be used (the
 * reason is warned, nothing ran): then it runs as written.
 */
async function captured(
  plugin: Plugin,
  target: RulesTarget,
  argv: string[],
  o: {
    base: string;
    copy: string;
    pkgdir: string;
    env: Readonly<Record<string, string | undefined>>;
    emit?: Emit;
    warn: (why: string) => void;
    programs?: ContainedPrograms;
  },
): Promise<RulesRun | undefined> {
  let why = await overlayUnavailable(o.env.PATH, o.env);
  if (!why) {
    const capture = path.join(o.base, `capture-${target}`);
    await mkdir(capture, { mode: 0o700 });
    const r = await runInOverlay(capture, argv, {
      cwd: o.copy,
      env: childEnv(o.env),
      writable: [o.copy, o.pkgdir],
      timeoutMs: 10 * 60_000,
      programs: o.programs,
      onLine: (stream, line) => o.emit?.({ type: "output", plugin: plugin.name, stream, line }),
    });
    await rm(capture, { recursive: true, force: true }).catch(() => undefined);
    if (typeof r !== "string") {
      if (r.outside.length) {
        const file = plugin.kind === "rules" ? plugin.rules.rulesFile : path.join(plugin.dir, "wazo", "rules");
        throw invalid(
          `${plugin.name}: wazo/rules ${target} wrote or removed outside its folder and $pkgdir (${named(r.outside)}): refused, nothing was changed`,
          [
            {
              severity: "error",
              file,
              message: `${target} changes files outside its working folder and $pkgdir: ${named(r.outside)}`,
              hint: "build in the working folder (or $TMPDIR) and stage every file under $pkgdir",
            },
          ],
        );
      }
      return rulesRun(target, r.result);
    }
    why = r;
  }
  o.warn(why);
  return undefined;
}

/**
 * The staged tree as desired paths, in pre-order (folders before what they hold), one step per
 * file or link; a folder joins the step of the first file under it, an empty one is a step.
 */
export async function stagedItems(plugin: Plugin, pkgdir: string): Promise<{ items: Desired[]; labels: string[]; kinds: string[] }> {
  const flat: (
    | { kind: "dir"; target: string; mode: number }
    | { kind: "file"; target: string; source: string; mode: number; size: number }
    | { kind: "symlink"; target: string; linkTo: string }
  )[] = [];
  const odd: string[] = [];
  async function walk(rel: string) {
    const entries = (await readdir(path.join(pkgdir, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const r = path.posix.join(rel, e.name);
      const abs = path.join(pkgdir, r);
      const st = await lstat(abs);
      const target = "/" + r;
      if (st.isSymbolicLink()) flat.push({ kind: "symlink", target, linkTo: await readlink(abs) });
      else if (st.isDirectory()) {
        flat.push({ kind: "dir", target, mode: st.mode & 0o7777 });
        await walk(r);
      } else if (st.isFile()) flat.push({ kind: "file", target, source: abs, mode: st.mode & 0o7777, size: st.size });
      else odd.push(target);
    }
  }
  await walk("");
  const state = "/" + STATE_DIR;
  const intoState = flat.filter((f) => f.target === state || f.target.startsWith(state + "/"));
  if (odd.length || intoState.length)
    throw invalid(`${plugin.name}: ${plugin.kind === "rules" ? "wazo/rules package" : "make install"} staged what cannot be installed`, [
      ...odd.map((t) => ({
        severity: "error" as const,
        file: plugin.kind === "rules" ? plugin.rules.rulesFile : plugin.kind === "make" ? plugin.makefile : plugin.dir,
        message: `${t} is not a file, a folder or a symbolic link (a device, socket or fifo)`,
      })),
      ...intoState.slice(0, 1).map((f) => ({
        severity: "error" as const,
        file: plugin.kind === "rules" ? plugin.rules.rulesFile : plugin.kind === "make" ? plugin.makefile : plugin.dir,
        message: `${f.target} is inside the state folder of wazo-tasks`,
      })),
    ]);

  const items: Desired[] = [];
  const labels: string[] = [];
  const kinds: string[] = [];
  const newStep = (kind: string, label: string) => {
    kinds.push(kind);
    labels.push(label);
    return kinds.length - 1;
  };
  let pending: (Desired & { kind: "dir" })[] = [];
  const under = (dir: string, p: string) => p.startsWith(dir + "/");
  // Folders holding no file: each innermost one is a step, with the pending folders above it.
  const flushEmpty = (holder?: string) => {
    for (const leaf of pending) {
      if (leaf.step >= 0 || (holder && under(leaf.target, holder)) || pending.some((o) => under(leaf.target, o.target))) continue;
      const step = newStep("mkdir", leaf.target);
      for (const d of pending) if (d.step < 0 && (d === leaf || under(d.target, leaf.target)) && !(holder && under(d.target, holder))) d.step = step;
    }
  };
  for (const f of flat) {
    if (f.kind === "dir") {
      const item = { kind: "dir" as const, step: -1, target: f.target, mode: f.mode };
      items.push(item);
      pending.push(item);
      continue;
    }
    flushEmpty(f.target);
    const step = f.kind === "file" ? newStep("copy", f.target) : newStep("symlink", `${f.target} -> ${f.linkTo}`);
    for (const d of pending) if (d.step < 0) d.step = step;
    pending = [];
    if (f.kind === "file")
      items.push({
        kind: "file",
        step,
        source: f.source,
        target: f.target,
        mode: f.mode,
        sourceMode: f.mode,
        size: f.size,
        sha256: await sha256File(f.source, f.size),
      });
    else items.push({ kind: "symlink", step, target: f.target, linkTo: f.linkTo });
  }
  flushEmpty();
  return { items, labels, kinds };
}
