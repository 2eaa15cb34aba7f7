/** Prints a diagnostic as `file:line:col: severity: message`, the line, and the bad part marked. */
import path from "node:path";
import type { Diagnostic } from "../model/diagnostic.js";

export function formatDiagnostic(d: Diagnostic, cwd = process.cwd()): string {
  const rel = path.isAbsolute(d.file) && d.file.startsWith(cwd + path.sep) ? path.relative(cwd, d.file) : d.file;
  const where = d.line ? `${rel}:${d.line}${d.col ? `:${d.col}` : ""}` : rel;
  const out = [`${where}: ${d.severity}: ${d.message}`];
  if (d.line && d.source !== undefined) {
    const text = d.source.split(/\r?\n/)[d.line - 1];
    if (text !== undefined) {
      const num = String(d.line);
      const pad = " ".repeat(num.length);
      out.push(` ${num} | ${text.replace(/\t/g, " ")}`);
      if (d.col) out.push(` ${pad} | ${" ".repeat(d.col - 1)}^${"~".repeat(Math.max(0, Math.min(d.length ?? 1, text.length - d.col + 1) - 1))}`);
    }
  }
  if (d.diff) out.push(d.diff.trimEnd().replace(/^/gm, "    "));
  if (d.hint) out.push(`  hint: ${d.hint}`);
  return out.join("\n");
}
