/**
 * `exten` and `same` lines: fields, priority resolution and clashes, as pbx_load_config in
 * pbx/pbx_config.c does them. Where Asterisk skips a line (bad priority, `same` with nothing to
 * continue, a priority already taken) the parser reports an error and records nothing, so the
 * extension list matches what Asterisk loads from the file.
 */
import { checkApplication, parsePriority, splitExtension, type Priority } from "./fields.js";
import { locate } from "./lines.js";
import { HINT_PRIORITY, NO_PRIORITY, recordExtension, tableOf, type ParserState, type Section } from "./state.js";
import { issue, type Issue, type LogicalLine } from "./types.js";
import { unreachable } from "../util/unreachable.js";

const FIELDS_HINT = "write exten = EXTENSION,PRIORITY,Application(arguments), e.g. exten = 1234,1,NoOp()";

/** Where a value sits in its line, to report issues found in it. */
interface Place {
  st: ParserState;
  line: LogicalLine;
  section: Section;
}

function report(p: Place, base: number, found: Issue[]): void {
  for (const f of found) p.st.diagnostics.push(locate(p.st.file, p.line, base, f));
}

export function handleExten(st: ParserState, line: LogicalLine, section: Section, value: string, at: number): void {
  const p: Place = { st, line, section };
  const { comma, openBracket } = splitExtension(value);
  if (openBracket >= 0) {
    report(p, at, [
      issue(
        "error",
        openBracket,
        value.length - openBracket,
        "unbalanced '[' in extension pattern",
        "close the character class with ']'; Asterisk reads the whole line as the extension",
      ),
    ]);
    return;
  }
  const field = comma < 0 ? value : value.slice(0, comma);
  // pbx_config sets lastextension before it checks the priority: `same` continues even a bad line.
  section.lastExten = field;
  if (comma < 0) {
    report(p, at, [issue("error", 0, value.length, "exten needs 3 comma-separated fields: extension, priority, application", FIELDS_HINT)]);
    return;
  }
  const extension = extensionName(field);
  if (extension === "") {
    report(p, at, [issue("error", 0, Math.max(comma, 1), "empty extension", FIELDS_HINT)]);
    return;
  }
  report(p, at, patternIssues(extension, field.length - field.trimStart().length));
  addPriority(p, "exten", field, value.slice(comma + 1), at + comma + 1);
}

export function handleSame(st: ParserState, line: LogicalLine, section: Section, value: string, at: number): void {
  const p: Place = { st, line, section };
  if (section.lastExten === null) {
    const hint = section.continued
      ? "after (+) or inheritance it would continue whatever extension came last; start with exten = EXT,1,..."
      : "Asterisk skips this line; start the context with exten = EXT,1,...";
    report(p, at, [issue("error", 0, value.length, "'same' before any 'exten' in this context", hint)]);
    return;
  }
  addPriority(p, "same", section.lastExten, value, at);
}

/** The extension as `dialplan show` names it: before any '/callerid' part, without blanks. */
function extensionName(field: string): string {
  return field.split("/")[0].replace(/\s+/g, "");
}

function patternIssues(extension: string, index: number): Issue[] {
  if (extension === "_." || extension === "_!") {
    return [
      issue(
        "warning",
        index,
        extension.length,
        `'${extension}' matches every extension, including h, i and t`,
        `Asterisk loads it but warns that it "can have unexpected behavior"; use '_X${extension[1]}'`,
      ),
    ];
  }
  return [];
}

/** Reads `PRIORITY,APP` (the rest after the extension for exten; the whole value for same). */
function addPriority(p: Place, kind: "exten" | "same", field: string, rest: string, at: number): void {
  const comma = rest.indexOf(",");
  const parsed = parsePriority(comma < 0 ? rest : rest.slice(0, comma));
  report(p, at, parsed.issues);
  if (!parsed.priority) return;
  const key = `${p.section.name}\0${field.trim()}`;
  const priority = resolvePriority(p, key, parsed.priority, at);
  if (priority === undefined) return;
  const app = comma < 0 ? "" : rest.slice(comma + 1);
  if (app.trim() === "") {
    // Asterisk adds the priority with no application, silently; it does nothing when reached.
    const message =
      kind === "exten"
        ? "exten has no application: Asterisk adds a priority that does nothing"
        : "same has no application: Asterisk adds a priority that does nothing";
    report(p, at, [issue("warning", 0, rest.length, message, FIELDS_HINT)]);
  } else {
    reportApplication(p, app, at + comma + 1, parsed.priority.base.kind === "hint");
  }
  if (!claim(p, key, priority, parsed.priority, kind, at)) return;
  recordExtension(p.st, extensionName(field), p.line.line);
}

function reportApplication(p: Place, app: string, at: number, hint: boolean): void {
  const found = checkApplication(app, hint);
  const commentCol = p.line.commentCol;
  for (const f of found) {
    if (commentCol !== undefined && f.message.startsWith("unbalanced") && f.hint !== undefined) {
      f.hint += `; the ';' at column ${commentCol} starts a comment: write '\\;' for a literal semicolon`;
    }
  }
  report(p, at, found);
}

/**
 * The number Asterisk gives the line: undefined when it skips the line, null when it depends on
 * lines outside this file. Updates lastpri as pbx_config does.
 */
function resolvePriority(p: Place, key: string, pr: Priority, at: number): number | null | undefined {
  const fail = (message: string, hint: string) => {
    report(p, at, [issue("error", pr.index, pr.text.length, message, hint)]);
    return undefined;
  };
  const last = p.section.lastPri;
  let value: number | null;
  switch (pr.base.kind) {
    case "hint":
      value = HINT_PRIORITY;
      break;
    case "number":
      if (pr.base.value < 1) return fail(`invalid priority ${pr.base.value}: priorities start at 1`, "Asterisk skips this line");
      value = pr.base.value;
      break;
    case "next":
    case "same":
      if (last === NO_PRIORITY && !p.section.continued) {
        return fail(`'${pr.text}' on the first line of the context: there is no previous priority`, "Asterisk skips this line; use 1");
      }
      value = last === null || last === NO_PRIORITY ? null : last + (pr.base.kind === "next" ? 1 : 0);
      break;
    case "label": {
      const known = p.st.labels.get(key)?.get(pr.base.name);
      if (known === undefined) {
        return fail(`invalid priority '${pr.text}'`, "use a number, n, s, hint, n+N, n(label), or a label defined earlier for this extension");
      }
      value = known;
      break;
    }
    default:
      unreachable(pr.base);
  }
  if (value === 0) {
    return fail(`'${pr.text}' right after a hint gives priority 0`, "Asterisk silently skips this line; use 1 for the first priority after a hint");
  }
  if (value !== null && pr.plus !== 0) value += pr.plus;
  p.section.lastPri = value;
  return value;
}

/** Takes the priority for the extension; false when an earlier line of this file already has it. */
function claim(p: Place, key: string, priority: number | null, pr: Priority, kind: "exten" | "same", at: number): boolean {
  const taken = tableOf(p.st.priorities, key);
  if (pr.label !== undefined) tableOf(p.st.labels, key).set(pr.label, priority);
  if (priority === null) return true;
  const name = priority === HINT_PRIORITY ? "hint" : `priority ${priority}`;
  const earlier = taken.get(priority);
  if (earlier !== undefined) {
    report(p, at, [
      issue(
        "error",
        pr.index,
        pr.text.length,
        `${name} of this extension is already defined at line ${earlier}`,
        "Asterisk keeps the first and ignores this line",
      ),
    ]);
    return false;
  }
  taken.set(priority, p.line.line);
  return true;
}
