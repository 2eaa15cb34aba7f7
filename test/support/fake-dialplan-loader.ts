// The reader behind test/support/fake-dialplan.ts: one pass over the files of extensions_extra.d,
// line by line, the way Asterisk 22's config.c and pbx_config.c take them (checked against the
// corpus recorded from a real Asterisk, test/fixtures/dialplan-corpus/).
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

export interface Priority {
  priority: number | "hint";
  app: string;
  data: string;
  source: string; // `file:line`, shown between brackets
}

export interface Context {
  extensions: Map<string, Priority[]>;
  includes: string[];
  /** extension + NUL + label → priority. */
  labels?: Map<string, number>;
  /** The last line added, which `same` and `n` continue after (+) or inheritance. */
  last?: { exten: string; priority: number };
}

/** Where the last load stopped on a syntax error (that file and all later ones were dropped). */
export interface SyntaxStop {
  file: string;
  line: number;
}

export const BASE_CONTEXT = "xivo-extrafeatures";

export class Loader {
  readonly contexts = new Map<string, Context>();
  private readonly templates = new Map<string, Context>();
  private current: Context;
  private lastExten: string | undefined;
  private lastPriority = 0;
  /**
   * Asterisk 22 does not restart line numbers for each file of a glob `#include`: a file's lines
   * are numbered after the previous file's newlines plus one (even for an empty file or one
   * without a final newline), as seen on the real 22.10.1: the second line of the file after a 4-line example.conf is line 7.
   */
  private lineBase = 0;
  /** Block comment depth, never reset between files (see `uncomment`). */
  private depth = 0;

  constructor(private readonly root?: string) {
    this.current = this.context(BASE_CONTEXT);
    this.addExten(this.current, "noop", "1", "NoOp(xivo-extrafeatures placeholder)", "extensions.conf:9");
  }

  context(name: string): Context {
    // pbx_config reads [general] and [globals] as settings, not as contexts.
    if (name === "general" || name === "globals") return { extensions: new Map(), includes: [] };
    let context = this.contexts.get(name);
    if (!context) this.contexts.set(name, (context = { extensions: new Map(), includes: [] }));
    return context;
  }

  /** Loads one file; returns where it stopped on a syntax error, if it did. */
  file(path: string): SyntaxStop | undefined {
    const name = basename(path);
    const content = readFileSync(path, "utf8");
    const lines = content.split(/\r?\n/);
    const base = this.lineBase;
    this.lineBase += content.split("\n").length;
    for (let i = 0; i < lines.length; i++) {
      if (Buffer.byteLength(lines[i]) >= 8190) continue; // "Line N too long, skipping"
      const text = this.uncomment(lines[i])
        .replace(/(^|[^\\]);.*$/, "$1")
        .trim();
      if (text === "") continue;
      if (text.startsWith("#")) {
        if (this.missingInclude(text)) return { file: name, line: i + 1 };
        continue; // #exec, and #include of a file that exists, are not simulated
      }
      if (!this.line(text, `${name}:${base + i + 1}`)) return { file: name, line: i + 1 };
    }
    return undefined;
  }

  /**
   * Drops `;-- ... --;` block comments. Their depth carries over to the next files, and a stray
   * `--;` makes it negative, hiding what follows: on a real 22.10.1 both drop the later files.
   */
  private uncomment(line: string): string {
    let out = "";
    let i = 0;
    for (;;) {
      const open = blockStart(line, i);
      const close = line.indexOf("--;", i);
      const opensFirst = open >= 0 && (close < 0 || open < close);
      if (!opensFirst && close < 0) return this.depth === 0 ? out + line.slice(i) : out;
      const at = opensFirst ? open : close;
      if (this.depth === 0) out += line.slice(i, at);
      this.depth += opensFirst ? 1 : -1;
      i = at + 3;
    }
  }

