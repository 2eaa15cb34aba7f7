/**
 * Reading and running `wazo/rules`. The file is a program run with one target as argument; real
 * ones are nearly all a shell `case "$1" in build) ...;; package) ...;; esac`. That statement is
 * read (never guessed) to know which targets exist, and whether a target only reloads Asterisk or
 * restarts a service, so it can become a coalesced handler. Running it goes through its own `#!`.
 */
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import type { Emit } from "../model/event.js";
import type { Handler } from "../state/manifest.js";
import { SERVICE_COMMANDS } from "../make/services.js";
import { splitCommands } from "../make/shell.js";
import { childEnv, describeExit, runProcess, type ContainedPrograms, type ProcessResult } from "../util/process.js";

export type RulesTarget = "build" | "package" | "install" | "uninstall" | "postrm";

export interface Branch {
  patterns: string[];
  /** 1-based line of the pattern. */
  line: number;
  /** The commands of the branch, without the closing `;;`. */
  body: string;
}

export interface RulesScript {
  file: string;
  text: string;
  /** The interpreter and its optional argument from the `#!` line. */
  shebang?: string[];
  executable: boolean;
  /** The branches of the `case "$1" in` statement; undefined when the file is not written that way. */
  branches?: Branch[];
}

export async function readRulesScript(file: string): Promise<RulesScript> {
  const text = await readFile(file, "utf8");
  const executable = await access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
  return rulesScriptOf(file, text, executable);
}

/** `file`'s script from its text (read already, through the facts at uninstall). */
export function rulesScriptOf(file: string, text: string, executable: boolean): RulesScript {
  return { file, text, executable, shebang: shebangOf(text), branches: caseBranches(text) };
}

function shebangOf(text: string): string[] | undefined {
  const m = /^#!\s*(\S+)(?:[ \t]+(.*?))?[ \t]*\r?$/m.exec(text.split("\n")[0] ?? "");
  if (!m) return undefined;
  // Like the kernel: the interpreter, then the rest of the line as one argument.
  return m[2] ? [m[1], m[2]] : [m[1]];
}

/** The argv that runs `file` with `target`, through the file's own `#!` line. */
export function rulesArgv(script: RulesScript, file: string, target: RulesTarget): string[] {
  if (!script.shebang) return ["/bin/sh", file, target]; // what a shell does with a script without #!
  if (script.executable) return [file, target];
  return [...script.shebang, file, target];
}

/** The branch that runs for `target`; undefined when none does or only the `*)` fallback would. */
export function branchFor(script: RulesScript, target: RulesTarget): Branch | undefined {
  for (const b of script.branches ?? []) {
    if (b.patterns.some((p) => globMatch(p, target))) return b.patterns.includes("*") && !b.patterns.includes(target) ? undefined : b;
  }
  return undefined;
}

/** Whether calling `target` does anything: true when the file cannot be read as a case statement. */
export function hasTarget(script: RulesScript, target: RulesTarget): boolean {
  if (!script.branches) return true;
  const b = branchFor(script, target);
  return b !== undefined && b.body.trim() !== "";
}

/** The targets the file handles (all of them when it cannot be read as a case statement). */
export function targetsOf(script: RulesScript): RulesTarget[] {
  return (["build", "package", "install", "uninstall", "postrm"] as const).filter((t) => hasTarget(script, t));
}

const NOOPS: ReadonlySet<string> = new Set(["true", ":", "echo", "printf"]);

/**
 * The handlers a target stands for when all it does is reload Asterisk (`asterisk -x 'dialplan
 * reload'`, `asterisk -rx "module reload X"`) or restart a service (`systemctl restart UNIT`),
 * with only output besides; undefined when it does anything else (it then runs as written).
 */
export function handlersOnly(script: RulesScript, target: RulesTarget): Handler[] | undefined {
  const b = script.branches ? branchFor(script, target) : undefined;
  if (!b || b.body.trim() === "") return undefined;
  const line = splitCommands(b.body);
  if (line.problem || line.commands.length === 0) return undefined;
  const handlers: Handler[] = [];
  for (const c of line.commands) {
    if (c.problem || c.words.length === 0) return undefined;
    const [first, ...args] = c.words;
    const name = path.posix.basename(first.text);
    if (NOOPS.has(name)) continue;
    if (name === "systemctl") {
      const operands = args.map((w) => w.text).filter((t) => !t.startsWith("-"));
      if (operands[0] !== "restart") return undefined; // only an explicit restart becomes a restart handler
    } else if (name !== "asterisk") return undefined;
    const out = SERVICE_COMMANDS[name](args, { knownDirs: new Set() });
    if (out.kind !== "steps") return undefined;
    for (const s of out.steps) {
      if ("reload" in s) handlers.push({ reload: s.reload });
      else if ("restart" in s) handlers.push({ restart: s.restart });
      else return undefined;
    }
  }
  return handlers.length ? handlers : undefined;
}

