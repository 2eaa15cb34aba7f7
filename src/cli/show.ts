import { installPlugins, loadArgs, planInstall } from "../engine.js";
import { reportFailure } from "./failure.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function show(args: string[], flags: CommonFlags): Promise<number> {
  return reportFailure(flags, async () => {
    const emit = loggerFor(flags);
    const opts = runOptions(flags, emit);
    const [p] = await loadArgs(args, opts);
    const plan = await planInstall([p.dir], { ...opts, dryRun: true, noLint: true, emit: () => {} });
    const extensions = plan.plugins[0]?.manifest?.extensions ?? [];
    const meta = { name: p.name, version: p.version, description: p.description, kind: p.kind, dir: p.dir, descriptor: p.tasksFile ?? p.makefile, extensions };
    if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "show", ...meta }) + "\n");
    else {
      const ext = extensions.length ? extensions.map((x) => `${x.extension}@${x.context} (${x.file})`).join("\n              ") : "none";
      process.stdout.write(`${p.name} ${p.version}: ${p.description}\n  folder:     ${p.dir}\n  executor:   ${p.kind}${meta.descriptor ? ` (${meta.descriptor})` : ""}\n  extensions: ${ext}\n  plan on ${opts.root ?? "/"}:\n`);
    }
    const summary = await installPlugins([p.dir], { ...opts, dryRun: true });
    return summary.exitCode;
  });
}
