import { reloadAsterisk } from "../reload.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function reload(args: string[], flags: CommonFlags): Promise<number> {
  const result = await reloadAsterisk({ ...runOptions(flags, loggerFor(flags)), targets: args, pending: flags.pending === true });
  return result.exitCode;
}
