/**
 * Plugins in the wazo-plugind format: `wazo/plugin.yml` (metadata) and `wazo/rules` (a program
 * called with one target: build, package, install, uninstall, postrm). See docs/wazo-plugins.md.
 * The shapes shared with the rest of the pipeline live in src/model/plugin.ts.
 */
import type { Handler, RulesDependency, RulesInfo, RulesManifestInfo, RulesMeta } from "../model/plugin.js";

export type { Handler, RulesDependency, RulesInfo, RulesManifestInfo, RulesMeta };
export { RULES_NAME } from "../load/lookup.js";

/** Highest `plugin_format_version` wazo-plugind knows. */
export const MAX_PLUGIN_FORMAT_VERSION = 2;

/** Options of a run that only rules plugins use. */
export interface RulesRunOptions {
  /** Dry run: run build and package into a temporary folder to preview the files (runs plugin code). */
  previewBuild?: boolean;
  /** The Wazo version min/max_wazo_version are checked against (else `env.WAZO_VERSION`, else <root>/usr/share/wazo/WAZO-VERSION). */
  wazoVersion?: string;
  /** Environment variables to read settings from (WAZO_VERSION; WAZO_TASKS_AMI_URL and PATH with `ami: "auto"`). Default: none, or the environment of the process the run is in with `ami: "auto"`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A missing debian_depends package is an error, not a warning. */
  strict?: boolean;
}
