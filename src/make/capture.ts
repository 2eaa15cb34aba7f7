/**
 * `make install` (and `make uninstall`) captured, so that what a Makefile does is seen, not
 * trusted. As root on Linux with overlayfs, make runs in an overlay of the machine
 * (src/make/overlay.ts); elsewhere a Makefile that honours DESTDIR runs into an empty staging
 * DESTDIR. Either way `asterisk`, `systemctl` and `service` are recorders, the changes become
 * typed items (the same path as wazo/rules packages: src/rules/stage.ts), so the planner and the
 * executor install them as any plugin's files — journaled, checked for conflicts and admin edits,
 * undone on failure — and the recorded service calls become handlers run once the files are in
 * place. Writes outside the root and removals of files the plugin does not own are refused.
 */
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AmiConfig } from "../asterisk/ami-url.js";
import type { MakePlugin } from "../model/plugin.js";
import type { Step } from "../load/schema.js";
import { invalid, TaskFailure } from "../model/diagnostic.js";
import { abortedBy } from "../model/failure.js";
import type { Emit } from "../model/event.js";
import { expandSteps, type Expanded } from "../plan/expand.js";
import { stagedItems } from "../rules/stage.js";
import { readManifests } from "../state/manifest.js";
import { CAPTURE_MARK, cleanRootUpper, overlayArgv, type OverlayLayout, overlayUnavailable, prepareOverlay, removedInRoot, writesOutside } from "./overlay.js";
import { findMakefile, findOnPath, runMake, type MakeResult, type MakeRun } from "./runner.js";
import { SERVICE_COMMANDS } from "./services.js";
import type { ContainedPrograms } from "../util/process.js";

const RECORDED: readonly string[] = ["asterisk", "systemctl", "service"];
const SEP = "\x1f";
// Records its name and arguments (unit-separated) on one line of $MAKE_CAPTURE_LOG.
const RECORDER = `#!/bin/sh\n{ printf '%s' "\${0##*/}"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\n'; } >> "$MAKE_CAPTURE_LOG"\n`;

/**
 * What the make captures of one run share: their temporary folders (the staged files are
 * installed from them, so they stay until the run ends: release()), and whether the run was
 * already told that make is not captured in an overlay.
 */
export class CaptureSession {
  private readonly temps = new Set<string>();
  warned = false;

  /** `tempDir`: where the temporary folders are made (the run's TMPDIR, src/util/temp-dir.ts). */
  constructor(private readonly tempDir: string) {}

  async tempFolder(prefix: string): Promise<string> {
    const dir = await mkdtemp(path.join(this.tempDir, prefix));
    this.temps.add(dir);
    return dir;
  }

  /** Removes the run's temporary folders. */
  async release(): Promise<void> {
    const temps = [...this.temps];
    this.temps.clear();
    await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true }).catch(() => undefined)));
  }
}

/**
 * Runs `make install` of `plugin` captured; what it wrote and asked for, as items. As root on
 * Linux with overlayfs, make runs in an overlay of the machine (src/make/overlay.ts): every write
 * is seen, wherever it goes. Elsewhere, a Makefile honouring DESTDIR runs into an empty staging
 * folder, and one that does not runs as written (`predicted` is returned); a warning says so once.
 */
export async function captureMakeInstall(plugin: MakePlugin, predicted: Expanded, opts: CaptureOptions): Promise<Expanded> {
  // A dry run with the overlay runs make in it and shows what it really did; without, the analysis.
  if (opts.dryRun && !findOnPath("make", opts.path)) return predicted;
  let why = await overlayUnavailable(opts.path, opts.env);
  if (!why) {
    const r = await overlayInstall(plugin, opts);
    if (typeof r !== "string") return r;
    why = r;
  }
  const then = opts.dryRun
    ? "the dry run shows the Makefile's analysis"
    : opts.honoursDestdir
      ? "make install runs into a staging DESTDIR"
      : "make install runs as written";
  if (!opts.session.warned) opts.emit?.({ type: "warning", message: `make install is not captured in an overlay (${why}): ${then}` });
  opts.session.warned = true;
  return opts.honoursDestdir && !opts.dryRun ? stagingInstall(plugin, predicted, opts) : predicted;
}

