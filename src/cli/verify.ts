import path from "node:path";
import { invalid } from "../model/diagnostic.js";
import { findDrift } from "../state/drift.js";
import { readManifests } from "../state/manifest.js";
import { reportFailure } from "./failure.js";
import type { CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";
import { recoverIfInterrupted } from "./recover-first.js";

export default async function verify(args: string[], flags: CommonFlags): Promise<number> {
  const root = path.resolve(flags.root ?? "/");
  return reportFailure(flags, async () => {
    await recoverIfInterrupted(root, loggerFor(flags));
    const manifests = await readManifests(root);
    for (const a of args) if (!manifests.has(a)) throw invalid(`plugin "${a}" is not installed in ${root}`);
    const chosen = [...manifests.values()].filter((m) => !args.length || args.includes(m.name));
    const drift = await findDrift(root, chosen);
    if (flags.json) {
      for (const d of drift) process.stdout.write(JSON.stringify({ v: 1, type: "drift", ...d }) + "\n");
      process.stdout.write(JSON.stringify({ v: 1, type: "summary", ok: drift.length === 0, exitCode: drift.length ? 1 : 0, plugins: chosen.map((m) => m.name), drifted: drift.length }) + "\n");
    } else {
      for (const d of drift) process.stdout.write(`  ${d.kind.padEnd(9)} ${d.path}  (${d.plugin}: ${d.detail})\n`);
      if (!flags.quiet) process.stdout.write(drift.length ? `${drift.length} path(s) drifted from the installed state\n` : `ok: ${chosen.length} plugin(s) match their installed state\n`);
    }
    return drift.length ? 1 : 0;
  });
}
