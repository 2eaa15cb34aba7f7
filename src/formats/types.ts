/**
 * The interface every plugin format implements (src/formats/<kind>/), registered in order in
 * src/formats/index.ts. The pipeline calls the formats only through it.
 */
import type { AmiConfig } from "../asterisk/ami-url.js";
import type { PluginSummary } from "../load/describe.js";
import type { SearchOptions } from "../load/lookup.js";
import type { LoadContext } from "../load/plugin.js";
import type { Diagnostic } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import type { CaptureSession } from "../make/capture.js";
import type { Manifest } from "../model/manifest.js";
import type { LoadResult, Plugin } from "../model/plugin.js";
import type { Expanded } from "../plan/expand.js";
import type { Facts } from "../plan/facts.js";
import type { Stagings } from "../rules/stage.js";
import type { RulesRunOptions } from "../rules/types.js";
import type { SourceSession } from "../sources/session.js";
import type { ContainedPrograms } from "../util/process.js";

/** What expanding a plugin may use: handed down by the engine, never read from the process. */
export interface ExpandContext {
  /** The root, resolved. */
  root: string;
  dryRun: boolean;
  /** Dry run: run the plugin's build into a temporary folder to preview its files. */
  previewBuild?: boolean;
  /** Run a Makefile that ignores DESTDIR even under --root. */
  allowAbsolute?: boolean;
  emit?: Emit;
  /** The PATH programs (make) are looked up on. */
  path?: string;
  /** The AMI settings a plugin's code is handed (package.yml `needs: [ami]`). */
  amiFor?: (plugin: string) => AmiConfig | undefined;
  /** The run's staging folders for plugin builds, made on first use, removed when the run ends. */
  stagings: () => Promise<Stagings>;
  /** The environment plugin code starts from (the caller's, scrubbed by the runner). */
  programEnv: Readonly<Record<string, string | undefined>>;
  /** Uninstall: the installed plugins the run keeps (from the manifests the engine read). */
  staying?: readonly Manifest[];
  /** Uninstall: the facts of the files the format's `uninstallReads` named. */
  facts?: Facts;
  /** The run's make captures (temporary folders removed when the run ends), made on first use. */
  captures: () => Promise<CaptureSession>;
  /** The run's signal: its abort stops plugin code run while expanding (make install captured). */
  signal?: AbortSignal;
  /** The run's contained programs (plugin code run while expanding). */
  programs?: ContainedPrograms;
  /** Asks the caller to turn SIGINT/SIGTERM into an abort of `signal` while plugin code runs. */
  catchSignals?: (on: boolean) => void;
}

/** What preparing the plugins of a run may use (dependencies, version ranges). */
export interface PrepareContext extends SearchOptions, RulesRunOptions {
  root: string;
  force?: boolean;
  emit?: Emit;
  sources?: SourceSession;
  /** Loads a folder whatever its format (src/formats/index.ts: loadFolder). */
  load: (dir: string) => Promise<LoadResult>;
  /** The PATH programs (dpkg-query) are looked up on: the run's. */
  programPath?: string;
}

export interface PluginFormat<P extends Plugin> {
  kind: P["kind"];
  /** Whether `dir` holds a plugin of this format (the first format that says yes loads it). */
  detect(dir: string): Promise<boolean>;
  /** Loads and validates the folder; every problem found is returned. */
  load(dir: string, ctx: LoadContext): Promise<LoadResult>;
  /** Metadata for listings, without validation and without running plugin code. */
  describe(dir: string): Promise<PluginSummary>;
  /** Runs over all the plugins of a run when one of them has this format: may add plugins
   * (dependencies), reorder them, or refuse the run. */
  prepare?(plugins: Plugin[], ctx: PrepareContext): Promise<Plugin[]>;
  /** What `validate` reports beyond loading, without a target: warnings and what planning
   * against an empty target finds. */
  check(plugin: P): Promise<Diagnostic[]>;
  /** What the plugin wants on the target. Throws a TaskFailure with diagnostics when it cannot tell. */
  expand(plugin: P, ctx: ExpandContext): Promise<Expanded>;
  /** The files on the target (paths on the PBX) whose text expandUninstall reads: the engine
   * reads them through the facts first (src/plan/facts.ts) and hands them in `ctx.facts`. */
  uninstallReads?(manifest: Manifest): string[];
  /** What removing an installed plugin takes besides removing its recorded files; undefined: nothing. */
  expandUninstall(manifest: Manifest, ctx: ExpandContext): Promise<Expanded | undefined>;
}
