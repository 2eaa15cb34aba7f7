/**
 * Parser and linter for the config-file syntax of Asterisk dialplan files (extensions.conf and
 * the plugin files Wazo includes from extensions_extra.d/). It reads a file the way Asterisk 22's
 * main/config.c (the generic config reader) and pbx/pbx_config.c (which turns it into dialplan)
 * do, and reports what Asterisk would silently drop or misread.
 *
 * Why it matters: Wazo's extensions.conf ends with `#include extensions_extra.d/*`. When a line of
 * a plugin file stops config.c (unclosed `[`, unclosed `(` in section options, inheriting an
 * unknown template, an invalid `\` escape, a missing `#include` file), the reload still reports
 * success, but the rest of that file AND of every file sorted after it are dropped.
 *
 * Severities, decided by harm and checked against a real Asterisk 22.10.1 on a corpus of files
 * (test/fixtures/dialplan-corpus/, docs/dialplan-lint.md): `error` = Asterisk loses dialplan that
 * a line clearly meant to define (an exten/same/include line it drops, a priority it skips) or
 * dialplan of other files (the rest of the glob, another file's context); `warning` = Asterisk
 * ignores something (and logs it), but nothing intended is lost. What Asterisk loads silently as
 * written is not reported, even when it looks odd.
 *
 * What the parser knows, as Asterisk does:
 * - lines end at '\n' only; there is NO line continuation (a trailing '\' is kept as text: warned);
 *   lines of 8190 bytes or more are skipped; a leading UTF-8 BOM is ignored;
 * - `;` comments, `\;` literal semicolons, nested `;-- ... --;` block comments, including their
 *   traps (an unclosed one also hides later files; a stray `--;` hides the following lines);
 * - `[name]`, `[name](!)`, `[name](+)`, `[name](tpl1,tpl2)`, `[name](!,tpl)`; text after the header
 *   is ignored; options are not trimmed; [general] and [globals] are not contexts;
 * - `#include`, `#tryinclude`, `#exec` (quoted, `<...>` or bare argument) and unknown directives;
 * - `key = value`, `key => value`, `key += value`, a line without '=' (ignored by Asterisk), keys
 *   compared case-insensitively, `\` escaping a first character;
 * - `exten = EXT[/CALLERID],PRIORITY[(label)],APP(ARGS)` with patterns (`_X.`, `[...]` classes that
 *   may hold commas), `same = PRIORITY,APP(ARGS)`, priorities `N`, `n`/`next`, `s`/`same`,
 *   `hint`, `+N`, `(label)`, and a label of the same extension used as a priority; pbx_config's
 *   lastpri rules (`n` continues the previous line even across extensions; `n` after a hint is 0
 *   and skipped); priorities taken twice in this file;
 * - `include`, `switch`, `lswitch`, `eswitch`, `ignorepat`; any other key in a context is ignored;
 * - balance of `(...)`, `${...}`, `$[...]` and double quotes in application fields.
 *
 * Decided here: an exten/same/include line before any `[section]`. An included plugin file
 * continues the section the including file (or the previous plugin file) ended with, so such a
 * line lands in a context the plugin does not control: an error. Other keys there are ignored.
 *
 * What it does not do (Asterisk does):
 * - it does not follow `#include`/`#exec` itself: the caller passes what the other files define
 *   (DialplanContextInfo: sections read before, all contexts, which include files exist); without
 *   it, `(+)` targets and templates must be defined earlier in this file. Lines after an error are
 *   still checked as if Asterisk had read them;
 * - templates are expanded only for extension extraction and only from sections of this file;
 *   inherited lines are not re-checked for priority clashes;
 * - no variable substitution (`${GLOBAL}` in an extension name stays as written), no check that
 *   applications, contexts named by `include`/`Goto`, or switch modules exist, no check of
 *   application arguments beyond bracket balance, no pattern semantics beyond `_.`/`_!`;
 * - it does not parse AEL (extensions.ael) or Lua dialplans.
 */
import { handleExten, handleSame } from "./exten.js";
import { parseHeader } from "./header.js";
import { locate, splitLogicalLines } from "./lines.js";
import { enterSection, isKnownSection, newState, type ParserState, type Section } from "./state.js";
import { issue, type DialplanContextInfo, type DialplanDiagnostic, type DialplanParseResult, type Issue, type LogicalLine } from "./types.js";

export type { DialplanContext, DialplanContextInfo, DialplanDiagnostic, DialplanExtension, DialplanParseResult } from "./types.js";

const DROPS_TAIL = "the rest of this file and every later file in extensions_extra.d are dropped";
const DROPS_REST = `Asterisk stops reading here: ${DROPS_TAIL}`;

