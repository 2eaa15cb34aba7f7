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
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { type Context, Loader, type SyntaxStop } from "./fake-dialplan-loader.js";

export type { SyntaxStop } from "./fake-dialplan-loader.js";

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
        names = readdirSync(dir)
          .filter((n) => !n.startsWith(".") && statSync(join(dir, n)).isFile())
          .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
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
    lines.push(
      `-= ${plural(counts.extensions, "extension", "extensions")} (${plural(counts.priorities, "priority", "priorities")}) in ${plural(counts.contexts, "context", "contexts")}. =-`,
    );
    return { ok: true, lines };
  }
}
