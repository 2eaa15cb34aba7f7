import path from "node:path";
import { acquireLock } from "../apply/lock.js";
import { recoverRoot } from "../apply/recover.js";
import { reportFailure } from "./failure.js";
import type { CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function recover(_args: string[], flags: CommonFlags): Promise<number> {
  const root = path.resolve(flags.root ?? "/");
  return reportFailure(flags, async () => {
    const lock = await acquireLock(root, 10_000);
    try {
      const emit = loggerFor(flags);
      const done = await recoverRoot(root, emit);
      if (!done) {
        if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "summary", ok: true, exitCode: 0, recovered: false }) + "\n");
        else if (!flags.quiet) process.stdout.write(`nothing to recover in ${root}\n`);
      } else if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "summary", ok: true, exitCode: 0, recovered: true }) + "\n");
      return 0;
    } finally {
      await lock.release();
    }
  });
}
