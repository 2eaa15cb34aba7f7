/**
 * Everything a run has to say is an Event; loggers in report/ turn them into text or NDJSON.
 * Nothing else prints. The JSON form is versioned (docs/json-output.md).
 */
import type { Diagnostic } from "./diagnostic.js";

export const JSON_EVENTS_VERSION = 1;

/**
 * A step's outcome:
 * - `changed`: it changed the target. `unchanged`: already as wanted.
 * - `would change` / `would remove`: dry run, it would change the target.
 * - `skipped`: not run (nothing changed, or no way to run it here).
 * - `not simulated`: a dry run cannot preview it (programs, make recipes).
 * - `kept`: left in place on purpose (an admin edit, a non-empty folder).
 * - `failed`: it failed; see `error`.
 */
export type StepStatus = "changed" | "unchanged" | "would change" | "skipped" | "not simulated" | "kept" | "failed";

export type Event =
  | { type: "start"; command: string; root: string; dryRun: boolean; plugins: string[] }
  | { type: "recovered"; root: string; paths: number; startedAt: string; command: string }
  | {
      type: "plan";
      command: "install" | "uninstall";
      plugins: { name: string; version: string; action: string; changed: boolean; steps: { kind: string; target: string; changes: number; notSimulated: boolean }[] }[];
      handlers: string[];
    }
  | { type: "plugin"; name: string; version: string; action: string; previousVersion?: string; kind: string }
  | { type: "step"; plugin: string; kind: string; target: string; status: StepStatus; detail?: string; diff?: string }
  | { type: "output"; plugin: string; stream: "stdout" | "stderr"; line: string }
  | { type: "handler"; kind: "reload" | "restart" | "asterisk"; name: string; status: "done" | "failed" | "skipped" | "would run"; message?: string }
  | { type: "verify"; plugin: string; extension: string; context: string; expect: "present" | "absent"; status: "ok" | "failed" | "would verify" | "skipped"; message?: string }
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
      exitCode: number;
      dryRun: boolean;
      changed: number;
      unchanged: number;
      failed: number;
      reloads: string[];
      restarts: string[];
      plugins: { name: string; version: string; action: string; status: string }[];
      error?: string;
      durationMs: number;
    };

export type Emit = (event: Event) => void;
