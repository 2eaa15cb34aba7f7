/**
 * Expands a plugin's descriptor into what it wants on the target: files with their resolved
 * sources and checksums, folders, links, removals, programs, handlers. Reads the plugin folder
 * only; errors point at the step that caused them.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import path from "node:path";
import type { Step } from "../load/schema.js";
import type { FormatRecord, Manifest } from "../model/manifest.js";
import type { CapturedRunOp, RunOp } from "../model/plan.js";
import type { DescriptorStep, Handler, Plugin } from "../model/plugin.js";
import { stepKind } from "../load/step-kinds.js";
import { kindOf } from "../util/file-kind.js";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import { glob, hasGlob } from "../util/glob.js";
import { sha256File } from "../util/hash.js";
import { mapPool } from "../util/pool.js";
import { unreachable } from "../util/unreachable.js";

export type Desired =
  | { kind: "file"; step: number; source: string; target: string; mode: number; sourceMode: number; sha256: string; size: number; lint?: "dialplan" | "none" }
  | { kind: "dir"; step: number; target: string; mode: number }
  | { kind: "symlink"; step: number; target: string; linkTo: string }
  | { kind: "chmod"; step: number; target: string; mode: number }
  | { kind: "remove"; step: number; target: string }
  | { kind: "run"; step: number; argv: string[]; cwd: string };

export interface Expanded {
  plugin: Plugin;
  /** Step index → label, for output. */
  labels: string[];
  kinds: string[];
  items: Desired[];
  handlers: { handler: Handler; always: boolean }[];
  asterisk: string[];
  verify: { extension: string; context: string }[];
  /** Dialplan extensions the plugin's dialplan files provide (set by the lint pass). */
  extensions?: { context: string; extension: string; file: string }[];
  /** Steps the manifest keeps, so uninstall can run them when the plugin folder is gone. */
  uninstall?: DescriptorStep[];
  /** A program that does the plugin's work on the target itself: see `OwnRun`. */
  run?: OwnRun;
  /** Said about the plugin while expanding it (shown with its plan). */
  warnings?: string[];
  /** The items are not all the plugin installs (a dry run that did not build it): nothing
   * recorded is planned as no longer shipped. */
  partial?: boolean;
  /** What the manifest records besides the common fields (the format's part). */
  recorded?: FormatRecord;
  /** Programs run once the files are in place (`wazo/rules install`): when the plugin changed,
   * or when its manifest says a previous run left them undone. */
  after?: { runs: RunOp[]; pending: (installed: Manifest) => boolean };
  /** Files the plugin keeps in the state folder: see `KeptFiles`. At uninstall, with no items:
   * the kept folder to remove. */
  kept?: KeptFiles;
  /** Uninstall: programs run before anything is removed (`wazo/rules uninstall`) and once the
   * files are gone, before the state (`postrm`), and handlers notified whatever is removed. */
  removal?: { before: ProgramStep[]; after: ProgramStep[]; handlers: Handler[] };
}

/** A program run as a step of its own, shown with its kind and label. */
export interface ProgramStep {
  kind: string;
  label: string;
  op: RunOp;
}

/**
 * A program the executor runs in the plugin's place (`make install`): the items are what it is
 * predicted to do, journaled before it runs and previewed; the program writes them itself.
 */
export interface OwnRun {
  /** Step kind and label shown for the run. */
  kind: string;
  label: string;
  /** What the executor runs (its DESTDIR and change are set by the planner). */
  op: Omit<CapturedRunOp, "destdir" | "change">;
  /** The prediction is exact; otherwise the program runs every time and a dry run shows `recipe`. */
  exact: boolean;
  /** The recipe as written, shown by a dry run when the prediction is not exact. */
  recipe: { line: number; text: string }[];
}

/**
 * Files a plugin keeps in the state folder for later runs (a rules plugin's copy of `wazo/`, run
 * at uninstall): planned through the same facts as its other files (created, unchanged or
 * updated) and written with its manifest, but not recorded in it. Whatever else `tree` holds on
 * the target is removed.
 */
