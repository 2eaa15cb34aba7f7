// The dialplan the fake AMI server has "loaded", read from a staging root the way Asterisk 22
// reads Wazo's extensions.conf (see shared/ami/dialplan-facts.md): the recorded
// `[xivo-extrafeatures]` with `noop`, then every file of etc/asterisk/extensions_extra.d/ in
// glob(3) order. A line that stops main/config.c (see `section()` and `line()`) silently drops
// the rest of that file and of every later file, and the reload is still reported as a success.
// Lines that only draw a warning from Asterisk (no '=', an unclosed parenthesis in an
// application) are handled as Asterisk handles them: ignored, or loaded as they are.
// `;-- --;` block comments and a missing `#include` file are simulated; `#exec` and the content of
// an `#include`d file are not. test/asterisk/fake-ami-recorded.test.ts holds it to the corpus
// recorded from a real Asterisk (test/fixtures/dialplan-corpus/).
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";

interface Priority {
  priority: number | "hint";
  app: string;
  data: string;
  source: string; // `file:line`, shown between brackets
}

interface Context {
  extensions: Map<string, Priority[]>;
  includes: string[];
  /** extension + NUL + label → priority. */
  labels?: Map<string, number>;
  /** The last line added, which `same` and `n` continue after (+) or inheritance. */
  last?: { exten: string; priority: number };
}

export interface FakeDialplanOptions {
  /** Staging root: files are read from `<root>/etc/asterisk/extensions_extra.d/`. */
  root?: string;
  /** Extensions loaded after the files: context → extension names. */
  extraExtensions?: Record<string, string[]>;
  /**
   * How the folder is included. `#include` in extensions.conf itself: an empty or missing folder
   * makes the whole extensions.conf fail (the Reload answers `An unknown error occurred`, the
   * previous dialplan stays). `#tryinclude` tolerates it. `nested` is Wazo's layout
   * (extensions.conf → extensions.d/* → 01-wazo.conf → `#include extensions_extra.d/*`): an empty
   * folder only logs an ERROR and the rest loads (both seen on a real 22.10.1). By default, read
   * from the root's extensions.conf; without one, Wazo's layout.
   */
  extraInclude?: "#include" | "#tryinclude" | "nested";
}

/** How the root's extensions.conf includes extensions_extra.d (see `extraInclude`). */
function includeMode(root: string): "#include" | "#tryinclude" | "nested" {
  let text: string;
  try {
    text = readFileSync(join(root, "etc/asterisk/extensions.conf"), "utf8");
  } catch {
    return "nested";
  }
  const m = /^#(include|tryinclude)\s+["<]?(?:\/etc\/asterisk\/)?extensions_extra\.d\//m.exec(text);
  return m ? (m[1] === "include" ? "#include" : "#tryinclude") : "nested";
}

/** Where the last load stopped on a syntax error (that file and all later ones were dropped). */
export interface SyntaxStop {
  file: string;
  line: number;
}

const BASE_CONTEXT = "xivo-extrafeatures";

