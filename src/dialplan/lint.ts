/**
 * Lints one dialplan file on disk (report/diagnostic.ts prints the diagnostics).
 * The only impure function here is lintDialplanFile's read; everything else is pure.
 */
import { basename, dirname } from "node:path";
import { positionOf } from "../model/diagnostic.js";
import { readRegularFileSync } from "../util/read-limited.js";
import { decodeDialplan, splitLogicalLines } from "./lines.js";
import { parseDialplan } from "./parse.js";
import type { DialplanContextInfo, DialplanDiagnostic, DialplanExtension } from "./types.js";

export interface DialplanLintResult {
  diagnostics: DialplanDiagnostic[];
  extensions: DialplanExtension[];
}

export interface DialplanLintOptions {
  /** Where Asterisk reads the file, e.g. /etc/asterisk/extensions_extra.d/spy.conf (its name matters). */
  target?: string;
  /** What the files Asterisk reads before this one define, and where #include paths resolve. */
  context?: DialplanContextInfo;
}

/**
 * Reads `path` and parses it; `path` is also the file name shown in diagnostics.
 * A file Asterisk reads as dialplan though it is not one (a script, a README) gets ONE warning
 * instead of a warning per line: Asterisk ignores its lines, so it is not refused, but only its
 * errors (lines that would unload dialplan) are reported besides.
 * Rejects only when the file cannot be read.
 */
export async function lintDialplanFile(path: string, opts: DialplanLintOptions = {}): Promise<DialplanLintResult> {
  const text = decodeDialplan(readRegularFileSync(path));
  const parsed = parseDialplan(text, path, opts.context);
  const nul = nulDiagnostic(path, text);
  const diagnostics = nul ? [nul, ...parsed.diagnostics] : parsed.diagnostics;
  const notDialplan = notDialplanReason(text, opts.target ?? path);
  if (!notDialplan) return { diagnostics, extensions: parsed.extensions };
  const name = basename(opts.target ?? path);
  const warning: DialplanDiagnostic = {
    file: path,
    line: 1,
    col: 1,
    severity: "warning",
    message: `${name} is not a dialplan file (${notDialplan}), but Asterisk reads it as one: it will ignore its lines`,
    hint: `${dirname(opts.target ?? "/etc/asterisk/extensions_extra.d/x")}/ is included with a glob that matches every file; move ${name} out of extensions_extra.d (an AGI script belongs in /var/lib/asterisk/agi-bin/)`,
  };
  return { diagnostics: [warning, ...diagnostics.filter((d) => d.severity === "error")], extensions: parsed.extensions };
}

/** Why a file is not dialplan, or undefined when it is (or is only comments and blanks). */
export function notDialplanReason(text: string, target: string): string | undefined {
  const firstLine = text.replace(/^\uFEFF/, "").split("\n", 1)[0];
  if (firstLine.startsWith("#!")) return "it starts with '#!'";
  if (!basename(target).endsWith(".conf")) return "its name does not end in .conf";
  const meaningful = splitLogicalLines(text, target)
    .lines.map((l) => l.text)
    .filter((l) => !l.startsWith("#"));
  if (meaningful.length > 0 && !meaningful.some((l) => l.startsWith("["))) return "it has no [context]";
  return undefined;
}

/** A NUL ends the line for Asterisk: harmless in a comment, text after it is ignored. */
function nulDiagnostic(file: string, text: string): DialplanDiagnostic | null {
  for (let at = text.indexOf("\0"); at >= 0; at = text.indexOf("\0", at + 1)) {
    const lineEnd = text.indexOf("\n", at);
    const lineStart = text.lastIndexOf("\n", at) + 1;
    const before = text.slice(lineStart, at);
    const after = text
      .slice(at + 1, lineEnd < 0 ? undefined : lineEnd)
      .replace(/(^|[^\\]);.*$/, "$1")
      .replace(/\0/g, "")
      .trim();
    if (/(^|[^\\]);/.test(before) || after === "") continue;
    const { line, col } = positionOf(text, at);
    return {
      file,
      line,
      col,
      length: 1,
      severity: "warning",
      message: "a NUL byte ends this line for Asterisk: the text after it is ignored",
      hint: "the file is probably binary or mis-encoded (UTF-16?); remove the byte",
    };
  }
  return null;
}
