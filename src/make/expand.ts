/**
 * Make variables and `$(...)` expansion: the subset of GNU make that plugin Makefiles use.
 * Functions we cannot evaluate from the text (`$(foreach ...)`, `$(call ...)`) are kept as
 * written and reported, so the caller can refuse the line instead of translating a wrong guess.
 */

export type Flavor = "recursive" | "simple";
export type Origin = "default" | "file" | "command line" | "override";
export interface Variable {
  value: string;
  flavor: Flavor;
  origin: Origin;
}

export type AssignOp = "=" | ":=" | "::=" | "?=" | "+=" | "!=";

/** Variables by name, with make's precedence: command line beats the Makefile unless `override`. */
export class VariableTable {
  private readonly vars = new Map<string, Variable>();

  constructor(commandLine: Record<string, string> = {}, defaults: Record<string, string> = {}) {
    for (const [name, value] of Object.entries(defaults)) this.vars.set(name, { value, flavor: "simple", origin: "default" });
    for (const [name, value] of Object.entries(commandLine)) this.vars.set(name, { value, flavor: "simple", origin: "command line" });
  }

  get(name: string): Variable | undefined {
    return this.vars.get(name);
  }

  names(): string[] {
    return [...this.vars.keys()];
  }

  /** Applies `name op raw` from the Makefile; `expandNow` expands for the simple flavors. */
  assign(name: string, op: AssignOp, raw: string, expandNow: (text: string) => string, override = false): void {
    const old = this.vars.get(name);
    // A variable given on the command line (DESTDIR=...) wins over the Makefile, as in make.
    if (!override && (old?.origin === "command line" || old?.origin === "override")) return;
    const origin: Origin = override ? "override" : "file";
    if (op === "?=" && old !== undefined) return;
    if (op === "+=" && old !== undefined) {
      const extra = old.flavor === "simple" ? expandNow(raw) : raw;
      this.vars.set(name, { value: old.value === "" ? extra : `${old.value} ${extra}`, flavor: old.flavor, origin });
      return;
    }
    const simple = op === ":=" || op === "::=";
    this.vars.set(name, { value: simple ? expandNow(raw) : raw, flavor: simple ? "simple" : "recursive", origin });
  }
}

export interface ExpandContext {
  vars: VariableTable;
  /** Automatic variables of the rule being expanded ($@, $<, $^ ...). */
  automatic?: Record<string, string>;
  /** Problems met while expanding (unsupported function, self-reference). */
  issues: string[];
}

/** Expands `$(VAR)`, `${VAR}`, `$X`, `$$` and a few pure functions, recursively for `=` variables. */
export function expand(text: string, ctx: ExpandContext, stack: ReadonlySet<string> = new Set()): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== "$") {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === undefined) break; // a lone trailing '$' expands to nothing in make
    if (next === "$") {
      out += "$";
      i += 2;
    } else if (next === "(" || next === "{") {
      const end = matchingClose(text, i + 2, next);
      if (end < 0) {
        ctx.issues.push(`unterminated variable reference: ${text.slice(i)}`);
        return out + text.slice(i);
      }
      out += reference(text.slice(i + 2, end), text.slice(i, end + 1), ctx, stack);
      i = end + 1;
    } else {
      out += lookup(next, ctx, stack);
      i += 2;
    }
  }
  return out;
}

/** Index of the bracket closing the one opened just before `from`, or -1. */
export function matchingClose(text: string, from: number, open: string): number {
  const close = open === "(" ? ")" : "}";
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === open) depth++;
    else if (text[i] === close && --depth === 0) return i;
  }
  return -1;
}

