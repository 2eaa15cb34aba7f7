/**
 * wazo-tasks as a library: plan, preview and apply plugin installs, and talk to Asterisk.
 * See docs/api.md for runnable examples.
 */
export { installPlugins, uninstallPlugins, planInstall, type RunOptions, type RunSummary } from "./engine.js";
export { createAmiClient, parseAmiUrl, AmiError, type AmiClient, type AmiConfig } from "./asterisk/ami-client.js";
export { reloadAsterisk } from "./reload.js";
export { upgradePlugins } from "./upgrade.js";
export type { SourceRecord } from "./sources/types.js";
export { TaskFailure, isTaskFailure, type FailureReason } from "./model/diagnostic.js";
export type { Handler, Manifest } from "./state/manifest.js";
export type { AsteriskControl, ServiceControl } from "./asterisk/control.js";
export type { Plan, PluginPlan, PlannedStep, Op } from "./model/plan.js";
export type { Event, StepStatus } from "./model/event.js";
export type { Diagnostic } from "./model/diagnostic.js";
export type { Tasks, Step, PackageMeta } from "./load/schema.js";
import type { Tasks } from "./load/schema.js";

/** Types a tasks.ts descriptor: `export default defineTasks({ install: [...] })`. */
export function defineTasks(tasks: Tasks): Tasks {
  return tasks;
}
