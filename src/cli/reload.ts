import { reloadAsterisk } from "../reload.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function reload(args: string[], flags: CommonFlags): Promise<number> {
  return reloadAsterisk(args, { ...runOptions(flags, loggerFor(flags)), pending: flags.pending === true });
}
