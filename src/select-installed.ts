/** Installed plugins named on the command line: NAME, or NAMESPACE/NAME (wazo-plugind plugins). */
import { invalid } from "./model/diagnostic.js";
import type { Manifest } from "./model/manifest.js";

/** The manifest named `name`, or the one plugin whose NAMESPACE/NAME ends in `/name`; refused
 * (exit 2) when it is not installed or when several match. */
export function selectInstalled(name: string, manifests: Map<string, Manifest>, root: string): Manifest {
  const short = [...manifests.values()].filter((m) => m.name.endsWith(`/${name}`));
  if (!manifests.has(name) && short.length > 1)
    throw invalid(`"${name}" names several installed plugins: ${short.map((m) => m.name).join(", ")}`, [], "give NAMESPACE/NAME");
  const m = manifests.get(name) ?? short[0];
  if (!m)
    throw invalid(
      `plugin "${name}" is not installed in ${root}`,
      [],
      manifests.size ? `installed: ${[...manifests.keys()].join(", ")}` : "nothing is installed there",
    );
  return m;
}
