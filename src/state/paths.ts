/** Where the state lives under a root (the PBX's / or a staging root), and paths read from it. */
import path from "node:path";

export const STATE_DIR = "var/lib/wazo-tasks";

export const stateDir = (root: string) => path.join(root, STATE_DIR);

/** A relative path that stays inside its base: no `..`, not absolute, normalized. */
export function isPlainRelative(p: string): boolean {
  return p !== "" && p !== "." && p !== "./" && !p.includes("\0") && !path.isAbsolute(p) && path.posix.normalize(p) === p && !p.split("/").includes("..");
}