export interface KeptFiles {
  /** The folder on the target (a path on the PBX, under the state folder). */
  tree: string;
  /** `tree` and what it holds, each folder before its content. */
  items: (Desired & { kind: "file" | "dir" | "symlink" })[];
}

const parseMode = (m: string) => parseInt(m, 8);

/** Expands `install:` (or another list) of a descriptor plugin; `steps` were validated by load/schema.ts. */
export async function expandSteps(plugin: Plugin, list: "install" | "uninstall", steps: readonly DescriptorStep[]): Promise<Expanded> {
  const out: Expanded = { plugin, labels: [], kinds: [], items: [], handlers: [], asterisk: [], verify: [] };
  const errors: Diagnostic[] = [];
  const at = (i: number, key: string, message: string, hint?: string) =>
    plugin.locate
      ? plugin.locate.diagnostic([list, i, key], message, { hint })
      : { severity: "error" as const, file: plugin.tasksFile ?? plugin.dir, message, hint };
  const pluginReal = realpathSync(plugin.dir);
  for (const [i, step] of (steps as readonly Step[]).entries()) {
    const kind = stepKind(step);
    out.kinds[i] = kind;
    switch (kind) {
      case "copy": {
        const s = step as Extract<Step, { copy: string }>;
        out.labels[i] = s.to;
        const r = await expandCopy(plugin.dir, pluginReal, s.copy, s.to, s.mode ? parseMode(s.mode) : undefined, i);
        if (typeof r === "string") errors.push(at(i, "copy", r.split("\n")[0], r.split("\n")[1]));
        else out.items.push(...r.map((d) => (d.kind === "file" && s.lint ? { ...d, lint: s.lint } : d)));
        break;
      }
      case "remove": {
        const s = step as Extract<Step, { remove: string }>;
        out.labels[i] = s.remove;
        out.items.push({ kind: "remove", step: i, target: s.remove });
        break;
      }
      case "mkdir": {
        const s = step as Extract<Step, { mkdir: string }>;
        out.labels[i] = s.mkdir;
        out.items.push({ kind: "dir", step: i, target: s.mkdir, mode: s.mode ? parseMode(s.mode) : 0o755 });
        break;
      }
      case "symlink": {
        const s = step as Extract<Step, { symlink: string }>;
        out.labels[i] = `${s.symlink} -> ${s.target}`;
        out.items.push({ kind: "symlink", step: i, target: s.symlink, linkTo: s.target });
        break;
      }
      case "chmod": {
        const s = step as Extract<Step, { chmod: string }>;
        out.labels[i] = `${s.chmod} ${s.mode}`;
        out.items.push({ kind: "chmod", step: i, target: s.chmod, mode: parseMode(s.mode) });
        break;
      }
      case "run": {
        const s = step as Extract<Step, { run: string[] }>;
        out.labels[i] = s.run.join(" ");
        out.items.push({ kind: "run", step: i, argv: s.run, cwd: path.join(plugin.dir, s.cwd ?? ".") });
        break;
      }
      case "reload":
      case "restart": {
        const s = step as { reload?: string; restart?: string; always?: boolean };
        const handler: Handler = s.reload !== undefined ? { reload: s.reload } : { restart: s.restart! };
        out.labels[i] = s.reload ?? s.restart!;
        out.handlers.push({ handler, always: s.always === true });
        break;
      }
      case "asterisk": {
        const s = step as Extract<Step, { asterisk: string }>;
        out.labels[i] = s.asterisk;
        out.asterisk.push(s.asterisk);
        break;
      }
      case "verify": {
        const s = step as Extract<Step, { verify: unknown }>;
        out.labels[i] = `${s.verify.extension}@${s.verify.context}`;
        out.verify.push(s.verify);
        break;
      }
      default:
        unreachable(kind);
    }
  }
  if (errors.length) throw invalid(`invalid plugin "${plugin.name}"`, errors);
  return out;
}

