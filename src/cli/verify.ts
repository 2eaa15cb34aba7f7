import path from "node:path";
import { invalid } from "../model/diagnostic.js";
import { findDrift } from "../state/drift.js";
import { readManifests, type Manifest } from "../state/manifest.js";
import { checkLoadedDialplan } from "../apply/dialplan-check.js";
import { connectAsterisk } from "../asterisk/connect.js";
import { resolveAmiSettings } from "../asterisk/settings.js";
import { TaskFailure } from "../model/diagnostic.js";
import { reportFailure } from "./failure.js";
import { runOptions, type CommonFlags } from "./options.js";
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
    const missing = flags.dialplan ? await dialplanMissing(chosen, flags, root) : [];
    for (const m of missing) drift.push({ plugin: m.plugin, path: m.file, kind: "missing", detail: `${m.extension}@${m.context} is not loaded in Asterisk` });
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

/** `--dialplan`: asks Asterisk for every extension the plugins provide. */
async function dialplanMissing(chosen: Manifest[], flags: CommonFlags, root: string) {
  const opts = runOptions(flags, () => {});
  const ast = await connectAsterisk({ ami: await resolveAmiSettings(opts.amiFlags ?? {}, process.env, root), staging: false, log: opts.amiLog });
  try {
    const check = await checkLoadedDialplan(chosen, [], ast);
    if (!check) throw new TaskFailure("runtime", `cannot check the dialplan through ${ast.transport}`, [], "configure AMI (docs/ami.md)");
    if (!flags.quiet && !flags.json) process.stdout.write(`dialplan: ${check.checked - check.missing.length} of ${check.checked} extension(s) loaded\n`);
    return check.missing;
  } catch (e) {
    if (e instanceof TaskFailure) throw e;
    throw new TaskFailure("runtime", `cannot check the dialplan: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    await ast.close();
  }
}
