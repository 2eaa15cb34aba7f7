import { installPlugins, loadArgs, planInstall, sourcesFor } from "../engine.js";
import { readManifests } from "../state/manifest.js";
import { describeSource } from "../sources/types.js";
import { definitionFile } from "../model/plugin.js";
import { reportFailure } from "./failure.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function show(args: string[], flags: CommonFlags): Promise<number> {
  return reportFailure(flags, async () => {
    const emit = loggerFor(flags);
    const base = runOptions(flags, emit);
    // One fetch for the three uses below, into a temporary folder removed at the end.
    const sources = sourcesFor({ ...base, dryRun: true });
    const opts = { ...base, sources };
    try {
      const [p] = await loadArgs(args, opts);
      const plan = await planInstall(p.origin ? args.slice(0, 1) : [p.dir], { ...opts, dryRun: true, noLint: true, emit: () => {} });
      const extensions = plan.plugins[0]?.manifest?.extensions ?? [];
      const installed = (await readManifests(plan.root)).get(p.name);
      const meta = {
        name: p.name,
        version: p.version,
        description: p.description,
        kind: p.kind,
        dir: p.dir,
        descriptor: definitionFile(p),
        extensions,
        ...(p.needs?.length ? { needs: p.needs } : {}),
        ...(p.origin ? { origin: p.origin } : {}),
        ...(installed?.origin ? { installedOrigin: installed.origin } : {}),
      };
      if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "show", ...meta }) + "\n");
      else {
        const ext = extensions.length ? extensions.map((x) => `${x.extension}@${x.context} (${x.file})`).join("\n              ") : "none";
        const from = p.origin ? `  source:     ${describeSource(p.origin)}\n` : "";
        const needs = p.needs?.includes("ami") ? "  needs:      ami (this plugin's code gets the AMI credentials)\n" : "";
        const inst = installed
          ? `  installed:  ${installed.version}${installed.origin ? ` from ${describeSource(installed.origin)}` : ` from the folder ${installed.source}`}\n`
          : "";
        process.stdout.write(
          `${p.name} ${p.version}: ${p.description}\n  folder:     ${p.dir}\n${from}  executor:   ${p.kind}${meta.descriptor ? ` (${meta.descriptor})` : ""}\n  extensions: ${ext}\n${needs}${inst}  plan on ${opts.root ?? "/"}:\n`,
        );
      }
      const summary = await installPlugins(p.origin ? args.slice(0, 1) : [p.dir], { ...opts, dryRun: true });
      return summary.exitCode;
    } finally {
      await sources.close(false);
    }
  });
}
