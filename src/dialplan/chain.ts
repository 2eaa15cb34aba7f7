/**
 * Which files Asterisk reads as dialplan on a target, and in which order: extensions.conf under
 * the root, then what its `#include` / `#tryinclude` lines name (globs expanded as glob(3) does:
 * sorted, no dot files), recursively, as Asterisk's config reader does. `#exec` output cannot be
 * known before the reload: it is recorded, and what it hides makes the picture incomplete.
 *
 * Files a run is about to write are read from their source (`overlay`), so the chain is the one
 * Asterisk will see after the run. With no extensions.conf under the root, Wazo's layout is assumed
 * (extensions.conf → extensions.d/* → extensions_extra.d/*, every file of that folder) and the
 * caller says so.
 */
import { readdirSync, statSync, type Dirent } from "node:fs";
import path from "node:path";
import { readRegularFileSync } from "../util/read-limited.js";
import { parseHeader } from "./header.js";
import { decodeDialplan, headerAndDirectiveLines } from "./lines.js";
import { isSpecialSection } from "./state.js";

export const ETC = "/etc/asterisk";
export const EXTENSIONS_CONF = `${ETC}/extensions.conf`;
/** What Wazo's extensions.d/01-wazo.conf includes last. */
export const WAZO_EXTRA_GLOB = `${ETC}/extensions_extra.d/*`;

export interface ChainFile {
  /** Path on the target (/etc/asterisk/...). */
  target: string;
  /** Sections ([contexts] and templates) it defines. */
  sections: string[];
  /** An #exec ran before this file: what came before it is not fully known. */
  afterExec: boolean;
}

export interface DialplanChain {
  /** `read`: followed from extensions.conf under the root; `assumed`: no extensions.conf there. */
  source: "read" | "assumed";
  /** Every file Asterisk reads, in order. */
  files: ChainFile[];
  /** The #include/#tryinclude arguments met, as target paths (globs kept), in order. */
  patterns: string[];
  /** #exec commands met: their output is dialplan that cannot be read beforehand. */
  execs: string[];
}

/** Target path → local file holding its future content. */
export type Overlay = ReadonlyMap<string, string>;

const MAX_DEPTH = 20;

/** Follows the chain under `root` ('/' for the live system). */
export async function readDialplanChain(root: string, overlay: Overlay = new Map()): Promise<DialplanChain> {
  const walker = new Walker(root, overlay);
  const source = (await walker.exists(EXTENSIONS_CONF)) ? "read" : "assumed";
  if (source === "read") await walker.file(EXTENSIONS_CONF, 0);
  else await walker.include(WAZO_EXTRA_GLOB, 0);
  return { source, files: walker.files, patterns: walker.patterns, execs: walker.execs };
}

/** Whether Asterisk reads `target` (it is in the chain). */
export function readsFile(chain: DialplanChain, target: string): boolean {
  return chain.files.some((f) => f.target === target);
}

/** Whether a file at `target` would be read (it matches an include, even if absent now). */
export function wouldRead(chain: DialplanChain, target: string): boolean {
  return readsFile(chain, target) || chain.patterns.some((p) => globMatch(p, target));
}

/**
 * What the rest of the dialplan holds, for linting `target`: the sections of the files read before
 * it (when all of them are known) and every context (when no #exec hides any).
 */
export function contextAround(chain: DialplanChain, target: string, exists: (target: string) => boolean) {
  const at = chain.files.findIndex((f) => f.target === target);
  const known = chain.source === "read";
  const before = at < 0 ? [] : chain.files.slice(0, at);
  const complete = known && chain.execs.length === 0;
  const includeExists = (argument: string) => exists(resolveInclude(stripArgument(argument)));
  return {
    ...(known && at >= 0 && !chain.files[at].afterExec ? { sectionsBefore: new Set(before.flatMap((f) => f.sections)) } : {}),
    ...(complete ? { contexts: new Set(chain.files.flatMap((f) => f.sections)) } : {}),
    includeExists: (argument: string) => (hasMagic(argument) ? true : includeExists(argument)),
  };
}

