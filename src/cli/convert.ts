import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { resolvePluginArg } from "../load/lookup.js";
import { invalid } from "../model/diagnostic.js";
import { formatDiagnostic } from "../report/diagnostic.js";
import { reportFailure } from "./failure.js";
import type { CommonFlags } from "./options.js";

export default async function convert(args: string[], flags: CommonFlags): Promise<number> {
  return reportFailure(flags, async () => {
    const dir = await resolvePluginArg(args[0], {
      pluginsDirs: flags.pluginsDir,
      envPath: process.env.WAZO_TASKS_PLUGINS_PATH,
      root: path.resolve(flags.root ?? "/"),
    });
    const { convertMakefile } = await import("../make/convert.js");
    const result = convertMakefile(dir, { strict: flags.strict === true });
    for (const w of result.warnings)
      process.stderr.write(formatDiagnostic({ ...w, file: w.file === path.basename(w.file) ? path.join(dir, w.file) : w.file }, process.cwd()) + "\n");
    if (!result.ok)
      throw invalid(
        `cannot convert ${dir}${flags.strict ? " (--strict)" : ""}`,
        result.diagnostics.map((d) => ({ ...d, file: path.isAbsolute(d.file) ? d.file : path.join(dir, d.file) })),
      );
    if (!flags.write) {
      process.stdout.write(result.yaml);
      return 0;
    }
    const target = path.join(dir, "tasks.yml");
    if (
      (await stat(target).then(
        () => true,
        () => false,
      )) &&
      !flags.force
    )
      throw invalid(`${target} already exists`, [], "pass --force to replace it");
    await writeFile(target, result.yaml);
    if (!flags.quiet) process.stdout.write(`wrote ${target}${result.warnings.length ? ` (${result.warnings.length} warning(s): review it)` : ""}\n`);
    return 0;
  });
}
