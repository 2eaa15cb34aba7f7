/**
 * The comma fields of `exten = EXT,PRIORITY,APP(ARGS)`, split and read as pbx/pbx_config.c
 * (pbx_load_config) does. Pure syntax: what a priority means in context is resolved in exten.ts.
 */
import { issue, type Issue } from "./types.js";

/**
 * pbx_strsep: the extension ends at the first ',' that is not inside [...] (a pattern's character
 * class may hold commas) and not escaped by '\'. `openBracket` is the '[' never closed, if any,
 * in which case Asterisk reads the whole value as the extension.
 */
export function splitExtension(value: string): { comma: number; openBracket: number } {
  let depth = 0;
  let openBracket = -1;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "[") {
      if (depth++ === 0) openBracket = i;
    } else if (c === "]") {
      if (depth > 0) depth--;
    } else if (c === "\\") {
      i++;
    } else if (c === "," && depth === 0) {
      return { comma: i, openBracket: -1 };
    }
  }
  return { comma: -1, openBracket: depth > 0 ? openBracket : -1 };
}

export type PriorityBase = { kind: "number"; value: number } | { kind: "next" } | { kind: "same" } | { kind: "hint" } | { kind: "label"; name: string };

export interface Priority {
  base: PriorityBase;
  label?: string;
  plus: number;
  /** Index in the field where the priority text starts (after blanks), for messages. */
  index: number;
  text: string;
}

/**
 * A priority: `1`, `n`/`next`, `s`/`same`, `hint`, or a label of the same extension, then an
 * optional `+N`, with an optional `(label)` to name it. Asterisk compares these words exactly
 * (case matters, no blanks inside), and reads numbers with sscanf("%d"), so "2x" is 2.
 */
export function parsePriority(field: string): { priority?: Priority; issues: Issue[] } {
  const index = field.length - field.trimStart().length;
  const text = field.trim();
  const issues: Issue[] = [];
  let word = text;
  let label: string | undefined;
  const open = text.indexOf("(");
  if (open >= 0) {
    const close = text.indexOf(")", open);
    if (close < 0) {
      return { issues: [issue("error", index + open, text.length - open, "priority label is missing its ')'", "Asterisk skips this line; write n(label)")] };
    }
    label = text.slice(open + 1, close);
    word = text.slice(0, open);
  }
  let plus = 0;
  const plusAt = word.indexOf("+");
  if (plusAt >= 0) {
    const digits = word.slice(plusAt + 1);
    // pbx_config reads the offset with sscanf("%d"): what is not a number there is ignored.
    const read = /^\d*/.exec(digits)![0];
    if (read !== digits) {
      issues.push(
        issue(
          "warning",
          index + plusAt,
          digits.length + 1,
          `'+${digits}' in priority '${text}' is read as ${read === "" ? "nothing" : `+${read}`}`,
          "write n+2 or 1+2",
        ),
      );
    }
    plus = Number(read || 0);
    word = word.slice(0, plusAt);
  }
  const base = readBase(word, index, issues);
  if (base === null) return { issues };
  const priority: Priority = { base, plus, index, text };
  if (label !== undefined) priority.label = label;
  return { priority, issues };
}

function readBase(word: string, index: number, issues: Issue[]): PriorityBase | null {
  if (word === "hint") return { kind: "hint" };
  if (word === "n" || word === "next") return { kind: "next" };
  if (word === "s" || word === "same") return { kind: "same" };
  const number = /^\s*([+-]?\d+)/.exec(word);
  if (number) {
    if (number[0].length < word.length) {
      issues.push(issue("warning", index, word.length, `priority '${word}' is read as ${Number(number[1])}`, "write only the number"));
    }
    return { kind: "number", value: Number(number[1]) };
  }
  if (word === "") {
    issues.push(issue("error", index, 1, "missing priority", "write a number, n, hint or n(label)"));
    return null;
  }
  return { kind: "label", name: word };
}

const DYNAMIC = /\$[{[]/;

/**
 * The application field. pbx_config.c: the name is the text before the first '(' (unless it holds
 * `${`/`$[`: then the whole field is the application, with no arguments), the arguments run to
 * the LAST ')', and what follows that ')' is dropped.
 */
export function checkApplication(app: string, hint: boolean): Issue[] {
  const found: Issue[] = [];
  const open = app.indexOf("(");
  if (!hint && open >= 0 && app.lastIndexOf(")") < open) {
    // Asterisk loads it with the arguments up to the end of the line, and logs the warning.
    found.push(
      issue(
        "warning",
        open,
        app.length - open,
        "unbalanced parenthesis in application call: no closing ')'",
        "Asterisk warns \"No closing parenthesis found?\" and takes the rest of the line as the arguments; add the missing ')'",
      ),
    );
  }
  if (hint) return found;
  const head = open < 0 ? app.trimEnd() : app.slice(0, open);
  if (DYNAMIC.test(head)) return found;
  const lead = head.length - head.trimStart().length;
  const name = head.slice(lead);
  if (/\s$/.test(name) && name.trim() !== "") {
    found.push(
      issue(
        "warning",
        lead,
        name.length,
        `space between the application name '${name.trim()}' and '(' becomes part of the name`,
        "remove the space: Asterisk will not find the application",
      ),
    );
  } else if (!/^[A-Za-z0-9_]+$/.test(name)) {
    found.push(
      issue("warning", lead, Math.max(name.length, 1), `'${name}' is not a valid application name`, "write App(arguments), e.g. Playback(hello-world)"),
    );
  }
  const close = app.lastIndexOf(")");
  const tail = close > open ? app.slice(close + 1) : "";
  if (open >= 0 && tail.trim() !== "") {
    const at = close + 1 + (tail.length - tail.trimStart().length);
    found.push(issue("warning", at, tail.trim().length, "text after the application's closing ')' is ignored"));
  }
  return found;
}