/** Relative include paths start at /etc/asterisk (astetcdir), whatever file holds them. */
export function resolveInclude(argument: string): string {
  return path.posix.normalize(argument.startsWith("/") ? argument : `${ETC}/${argument}`);
}

/** `"x"`, `<x>` or `x`, as config.c takes the argument. */
export function stripArgument(argument: string): string {
  const a = argument.trim();
  if ((a.startsWith('"') && a.endsWith('"') && a.length > 1) || (a.startsWith("<") && a.endsWith(">"))) return a.slice(1, -1);
  return a;
}

const hasMagic = (p: string) => /[*?[]/.test(p);

/** A folder's entries, none when it cannot be read. Synchronous, as the files' reads: the chain is
 * a handful of small folders and files, read on every run. */
function listFolder(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

class Walker {
  readonly files: ChainFile[] = [];
  readonly patterns: string[] = [];
  readonly execs: string[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly overlay: Overlay,
  ) {}

  private local(target: string): string {
    return this.overlay.get(target) ?? path.join(this.root, target);
  }

  async exists(target: string): Promise<boolean> {
    if (this.overlay.has(target)) return true;
    try {
      return statSync(path.join(this.root, target), { throwIfNoEntry: false })?.isFile() ?? false;
    } catch {
      return false;
    }
  }

  async file(target: string, depth: number): Promise<void> {
    if (depth > MAX_DEPTH || this.seen.has(target)) return;
    this.seen.add(target);
    let text: string;
    try {
      text = decodeDialplan(readRegularFileSync(this.local(target)));
    } catch {
      return;
    }
    const entry: ChainFile = { target, sections: [], afterExec: this.execs.length > 0 };
    this.files.push(entry);
    // Only the section headers and the directives matter here: the file is not linted (a file of
    // a large PBX holds thousands of extensions, and every run reads the whole chain).
    for (const l of headerAndDirectiveLines(text, target)) {
      if (l.text.startsWith("[")) {
        const { name } = parseHeader(l.text).header;
        if (!isSpecialSection(name)) entry.sections.push(name);
        continue;
      }
      const m = /^#(include|tryinclude|exec)\s+(.+)$/i.exec(l.text);
      if (!m) continue;
      const argument = stripArgument(m[2]);
      if (m[1].toLowerCase() === "exec") this.execs.push(argument);
      else await this.include(resolveInclude(argument), depth + 1);
    }
  }

  async include(pattern: string, depth: number): Promise<void> {
    this.patterns.push(pattern);
    for (const target of await this.expand(pattern)) await this.file(target, depth);
  }

  /** glob(3) on the target: sorted by byte, `*` and `?` do not match a leading dot. */
  private async expand(pattern: string): Promise<string[]> {
    if (!hasMagic(pattern)) return [pattern];
    const dir = path.posix.dirname(pattern);
    if (hasMagic(dir)) return []; // globs in folder names: not used by Wazo, not followed
    const names = new Set<string>();
    for (const e of listFolder(path.join(this.root, dir))) {
      if (e.isFile() || e.isSymbolicLink()) names.add(e.name);
    }
    for (const t of this.overlay.keys()) if (path.posix.dirname(t) === dir) names.add(path.posix.basename(t));
    return [...names]
      .filter((n) => globMatch(pattern, `${dir}/${n}`))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((n) => `${dir}/${n}`);
  }
}

/** Does `target` match the glob `pattern` (magic in the last component only)? */
export function globMatch(pattern: string, target: string): boolean {
  if (!hasMagic(pattern)) return path.posix.normalize(pattern) === target;
  if (path.posix.dirname(pattern) !== path.posix.dirname(target)) return false;
  const name = path.posix.basename(target);
  const glob = path.posix.basename(pattern);
  if (name.startsWith(".") && !glob.startsWith(".")) return false;
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    const end = c === "[" ? glob.indexOf("]", i + 2) : -1;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (end > 0) {
      re += `[${glob
        .slice(i + 1, end)
        .replace(/^!/, "^")
        .replace(/\\/g, "\\\\")}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`).test(name);
}