  /** `#include` of a file that does not exist stops Asterisk's reader (#tryinclude does not). */
  private missingInclude(text: string): boolean {
    const m = /^#include\s+["<]?([^">]+)[">]?$/i.exec(text);
    if (!m || !this.root || /[*?[]/.test(m[1])) return false;
    const target = m[1].startsWith("/") ? m[1] : `/etc/asterisk/${m[1]}`;
    return !existsSync(join(this.root, target));
  }

  /** One stripped line; false when config.c would stop reading here. */
  private line(text: string, source: string): boolean {
    if (text.startsWith("[")) return this.section(text);
    if (text.startsWith("\\") && (text.charCodeAt(1) || 0) < 33) return false; // "Invalid escape"
    const equals = text.indexOf("=");
    if (equals < 0) return true; // only a warning: "No '=' (equal sign) in line"
    const key = text.slice(0, equals).trim().toLowerCase();
    const value = text
      .slice(equals + 1)
      .replace(/^>/, "")
      .trim();
    if (key === "include") this.current.includes.push(value);
    // pbx_config compares only the first four letters of `same`.
    if (key !== "exten" && !key.startsWith("same")) return true;
    // The extension ends at the first ',' outside a [...] class (a pattern's class may hold commas).
    let cut = 0;
    for (let depth = 0; key === "exten" && cut < value.length && (value[cut] !== "," || depth > 0); cut++)
      depth += value[cut] === "[" ? 1 : value[cut] === "]" && depth > 0 ? -1 : 0;
    const parts = (key === "exten" ? value.slice(cut + 1) : value).split(",");
    // EXT/CALLERID stays one key: Asterisk lists it apart, as "'EXT' (CID match 'CALLERID')".
    const first = key === "exten" ? value.slice(0, cut).replace(/\s+/g, "") : this.lastExten;
    // An unclosed `[` in a pattern swallows the rest of the line: no priority, the line is skipped.
    if (first === undefined || first.lastIndexOf("[") > first.lastIndexOf("]")) return true;
    const exten = first;
    const priority = parts.shift()?.trim();
    // No application: Asterisk still adds the priority (it does nothing).
    const app = parts.join(",").trim();
    if (exten && priority !== undefined && priority !== "") this.addExten(this.current, exten, priority, app, source);
    return true;
  }

  /** `[name]` or `[name](options)`, parsed like config.c: false where it gives up. */
  private section(text: string): boolean {
    const close = text.indexOf("]");
    if (close < 0) return false; // "parse error: no closing ']'"
    const name = text.slice(1, close);
    let options: string[] = [];
    if (text[close + 1] === "(") {
      // Only right after ']' (other text after the header is ignored); options are not trimmed.
      const end = text.indexOf(")", close + 2);
      if (end < 0) return false; // "parse error: no closing ')'"
      options = text.slice(close + 2, end).split(",");
    }
    const existing = this.templates.get(name) ?? this.contexts.get(name);
    // `(+)` adds to a category read earlier and fails if there is none.
    if (options.some((o) => o.startsWith("+")) && !existing) return false;
    let target: Context;
    if (options.includes("!"))
      this.templates.set(name, (target = { extensions: new Map(), includes: [] })); // never a context
    else target = options.some((o) => o.startsWith("+")) && existing ? existing : this.context(name);
    for (const option of options.filter((o) => o !== "!" && !o.startsWith("+"))) {
      const base = this.templates.get(option) ?? this.contexts.get(option);
      if (!base) return false; // "Inheritance requested, but category '...' does not exist"
      for (const [exten, priorities] of base.extensions) for (const p of priorities) this.addPriority(target, exten, p);
      target.includes.push(...base.includes);
      if (base.last) target.last = { ...base.last };
    }
    this.current = target;
    // The copied lines come first, so `same`/`n` continue the last of them; (+) continues the
    // section's own last line (seen on a real 22.10.1).
    const continued = options.length > 0 && !(options.length === 1 && options[0] === "!") ? target.last : undefined;
    this.lastExten = continued?.exten;
    this.lastPriority = continued?.priority ?? 0;
    return true;
  }

  addExten(context: Context, exten: string, priorityText: string, app: string, source: string): void {
    const priority = this.priority(context, exten, priorityText);
    if (priority === undefined) return; // pbx_config: "Invalid priority/label", line skipped
    const open = app.indexOf("(");
    const close = app.lastIndexOf(")"); // none: "No closing parenthesis found?", loaded anyway
    const [name, data] = open >= 0 ? [app.slice(0, open), app.slice(open + 1, close > open ? close : undefined)] : app.split(/,(.*)/s);
    this.addPriority(context, exten, { priority, app: name.trim(), data: data ?? "", source });
    this.lastExten = exten;
    if (priority !== "hint") this.lastPriority = priority;
    if (priority !== "hint") context.last = { exten, priority };
  }

  /**
   * pbx_config's priority: `N`, `n`/`next` (last + 1), `s`/`same` (last), `hint`, or a label of
   * the same extension, then `+N`; `(label)` names it. Undefined when Asterisk skips the line.
   */
  private priority(context: Context, exten: string, text: string): number | "hint" | undefined {
    const labelled = /^([^(]*)\((.*)\)$/.exec(text.trim());
    const word = (labelled ? labelled[1] : text).trim();
    if (text.includes("(") && !labelled) return undefined; // "Label missing trailing ')'"
    if (word === "hint") return "hint";
    const plusAt = word.indexOf("+");
    const base = plusAt >= 0 ? word.slice(0, plusAt) : word;
    const plus = plusAt >= 0 ? Number(/^\d*/.exec(word.slice(plusAt + 1))![0] || 0) : 0;
    const labels = (context.labels ??= new Map());
    let value: number | undefined;
    if (base === "n" || base === "next") value = this.lastPriority > 0 ? this.lastPriority + 1 : undefined;
    else if (base === "s" || base === "same") value = this.lastPriority > 0 ? this.lastPriority : undefined;
    else if (/^\d/.test(base)) value = parseInt(base, 10);
    else value = labels.get(`${exten}\0${base}`);
    if (value === undefined || value + plus < 1) return undefined;
    if (labelled) labels.set(`${exten}\0${labelled[2]}`, value + plus);
    return value + plus;
  }

  private addPriority(context: Context, exten: string, priority: Priority): void {
    const list = context.extensions.get(exten) ?? [];
    if (list.some((p) => p.priority === priority.priority)) return; // "priority already in use"
    list.push(priority);
    context.extensions.set(exten, list);
  }
}

/** Where `;--` opens a block comment (`;---` is a plain comment), from `from`; -1 if nowhere. */
function blockStart(line: string, from: number): number {
  for (let at = line.indexOf(";--", from); at >= 0; at = line.indexOf(";--", at + 1)) if (line[at + 3] !== "-") return at;
  return -1;
}
