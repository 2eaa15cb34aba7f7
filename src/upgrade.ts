/**
 * `upgrade`: installed plugins fetched again from the source their manifest records (the same
 * git URL and ref; for a market plugin, the market's newest version for this Wazo), then
 * installed as one run. A plugin whose source did not move is unchanged.
 */
import path from "node:path";
import { installPlugins, type RunOptions, type RunSummary } from "./engine.js";
import { invalid } from "./model/diagnostic.js";
import { selectInstalled } from "./select-installed.js";
import { readManifests, type Manifest } from "./state/manifest.js";

/** The installed plugins to upgrade: those named, or every one with a recorded source. */
export async function upgradeTargets(names: string[], root: string): Promise<Manifest[]> {
  const manifests = await readManifests(root);
  if (!names.length) return [...manifests.values()].filter((m) => m.origin).sort((a, b) => a.name.localeCompare(b.name));
  return names.map((n) => {
    const m = selectInstalled(n, manifests, root);
    if (!m.origin)
      throw invalid(
        `${m.name} was installed from the folder ${m.source}, not from git or the market: there is nothing to fetch`,
        [],
        `install it again from its folder: wazo-tasks install ${m.source}`,
      );
    return m;
  });
}

/** Upgrades `names` (default: all git and market plugins); undefined when there is none. */
export async function upgradePlugins(names: string[], opts: RunOptions = {}): Promise<RunSummary | undefined> {
  const root = path.resolve(opts.root ?? "/");
  const targets = await upgradeTargets(names, root);
  if (!targets.length) return undefined;
  return installPlugins(
    targets.map((m) => m.name),
    { ...opts, upgradeFrom: new Map(targets.map((m) => [m.name, m.origin!])) },
  );
}
