/**
 * GNU make conditionals (ifeq/ifneq/ifdef/ifndef/else/endif), evaluated while reading, as make
 * does: lines in a false branch are neither variables nor rules.
 */
import { expand, matchingClose, type ExpandContext } from "./expand.js";

export interface CondFrame {
  /** This branch is being read. */
  active: boolean;
  /** Some branch of this conditional was already true (later `else` branches are skipped). */
  taken: boolean;
  seenElse: boolean;
}

/** Updates the conditional stack for one directive line; report() gets syntax errors. */
export function evalConditional(line: string, conds: CondFrame[], ctx: ExpandContext, report: (message: string) => void): void {
  const keyword = line.split(/\s/, 1)[0];
  const rest = line.slice(keyword.length).trim();
  if (keyword === "endif") {
    if (!conds.pop()) report("extraneous 'endif'");
    return;
  }
  if (keyword === "else") {
    elseBranch(rest, conds, ctx, report);
    return;
  }
  // Inside a false branch nothing is evaluated: the nested conditional only needs to be balanced.
  const parentActive = conds.every((c) => c.active);
  const value = parentActive ? test(keyword, rest, ctx, report) : false;
  conds.push({ active: value, taken: value, seenElse: false });
}

function elseBranch(rest: string, conds: CondFrame[], ctx: ExpandContext, report: (message: string) => void): void {
  const top = conds.at(-1);
  if (!top) return report("extraneous 'else'");
  if (top.seenElse) return report("only one plain 'else' per conditional");
  const parentActive = conds.slice(0, -1).every((c) => c.active);
  if (rest === "") {
    top.active = !top.taken;
    top.taken = true;
    top.seenElse = true;
    return;
  }
  const keyword = rest.split(/\s/, 1)[0];
  const value = parentActive && !top.taken && test(keyword, rest.slice(keyword.length).trim(), ctx, report);
  top.active = value;
  top.taken ||= value;
}

function test(keyword: string, args: string, ctx: ExpandContext, report: (message: string) => void): boolean {
  if (keyword === "ifdef" || keyword === "ifndef") {
    // ifdef is true when the variable has a non-empty value (not expanded further), as in make.
    const v = ctx.vars.get(expand(args, ctx).trim());
    const defined = v !== undefined && v.value !== "";
    return keyword === "ifdef" ? defined : !defined;
  }
  if (keyword === "ifeq" || keyword === "ifneq") {
    const pair = eqArgs(args);
    if (!pair) {
      report(`malformed '${keyword}' arguments: ${args}`);
      return false;
    }
    const equal = expand(pair[0], ctx) === expand(pair[1], ctx);
    return keyword === "ifeq" ? equal : !equal;
  }
  report(`unknown conditional '${keyword}'`);
  return false;
}

/** `(a,b)`, `"a" "b"` or `'a' 'b'` → [a, b]. */
function eqArgs(args: string): [string, string] | null {
  if (args.startsWith("(")) {
    const end = matchingClose(args, 1, "(");
    if (end !== args.length - 1) return null;
    const inner = args.slice(1, end);
    const comma = topLevelComma(inner);
    return comma < 0 ? null : [inner.slice(0, comma).trim(), inner.slice(comma + 1).trim()];
  }
  const m = /^(["'])(.*?)\1\s+(["'])(.*?)\3$/.exec(args);
  return m ? [m[2], m[4]] : null;
}

function topLevelComma(text: string): number {
  let depth = 0;
  for (let k = 0; k < text.length; k++) {
    if (text[k] === "(" || text[k] === "{") depth++;
    else if (text[k] === ")" || text[k] === "}") depth--;
    else if (text[k] === "," && depth === 0) return k;
  }
  return -1;
}
