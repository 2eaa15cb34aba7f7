/**
 * The shape of an installed plugin's manifest (src/state/manifest.ts reads and writes them).
 * Types only.
 */
import type { DescriptorStep, Handler, Need, PluginKind, RulesManifestInfo, SourceRecord } from "./plugin.js";

export type ManifestEntry =
  | { path: string; type: "file"; sha256: string; mode: number; size: number }
  | { path: string; type: "dir"; mode: number }
  | { path: string; type: "symlink"; target: string };

export interface Manifest {
  format: number;
  name: string;
  version: string;
  description: string;
  /** The plugin folder it was installed from. */
  source: string;
  installedBy: PluginKind;
  installedAt: string;
  /** Paths on the PBX (not under --root), in creation order. */
  files: ManifestEntry[];
  handlers: Handler[];
  verify: { extension: string; context: string }[];
  /** Extra uninstall steps from the descriptor, kept so uninstall works when the folder is gone. */
  uninstall: DescriptorStep[];
  /** Dialplan extensions provided by the plugin's dialplan files. */
  extensions: { context: string; extension: string; file: string }[];
  /** Files that existed before install and were overwritten with --force; put back on uninstall. */
  preserved: { path: string; backup: string; mode: number; /** Set when the original was a symbolic link: its target. */ link?: string }[];
  /** Handlers that failed after the files were applied; `wazo-tasks reload --pending` runs them. */
  reloadPending: Handler[];
  /** For wazo-plugind plugins (`wazo/plugin.yml` + `wazo/rules`): see src/rules. */
  rules?: RulesManifestInfo;
  /** Where the plugin was fetched from (git, market); absent when installed from a folder. */
  origin?: SourceRecord;
  /** What its code is handed (package.yml `needs:`), so that uninstall hands the same. */
  needs?: Need[];
}

/** What a format records in a manifest besides the common fields (a rules plugin's `rules`):
 * the planner copies it into the manifest as it is. */
export type FormatRecord = Pick<Manifest, "rules">;
