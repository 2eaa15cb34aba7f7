/**
 * Reads what each Makefile target would do and translates it into typed descriptor steps.
 * The analysis follows make: prerequisites first, in order, each once; `$(MAKE) target` inlined;
 * recipe lines expanded with the Makefile's variables, $(DESTDIR) tracked through a marker.
 */
import { posix } from "node:path";
import type { Step } from "../load/schema.js";
import { FILE_COMMANDS, untranslated, type CommandContext, type Outcome, type Translator } from "./commands.js";
import { expand } from "./expand.js";
import { parseMakefile, type Diagnostic, type ParsedMakefile, type RecipeLine, type Rule } from "./parse.js";
import { DESTDIR_MARK, display, forShell } from "./paths.js";
import { MAKE_COMMANDS, makeInvocation, SERVICE_COMMANDS } from "./services.js";
import { splitCommands, type Command } from "./shell.js";
import { unreachable } from "../util/unreachable.js";

export interface AnalyzeOptions {
  /** Name of the staging-root variable (default DESTDIR). */
  destdirVar?: string;
  /** Other variables given as on make's command line. */
  vars?: Record<string, string>;
}

export interface Untranslated {
  line: number;
  /** Column where the recipe line's command starts. */
  col: number;
  /** The command as the shell would get it, $(DESTDIR) shown as written. */
  text: string;
  reason: string;
  /** The escape-hatch step argv that runs it as make would: sh -c '<command>'. */
  run: string[];
  /** False when sh -c cannot reproduce it (it needs make itself, e.g. $(foreach ...)). */
  runnable: boolean;
}

export interface AbsoluteWrite {
  line: number;
  text: string;
}

/** One thing a target does, in order: a translated step or a command kept as is. */
export type AnalysisItem = { kind: "step"; line: number; step: Step } | ({ kind: "untranslated" } & Untranslated);

export interface TargetAnalysis {
  name: string;
  phony: boolean;
  /** Line of the rule. */
  line: number;
  prereqs: string[];
  /** The target's own recipe, as written. */
  recipe: { line: number; col: number; text: string }[];
  /** Translated steps (prerequisites and inlined `$(MAKE) x` included), in order. */
  steps: Step[];
  /** Steps and untranslated commands interleaved, in the order make runs them. */
  items: AnalysisItem[];
  untranslated: Untranslated[];
  /** Commands that write to an absolute path without $(DESTDIR) in front. */
  writesAbsoluteWithoutDestdir: AbsoluteWrite[];
  /** Output-only commands (echo, true) left out. */
  dropped: { line: number; text: string }[];
  warnings: Diagnostic[];
}

export interface MakefileAnalysis {
  targets: Map<string, TargetAnalysis>;
  diagnostics: Diagnostic[];
  makefile: ParsedMakefile;
}

interface Walk extends CommandContext {
  mk: ParsedMakefile;
  destdirVar: string;
  items: AnalysisItem[];
  absolute: AbsoluteWrite[];
  dropped: { line: number; text: string }[];
  warnings: Diagnostic[];
  /** Targets already run in this make invocation (make runs each once). */
  done: Set<string>;
  /** Targets entered through `$(MAKE) x`, to stop loops. */
  stack: string[];
}

export function analyzeMakefile(text: string, file = "Makefile", opts: AnalyzeOptions = {}): MakefileAnalysis {
  const destdirVar = opts.destdirVar ?? "DESTDIR";
  const mk = parseMakefile(text, file, { vars: { ...opts.vars, [destdirVar]: DESTDIR_MARK } });
  const targets = new Map<string, TargetAnalysis>();
  for (const name of mk.targets) if (!name.includes("%")) targets.set(name, analyzeTarget(name, mk, destdirVar));
  return { targets, diagnostics: mk.diagnostics, makefile: mk };
}

function analyzeTarget(name: string, mk: ParsedMakefile, destdirVar: string): TargetAnalysis {
  const w: Walk = { mk, destdirVar, items: [], absolute: [], dropped: [], warnings: [], done: new Set(), stack: [name], knownDirs: new Set() };
  walkTarget(name, w);
  const rule = mk.rules.get(name)!;
  return {
    name,
    phony: mk.phony.has(name),
    line: rule.line,
    prereqs: [...rule.prereqs],
    recipe: rule.recipe.map((r) => ({ line: r.line, col: r.col, text: r.raw })),
    steps: w.items.flatMap((i) => (i.kind === "step" ? [i.step] : [])),
    items: w.items,
    untranslated: w.items.flatMap(({ kind, ...u }) => (kind === "untranslated" ? [u as Untranslated] : [])),
    writesAbsoluteWithoutDestdir: w.absolute,
    dropped: w.dropped,
    warnings: w.warnings,
  };
}

function walkTarget(name: string, w: Walk): void {
  if (w.done.has(name)) return;
  w.done.add(name);
  const rule = w.mk.rules.get(name);
  if (!rule) return; // a plain file prerequisite: nothing to run
  for (const p of [...rule.prereqs, ...rule.orderOnly]) walkTarget(p, w);
  for (const line of rule.recipe) analyzeLine(line, rule, w);
}