export interface RulesRun {
  ok: boolean;
  result: ProcessResult;
  message: string;
}

/** Runs `argv` (from rulesArgv) in `cwd`, streaming its output as events of `plugin`. */
export async function runRules(
  argv: string[],
  target: RulesTarget,
  opts: {
    cwd: string;
    /** The environment the program starts from (scrubbed here). */
    env: Readonly<Record<string, string | undefined>>;
    plugin: string;
    emit?: Emit;
    timeoutMs?: number;
    signal?: AbortSignal;
    programs?: ContainedPrograms;
  },
): Promise<RulesRun> {
  const result = await runProcess(argv, {
    cwd: opts.cwd,
    env: childEnv(opts.env),
    contain: true,
    programs: opts.programs,
    timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    signal: opts.signal,
    onLine: (stream, line) => opts.emit?.({ type: "output", plugin: opts.plugin, stream, line }),
  });
  return rulesRun(target, result);
}

/** The outcome of a finished `wazo/rules TARGET`, with the message saying how it failed. */
export function rulesRun(target: RulesTarget, result: ProcessResult): RulesRun {
  const last = result.tail.filter((l) => l.trim()).slice(-5);
  const message = `wazo/rules ${target} failed (${describeExit(result)})${last.length ? `; last lines:\n    ${last.join("\n    ")}` : ""}`;
  return { ok: result.ok, result, message };
}

// ---------------------------------------------------------------------------------------------
// Reading the `case "$1" in ... esac` statement, line by line.

/** The first index, outside shell quotes, where `at` holds, or -1. */
function findUnquoted(line: string, at: (i: number) => boolean): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"') i++;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "\\") i++;
    else if (at(i)) return i;
  }
  return -1;
}

/** The line without a comment (a '#' starting a word, outside quotes). */
function stripComment(line: string): string {
  const i = findUnquoted(line, (j) => line[j] === "#" && (j === 0 || /\s/.test(line[j - 1])));
  return i < 0 ? line : line.slice(0, i);
}

/** Where an unquoted `;;` ends the line's commands, or -1. */
function caseEnd(line: string): number {
  return findUnquoted(line, (j) => line[j] === ";" && line[j + 1] === ";");
}

const unquote = (s: string) => s.trim().replace(/^(['"])(.*)\1$/, "$2");

function globMatch(pattern: string, word: string): boolean {
  if (!/[*?[]/.test(pattern)) return pattern === word;
  const re = pattern
    .replace(/[.+^${}()|\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  try {
    return new RegExp(`^${re}$`).test(word);
  } catch {
    return false;
  }
}

const CASE_START = /^\s*case\s+(?:"\$\{?1\}?"|\$\{?1\}?|'\$1')\s+in\b\s*(.*)$/;

/** The branches of the first `case "$1" in`, or undefined when there is none or it is not read cleanly. */
export function caseBranches(text: string): Branch[] | undefined {
  const lines = text.split(/\r?\n/).map(stripComment);
  const start = lines.findIndex((l) => CASE_START.test(l));
  if (start < 0) return undefined;
  const branches: Branch[] = [];
  let cur: { patterns: string[]; line: number; body: string[] } | undefined;
  let depth = 0; // nested case statements inside a branch
  const close = () => {
    if (cur) branches.push({ patterns: cur.patterns, line: cur.line, body: cur.body.join("\n").trim() });
    cur = undefined;
  };
  const pending = [CASE_START.exec(lines[start])![1], ...lines.slice(start + 1)];
  for (let k = 0; k < pending.length; k++) {
    let l = pending[k];
    const lineNo = start + 1 + k;
    while (l.trim() !== "") {
      if (!cur) {
        const t = l.trim();
        if (/^esac\b/.test(t)) return branches;
        const m = /^\(?\s*([^()]*?)\s*\)(.*)$/.exec(t);
        if (!m || m[1] === "") return undefined;
        cur = { patterns: m[1].split("|").map(unquote), line: lineNo, body: [] };
        l = m[2];
        continue;
      }
      if (depth === 0 && /^\s*esac\b/.test(l)) {
        close();
        return branches;
      }
      if (/(^|[\s;&|(])case\s/.test(l) && /\sin\b/.test(l)) depth++;
      if (depth > 0 && /(^|[\s;&|])esac\b/.test(l)) {
        depth--;
        cur.body.push(l);
        break;
      }
      const end = depth === 0 ? caseEnd(l) : -1;
      if (end < 0) {
        cur.body.push(l);
        break;
      }
      cur.body.push(l.slice(0, end));
      close();
      l = l.slice(end + 2).replace(/^[&;]/, "");
    }
  }
  return undefined; // no esac
}