/** Resolves one copy step; returns an error text (message, then hint on a second line) or the items. */
async function expandCopy(dir: string, dirReal: string, source: string, to: string, mode: number | undefined, step: number): Promise<Desired[] | string> {
  const intoFolder = to.endsWith("/");
  let matches: string[];
  if (hasGlob(source)) {
    matches = await glob(dir, source);
    if (matches.length === 0) return `"${source}" matches no file in ${dir}\ncheck the pattern, or remove the step`;
    if (!intoFolder) return `"${source}" is a glob: "to" must be a folder\nend "to" with '/': ${to}/`;
  } else matches = [source.replace(/\/+$/, "")];
  const items: Desired[] = [];
  for (const rel of matches) {
    const abs = path.join(dir, rel);
    // Synchronous probes of the plugin's own files, cheaper than thread-pool round trips.
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(abs, { throwIfNoEntry: false });
    } catch {
      st = undefined;
    }
    if (!st) return `source "${rel}" does not exist in ${dir}\ncheck the file name (paths are relative to the plugin folder)`;
    const real = realpathSync(abs);
    if (real !== dirReal && !real.startsWith(dirReal + path.sep))
      return `source "${rel}" leads outside the plugin folder (to ${real})\ncopy the file into the plugin folder instead of linking to it`;
    const dest = intoFolder ? path.posix.join(to, path.basename(rel)) : to.replace(/\/+$/, "");
    if (st.isDirectory() || (st.isSymbolicLink() && statSync(abs).isDirectory())) {
      const err = await walkFolder(real, real, dest, mode, step, items);
      if (err) return err;
    } else {
      const item = await fileItem(real, dest, mode, step);
      if (typeof item === "string") return item;
      items.push(item);
    }
  }
  return items;
}

/** A regular file to copy, or why it cannot be copied (read before any change). */
async function fileItem(source: string, target: string, mode: number | undefined, step: number): Promise<Desired | string> {
  const st = statSync(source);
  if (!st.isFile())
    return `"${source}" is ${kindOf(st)}: only regular files, folders and links can be copied\nremove it from the plugin folder, or leave it out of the copy`;
  return {
    kind: "file",
    step,
    source,
    target,
    mode: mode ?? st.mode & 0o777,
    sourceMode: st.mode & 0o777,
    size: st.size,
    sha256: await sha256File(source, st.size),
  };
}

/**
 * A copied folder, recursively. A link inside it is copied as the same link when it is relative
 * and stays inside the copied folder (so it works the same where it is installed); any other
 * link is refused, never followed (no loop, nothing from outside).
 */
async function walkFolder(top: string, source: string, target: string, mode: number | undefined, step: number, items: Desired[]): Promise<string | undefined> {
  items.push({ kind: "dir", step, target, mode: 0o755 });
  const entries = readdirSync(source, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries.filter((e) => e.isSymbolicLink())) {
    const at = path.join(source, e.name);
    const linkTo = readlinkSync(at);
    const lexical = path.resolve(source, linkTo);
    if (path.isAbsolute(linkTo) || (lexical !== top && !lexical.startsWith(top + path.sep)))
      return `"${at}" is a link to ${linkTo}, outside the copied folder\ncopy the file itself into the folder, or make the link relative to a file inside it`;
    items.push({ kind: "symlink", step, target: path.posix.join(target, e.name), linkTo });
  }
  const files = entries.filter((e) => !e.isDirectory() && !e.isSymbolicLink());
  // Hash a folder's files a few at a time: large sound folders are the slow case.
  const done = await mapPool(files, 16, (e) => fileItem(path.join(source, e.name), path.posix.join(target, e.name), mode, step));
  const refused = done.find((d): d is string => typeof d === "string");
  if (refused) return refused;
  items.push(...(done as Desired[]));
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const err = await walkFolder(top, path.join(source, e.name), path.posix.join(target, e.name), mode, step, items);
    if (err) return err;
  }
  return undefined;
}