/** Parses one dialplan file's text; `file` is only used to label diagnostics. Pure. */
export function parseDialplan(text: string, file: string, context: DialplanContextInfo = {}): DialplanParseResult {
  const st = newState(file, context);
  const split = splitLogicalLines(text, file);
  st.diagnostics.push(...split.diagnostics);
  for (const line of split.lines) parseLine(st, line);
  for (const p of st.pendingIncludes) {
    if (isKnownSection(st, p.target)) continue;
    report(st, p.line, p.at, [
      issue(
        "warning",
        0,
        p.target.length,
        `include of '${p.target}', a context that no file of the dialplan defines`,
        'Asterisk includes nothing ("tries to include nonexistent context"); check the name',
      ),
    ]);
  }
  return { contexts: st.contexts, extensions: st.extensions, diagnostics: sortDiagnostics(st.diagnostics) };
}

function parseLine(st: ParserState, l: LogicalLine): void {
  if (l.text.endsWith("\\")) {
    report(st, l, 0, [
      issue("warning", l.text.length - 1, 1, "Asterisk has no line continuation: the '\\' is kept as text", "put the whole entry on one line"),
    ]);
  }
  if (l.text.startsWith("[")) parseSection(st, l);
  else if (l.text.startsWith("#")) parseDirective(st, l);
  else parseAssignment(st, l);
}

function report(st: ParserState, l: LogicalLine, base: number, found: Issue[]): void {
  for (const f of found) st.diagnostics.push(locate(st.file, l, base, f));
}

/**
 * An unknown parent or (+) target stops Asterisk. Whether a file read before this one defines it
 * is known only when the caller passed `sectionsBefore`; otherwise it is a warning.
 */
function parseSection(st: ParserState, l: LogicalLine): void {
  const { header, issues } = parseHeader(l.text);
  report(st, l, 0, issues);
  const sure = st.context.sectionsBefore !== undefined;
  const unknown = (index: number, length: number, message: string, fix: string) =>
    report(st, l, 0, [
      issue(
        sure ? "error" : "warning",
        index,
        length,
        message,
        sure ? `Asterisk stops reading here: ${DROPS_TAIL}; ${fix}` : `unless a file read before this one defines it, ${DROPS_REST}`,
      ),
    ]);
  for (const parent of header.inherits) {
    if (!isKnownSection(st, parent.name))
      unknown(parent.index, parent.name.length, `'${parent.name}' is not defined before this line`, `define [${parent.name}](!) earlier`);
  }
  if (header.append && !isKnownSection(st, header.name)) {
    unknown(1, header.name.length, `[${header.name}](+) adds to a section that is not defined before this line`, `write [${header.name}] without (+)`);
  }
  enterSection(st, header, l.line);
}

/** `#name argument`: the name runs to the first blank (any character below 33). */
function parseDirective(st: ParserState, l: LogicalLine): void {
  let end = 1;
  while (end < l.text.length && l.text.charCodeAt(end) > 32) end++;
  const name = l.text.slice(1, end).toLowerCase();
  const argument = l.text.slice(end).trim();
  const warn = (message: string, hint: string) => report(st, l, 0, [issue("warning", 0, l.text.length, message, hint)]);
  if (name !== "include" && name !== "tryinclude" && name !== "exec") {
    warn(`unknown directive '#${l.text.slice(1, end)}'`, "Asterisk ignores it; known ones are #include, #tryinclude and #exec");
  } else if (argument === "") {
    warn(`#${name} needs an argument`, "Asterisk ignores it");
  } else if (name === "include") {
    checkInclude(st, l, argument);
  } else if (name === "exec") {
    warn("#exec runs only when execincludes = yes in asterisk.conf", "otherwise Asterisk ignores it; a plugin should ship plain dialplan");
  }
}

/** `#include` of a missing file stops Asterisk (#tryinclude does not); a glob may match nothing. */
function checkInclude(st: ParserState, l: LogicalLine, argument: string): void {
  const exists = st.context.includeExists?.(argument);
  if (exists === undefined) {
    report(st, l, 0, [
      issue(
        "warning",
        0,
        l.text.length,
        "#include is not checked: where it points is unknown here",
        `if the file is missing when Asterisk loads the dialplan, ${DROPS_REST}; #tryinclude is safe`,
      ),
    ]);
  } else if (!exists) {
    report(st, l, 0, [
      issue(
        "error",
        0,
        l.text.length,
        `#include of ${argument}, which does not exist`,
        `${DROPS_REST}; use #tryinclude for a file that may be missing; relative paths start at /etc/asterisk`,
      ),
    ]);
  }
}

