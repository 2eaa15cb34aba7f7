/**
 * Everything a run has to say is an Event; loggers in report/ turn them into text or NDJSON.
 * Nothing else prints. The JSON form is versioned (docs/json-output.md).
 */
import type { Diagnostic, ExitCode, Failure } from "./diagnostic.js";

export const JSON_EVENTS_VERSION = 1;

/**
 * A step's outcome:
 * - `changed`: it changed the target. `unchanged`: already as wanted.
 * - `would change`: dry run, it would change the target (a removal included).
 * - `skipped`: not run (nothing changed, or no way to run it here).
 * - `not simulated`: a dry run cannot preview it (programs, make recipes).
 * - `kept`: left in place on purpose (an admin edit, a non-empty folder).
 * - `failed`: it failed; see `detail` and the summary's `failure`.
 */
export type StepStatus = "changed" | "unchanged" | "would change" | "skipped" | "not simulated" | "kept" | "failed";

/** What a run does to a plugin. */
export type PluginAction = "install" | "upgrade" | "reinstall" | "uninstall";

/**
 * A plugin's outcome in the summary: `changed`, `unchanged`, `would change` (dry run),
 * `rolled back` (undone after a reload lost dialplan), `applied, handler failed` (exit 3).
 */
export type PluginStatus = "changed" | "unchanged" | "would change" | "rolled back" | "applied, handler failed";

/** In a dry run, one path a step would change; `diff` for a text file created or updated. */
export interface StepFile {
  op: "mkdir" | "write" | "symlink" | "chmod" | "remove";
  path: string;
  change: string;
  diff?: string;
}

export type Event =
  | { type: "start"; command: string; root: string; dryRun: boolean; plugins: string[] }
  | { type: "recovered"; root: string; paths: number; startedAt: string; command: string }
  | {
      type: "plan";
      command: "install" | "uninstall";
      plugins: {
        name: string;
        version: string;
        action: PluginAction;
        changed: boolean;
        steps: { kind: string; target: string; changes: number; notSimulated: boolean }[];
      }[];
      handlers: string[];
    }
  | {
      type: "plugin";
      name: string;
      version: string;
      action: PluginAction;
      previousVersion?: string;
      kind: string;
      /** What the plugin's code is handed (package.yml `needs:`); absent when nothing. */
      needs?: "ami"[];
    }
  | { type: "step"; plugin: string; kind: string; target: string; status: StepStatus; detail?: string; diff?: string; files?: StepFile[] }
  | { type: "output"; plugin: string; stream: "stdout" | "stderr"; line: string }
  | { type: "handler"; kind: "reload" | "restart" | "asterisk"; name: string; status: "done" | "failed" | "skipped" | "would run"; message?: string }
  | {
      type: "verify";
      plugin: string;
      extension: string;
      context: string;
      expect: "present" | "absent";
      status: "ok" | "failed" | "would verify" | "skipped";
      message?: string;
    }
  | {
      type: "dialplan-check";
      /** Extensions checked, over all installed plugins. */
      checked: number;
      status: "ok" | "failed" | "rolled back";
      missing: { plugin: string; extension: string; context: string; file: string; expect: "present" | "absent"; cause?: string }[];
    }
  | { type: "warning"; message: string; plugin?: string }
  | { type: "info"; message: string }
  /** A git source was fetched (also in a dry run: reading a source changes nothing on the target). */
  | { type: "fetched"; method: "git" | "market"; url: string; ref?: string; subdirectory?: string; commit: string; dryRun: boolean }
  | { type: "progress"; done: number; total: number; bytes: number; elapsedMs: number }
  | { type: "diagnostic"; diagnostic: Diagnostic }
  | { type: "rolledback"; cause: string }
  | {
      type: "summary";
      ok: boolean;
      exitCode: ExitCode;
      dryRun: boolean;
      changed: number;
      unchanged: number;
      failed: number;
      reloads: string[];
      restarts: string[];
      plugins: { name: string; version: string; action: PluginAction; status: PluginStatus }[];
      /** Why it failed: the message, and a hint on a second line (kept for older consumers; read `failure`). */
      error?: string;
      /** Why it failed, when it did. */
      failure?: Failure;
      durationMs: number;
      /** ms per phase (install, uninstall); see src/util/timings.ts. */
      timings?: Timings;
    };

export type Emit = (event: Event) => void;

/** Milliseconds a run spent in each phase (the summary's `timings`); 0 for a phase not reached. */
export interface Timings {
  /** Reading and validating the plugins. */
  load: number;
  /** Expanding steps, linting dialplan files, reading facts and manifests, building the plan (and a dry run's preview). */
  plan: number;
  /** Waiting for the root's lock and rolling back an interrupted run first. */
  lock: number;
  /** The transaction: journal, file operations, flushes, commit. */
  apply: number;
  /** Asterisk: connecting, asterisk commands, reloads, restarts, verifications. */
  reload: number;
  /** The check, after a dialplan reload, that every installed plugin's extensions are loaded. */
  dialplanCheck: number;
}

/** The phases, in the order a run goes through them. */
export const PHASES: readonly (keyof Timings)[] = ["load", "plan", "lock", "apply", "reload", "dialplanCheck"];