function analyzeLine(line: RecipeLine, rule: Rule, w: Walk): void {
  const issues: string[] = [];
  const expanded = expand(line.command, { vars: w.mk.variables, automatic: automaticVars(rule), issues });
  // A variable may expand to a prefix (Q = @), and make honours it.
  const prefix = /^[\s@+-]*/.exec(expanded)![0];
  const cmd = expanded.slice(prefix.length);
  const ignore = line.ignoreErrors || prefix.includes("-");
  if (cmd.trim() === "") return;
  if (issues.length > 0) return addUntranslated(w, line, cmd, issues[0], ignore, false);
  const sh = splitCommands(cmd, { known: { [w.destdirVar]: DESTDIR_MARK } });
  if (sh.problem) return addUntranslated(w, line, cmd, sh.problem, ignore);
  for (const c of sh.commands) analyzeCommand(c, line, w, ignore);
}

function analyzeCommand(c: Command, line: RecipeLine, w: Walk, ignore: boolean): void {
  if (c.problem) return addUntranslated(w, line, c.text, c.problem, ignore);
  const [first, ...args] = c.words;
  if (!first) return addUntranslated(w, line, c.text, "no command", ignore);
  const name = posix.basename(first.text);
  let out: Outcome;
  if (first.text.includes(DESTDIR_MARK)) out = untranslated("runs a program from $(DESTDIR)");
  else if (MAKE_COMMANDS.has(name)) out = makeInvocation(args, w.mk.file, w.destdirVar);
  else out = translatorFor(name)?.(args, w) ?? untranslated(`no translation for '${name}'`);
  applyOutcome(out, c, line, w, ignore);
}

/** Own keys only: a command named `constructor` must not find Object's. */
function translatorFor(name: string): Translator | undefined {
  if (Object.hasOwn(FILE_COMMANDS, name)) return FILE_COMMANDS[name];
  return Object.hasOwn(SERVICE_COMMANDS, name) ? SERVICE_COMMANDS[name] : undefined;
}

function applyOutcome(out: Outcome, c: Command, line: RecipeLine, w: Walk, ignore: boolean): void {
  switch (out.kind) {
    case "noop":
      w.dropped.push({ line: line.line, text: display(c.text, w.destdirVar) });
      return;
    case "untranslated":
      return addUntranslated(w, line, c.text, out.reason, ignore);
    case "make":
      return inlineMake(out.targets, c, line, w, ignore);
    case "steps":
      for (const step of out.steps) w.items.push({ kind: "step", line: line.line, step });
      if (out.writes.some((p) => !p.destdir)) w.absolute.push({ line: line.line, text: display(c.text, w.destdirVar) });
      for (const message of out.warnings ?? [])
        w.warnings.push({ file: w.mk.file, line: line.line, col: line.col, message, severity: "warning", source: w.mk.source });
      return;
    default:
      unreachable(out);
  }
}

/** `$(MAKE) t` is a new make run: t and its prerequisites run again, whatever ran before. */
function inlineMake(targets: string[], c: Command, line: RecipeLine, w: Walk, ignore: boolean): void {
  const list = targets.length > 0 ? targets : w.mk.defaultTarget ? [w.mk.defaultTarget] : [];
  for (const t of list) {
    if (!w.mk.rules.has(t)) addUntranslated(w, line, c.text, `make target '${t}' is not in the Makefile`, ignore);
    else if (w.stack.includes(t)) addUntranslated(w, line, c.text, `recursive make loop on '${t}'`, ignore);
    else {
      const saved = w.done;
      w.done = new Set();
      w.stack.push(t);
      walkTarget(t, w);
      w.stack.pop();
      w.done = saved;
    }
  }
}

function addUntranslated(w: Walk, line: RecipeLine, text: string, reason: string, ignore: boolean, runnable = true): void {
  const shell = forShell(text, w.destdirVar);
  const shown = display(text, w.destdirVar).replace(/\\\n\s*/g, " ");
  const why = display(reason, w.destdirVar);
  // A '-' prefix made make ignore the failure; `|| true` keeps that meaning under sh -c.
  const run = ["sh", "-c", ignore ? `${shell} || true` : shell];
  w.items.push({ kind: "untranslated", line: line.line, col: line.col, text: shown, reason: why, run, runnable });
  if (writesAbsolutePath(text)) w.absolute.push({ line: line.line, text: shown });
}

const WRITERS = /(^|[\s;&|(])(cp|mv|install|ln|mkdir|rm|rmdir|touch|chmod|chown|tee|rsync|tar|unzip|sed\s+-i)\b|>/;
// An absolute path not preceded by the DESTDIR marker (the marker ends with \u0001).
const ABSOLUTE = /(^|[\s=;&|>"'(])\/(?!dev\/null\b)[\w.-]/;

/** Heuristic for commands we do not translate: a writing command with an absolute path. */
function writesAbsolutePath(text: string): boolean {
  return WRITERS.test(text) && ABSOLUTE.test(text);
}

function automaticVars(rule: Rule): Record<string, string> {
  const all = rule.prereqs.join(" ");
  return {
    "@": rule.target,
    "<": rule.prereqs[0] ?? "",
    "^": [...new Set(rule.prereqs)].join(" "),
    "+": all,
    "?": all,
    "|": rule.orderOnly.join(" "),
    "*": "",
  };
}
