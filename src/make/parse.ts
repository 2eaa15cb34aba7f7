/**
 * A small, real Makefile parser: variables, conditionals, rules, recipes with their source
 * positions. It reads the file the way GNU make does so that what we translate is what make runs,
 * and it reports layout errors (spaces instead of a tab) before anything runs.
 */
import { expand, VariableTable, type AssignOp, type ExpandContext } from "./expand.js";
import type { Diagnostic } from "../model/diagnostic.js";
import { evalConditional, type CondFrame } from "./conditionals.js";

/** The project's diagnostic (file:line:col, severity, hint); `hint` carries the why. */
export type { Diagnostic };

export interface RecipeLine {
  /** 1-based line of the first physical line. */
  line: number;
  /** 1-based column where the command starts, after the tab and the `@-+` prefixes. */
  col: number;
  /** As written after the leading tab; continuation lines joined with "\n". */
  raw: string;
  /** Prefixes removed; what make hands to the shell once expanded (backslash-newlines kept). */
  command: string;
  silent: boolean;
  ignoreErrors: boolean;
  always: boolean;
}

export interface Rule {
  target: string;
  prereqs: string[];
  orderOnly: string[];
  recipe: RecipeLine[];
  line: number;
}

export interface ParsedMakefile {
  file: string;
  /** The text parsed, for diagnostics that show their line. */
  source: string;
  variables: VariableTable;
  rules: Map<string, Rule>;
  /** Explicit targets in order of appearance, special targets (.PHONY...) excluded. */
  targets: string[];
  phony: Set<string>;
  defaultTarget?: string;
  diagnostics: Diagnostic[];
}

export interface ParseOptions {
  /** Variables given from outside, as on make's command line (e.g. { DESTDIR: "" }). */
  vars?: Record<string, string>;
  /** Value of $(CURDIR); "." keeps paths relative to the plugin folder. */
  curdir?: string;
}

