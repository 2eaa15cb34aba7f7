/**
 * A loaded plugin: one union told apart by `kind`, one member per format (src/formats/). Types,
 * and what is read off them alike for every format; the formats' own code lives in
 * src/formats/<kind>/ and the libraries it uses.
 */
import type { Diagnostic } from "./diagnostic.js";

/**
 * How a plugin is installed:
 * - `descriptor`: a typed tasks.yml or tasks.ts, planned and applied by the engine.
 * - `make`: only a Makefile; `make install` / `make uninstall` run in the plugin folder.
 * - `rules`: a wazo-plugind plugin, `wazo/plugin.yml` + `wazo/rules` (src/rules).
 */
export type PluginKind = Plugin["kind"];

/** A handler recorded so uninstall and `reload --pending` can run it without the plugin folder. */
export type Handler = { reload: string } | { restart: string };

/** A key or index path into a plugin's metadata or descriptor. */
export type DiagnosticPath = readonly (string | number)[];

/** Where diagnostics point; for YAML files the exact value, for tasks.ts the first mention. */
export interface Locator {
  file: string;
  diagnostic(path: DiagnosticPath, message: string, opts?: { key?: boolean; hint?: string }): Diagnostic;
  /** How a scalar was written, where the source is YAML. */
  raw?(path: DiagnosticPath): string;
}

/** Where an installed plugin came from, as recorded in its manifest (`origin`). */
export interface SourceRecord {
  /** `git`: a git URL given on the command line; `market`: a market entry (itself a git source). */
  method: "git" | "market";
  /** The git URL, without credentials. */
  url: string;
  /** The ref asked for; absent: the remote's default branch. */
  ref?: string;
  /** Where the plugin sits in the repository. */
  subdirectory?: string;
  /** The commit installed. */
  commit: string;
  /** For `market`: the market's address (without credentials), the entry's name and the version picked. */
  market?: { url: string; name: string; version: string };
}

/** One step of a descriptor as validated by load/schema.ts (its `Step` type is the precise one). */
export type DescriptorStep = { readonly [key: string]: unknown };

/** A descriptor's step lists, validated (load/schema.ts's `Tasks`). */
export interface DescriptorTasks {
  install: DescriptorStep[];
  uninstall?: DescriptorStep[];
}

/** What a plugin's code is handed (package.yml `needs:`, load/schema.ts's `Need`). */
export type Need = "ami";

interface PluginBase {
  name: string;
  version: string;
  description: string;
  /** What its code is handed (package.yml `needs:`); wazo-plugind plugins declare nothing. */
  needs?: Need[];
  /** Absolute path of the plugin folder. */
  dir: string;
  metaFile: string;
  /** The file diagnostics about the plugin's steps point at. */
  tasksFile?: string;
  /** Points diagnostics at a step of the descriptor (or a key of the metadata). */
  locate?: Locator;
  /** What loading printed (tasks.ts), shown as the plugin's output. */
  loadOutput?: string[];
  /** Set when the folder was fetched (git, market): recorded in the manifest. */
  origin?: SourceRecord;
}

export interface DescriptorPlugin extends PluginBase {
  kind: "descriptor";
  tasks: DescriptorTasks;
}

export interface MakePlugin extends PluginBase {
  kind: "make";
  /** Absolute path of the Makefile (GNUmakefile, makefile or Makefile). */
  makefile: string;
}

export interface RulesPlugin extends PluginBase {
  kind: "rules";
  /** wazo/rules. */
  tasksFile: string;
  locate: Locator;
  rules: RulesInfo;
}

export type Plugin = DescriptorPlugin | MakePlugin | RulesPlugin;

/** The file that defines the plugin's steps: its tasks file, or a Makefile plugin's Makefile. */
export const definitionFile = (p: Plugin): string | undefined => p.tasksFile ?? (p.kind === "make" ? p.makefile : undefined);

export type LoadResult<P extends Plugin = Plugin> = { ok: true; plugin: P } | { ok: false; diagnostics: Diagnostic[] };

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

/** What a loaded rules plugin carries besides the common plugin fields. */
export interface RulesInfo {
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
