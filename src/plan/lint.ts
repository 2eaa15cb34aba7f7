/**
 * Lint before install: every file a plan puts under /etc/asterisk/extensions_extra.d/ (or that a
 * step marks `lint: dialplan`) is parsed before any change. Asterisk loads such a file up to its
 * first syntax error and silently drops the rest of it and every file after it, so an error
 * stops the run. The extensions each file provides are kept for the manifest and the checks
 * after each reload.
 */
import { readFile } from "node:fs/promises";
import { lintDialplanFile } from "../dialplan/lint.js";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { Expanded } from "./expand.js";

export const DIALPLAN_DIR = "/etc/asterisk/extensions_extra.d/";

export const isDialplanTarget = (target: string, lint?: string) => lint === "dialplan" || (lint !== "none" && target.startsWith(DIALPLAN_DIR));

/** Lints the dialplan files of `expanded` (in place: sets `extensions`); throws on errors. */
export async function lintDialplans(expanded: Expanded[], opts: { noLint?: boolean; emit: Emit }): Promise<void> {
  const errors: Diagnostic[] = [];
  for (const e of expanded) {
    e.extensions = [];
    for (const item of e.items) {
      if (item.kind !== "file" || !isDialplanTarget(item.target, item.lint)) continue;
      const result = await lintDialplanFile(item.source);
      for (const x of result.extensions) e.extensions.push({ context: x.context, extension: x.extension, file: item.target });
      if (opts.noLint) continue;
      const source = result.diagnostics.length ? await readFile(item.source, "utf8").catch(() => undefined) : undefined;
      for (const d of result.diagnostics) {
        const diag: Diagnostic = { ...d, source };
        if (d.severity === "error") errors.push(diag);
        else opts.emit({ type: "diagnostic", diagnostic: diag });
      }
    }
  }
  if (opts.noLint && expanded.some((e) => e.items.some((i) => i.kind === "file" && isDialplanTarget(i.target, i.lint))))
    opts.emit({ type: "warning", message: "--no-lint: dialplan files are not checked before install; a syntax error can unload other plugins' dialplan" });
  if (errors.length)
    throw invalid(
      `dialplan syntax error${errors.length > 1 ? "s" : ""}: refused before any change (Asterisk would not load the file as written; some errors silently unload every file after it in extensions_extra.d)`,
      errors,
      "fix the file; if this is a false alarm, pass --no-lint",
    );
}
