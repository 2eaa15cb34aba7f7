/** `wazo-tasks verify`: compares the disk with the manifests. */
import path from "node:path";
import { factOf } from "../plan/facts.js";
import type { Manifest } from "./manifest.js";

/**
 * How a recorded path differs from the disk:
 * - `missing`: gone. `modified`: other content (or link target). `mode`: other permissions.
 * - `type`: something else than what was installed (a folder where a file was...).
 * - `not-loaded` (`verify --dialplan`): the file is there, but Asterisk has not loaded its extension.
 * - `corrupt`: the state file itself cannot be trusted (`verify --repair`).
 */
export type DriftKind = "missing" | "modified" | "mode" | "type" | "not-loaded" | "corrupt";

export interface Drift {
  plugin: string;
  /** The path on the PBX (for `not-loaded`: the file that provides the extension). */
  path: string;
  kind: DriftKind;
  detail: string;
  /** For `not-loaded`. */
  extension?: string;
  context?: string;
}

export async function findDrift(root: string, manifests: Manifest[]): Promise<Drift[]> {
  const out: Drift[] = [];
  for (const m of manifests) {
    for (const f of m.files) {
      const fact = await factOf(path.join(root, f.path));
      const add = (kind: DriftKind, detail: string) => out.push({ plugin: m.name, path: f.path, kind, detail });
      if (fact.type === "absent") add("missing", "not on disk");
      else if (fact.type !== f.type) add("type", `is a ${fact.type}, installed as a ${f.type}`);
      else if (f.type === "file" && fact.type === "file") {
        if (fact.sha256 !== f.sha256) add("modified", `content changed (sha256 ${fact.sha256.slice(0, 12)}…, installed ${f.sha256.slice(0, 12)}…)`);
        else if (fact.mode !== f.mode) add("mode", `mode ${fact.mode.toString(8)}, installed ${f.mode.toString(8)}`);
      } else if (f.type === "symlink" && fact.type === "symlink" && fact.target !== f.target)
        add("modified", `points to ${fact.target}, installed ${f.target}`);
    }
  }
  return out;
}