const FUNCTIONS: Record<string, (args: string[]) => string> = {
  subst: ([from, to, s]) => s.split(from).join(to),
  strip: ([s]) => words(s).join(" "),
  addprefix: ([p, s]) =>
    words(s)
      .map((w) => p + w)
      .join(" "),
  addsuffix: ([p, s]) =>
    words(s)
      .map((w) => w + p)
      .join(" "),
  notdir: ([s]) =>
    words(s)
      .map((w) => w.slice(w.lastIndexOf("/") + 1))
      .join(" "),
  dir: ([s]) =>
    words(s)
      .map((w) => (w.includes("/") ? w.slice(0, w.lastIndexOf("/") + 1) : "./"))
      .join(" "),
  firstword: ([s]) => words(s)[0] ?? "",
  patsubst: ([pat, rep, s]) =>
    words(s)
      .map((w) => patsubst(pat, rep, w))
      .join(" "),
  // Handed to the shell instead: sh expands the same glob / runs the same command, in the same
  // folder, when the recipe runs (make does it a moment earlier, with the same result).
  wildcard: ([s]) => words(s).join(" "),
  shell: (args) => `$(${args.join(",")})`,
};

// Functions make has but we cannot evaluate from the text alone; named so the reason is precise.
const KNOWN_UNSUPPORTED: ReadonlySet<string> = new Set([
  "foreach",
  "call",
  "eval",
  "if",
  "or",
  "and",
  "origin",
  "value",
  "realpath",
  "abspath",
  "filter",
  "filter-out",
  "sort",
  "word",
  "words",
  "wordlist",
  "lastword",
  "suffix",
  "basename",
  "join",
  "findstring",
  "error",
  "warning",
  "info",
  "file",
  "flavor",
  "let",
  "intcmp",
]);

function reference(body: string, raw: string, ctx: ExpandContext, stack: ReadonlySet<string>): string {
  const fn = /^([a-z-]+)[ \t]/.exec(body);
  if (fn && (fn[1] in FUNCTIONS || KNOWN_UNSUPPORTED.has(fn[1]))) {
    const impl = FUNCTIONS[fn[1]];
    if (!impl) {
      ctx.issues.push(`uses the make function $(${fn[1]} ...)`);
      return raw;
    }
    const args = splitArgs(body.slice(fn[0].length)).map((a) => expand(a, ctx, stack));
    return impl(args);
  }
  const sub = substitutionRef(body);
  if (sub) {
    const value = lookup(expand(sub.name, ctx, stack), ctx, stack);
    return words(value)
      .map((w) => patsubst(sub.from.includes("%") ? sub.from : `%${sub.from}`, sub.to.includes("%") ? sub.to : `%${sub.to}`, w))
      .join(" ");
  }
  return lookup(expand(body, ctx, stack), ctx, stack);
}

function lookup(name: string, ctx: ExpandContext, stack: ReadonlySet<string>): string {
  const auto = ctx.automatic?.[name];
  if (auto !== undefined) return auto;
  const v = ctx.vars.get(name);
  if (!v) return ""; // undefined variables are empty, as in make
  if (v.flavor === "simple") return v.value;
  if (stack.has(name)) {
    ctx.issues.push(`recursive variable '${name}' references itself`);
    return "";
  }
  return expand(v.value, ctx, new Set([...stack, name]));
}

/** `VAR:from=to` (substitution reference), or null. */
function substitutionRef(body: string): { name: string; from: string; to: string } | null {
  const m = /^([^:=\s]+):([^=]*)=(.*)$/s.exec(body);
  return m ? { name: m[1], from: m[2], to: m[3] } : null;
}

function patsubst(pattern: string, replacement: string, word: string): string {
  const pct = pattern.indexOf("%");
  if (pct < 0) return word === pattern ? replacement : word;
  const [pre, post] = [pattern.slice(0, pct), pattern.slice(pct + 1)];
  if (!word.startsWith(pre) || !word.endsWith(post) || word.length < pre.length + post.length) return word;
  const stem = word.slice(pre.length, word.length - post.length);
  return replacement.replace("%", stem);
}

/** Splits function arguments at top-level commas (commas inside nested `$(...)` stay). */
function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of text) {
    if (c === "(" || c === "{") depth++;
    else if (c === ")" || c === "}") depth--;
    if (c === "," && depth === 0) {
      args.push(cur);
      cur = "";
    } else cur += c;
  }
  args.push(cur);
  return args;
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}
