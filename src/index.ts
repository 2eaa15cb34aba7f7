/**
 * wazo-tasks as a library: plan, preview and apply plugin installs, reload and verify, and talk
 * to Asterisk. Expected failures are values with a `failure.reason`. Nothing is read from the
 * environment unless asked (`ami: "auto"`, `fromEnvironment()`). See docs/api.md.
 */
import * as engine from "./engine.js";
import type { RunOptions } from "./engine.js";
import { reloadAsterisk as reload, type ReloadOptions } from "./reload.js";
import { upgradePlugins as upgrade } from "./upgrade.js";
import { verifyPlugins as verify, type VerifyOptions } from "./verify.js";

export type { RunOptions, RunSummary } from "./engine.js";

/** Makefile plugins find make on the process's PATH unless `searchPath` says otherwise. */
const withPath = (opts: RunOptions = {}): RunOptions => ({ searchPath: process.env.PATH, ...opts });
export const installPlugins = (args: string[], opts?: RunOptions) => engine.installPlugins(args, withPath(opts));
export const uninstallPlugins = (names: string[], opts?: RunOptions) => engine.uninstallPlugins(names, withPath(opts));
export const planInstall = (args: string[], opts?: RunOptions) => engine.planInstall(args, withPath(opts));
export const upgradePlugins = (names: string[], opts?: RunOptions) => upgrade(names, withPath(opts));
/** With `ami: "auto"` and no `env`, the settings are read from this process's environment. */
const withEnv = <O extends { ami?: unknown; env?: Environment }>(opts: O): O => (opts.ami === "auto" && !opts.env ? { ...opts, env: process.env } : opts);
/** systemctl is looked up on the process's PATH unless `searchPath` says otherwise. */
export const reloadAsterisk = (opts: ReloadOptions) => reload(withEnv({ searchPath: process.env.PATH, ...opts }));
export const verifyPlugins = (opts: VerifyOptions = {}) => verify(withEnv(opts));
export type { ReloadOptions, ReloadResult } from "./reload.js";
export type { VerifyOptions, VerifyResult } from "./verify.js";
export {
  createAmiClient,
  parseAmiUrl,
  AmiError,
  type AmiClient,
  type AmiClientOptions,
  type AmiConfig,
  type AmiErrorCode,
  type AmiErrorReason,
} from "./asterisk/ami-client.js";
export type { AmiOption, Environment } from "./asterisk/connect.js";
export type { AmiFlags } from "./asterisk/settings.js";
export {
  TaskFailure,
  isTaskFailure,
  FAILURE_REASONS,
  EXIT_CODES,
  type FailureReason,
  type Failure,
  type FailureFacts,
  type ExitCode,
  type Diagnostic,
} from "./model/diagnostic.js";
export type { SourceRecord } from "./sources/types.js";
export type { Handler, Manifest } from "./state/manifest.js";
export type { Drift, DriftKind } from "./state/drift.js";
export type { AsteriskControl, ServiceControl } from "./asterisk/control.js";
export type { Plan, PluginPlan, PlannedStep, Op } from "./model/plan.js";
export type { Event, StepStatus, PluginAction, PluginStatus } from "./model/event.js";
export type { Tasks, Step, PackageMeta } from "./load/schema.js";
import type { Environment } from "./asterisk/connect.js";

export { defineTasks } from "./define.js";

/**
 * The options that make a library call read its environment as the command line does:
 * AMI from WAZO_TASKS_AMI_URL or `<root>/etc/wazo-tasks/config.yml` (else `asterisk` on PATH),
 * plugin folders from WAZO_TASKS_PLUGINS_PATH, the Wazo version from WAZO_VERSION.
 * `installPlugins(["helloworld"], { ...fromEnvironment(), root: "/" })`.
 */
export function fromEnvironment(env: Environment = process.env): { ami: "auto"; env: Environment; envPath?: string } {
  return { ami: "auto", env, ...(env.WAZO_TASKS_PLUGINS_PATH ? { envPath: env.WAZO_TASKS_PLUGINS_PATH } : {}) };
}
