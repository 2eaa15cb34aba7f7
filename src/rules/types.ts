/**
 * Plugins in the wazo-plugind format: `wazo/plugin.yml` (metadata) and `wazo/rules` (a program
 * called with one target: build, package, install, uninstall, postrm). See docs/wazo-plugins.md.
 */
import type { Diagnostic } from "../model/diagnostic.js";
import type { RunOp } from "../model/plan.js";
import type { Handler } from "../state/manifest.js";
import type { Locator } from "../load/validate.js";
import type { RulesScript } from "./script.js";

/** `NAMESPACE/NAME`, the name a rules plugin is installed and shown under. */
export const RULES_NAME = /^[a-z0-9]+\/[a-z0-9-]+$/;

/** Highest `plugin_format_version` wazo-plugind knows. */
export const MAX_PLUGIN_FORMAT_VERSION = 2;

export interface RulesDependency {
  namespace: string;
  name: string;
  /** Wanted version (that one or a later one is accepted). */
  version?: string;
}

/** `wazo/plugin.yml` once validated; versions are strings as written in the file. */
export interface RulesMeta {
  namespace: string;
  name: string;
  version: string;
  pluginFormatVersion: number;
  minWazoVersion?: string;
  maxWazoVersion?: string;
  depends: RulesDependency[];
  debianDepends: string[];
  description?: string;
  displayName?: string;
}

/** What a loaded rules plugin carries besides the common Plugin fields. */
export interface RulesPlugin {
  meta: RulesMeta;
  /** Absolute path of wazo/plugin.yml. */
  metaFile: string;
  /** Absolute path of wazo/rules. */
  rulesFile: string;
  /** Points diagnostics at a key of plugin.yml. */
  locate: Locator;
  /** Accepted but worth saying: unknown keys, targets that will not be called... */
  warnings: Diagnostic[];
}

/** Attached to an Expanded rules plugin: what the planner does not model. */
export interface RulesExpansion {
  /** True when build and package ran and `items` are the staged tree (always, except a dry run without --preview-build). */
  staged: boolean;
  /** The temporary copy of the plugin folder the targets ran in. */
  copy?: string;
  script: RulesScript;
  /** `wazo/rules install`, run once the files are in place; absent when it is not there or was replaced by handlers. */
  install?: RunOp;
}

/** Recorded in the manifest of a rules plugin (`rules` key). */
export interface RulesManifestInfo {
  namespace: string;
  name: string;
  formatVersion: number;
  /** Folder (relative to the root) holding the copy of `wazo/` kept for uninstall. */
  copy: string;
  depends: RulesDependency[];
  /** `wazo/rules install` failed or was skipped: the next install runs it even if nothing changed. */
  installPending?: boolean;
}

/** Options of a run that only rules plugins use. */
export interface RulesRunOptions {
  /** Dry run: run build and package into a temporary folder to preview the files (runs plugin code). */
  previewBuild?: boolean;
  /** The Wazo version min/max_wazo_version are checked against (else `env.WAZO_VERSION`, else <root>/usr/share/wazo/WAZO-VERSION). */
  wazoVersion?: string;
  /** Environment variables to read settings from (WAZO_VERSION; WAZO_TASKS_AMI_URL and PATH with `ami: "auto"`). Default: none, or process.env with `ami: "auto"`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A missing debian_depends package is an error, not a warning. */
  strict?: boolean;
}

export type { Handler };
