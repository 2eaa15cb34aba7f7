import { installPlugins } from "../engine.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function install(args: string[], flags: CommonFlags): Promise<number> {
  const emit = loggerFor(flags);
  const summary = await installPlugins(args, { ...runOptions(flags, emit), allowAbsolute: flags.allowAbsolute === true });
  return summary.exitCode;
}