/** A `key = value` line, split as config.c does: at the first '=', '>' after it ignored. */
function parseAssignment(st: ParserState, l: LogicalLine): void {
  const text = l.text;
  const escaped = text.startsWith("\\");
  if (escaped && !(text.charCodeAt(1) >= 33)) {
    report(st, l, 0, [issue("error", 0, 2, "invalid escape: '\\' must be followed by a character at the start of a line", DROPS_REST)]);
    return;
  }
  const eq = text.indexOf("=", escaped ? 2 : 0);
  if (eq < 0) {
    report(st, l, 0, [
      issue(
        "warning",
        0,
        text.length,
        "line is not 'key = value'",
        "Asterisk ignores it (\"No '=' (equal sign)\"); every line must be [section], #directive, key = value or a ; comment",
      ),
    ]);
    return;
  }
  const key = text.slice(escaped ? 1 : 0, eq).trim();
  const valueStart = eq + (text[eq + 1] === ">" ? 2 : 1);
  const value = text.slice(valueStart).trim();
  const at = valueStart + (text.slice(valueStart).length - text.slice(valueStart).trimStart().length);
  if (!checkKey(st, l, key, eq)) return;
  const section = st.section;
  if (!section) {
    const dialplan = /^(exten|same|include)$/i.test(key) || /^same/i.test(key);
    const where = "an included file's first lines land in whatever context the including file (or the previous file of extensions_extra.d) ended with";
    if (dialplan) report(st, l, 0, [issue("error", 0, text.length, `'${key}' before any [context]`, `${where}; start with a [context] line`)]);
    else report(st, l, 0, [issue("warning", 0, key.length, `'${key}' before any [context]`, `${where}, where Asterisk ignores it as an unknown key`)]);
    return;
  }
  dispatch(st, l, section, key, value, at);
}

/** A key with blanks, quotes or brackets means the '=' found belongs to the value. */
function checkKey(st: ParserState, l: LogicalLine, key: string, eq: number): boolean {
  if (key === "") {
    report(st, l, 0, [issue("warning", 0, eq + 1, "missing key before '='", 'Asterisk ignores this line ("No variable name")')]);
    return false;
  }
  if (l.text[eq - 1] === "+") {
    report(st, l, 0, [
      issue("warning", 0, eq + 1, `'${key}=' appends this text to the previous '${key.slice(0, -1).trim()}' line's value`, "use '=' or '=>' for a new line"),
    ]);
    return false;
  }
  if (/[\s(),"'$]/.test(key)) {
    report(st, l, 0, [
      issue(
        "warning",
        0,
        l.text.length,
        "line is not 'key = value': the first '=' is inside the value",
        "Asterisk ignores it as an unknown key; a key such as 'exten' or 'same' and '=' or '=>' must come first",
      ),
    ]);
    return false;
  }
  return true;
}

function dispatch(st: ParserState, l: LogicalLine, section: Section, key: string, value: string, at: number): void {
  const name = key.toLowerCase();
  // In [general] and [globals], any key is a setting or a variable: Asterisk takes it silently.
  if (section.kind === "special") return;
  if (name.startsWith("same") && name !== "same") {
    report(st, l, 0, [issue("warning", 0, key.length, `'${key}' is read as 'same'`, "Asterisk compares only the first 4 letters; write 'same'")]);
  }
  if (name === "exten") handleExten(st, l, section, value, at);
  else if (name.startsWith("same")) handleSame(st, l, section, value, at);
  else if (name === "include") checkContextInclude(st, l, value, at);
  else if (name === "ignorepat") requireValue(st, l, name, value);
  else if (name === "switch" || name === "lswitch" || name === "eswitch") checkSwitch(st, l, name, value, at);
  else {
    report(st, l, 0, [
      issue(
        "warning",
        0,
        key.length,
        `unknown key '${key}' in a context`,
        "Asterisk ignores it; known keys are exten, same, include, switch, lswitch, eswitch and ignorepat",
      ),
    ]);
  }
}

/** `include => ctx[,timing]`: Asterisk warns when no context of that name exists once loaded. */
function checkContextInclude(st: ParserState, l: LogicalLine, value: string, at: number): void {
  if (!requireValue(st, l, "include", value)) return;
  const target = value.split(/[,|]/)[0].trim();
  const known = st.context.contexts;
  if (!known || known.has(target) || isKnownSection(st, target) || target.includes("$")) return;
  // Defined later in this file also counts: the check runs after the whole dialplan loaded.
  st.pendingIncludes.push({ line: l, target, at });
}

function requireValue(st: ParserState, l: LogicalLine, name: string, value: string): boolean {
  if (value !== "") return true;
  report(st, l, 0, [issue("warning", 0, l.text.length, `${name} without a value`, "Asterisk cannot use it and ignores it")]);
  return false;
}

function checkSwitch(st: ParserState, l: LogicalLine, name: string, value: string, at: number): void {
  if (requireValue(st, l, name, value) && !value.includes("/")) {
    report(st, l, at, [issue("warning", 0, value.length, `${name} '${value}' has no '/': expected Module/data`, "e.g. switch => Realtime/context@family")]);
  }
}

function sortDiagnostics(diagnostics: DialplanDiagnostic[]): DialplanDiagnostic[] {
  return diagnostics
    .map((d, order) => ({ d, order }))
    .sort((a, b) => a.d.line - b.d.line || a.d.col - b.d.col || a.order - b.order)
    .map(({ d }) => d);
}
