/** Folders the plan is asked to remove that hold what is not the plugin's. */
import path from "node:path";
import type { FileOp } from "../model/plan.js";
import type { Fact } from "./facts.js";

/** A `remove:` of a folder holding files this plugin did not install: kept, saying which
 * (the same every run: unchanged, no reload). */
export function folderKept(real: string, target: string, f: Fact, name: string, owners: Map<string, string>): (FileOp & { op: "remove" }) | undefined {
  if (f.type !== "dir" || !f.entries?.length) return undefined;
  const others = f.entries.filter((e) => owners.get(path.posix.join(target, e)) !== name);
  if (!others.length) return undefined;
  const shown = others.slice(0, 5).join(", ") + (others.length > 5 ? ` and ${others.length - 5} more` : "");
  return {
    op: "remove",
    path: real,
    display: target,
    change: "none",
    kept: `${target} is not empty: kept, it holds ${others.length === 1 ? "a file" : `${others.length} files`} not installed by ${name} (${shown})`,
  };
}