export interface CaptureOptions {
  root: string;
  emit?: Emit;
  timeoutMs?: number;
  /** The AMI settings, for a plugin that declares `needs: [ami]`. */
  ami?: AmiConfig;
  /** Run make in the overlay only (its changes are read, then thrown away with it). */
  dryRun?: boolean;
  /** The analysis found no write outside $(DESTDIR): without the overlay, make runs into a staging DESTDIR. */
  honoursDestdir?: boolean;
  /** The run's temporary folders and its one warning. */
  session: CaptureSession;
  /** The environment make starts from (the caller's, scrubbed by the runner). */
  env: Readonly<Record<string, string | undefined>>;
  /** The PATH make is looked up on; the recorders go in front of it. */
  path?: string;
  /** The run's signal: its abort stops make (nothing has been changed yet). */
  signal?: AbortSignal;
  /** The run's contained programs. */
  programs?: ContainedPrograms;
  /** Asks the caller to turn SIGINT/SIGTERM into an abort of `signal` while make runs. */
  catchSignals?: (on: boolean) => void;
}

async function writeRecorders(tools: string, log: string): Promise<void> {
  for (const name of RECORDED) {
    await writeFile(path.join(tools, name), RECORDER);
    await chmod(path.join(tools, name), 0o755);
  }
  await writeFile(log, "");
}

/** What the overlay run needs of a plugin (an installed one has only its manifest). */
interface MakeFolder {
  name: string;
  dir: string;
  makefile: string;
}

type Target = "install" | "uninstall";

/** make install in the overlay; a string when the overlay could not be set up (nothing ran). */
async function overlayInstall(plugin: MakePlugin, opts: CaptureOptions): Promise<Expanded | string> {
  const run = await overlayMake({ name: plugin.name, dir: plugin.dir, makefile: plugin.makefile }, "install", opts);
  if (typeof run === "string") return run;
  return expandedFrom(plugin, run.L.rootUpper, run.log);
}

/**
 * `make uninstall` of an installed Makefile plugin, run in the overlay (root on Linux): what it
 * removes must be files the plugin owns (the recorded files are then removed by the uninstall
 * plan itself), it may write nothing, and its service calls come back as steps to run after the
 * removal. Undefined when the overlay cannot be used: then make uninstall runs as before.
 */
