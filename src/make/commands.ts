/**
 * File commands of install recipes (cp, install, mkdir, rm, ln, chmod) translated to descriptor
 * steps. A translator either knows exactly what the command does or says why it does not.
 */
import { posix } from "node:path";
import type { Step } from "../load/schema.js";
import { asFolder, DESTDIR_MARK, isFolderLike, isProblem, octalMode, sourcePath, targetPath, type Checked, type TargetPath } from "./paths.js";
import type { Word } from "./shell.js";

export type Outcome =
  | { kind: "steps"; steps: Step[]; writes: TargetPath[]; warnings?: string[] }
  | { kind: "noop" }
  | { kind: "untranslated"; reason: string }
  | { kind: "make"; targets: string[] };

export interface CommandContext {
  /** Folders created or copied into so far: a later target without '/' naming one is a folder. */
  knownDirs: Set<string>;
}

export type Translator = (args: Word[], ctx: CommandContext) => Outcome;

export const untranslated = (reason: string): Outcome => ({ kind: "untranslated", reason });

interface OptSpec {
  /** Short flags accepted (and ignored when harmless). */
  flags: string;
  /** Short options taking a value. */
  values?: string;
  /** Long option name → its short equivalent. */
  long?: Record<string, string>;
}

interface Options {
  flags: Set<string>;
  values: Map<string, string>;
  operands: Word[];
}

/** getopt-like parsing: combined flags (-rf), attached values (-m0644), --long[=value], `--`. */
export function parseOptions(cmd: string, args: Word[], spec: OptSpec): Checked<Options> {
  const out: Options = { flags: new Set(), values: new Map(), operands: [] };
  let ended = false;
  for (let k = 0; k < args.length; k++) {
    const t = args[k].text;
    if (ended || !t.startsWith("-") || t === "-") out.operands.push(args[k]);
    else if (t === "--") ended = true;
    else if (t.startsWith("--")) {
      const [name, value] = splitOnce(t.slice(2), "=");
      const short = spec.long?.[name];
      if (!short) return { problem: `unsupported option ${cmd} --${name}` };
      if (spec.values?.includes(short)) out.values.set(short, value ?? args[++k]?.text ?? "");
      else out.flags.add(short);
    } else {
      for (let j = 1; j < t.length; j++) {
        const ch = t[j];
        if (spec.values?.includes(ch)) {
          out.values.set(ch, j + 1 < t.length ? t.slice(j + 1) : (args[++k]?.text ?? ""));
          break;
        }
        if (!spec.flags.includes(ch)) return { problem: `unsupported option ${cmd} -${ch}` };
        out.flags.add(ch);
      }
    }
  }
  return out;
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + sep.length)];
}

/** Copy steps for sources into dest (a folder when `folder`), with an optional mode. */
function copies(sources: Word[], dest: TargetPath, folder: boolean, mode: string | undefined, ctx: CommandContext): Outcome {
  const steps: Step[] = [];
  const to = folder ? asFolder(dest.path) : dest.path;
  for (const s of sources) {
    const src = sourcePath(s.text);
    if (isProblem(src)) return untranslated(src.problem);
    steps.push(mode ? { copy: src.path, to, mode } : { copy: src.path, to });
    if (folder) ctx.knownDirs.add(posix.join(dest.path, posix.basename(src.path)));
  }
  if (folder) ctx.knownDirs.add(dest.path);
  return { kind: "steps", steps, writes: [dest] };
}

const cp: Translator = (args, ctx) => {
  const o = parseOptions("cp", args, { flags: "rRapfv", long: { recursive: "r", archive: "a", force: "f", verbose: "v" } });
  if (isProblem(o)) return untranslated(o.problem);
  if (o.operands.length < 2) return untranslated("cp needs a source and a target");
  const dest = targetPath(o.operands[o.operands.length - 1].text);
  if (isProblem(dest)) return untranslated(dest.problem);
  const sources = o.operands.slice(0, -1);
  const folder = sources.length > 1 || sources.some((s) => s.glob) || isFolderLike(dest, ctx.knownDirs);
  return copies(sources, dest, folder, undefined, ctx);
};

const INSTALL_OPTIONS: OptSpec = {
  flags: "dDcpvCT",
  values: "mogt",
  long: {
    mode: "m",
    owner: "o",
    group: "g",
    directory: "d",
    "target-directory": "t",
    verbose: "v",
    compare: "C",
    "preserve-timestamps": "p",
    "no-target-directory": "T",
  },
};

