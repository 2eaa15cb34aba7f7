import { uninstallPlugins } from "../engine.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function uninstall(args: string[], flags: CommonFlags): Promise<number> {
  const summary = await uninstallPlugins(args, runOptions(flags, loggerFor(flags)));
  return summary.exitCode;
}
