/** The options of a run (install, uninstall, upgrade) and its outcome: types only. */
import type { AsteriskControl, ServiceControl } from "./asterisk/control.js";
import type { AmiOption } from "./asterisk/connect.js";
import type { AmiFlags } from "./asterisk/settings.js";
import type { SearchOptions } from "./load/lookup.js";
import type { Diagnostic } from "./model/diagnostic.js";
import type { Emit, Event } from "./model/event.js";
import type { Plan } from "./model/plan.js";
import type { SourceRecord } from "./model/plugin.js";
import type { RulesRunOptions } from "./rules/types.js";
import type { SourceSession } from "./sources/session.js";

export interface RunOptions extends SearchOptions, RulesRunOptions {
  /** The PATH make is looked up on (else `env.PATH`); the library entry passes the process's. */
  searchPath?: string;
  /** Staging root; every absolute target is taken under it. Default "/". */
  root?: string;
  dryRun?: boolean;
  force?: boolean;
  noReload?: boolean;
  lockTimeoutMs?: number;
  emit?: Emit;
  /** An Asterisk control to use instead of connecting (library users, tests). */
  asterisk?: AsteriskControl;
  services?: ServiceControl;
  /**
   * How to reach Asterisk: an `ami://` URL, an AmiConfig, or "auto" (the `amiFlags`,
   * WAZO_TASKS_AMI_URL, `<root>/etc/wazo-tasks/config.yml`, then `asterisk` on PATH, as the
   * command line does). Absent: no Asterisk; a staging root skips the reloads, `/` refuses them.
   */
  ami?: AmiOption;
  /** With `ami: "auto"`: the `--ami-*` flags. */
  amiFlags?: AmiFlags;
  /** Log AMI traffic (secrets masked). */
  amiLog?: (line: string) => void;
  /** Aborting it stops the run: before any change nothing is done; during the file changes they
   * are rolled back, as on SIGINT. The result then has `failure.reason` "aborted". */
  signal?: AbortSignal;
  /** Do not lint dialplan files before install (for a false alarm). */
  noLint?: boolean;
  /** Run a Makefile that ignores DESTDIR even under --root. */
  allowAbsolute?: boolean;
  /** Git sources: the ref and the folder in the repository of the run's one git plugin. */
  ref?: string;
  subdirectory?: string;
  /** The market's address (else WAZO_TASKS_MARKET_URL, the config file, the public market). */
  market?: string;
  /** Run everything again even for a plugin that is unchanged (same source, same commit...). */
  reinstall?: boolean;
  /** The run's sources (git cache, market); made by the run when absent. */
  sources?: SourceSession;
  /** `upgrade`: installed plugins named by these keys are fetched again from these sources. */
  upgradeFrom?: Map<string, SourceRecord>;
}

/** Options the command line passes that programs do not need. */
export interface InternalRunOptions extends RunOptions {
  /** Test-only fault injection (WAZO_TASKS_FAULT; see docs/architecture.md). */
  fault?: import("./model/fault.js").Fault;
  /** The process the run is in (the command line's); default: this process. */
  host?: import("./model/host.js").Host;
}

/** The outcome of a run: the closing `summary` event's fields, the diagnostics and the plan. */
export type RunSummary = Omit<Extract<Event, { type: "summary" }>, "type"> & {
  diagnostics: Diagnostic[];
  plan?: Plan;
};
