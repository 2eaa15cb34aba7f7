import path from "node:path";
import { upgradePlugins } from "../upgrade.js";
import { reportFailure } from "./failure.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function upgrade(args: string[], flags: CommonFlags): Promise<number> {
  return reportFailure(flags, async () => {
    const summary = await upgradePlugins(args, runOptions(flags, loggerFor(flags)));
    if (summary) return summary.exitCode;
    const root = path.resolve(flags.root ?? "/");
    if (flags.json)
      process.stdout.write(
        JSON.stringify({
          v: 1,
          type: "summary",
          ok: true,
          exitCode: 0,
          dryRun: flags.dryRun === true,
          changed: 0,
          unchanged: 0,
          failed: 0,
          reloads: [],
          restarts: [],
          plugins: [],
        }) + "\n",
      );
    else if (!flags.quiet) process.stdout.write(`nothing to upgrade: no plugin in ${root} was installed from git or the market\n`);
    return 0;
  });
}
