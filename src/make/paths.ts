/**
 * Paths seen in recipes. $(DESTDIR) is expanded to a marker that cannot appear in a real
 * Makefile, so after make and shell expansion we still know which words started with it.
 */
import { posix } from "node:path";

/** What $(DESTDIR) expands to during analysis. */
export const DESTDIR_MARK = "\u0001DESTDIR\u0001";

export type Checked<T> = T | { problem: string };

export function isProblem<T extends object>(v: Checked<T>): v is { problem: string } {
  return "problem" in v;
}

export interface TargetPath {
  /** Absolute path on the PBX, DESTDIR removed, normalized; no trailing '/'. */
  path: string;
  /** Written with $(DESTDIR) in front. */
  destdir: boolean;
  /** Written with a trailing '/'. */
  slash: boolean;
}

/** A path a recipe writes to: must be absolute once $(DESTDIR) is removed. */
export function targetPath(text: string): Checked<TargetPath> {
  const destdir = text.startsWith(DESTDIR_MARK);
  const rest = destdir ? text.slice(DESTDIR_MARK.length) : text;
  if (rest.includes(DESTDIR_MARK)) return { problem: `$(DESTDIR) in the middle of a path: ${display(text)}` };
  if (!rest.startsWith("/")) return { problem: `'${display(text)}' is not an absolute path on the PBX` };
  const path = posix.normalize(rest).replace(/(.)\/+$/, "$1");
  return { path, destdir, slash: rest.endsWith("/") };
}

/** A path read from the plugin folder: relative, inside it. */
export function sourcePath(text: string): Checked<{ path: string }> {
  if (text.includes(DESTDIR_MARK)) return { problem: `source uses $(DESTDIR): ${display(text)}` };
  if (text.startsWith("/")) return { problem: `source '${text}' is outside the plugin folder` };
  const path = posix.normalize(text).replace(/\/+$/, "");
  if (path === "." || path.endsWith("/.")) return { problem: `copies the contents of a folder ('${text}')` };
  if (path === ".." || path.startsWith("../")) return { problem: `source '${text}' is outside the plugin folder` };
  return { path };
}

/** A folder path as a copy target: ends with '/'. */
export function asFolder(path: string): string {
  return path.endsWith("/") ? path : `${path}/`;
}

/**
 * Whether a target written without a trailing '/' is a folder: one created earlier, or a
 * `*.d` folder (conf.d, extensions_extra.d: always existing folders on a Wazo PBX).
 */
export function isFolderLike(target: TargetPath, knownDirs: ReadonlySet<string>): boolean {
  return target.slash || knownDirs.has(target.path) || /\.d$/.test(posix.basename(target.path));
}

/** `0644`-style mode from `644`/`0644`; null for symbolic modes (u+x). */
export function octalMode(text: string): string | null {
  if (!/^[0-7]{3,4}$/.test(text)) return null;
  return text.length === 3 ? `0${text}` : text;
}

/** Text for people: the marker shown as $(DESTDIR). */
export function display(text: string, destdirVar = "DESTDIR"): string {
  return text.split(DESTDIR_MARK).join(`$(${destdirVar})`);
}

/** Text for `sh -c`: the marker becomes ${DESTDIR}, empty unless the runner sets it. */
export function forShell(text: string, destdirVar = "DESTDIR"): string {
  return text.split(DESTDIR_MARK).join(`\${${destdirVar}}`);
}