/** Asterisk's extension match: exact, or a `_` pattern with X, Z, N, [..], `.` and `!`. */
export function extensionMatches(pattern: string, exten: string): boolean {
  if (!pattern.startsWith("_")) return pattern === exten;
  const classes: Record<string, string> = { X: "[0-9]", Z: "[1-9]", N: "[2-9]", ".": ".+", "!": ".*" };
  let source = "";
  for (let i = 1; i < pattern.length; i++) {
    const c = pattern[i];
    const end = c === "[" ? pattern.indexOf("]", i) : -1;
    if (end > i) {
      source += `[${pattern.slice(i + 1, end).replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else {
      source += classes[c.toUpperCase()] ?? c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}$`).test(exten);
}

class Loader {
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
      const text = this.uncomment(lines[i]).replace(/(^|[^\\]);.*$/, "$1").trim();
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
    const value = text.slice(equals + 1).replace(/^>/, "").trim();
    if (key === "include") this.current.includes.push(value);
    // pbx_config compares only the first four letters of `same`.
    if (key !== "exten" && !key.startsWith("same")) return true;
    // The extension ends at the first ',' outside a [...] class (a pattern's class may hold commas).
    let cut = 0;
    for (let depth = 0; key === "exten" && cut < value.length && (value[cut] !== "," || depth > 0); cut++) depth += value[cut] === "[" ? 1 : value[cut] === "]" && depth > 0 ? -1 : 0;
    const parts = (key === "exten" ? value.slice(cut + 1) : value).split(",");
    // EXT/CALLERID stays one key: Asterisk lists it apart, as "'EXT' (CID match 'CALLERID')".
    const first = key === "exten" ? value.slice(0, cut).replace(/\s+/g, "") : this.lastExten;
    // An unclosed `[` in a pattern swallows the rest of the line: no priority, the line is skipped.
    if (first === undefined || (first.lastIndexOf("[") > first.lastIndexOf("]"))) return true;
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
    if (options.includes("!")) this.templates.set(name, (target = { extensions: new Map(), includes: [] })); // never a context
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

function pad(text: string, width: number): string {
  return text.padEnd(width, " ");
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export class FakeDialplan {
  private contexts: Map<string, Context>;
  /** Set when the last successful load stopped on a syntax error. */
  lastStop: SyntaxStop | undefined;

  constructor(private readonly options: FakeDialplanOptions = {}) {
    // At start-up an unloadable folder falls back to the base dialplan, as if it was loaded before.
    this.contexts = this.load() ?? this.load(false)!;
  }

  /** Re-reads the files (Reload pbx_config); false when extensions.conf cannot load (old dialplan kept). */
  reload(): boolean {
    const contexts = this.load();
    if (contexts) this.contexts = contexts;
    return contexts !== undefined;
  }

  private load(readFiles = true): Map<string, Context> | undefined {
    const loader = new Loader(this.options.root);
    this.lastStop = undefined;
    if (readFiles && this.options.root) {
      const dir = join(this.options.root, "etc/asterisk/extensions_extra.d");
      let names: string[] = [];
      try {
        // glob(3) `*`: no dot files, sorted by byte value.
        names = readdirSync(dir).filter((n) => !n.startsWith(".") && statSync(join(dir, n)).isFile()).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      } catch {
        names = [];
      }
      if (names.length === 0 && (this.options.extraInclude ?? includeMode(this.options.root)) === "#include") return undefined;
      for (const name of names) {
        this.lastStop = loader.file(join(dir, name));
        if (this.lastStop) break;
      }
    }
    for (const [context, extensions] of Object.entries(this.options.extraExtensions ?? {})) {
      for (const exten of extensions) loader.addExten(loader.context(context), exten, "1", "NoOp(extra)", "pbx_config");
    }
    return loader.contexts;
  }

  /** Whether `exten` (or a pattern matching it) is in `context` or a context it includes. */
  has(exten: string, context: string): boolean {
    return this.show(`${exten}@${context}`).ok;
  }

  /** The text of `dialplan show [EXT@]CONTEXT`; `ok: false` when Asterisk reports a failure. */
  show(argument?: string): { ok: boolean; lines: string[] } {
    const at = argument?.indexOf("@") ?? -1;
    const exten = argument !== undefined && at >= 0 ? argument.slice(0, at) : undefined;
    const only = argument !== undefined ? (at >= 0 ? argument.slice(at + 1) : argument) : undefined;
    if (only && !this.contexts.has(only)) return { ok: false, lines: [`There is no existence of '${only}' context`] };
    const lines: string[] = [];
    const counts = { extensions: 0, priorities: 0, contexts: 0 };
    const visit = (name: string, included: boolean, seen: Set<string>) => {
      const context = this.contexts.get(name);
      if (!context || seen.has(name)) return;
      seen.add(name);
      const block: string[] = [];
      for (const [ext, priorities] of context.extensions) {
        if (exten !== undefined && !extensionMatches(ext.split("/")[0], exten)) continue;
        counts.extensions++;
        priorities.forEach((p, i) => {
          counts.priorities++;
          const what = p.priority === "hint" ? `hint: ${p.data}` : `${p.priority}. ${p.app}(${p.data})`;
          const [name, cid] = ext.split("/");
          const head = cid === undefined ? `'${name}' =>` : `'${name}' (CID match '${cid}') =>`;
          block.push(`  ${pad(i === 0 ? head : "", 17)} ${pad(what, 45)} [${p.source}]`);
        });
      }
      if (exten === undefined) for (const inc of context.includes) block.push(`  Include =>        ${pad(`'${inc}'`, 45)} [pbx_config]`);
      if (block.length > 0) {
        counts.contexts++;
        lines.push(`[ ${included ? "Included context" : "Context"} '${name}' created by 'pbx_config' ]`, ...block, "");
      }
      if (exten !== undefined) for (const inc of context.includes) visit(inc, true, seen);
    };
    for (const name of only ? [only] : this.contexts.keys()) visit(name, false, new Set());
    if (exten !== undefined && counts.extensions === 0) {
      return { ok: false, lines: [`There is no existence of ${exten}@${only ?? ""} extension`] };
    }
    lines.push(`-= ${plural(counts.extensions, "extension", "extensions")} (${plural(counts.priorities, "priority", "priorities")}) in ${plural(counts.contexts, "context", "contexts")}. =-`);
    return { ok: true, lines };
  }
}
