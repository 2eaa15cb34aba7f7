/**
 * Prints a diagnostic the way compilers do:
 *
 *     helloworld.conf:3:18: error: unbalanced parenthesis in application call
 *       3 | same = n,Playback(hello-world
 *         |                  ^~~~~~~~~~~~
 *         = hint: add the missing ')'
 *
 * Tabs before the marked part are copied so the marker lines up in a terminal. A file under
 * `cwd` (the command line's working folder, handed down) is named relative to it.
 */
import path from "node:path";
import type { Diagnostic } from "../model/diagnostic.js";
import { printable, printableLines } from "./escape.js";

type Printable = Pick<Diagnostic, "severity" | "file" | "line" | "col" | "length" | "message" | "hint" | "source" | "diff">;

export function formatDiagnostic(d: Printable, cwd: string): string {
  const rel = path.isAbsolute(d.file) && d.file.startsWith(cwd + path.sep) ? path.relative(cwd, d.file) : d.file;
  const where = printable(d.line ? `${rel}:${d.line}${d.col ? `:${d.col}` : ""}` : rel);
  const out = [`${where}: ${d.severity}: ${printableLines(d.message)}`];
  const gutter = " ".repeat(String(d.line ?? "").length);
  const source = d.line && d.source !== undefined ? sourceLine(d.source, d.line) : undefined;
  if (source !== undefined) {
    out.push(`  ${d.line} | ${printable(source)}`);
    if (d.col) out.push(`  ${gutter} | ${marker(source, d.col, d.length)}`);
  }
  if (d.diff) out.push(printableLines(d.diff.trimEnd()).replace(/^/gm, "    "));
  if (d.hint) out.push(`  ${gutter} = hint: ${printableLines(d.hint)}`);
  return out.join("\n");
}

function sourceLine(text: string, line: number): string | undefined {
  if (line < 1) return undefined;
  return text
    .replace(/^\uFEFF/, "")
    .split("\n")
    [line - 1]?.replace(/\r$/, "");
}

function marker(source: string, col: number, length = 1): string {
  const start = Math.min(Math.max(col, 1), source.length + 1) - 1;
  const pad = source.slice(0, start).replace(/[^\t]/g, " ");
  const width = Math.max(1, Math.min(length, source.length - start));
  return `${pad}^${"~".repeat(width - 1)}`;
}
