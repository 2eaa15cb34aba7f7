/**
 * Lint before install: every file a plan writes where Asterisk reads dialplan (a file of the
 * include chain that starts at the root's extensions.conf, see src/dialplan/chain.ts; or a step
 * marked `lint: dialplan`) is parsed before any change, knowing what the files read before it
 * define. An error (Asterisk would lose dialplan that a line means to define, or other files'
 * dialplan) stops the run; warnings are shown. The extensions each file provides are kept for the
 * manifest and the checks after each reload.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { contextAround, EXTENSIONS_CONF, readDialplanChain, wouldRead, type DialplanChain } from "../dialplan/chain.js";
import { lintDialplanFile } from "../dialplan/lint.js";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { Expanded } from "./expand.js";

export const DIALPLAN_DIR = "/etc/asterisk/extensions_extra.d/";

/** With no chain known (no root): Wazo's layout, where every file of extensions_extra.d/ is read. */
export const isDialplanTarget = (target: string, lint?: string, chain?: DialplanChain) =>
  lint === "dialplan" || (lint !== "none" && (chain ? wouldRead(chain, target) : target.startsWith(DIALPLAN_DIR)));

/** Lints the dialplan files of `expanded` (in place: sets `extensions`); throws on errors. */
export async function lintDialplans(expanded: Expanded[], opts: { noLint?: boolean; emit: Emit; root?: string }): Promise<void> {
  const overlay = new Map<string, string>();
  for (const e of expanded) for (const item of e.items) if (item.kind === "file" && item.lint !== "none") overlay.set(item.target, item.source);
  const root = opts.root === undefined ? undefined : path.resolve(opts.root);
  const chain = root === undefined ? undefined : await readDialplanChain(root, overlay);
  if (root !== undefined && chain?.source === "assumed") {
    opts.emit({ type: "info", message: `no ${EXTENSIONS_CONF} under ${root}: assuming Wazo's layout, where Asterisk reads every file of ${DIALPLAN_DIR}` });
  }
  const exists = (target: string) => overlay.has(target) || (root !== undefined && existsSync(path.join(root, target)));
  const errors: Diagnostic[] = [];
  let linted = false;
  for (const e of expanded) {
    e.extensions = [];
    for (const item of e.items) {
      if (item.kind !== "file" || !isDialplanTarget(item.target, item.lint, chain)) continue;
      linted = true;
      const context = chain ? contextAround(chain, item.target, exists) : undefined;
      const result = await lintDialplanFile(item.source, { target: item.target, ...(context ? { context } : {}) });
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
  if (opts.noLint && linted)
    opts.emit({ type: "warning", message: "--no-lint: dialplan files are not checked before install; a syntax error can unload other plugins' dialplan" });
  if (errors.length)
    throw invalid(
      `dialplan error${errors.length > 1 ? "s" : ""}: refused before any change (Asterisk would lose dialplan this file means to define, or other files' dialplan)`,
      errors,
      "fix the file; if this is a false alarm, pass --no-lint",
    );
}