const install: Translator = (args, ctx) => {
  const o = parseOptions("install", args, INSTALL_OPTIONS);
  if (isProblem(o)) return untranslated(o.problem);
  const warnings = o.values.has("o") || o.values.has("g") ? ["install: owner/group (-o/-g) ignored; installed files belong to root"] : [];
  const m = o.values.get("m");
  const mode = m === undefined ? undefined : octalMode(m);
  if (mode === null) return untranslated(`symbolic mode '${m}' (only octal modes translate)`);
  if (o.flags.has("d")) return withWarnings(mkdirs(o.operands, mode, ctx), warnings);
  const dir = o.values.get("t");
  const destText = dir ?? o.operands[o.operands.length - 1]?.text;
  const sources = dir !== undefined ? o.operands : o.operands.slice(0, -1);
  if (destText === undefined || sources.length === 0) return untranslated("install needs a source and a target");
  const dest = targetPath(destText);
  if (isProblem(dest)) return untranslated(dest.problem);
  // -D makes the leading folders and takes the target as a file path unless it ends with '/'.
  const folder = !o.flags.has("T") && (dir !== undefined || sources.length > 1 || (o.flags.has("D") ? dest.slash : isFolderLike(dest, ctx.knownDirs)));
  // install's default mode is 0755 (rwxr-xr-x), even for configuration files.
  return withWarnings(copies(sources, dest, folder, mode ?? "0755", ctx), warnings);
};

function withWarnings(out: Outcome, warnings: string[]): Outcome {
  return out.kind === "steps" && warnings.length > 0 ? { ...out, warnings } : out;
}

function mkdirs(operands: Word[], mode: string | undefined, ctx: CommandContext): Outcome {
  if (operands.length === 0) return untranslated("no folder given");
  const steps: Step[] = [];
  const writes: TargetPath[] = [];
  for (const w of operands) {
    const dir = targetPath(w.text);
    if (isProblem(dir)) return untranslated(dir.problem);
    steps.push(mode ? { mkdir: dir.path, mode } : { mkdir: dir.path });
    writes.push(dir);
    ctx.knownDirs.add(dir.path);
  }
  return { kind: "steps", steps, writes };
}

const mkdir: Translator = (args, ctx) => {
  const o = parseOptions("mkdir", args, { flags: "pv", values: "m", long: { parents: "p", verbose: "v", mode: "m" } });
  if (isProblem(o)) return untranslated(o.problem);
  const m = o.values.get("m");
  const mode = m === undefined ? undefined : octalMode(m);
  if (mode === null) return untranslated(`symbolic mode '${m}' (only octal modes translate)`);
  return mkdirs(o.operands, mode, ctx);
};

const rm: Translator = (args) => {
  const o = parseOptions("rm", args, { flags: "frRvd", long: { force: "f", recursive: "r", verbose: "v", dir: "d" } });
  if (isProblem(o)) return untranslated(o.problem);
  if (o.operands.length === 0) return untranslated("rm without a path");
  const steps: Step[] = [];
  const writes: TargetPath[] = [];
  for (const w of o.operands) {
    if (w.glob) return untranslated(`removes a glob pattern ('${w.text}')`);
    const p = targetPath(w.text);
    if (isProblem(p)) return untranslated(p.problem);
    steps.push({ remove: p.path });
    writes.push(p);
  }
  return { kind: "steps", steps, writes };
};

const ln: Translator = (args, ctx) => {
  const o = parseOptions("ln", args, { flags: "sfnvT", long: { symbolic: "s", force: "f", "no-dereference": "n", verbose: "v", "no-target-directory": "T" } });
  if (isProblem(o)) return untranslated(o.problem);
  if (!o.flags.has("s")) return untranslated("hard link (ln without -s)");
  if (o.operands.length < 2) return untranslated("ln -s needs a target and a link name");
  const link = targetPath(o.operands[o.operands.length - 1].text);
  if (isProblem(link)) return untranslated(link.problem);
  const targets = o.operands.slice(0, -1);
  const intoFolder = !o.flags.has("T") && (targets.length > 1 || link.slash || ctx.knownDirs.has(link.path));
  const steps: Step[] = [];
  for (const t of targets) {
    const target = linkTarget(t.text);
    if (isProblem(target)) return untranslated(target.problem);
    const path = intoFolder ? posix.join(link.path, posix.basename(target.text)) : link.path;
    steps.push({ symlink: path, target: target.text });
  }
  return { kind: "steps", steps, writes: [link] };
};

/** What a link points to is a path on the PBX: $(DESTDIR) in front is dropped, elsewhere refused. */
function linkTarget(text: string): Checked<{ text: string }> {
  const p = targetPath(text);
  if (!isProblem(p)) return { text: p.path };
  if (text.includes(DESTDIR_MARK)) return p;
  return { text }; // a relative link target is written as given
}

const chmod: Translator = (args) => {
  const o = parseOptions("chmod", args, { flags: "vfcR", long: { verbose: "v", silent: "f", quiet: "f", changes: "c", recursive: "R" } });
  if (isProblem(o)) return untranslated(o.problem);
  if (o.flags.has("R")) return untranslated("recursive chmod (-R)");
  const [modeWord, ...paths] = o.operands;
  if (!modeWord || paths.length === 0) return untranslated("chmod needs a mode and a path");
  const mode = octalMode(modeWord.text);
  if (mode === null) return untranslated(`symbolic mode '${modeWord.text}' (only octal modes translate)`);
  const steps: Step[] = [];
  const writes: TargetPath[] = [];
  for (const w of paths) {
    const p = targetPath(w.text);
    if (isProblem(p)) return untranslated(p.problem);
    steps.push({ chmod: p.path, mode });
    writes.push(p);
  }
  return { kind: "steps", steps, writes };
};

export const FILE_COMMANDS: Record<string, Translator> = { cp, install, mkdir, rm, ln, chmod };
