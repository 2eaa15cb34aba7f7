/**
 * Loggers: the only code that turns events into text. Human output is one line per step and a
 * recap, diagnostics on stderr; JSON output is one object per line (NDJSON), summary last.
 */
import type { Writable } from "node:stream";
import { formatDiagnostic } from "./diagnostic.js";
import { printable as one, printableLines as lines } from "./escape.js";
import { JSON_EVENTS_VERSION, PHASES, type Event, type StepStatus, type Timings } from "../model/event.js";
import { unreachable } from "../util/unreachable.js";

export interface LoggerOptions {
  out: Writable;
  err: Writable;
  color: boolean;
  quiet?: boolean;
  verbose?: boolean;
  /** Show progress lines (TTY only). */
  progress?: boolean;
  /** The working folder: diagnostics name the files under it relative to it. */
  cwd: string;
}

export type Logger = (event: Event) => void;

const paint = (on: boolean) => (code: number, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

const STATUS_COLOR: Record<StepStatus, number> = {
  changed: 33,
  unchanged: 32,
  "would change": 33,
  skipped: 36,
  "not simulated": 35,
  kept: 36,
  failed: 31,
};

const PHASE_LABEL: Record<keyof Timings, string> = {
  load: "load",
  plan: "plan",
  lock: "lock",
  apply: "apply",
  reload: "reload",
  dialplanCheck: "dialplan check",
};

/** `load 12 ms, plan 8 ms, …`: every phase, in the order a run goes through them. */
const timingsLine = (t: Timings) => PHASES.map((p) => `${PHASE_LABEL[p]} ${t[p]} ms`).join(", ");

export function jsonLogger(out: Writable): Logger {
  return (event) => {
    if (event.type === "progress") return;
    // The source text is for the human printer; JSON carries the position only.
    const e = event.type === "diagnostic" ? { ...event, diagnostic: { ...event.diagnostic, source: undefined } } : event;
    out.write(JSON.stringify({ v: JSON_EVENTS_VERSION, ...e }) + "\n");
  };
}

export function humanLogger(o: LoggerOptions): Logger {
  const c = paint(o.color);
  const say = (line: string) => {
    if (!o.quiet) o.out.write(line + "\n");
  };
  let progressShown = false;
  const announced: string[] = [];
  let lastPlugin: string | undefined;
  // With several plugins, step lines say which plugin they belong to.
  const header = (plugin: string) => {
    if (announced.length > 1 && plugin && plugin !== lastPlugin) say(c(1, `${plugin}:`));
    lastPlugin = plugin;
  };
  const clearProgress = () => {
    if (progressShown) o.err.write("\r\x1b[K");
    progressShown = false;
  };
  return (e) => {
    if (e.type !== "progress") clearProgress();
    switch (e.type) {
      case "start":
        if (o.verbose) say(c(2, `${e.command}${e.dryRun ? " (dry run)" : ""} into ${one(e.root)}`));
        break;
      case "recovered":
        o.err.write(`${c(33, "recovered")}: an interrupted ${e.command} (started ${e.startedAt}) was rolled back first (${e.paths} paths restored)\n`);
        break;
      case "plan":
        break;
      case "plugin":
        announced.push(e.name);
        say(
          c(1, `${one(e.name)} ${one(e.version)}`) +
            c(2, ` (${e.action}${e.previousVersion && e.previousVersion !== e.version ? ` from ${one(e.previousVersion)}` : ""}, ${e.kind})`),
        );
        if (e.needs?.includes("ami")) say(`  ${c(33, "note")}: this plugin's code gets the AMI credentials (needs: [ami] in package.yml)`);
        break;
      case "step": {
        header(e.plugin);
        const status = c(STATUS_COLOR[e.status], e.status.padEnd(13));
        const line = `  ${status} ${e.kind.padEnd(8)} ${one(e.target)}${e.detail ? c(2, `  (${lines(e.detail)})`) : ""}`;
        if (e.status === "failed") o.err.write(line + "\n");
        else say(line);
        if (e.diff && !o.quiet)
          o.out.write(
            lines(e.diff.trimEnd())
              .replace(/^/gm, "      ")
              .replace(/^      ([-+])(?![-+]{2} )(.*)$/gm, (_m, sign: string, rest: string) => "      " + c(sign === "+" ? 32 : 31, sign + rest)) + "\n",
          );
        break;
      }
      case "output":
        if (!o.quiet) (e.stream === "stderr" ? o.err : o.out).write(c(2, `  ${one(e.plugin)} | `) + one(e.line) + "\n");
        break;
      case "handler": {
        const color = e.status === "failed" ? 31 : e.status === "done" ? 33 : 36;
        const line = `  ${c(color, (e.status === "done" ? "changed" : e.status).padEnd(13))} ${e.kind.padEnd(8)} ${one(e.name)}${e.message ? c(2, `  (${lines(e.message)})`) : ""}`;
        if (e.status === "failed") o.err.write(line + "\n");
        else say(line);
        break;
      }
      case "verify": {
        const line = `  ${c(e.status === "failed" ? 31 : e.status === "ok" ? 32 : 36, (e.status === "ok" ? "verified" : e.status).padEnd(13))} verify   ${e.extension}@${e.context} ${e.expect === "absent" ? "is gone" : "is loaded"}${e.message ? c(2, `  (${e.message})`) : ""}`;
        if (e.status === "failed") o.err.write(line + "\n");
        else say(line);
        break;
      }
      case "dialplan-check":
        if (e.status === "ok") say(`  ${c(32, "verified".padEnd(13))} dialplan ${e.checked} extension(s) of the installed plugins are loaded`);
        else {
          for (const m of e.missing)
            o.err.write(
              `  ${c(31, "failed".padEnd(13))} dialplan ${one(m.extension)}@${one(m.context)} of ${one(m.plugin)} (${one(m.file)}) ${m.expect === "present" ? "is not loaded after the reload" : "is still loaded"}${m.cause ? `; probably broken by ${m.cause}` : ""}\n`,
            );
          if (e.status === "rolled back") o.err.write(`  ${c(33, "rolled back".padEnd(13))} every change of this run, then reloaded the dialplan again\n`);
        }
        break;
      case "warning":
        o.err.write(`${c(33, "warning")}: ${e.plugin ? `${one(e.plugin)}: ` : ""}${lines(e.message)}\n`);
        break;
      case "fetched":
        say(
          `${c(2, "fetched")} ${one(e.url)}${e.ref ? ` (ref ${one(e.ref)})` : ""}${e.subdirectory ? ` subdirectory ${one(e.subdirectory)}` : ""} at ${e.commit.slice(0, 12)}${e.dryRun ? c(2, " (dry run: into a temporary folder)") : ""}`,
        );
        break;
      case "info":
        if (o.verbose) o.err.write(c(2, lines(e.message)) + "\n");
        break;
      case "progress":
        if (o.progress) {
          o.err.write(`\r\x1b[K  copying ${e.done}/${e.total} files, ${(e.bytes / 1048576).toFixed(1)} MB, ${(e.elapsedMs / 1000).toFixed(1)} s`);
          progressShown = true;
        }
        break;
      case "diagnostic":
        o.err.write(formatDiagnostic(e.diagnostic, o.cwd) + "\n"); // escapes its own fields
        break;
      case "rolledback":
        break;
      case "summary": {
        if (e.error) o.err.write(`${c(31, "error")}: ${lines(e.error)}\n`);
        if (e.plugins.length === 0 && !e.ok) break;
        const recap = `${e.dryRun ? "dry run: " : ""}${e.dryRun ? "would change" : "changed"}=${e.changed} unchanged=${e.unchanged} failed=${e.failed} reloads=${e.reloads.length ? e.reloads.join(",") : "none"}${e.restarts.length ? ` restarts=${e.restarts.join(",")}` : ""}`;
        if (!o.quiet) say(c(1, recap) + (o.verbose ? c(2, ` in ${e.durationMs} ms`) : ""));
        if (o.verbose && !o.quiet && e.timings) say(c(2, `timings: ${timingsLine(e.timings)}`));
        break;
      }
      default:
        unreachable(e);
    }
  };
}