export async function captureMakeUninstall(m: { name: string; source: string }, opts: CaptureOptions): Promise<Step[] | undefined> {
  if ((opts.dryRun && !findOnPath("make", opts.path)) || (await overlayUnavailable(opts.path, opts.env))) return undefined;
  const makefile = findMakefile(m.source);
  if (!makefile) return undefined;
  const run = await overlayMake({ name: m.name, dir: m.source, makefile }, "uninstall", opts);
  if (typeof run === "string") {
    if (!opts.session.warned) opts.emit?.({ type: "warning", message: `make uninstall is not captured in an overlay (${run}): it runs against the root` });
    opts.session.warned = true;
    return undefined;
  }
  const upper = run.L.rootUpper;
  const written: string[] = [];
  async function walk(rel: string) {
    for (const e of (await readdir(path.join(upper, rel), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = path.posix.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else written.push(r);
    }
  }
  await walk("/");
  if (written.length)
    throw invalid(`${m.name}: make uninstall wrote ${named(written)}: refused, nothing was changed`, [
      {
        severity: "error",
        file: makefile,
        message: `the uninstall target writes files: ${named(written)}`,
        hint: "an uninstall target may only remove the plugin's files",
      },
    ]);
  return recordedSteps(await readFile(run.log, "utf8"));
}

const named = (paths: string[]) => paths.slice(0, 10).join(", ") + (paths.length > 10 ? `, and ${paths.length - 10} more` : "");

/**
 * make TARGET in the overlay, checked: a failure, a write outside the root or a removal of
 * what the plugin does not own throws; the root's upper folder is left plain (whiteouts gone).
 */
async function overlayMake(plugin: MakeFolder, target: Target, opts: CaptureOptions): Promise<{ L: OverlayLayout; log: string } | string> {
  const base = await opts.session.tempFolder("wazo-tasks-make-");
  const L = await prepareOverlay(base, opts.root, plugin.dir);
  if (typeof L === "string") return L;
  const log = path.join(L.log, "calls");
  await writeRecorders(L.tools, log);
  opts.emit?.({
    type: "info",
    message: `${plugin.name}: running make ${target} in an overlay of ${opts.root} (changes land in ${L.rootUpper}${opts.dryRun ? ", then are thrown away: dry run" : ""})`,
  });
  let setup = "";
  const r = await guarded(plugin.name, target, opts, () =>
    runMake(plugin.dir, target, {
      ...(opts.root === "/" ? {} : { destdir: opts.root }),
      env: { ...opts.env, PATH: `${L.tools}:${opts.path ?? ""}`, MAKE_CAPTURE_LOG: log, TMPDIR: L.scratch },
      signal: opts.signal,
      programs: opts.programs,
      ami: opts.ami,
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      wrap: (command) => overlayArgv(L, command, plugin.dir, opts.path),
      onLine: (stream, line) => {
        if (line.startsWith(CAPTURE_MARK)) setup ||= line.slice(CAPTURE_MARK.length);
        else opts.emit?.({ type: "output", plugin: plugin.name, stream, line });
      },
    }),
  );
  if (!r.notFound && !(await stat(L.started).catch(() => undefined)))
    return setup || `the mount namespace could not be set up (${r.error ?? `exit code ${r.exitCode}`})`;
  failed(plugin.name, target, r);
  if (opts.root !== "/") {
    const outside = await writesOutside(L);
    if (outside.length)
      throw invalid(`${plugin.name}: make ${target} wrote outside the root ${opts.root} (${named(outside)}): refused, nothing was changed`, [
        { severity: "error", file: plugin.makefile, message: `writes outside the root: ${named(outside)}`, hint: "install every file under $(DESTDIR)" },
      ]);
  }
  const foreign = await notOwned(opts.root, plugin.name, await removedInRoot(L));
  if (foreign.length)
    throw invalid(`${plugin.name}: make ${target} removed what this plugin does not own (${named(foreign)}): refused, nothing was changed`, [
      {
        severity: "error",
        file: plugin.makefile,
        message: `removes files it did not install: ${named(foreign)}`,
        hint: target === "install" ? "an install target may only replace or remove its own files" : "an uninstall target may only remove the plugin's files",
      },
    ]);
  await cleanRootUpper(L);
  return { L, log };
}

/** The removed paths (root-relative) that are not, or hold files that are not, this plugin's. */
async function notOwned(root: string, name: string, removed: string[]): Promise<string[]> {
  if (!removed.length) return [];
  const owned = new Set((await readManifests(root)).get(name)?.files.map((f) => f.path) ?? []);
  const out: string[] = [];
  async function check(rel: string) {
    const st = await lstat(path.join(root, rel)).catch(() => undefined);
    if (st?.isDirectory()) for (const n of (await readdir(path.join(root, rel))).sort()) await check(path.posix.join(rel, n));
    else if (st && !owned.has(rel)) out.push(rel);
  }
  for (const r of removed) await check(r);
  return out;
}

/** Stops make at once on SIGINT/SIGTERM or the run's abort (nothing has been changed yet) and says so. */
async function guarded(name: string, target: Target, opts: CaptureOptions, run: () => Promise<MakeResult>): Promise<MakeResult> {
  opts.catchSignals?.(true);
  const r = await run().finally(() => opts.catchSignals?.(false));
  if (opts.signal?.aborted)
    throw new TaskFailure(
      "aborted",
      `${name}: make ${target} interrupted by ${abortedBy(opts.signal)}; nothing was changed (make ran into a staging folder)`,
      [],
      undefined,
      { command: `make ${target}`, plugin: name },
    );
  return r;
}

/** Throws the failure of a make that did not succeed. */
function failed(name: string, target: Target, r: MakeResult): asserts r is MakeRun {
  const command = { command: `make ${target}` };
  if (r.notFound) throw new TaskFailure("make-failed", r.message, [], undefined, { ...command, plugin: name });
  if (!r.ok) {
    const how = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : (r.error ?? `exit code ${r.exitCode}`);
    throw new TaskFailure(
      "make-failed",
      `${name}: make ${target} failed (${how})${r.lines.length ? `; last lines:\n    ${r.lines.slice(-5).join("\n    ")}` : ""}\n  nothing was changed (make ran into a staging folder)`,
      [],
      undefined,
      { ...command, plugin: name, exitStatus: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) },
    );
  }
}

/** The staged tree and the recorded calls as one plugin's items. */
async function expandedFrom(plugin: MakePlugin, stage: string, log: string): Promise<Expanded> {
  const staged = await stagedItems(plugin, stage);
  const steps = recordedSteps(await readFile(log, "utf8"));
  const calls = await expandSteps(plugin, "install", steps);
  const offset = staged.labels.length;
  return {
    plugin,
    labels: [...staged.labels, ...calls.labels],
    kinds: [...staged.kinds, ...calls.kinds],
    items: [...staged.items, ...calls.items.map((i) => ({ ...i, step: i.step + offset }))],
    handlers: calls.handlers,
    asterisk: calls.asterisk,
    verify: [],
  };
}

/** make install into an empty staging DESTDIR (a Makefile that honours DESTDIR, no overlay). */
async function stagingInstall(plugin: MakePlugin, predicted: Expanded, opts: CaptureOptions): Promise<Expanded> {
  const base = await opts.session.tempFolder("wazo-tasks-make-");
  const stage = path.join(base, "stage");
  await mkdir(stage, { mode: 0o755 });
  await mirrorFolders(stage, opts.root, predicted);
  const tools = await opts.session.tempFolder("wazo-tasks-make-tools-");
  const log = path.join(tools, "calls");
  await writeRecorders(tools, log);
  opts.emit?.({ type: "info", message: `${plugin.name}: running make install into the staging folder ${stage}` });
  const env = { ...opts.env, PATH: `${tools}:${opts.path ?? ""}`, MAKE_CAPTURE_LOG: log };
  const r = await guarded(plugin.name, "install", opts, () =>
    runMake(plugin.dir, "install", {
      destdir: stage,
      env,
      signal: opts.signal,
      programs: opts.programs,
      ami: opts.ami,
      timeoutMs: opts.timeoutMs ?? 10 * 60_000,
      onLine: (stream, line) => opts.emit?.({ type: "output", plugin: plugin.name, stream, line }),
    }),
  );
  failed(plugin.name, "install", r);
  // `$(DESTDIR)/../x` lands beside the staging folder: outside the root, refused.
  const outside = (await readdir(base)).filter((n) => n !== "stage");
  if (outside.length)
    throw invalid(`${plugin.name}: make install wrote outside DESTDIR (${outside.map((n) => `$(DESTDIR)/../${n}`).join(", ")}): refused, nothing was changed`, [
      { severity: "error", file: plugin.makefile, message: `writes outside $(DESTDIR): ${outside.join(", ")}`, hint: "install every file under $(DESTDIR)" },
    ]);
  return expandedFrom(plugin, stage, log);
}

/**
 * Recipes copy into folders a PBX already has (`cp x.conf $(DESTDIR)/etc/asterisk/`): the
 * folders above the paths the analysis predicts are created in the staging folder when the
 * root has them, with the root's modes (so they plan as unchanged).
 */
async function mirrorFolders(stage: string, root: string, predicted: Expanded): Promise<void> {
  const dirs = new Set<string>();
  for (const item of predicted.items) {
    if (!("target" in item)) continue;
    for (let d = path.posix.dirname(item.target); d !== "/" && !dirs.has(d); d = path.posix.dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) {
    const st = await stat(path.join(root, d)).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    await mkdir(path.join(stage, d), { recursive: true });
    await chmod(path.join(stage, d), st.mode & 0o7777);
  }
}

/** The recorded service calls as steps: reloads and restarts become handlers; any other call
 * runs as written, after the files are installed. */
function recordedSteps(log: string): Step[] {
  const steps: Step[] = [];
  for (const line of log.split("\n").filter(Boolean)) {
    const [name, ...args] = line.split(SEP);
    const out = SERVICE_COMMANDS[name]?.(
      args.map((text) => ({ text, glob: false })),
      { knownDirs: new Set() },
    );
    if (out?.kind === "steps") steps.push(...out.steps);
    else if (out?.kind !== "noop") steps.push({ run: [name, ...args] } as Step);
  }
  return steps;
}