export const SPACES_MESSAGE = "indented with spaces; recipe lines must start with a tab";
const ASSIGNMENT = /^((?:override|export)\s+)*([^\s:#=$]+|\$[({][^)}]+[)}])\s*(::=|:=|\?=|\+=|!=|=)/;
const CONDITIONAL = /^(ifeq|ifneq|ifdef|ifndef|else|endif)(\s|$)/;

interface State {
  mk: ParsedMakefile;
  ctx: ExpandContext;
  /** Rules the next recipe lines belong to; null outside a rule. */
  current: Rule[] | null;
  /** Rules of the current context that had a recipe: the first new recipe line replaces it. */
  overrides: Set<Rule>;
  conds: CondFrame[];
}

export function parseMakefile(text: string, file = "Makefile", opts: ParseOptions = {}): ParsedMakefile {
  const variables = new VariableTable(opts.vars, { MAKE: "make", RM: "rm -f", SHELL: "/bin/sh", CURDIR: opts.curdir ?? "." });
  const mk: ParsedMakefile = { file, source: text, variables, rules: new Map(), targets: [], phony: new Set(), diagnostics: [] };
  const st: State = { mk, ctx: { vars: variables, issues: [] }, current: null, overrides: new Set(), conds: [] };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) i = parseLine(lines, i, st);
  if (st.conds.length > 0) report(st, lines.length, 1, "missing 'endif'");
  return mk;
}

/** Parses the logical line starting at index i; returns the index of its last physical line. */
function parseLine(lines: string[], i: number, st: State): number {
  const active = st.conds.every((c) => c.active);
  if (lines[i].startsWith("\t") && st.current) {
    const last = continuationEnd(lines, i);
    if (active) addRecipe(lines[i].slice(1), lines.slice(i + 1, last + 1), i + 1, 2, st);
    return last;
  }
  const last = continuationEnd(lines, i);
  const logical = joinLogical(lines.slice(i, last + 1));
  const line = stripComment(logical);
  if (line.trim() === "") return last;
  const trimmed = line.trim();
  if (CONDITIONAL.test(trimmed)) {
    evalConditional(trimmed, st.conds, st.ctx, (msg) => report(st, i + 1, 1, msg));
    return last;
  }
  if (!active) return last;
  // Checked before the line is read as anything else: make would take it for a rule or fail.
  if (st.current && /^ +\t*\S/.test(line) && !ASSIGNMENT.test(trimmed)) {
    report(st, i + 1, 1, SPACES_MESSAGE, 'GNU make stops here with "missing separator"', "error", /^[ \t]*/.exec(line)![0].length);
    return last;
  }
  if (/^define(\s|$)/.test(trimmed)) return parseDefine(lines, i, trimmed, st);
  parseStatement(trimmed, i + 1, st, line);
  return last;
}

function parseStatement(trimmed: string, lineNo: number, st: State, line: string): void {
  if (/^-?include\s|^sinclude\s/.test(trimmed)) {
    report(st, lineNo, 1, `'${trimmed}' is not followed; variables and rules from it are unknown`, undefined, "warning");
    return;
  }
  if (/^(export|unexport|vpath)(\s|$)/.test(trimmed) && !ASSIGNMENT.test(trimmed)) return;
  const assign = ASSIGNMENT.exec(trimmed);
  if (assign) {
    st.current = null;
    // make keeps trailing whitespace in values (`DIR = /etc/x  # c` is "/etc/x  "): so do we.
    assignVariable(assign, line.trimStart().slice(assign[0].length), lineNo, st);
    return;
  }
  const colon = topLevelIndex(trimmed, ":");
  if (colon > 0) {
    parseRule(trimmed, colon, lineNo, st);
    return;
  }
  const message = /^ +/.test(line)
    ? SPACES_MESSAGE
    : line.startsWith("\t")
      ? "recipe commences before first target"
      : "missing separator (neither a rule, a variable assignment nor a recipe line)";
  report(st, lineNo, 1, message);
}

function assignVariable(m: RegExpExecArray, rawValue: string, lineNo: number, st: State): void {
  const name = expand(m[2], st.ctx).trim();
  const op = m[3] as AssignOp;
  const value = rawValue.replace(/^\s+/, "");
  if (op === "!=") {
    report(st, lineNo, 1, `'${name} != ...' runs a shell command; not evaluated, ${name} is empty`, undefined, "warning");
    st.mk.variables.assign(name, "=", "", (t) => t);
    return;
  }
  st.mk.variables.assign(name, op, value, (t) => expand(t, st.ctx), /\boverride\s/.test(m[1] ?? ""));
}

function parseRule(text: string, colon: number, lineNo: number, st: State): void {
  const doubleColon = text[colon + 1] === ":";
  const targets = splitWords(expand(text.slice(0, colon), st.ctx));
  let rest = text.slice(colon + (doubleColon ? 2 : 1));
  const semi = topLevelIndex(rest, ";");
  const inline = semi >= 0 ? rest.slice(semi + 1) : null;
  if (semi >= 0) rest = rest.slice(0, semi);
  if (ASSIGNMENT.test(rest.trim())) {
    report(st, lineNo, 1, `target-specific variable '${rest.trim()}' is ignored`, undefined, "warning");
    rest = "";
  }
  const [normal, orderOnly = ""] = expand(rest, st.ctx).split("|");
  const prereqs = splitWords(normal);
  if (targets.includes(".PHONY")) prereqs.forEach((p) => st.mk.phony.add(p));
  st.overrides.clear();
  st.current = targets.filter((t) => !isSpecial(t)).map((t) => mergeRule(t, prereqs, splitWords(orderOnly), lineNo, st));
  if (inline !== null && inline.trim() !== "") {
    const start = text.length - inline.trimStart().length; // 0-based index of the inline command
    addRecipe(inline.trimStart(), [], lineNo, start + 1, st);
  }
}

function mergeRule(target: string, prereqs: string[], orderOnly: string[], lineNo: number, st: State): Rule {
  const { mk } = st;
  let rule = mk.rules.get(target);
  if (!rule) {
    rule = { target, prereqs: [], orderOnly: [], recipe: [], line: lineNo };
    mk.rules.set(target, rule);
    mk.targets.push(target);
    if (mk.defaultTarget === undefined && !target.includes("%")) mk.defaultTarget = target;
  }
  rule.prereqs.push(...prereqs.filter((p) => !rule.prereqs.includes(p)));
  rule.orderOnly.push(...orderOnly);
  // A second rule with a recipe replaces the first recipe, as make does (with its warning).
  if (rule.recipe.length > 0) st.overrides.add(rule);
  return rule;
}

/**
 * Adds one recipe line: `first` is its text after the tab (starting at 1-based column startCol),
 * `more` its continuation lines.
 */
function addRecipe(first: string, more: string[], lineNo: number, startCol: number, st: State): void {
  // make strips the recipe tab of continued lines too and hands the backslash-newlines to the shell.
  const raw = [first, ...more.map((l) => (l.startsWith("\t") ? l.slice(1) : l))].join("\n");
  const prefix = /^[\s@+-]*/.exec(raw)![0];
  const command = raw.slice(prefix.length);
  if (command.trim() === "") return;
  const recipe: RecipeLine = {
    line: lineNo,
    col: startCol + prefix.length,
    raw,
    command,
    silent: prefix.includes("@"),
    ignoreErrors: prefix.includes("-"),
    always: prefix.includes("+"),
  };
  for (const rule of st.current ?? []) {
    if (st.overrides.delete(rule)) {
      report(st, lineNo, 1, `overriding recipe for target '${rule.target}' (first at line ${rule.recipe[0].line})`, undefined, "warning");
      rule.recipe = [];
    }
    rule.recipe.push(recipe);
  }
}

function parseDefine(lines: string[], i: number, header: string, st: State): number {
  const m = /^define\s+(\S+)\s*(::=|:=|\?=|\+=|=)?\s*$/.exec(header);
  let end = i + 1;
  while (end < lines.length && !/^\s*endef\b/.test(lines[end])) end++;
  if (end >= lines.length) report(st, i + 1, 1, "missing 'endef'");
  if (m) st.mk.variables.assign(m[1], (m[2] ?? "=") as AssignOp, lines.slice(i + 1, end).join("\n"), (t) => expand(t, st.ctx));
  else report(st, i + 1, 1, "malformed 'define'");
  st.current = null;
  return Math.min(end, lines.length - 1);
}

/** Index of the last physical line of a logical line (lines ending in an odd number of '\'). */
function continuationEnd(lines: string[], i: number): number {
  let j = i;
  while (j < lines.length - 1 && /(^|[^\\])(\\\\)*\\$/.test(lines[j])) j++;
  return j;
}

/** Outside recipes, make turns backslash-newline and the whitespace around it into one space. */
function joinLogical(physical: string[]): string {
  return physical
    .map((l, k) => (k < physical.length - 1 ? l.slice(0, -1).trimEnd() : l))
    .map((l, k) => (k > 0 ? l.trimStart() : l))
    .join(" ");
}

function stripComment(line: string): string {
  let out = "";
  for (let k = 0; k < line.length; k++) {
    if (line[k] === "\\" && line[k + 1] === "#") {
      out += "#";
      k++;
    } else if (line[k] === "#") break;
    else out += line[k];
  }
  return out;
}

/** First index of ch outside $(...)/${...} (":" of ":=" excluded), or -1. */
function topLevelIndex(text: string, ch: string): number {
  let depth = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (c === "$" && (text[k + 1] === "(" || text[k + 1] === "{")) {
      depth++;
      k++;
    } else if ((c === ")" || c === "}") && depth > 0) depth--;
    else if (c === ch && depth === 0 && !(ch === ":" && text[k + 1] === "=")) return k;
  }
  return -1;
}

function isSpecial(target: string): boolean {
  return /^\.[A-Z_]+$/.test(target);
}

export function splitWords(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

function report(st: State, line: number, col: number, message: string, hint?: string, severity: "error" | "warning" = "error", length?: number): void {
  const d: Diagnostic = { severity, file: st.mk.file, line, col, message, source: st.mk.source };
  if (hint) d.hint = hint;
  if (length) d.length = length;
  st.mk.diagnostics.push(d);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** `Makefile:12: message (hint)`, make's own style (the report module prints the full form). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.message}${d.hint ? ` (${d.hint})` : ""}`;
}
