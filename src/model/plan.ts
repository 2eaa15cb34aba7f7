/**
 * The Plan: what a run will do, as data. The planner builds it without side effects; a dry run
 * prints it; the executor applies it and nothing else.
 */
import type { Manifest } from "./manifest.js";
import type { Handler } from "./plugin.js";

/**
 * What an operation does to its path:
 * - `create`: the path does not exist yet.
 * - `update`: the content (or link target) differs.
 * - `mode`: same content, different mode.
 * - `remove`: the path will be removed.
 * - `none`: already as wanted (reported as unchanged).
 */
export type Change = "create" | "update" | "mode" | "remove" | "none";

/** A file-system operation; `path` is the real path (under --root), `display` the path on the PBX. */
export type FileOp =
  | { op: "mkdir"; path: string; display: string; mode: number; change: Change }
  | {
      op: "write";
      path: string;
      display: string;
      /** Plugin file to copy, or literal content (state files). */
      source?: string;
      content?: Uint8Array;
      mode: number;
      /** The source file's own mode (a copy has it already). */
      sourceMode?: number;
      sha256: string;
      size: number;
      change: Change;
      /** Unified diff for text files that would change. */
      diff?: string;
    }
  | { op: "symlink"; path: string; display: string; target: string; change: Change }
  | { op: "chmod"; path: string; display: string; mode: number; change: Change }
  | {
      op: "remove";
      path: string;
      display: string;
      change: Change;
      /** Kept because an admin edited it. */
      kept?: string;
      /** Known not to be a folder: may be removed in parallel with others. */
      isFile?: boolean;
    };

/** A program run in order with the file operations (never in a dry run). */
export interface RunOp {
  op: "run";
  argv: string[];
  cwd: string;
  display: string;
  change: Change;
}

/**
 * The program the executor runs in a plugin's place, its files journaled: the files it writes
 * are predicted by the plugin's other steps (previewed, journaled before it runs, refreshed in
 * the manifest after). `target` in the plugin's folder `dir`, DESTDIR set under --root (today
 * the one such program is a Makefile plugin's `make install` or `make uninstall`).
 */
export interface CapturedRunOp {
  op: "captured-run";
  dir: string;
  target: "install" | "uninstall";
  destdir?: string;
  display: string;
  change: Change;
}

export type Op = FileOp | RunOp | CapturedRunOp;

/** A program the executor runs (a plugin's `run` step, wazo/rules, a captured run), not a file operation. */
export const runsProgram = (o: Op): o is RunOp | CapturedRunOp => o.op === "run" || o.op === "captured-run";
/** Work a program does in the plugin's place: its effect is previewed by the other steps. */
export const isOwnRun = (o: Op): o is CapturedRunOp => o.op === "captured-run";

/** One user-visible step of a plugin, with the operations it expands to. */
export interface PlannedStep {
  plugin: string;
  /** Step kind as written (copy, remove, make, state...). */
  kind: string;
  /** Short label for output, e.g. the target path. */
  label: string;
  ops: Op[];
  /** Marked when the step cannot be previewed (run, make recipes). */
  notSimulated?: boolean;
  /** Done by `make`, not by the executor: its operations are only journaled (and previewed). */
  viaMake?: boolean;
  /** For a make step that cannot be previewed: the recipe as written. */
  recipe?: { line: number; text: string }[];
}

export interface PluginPlan {
  name: string;
  version: string;
  action: "install" | "upgrade" | "reinstall" | "uninstall";
  /** Version installed before this run, if any. */
  previousVersion?: string;
  steps: PlannedStep[];
  /** Handlers this plugin notifies (run only if it changed something, or `always`). */
  handlers: { handler: Handler; always: boolean }[];
  /** Asterisk CLI commands run after the files, in order. */
  asterisk: string[];
  /** Programs run once the files are in place, before the handlers (`wazo/rules install`, src/rules/after.ts). */
  after?: RunOp[];
  verify: { extension: string; context: string; expect: "present" | "absent" }[];
  /** On uninstall: the extensions that must be gone after the reload. */
  removedExtensions?: { context: string; extension: string; file: string }[];
  /** The manifest written at the end (undefined on uninstall). */
  manifest?: Manifest;
  changed: boolean;
  warnings: string[];
}

export interface Plan {
  root: string;
  command: "install" | "uninstall";
  plugins: PluginPlan[];
  /** De-duplicated handlers to run after all file steps. */
  handlers: Handler[];
  /** All operations in apply order, state files last. */
  ops: Op[];
}

export const handlerKey = (h: Handler) => ("reload" in h ? `reload:${h.reload}` : `restart:${h.restart}`);
export const handlerLabel = (h: Handler) => ("reload" in h ? h.reload : `restart ${h.restart}`);
