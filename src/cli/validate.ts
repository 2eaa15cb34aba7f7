import path from "node:path";
import { validatePlugins } from "../validate-plugins.js";
import { formatDiagnostic } from "../report/diagnostic.js";
import type { CommonFlags } from "./options.js";

export default async function validate(args: string[], flags: CommonFlags): Promise<number> {
  const results = await validatePlugins(args, {
    pluginsDirs: flags.pluginsDir,
    envPath: process.env.WAZO_TASKS_PLUGINS_PATH,
    root: path.resolve(flags.root ?? "/"),
    env: process.env,
  });
  let bad = 0;
  for (const r of results) {
    if (flags.json)
      process.stdout.write(JSON.stringify({ v: 1, type: "validate", ...r, diagnostics: r.diagnostics.map((d) => ({ ...d, source: undefined })) }) + "\n");
    else if (r.ok) {
      for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d, process.cwd()) + "\n"); // warnings only
      process.stdout.write(`ok       ${r.arg}${r.name ? ` (${r.name} ${r.version}, ${r.kind})` : ""}\n`);
    } else {
      for (const d of r.diagnostics) process.stderr.write(formatDiagnostic(d, process.cwd()) + "\n");
      process.stderr.write(`invalid  ${r.arg}: ${r.diagnostics.filter((d) => d.severity === "error").length} problem(s)\n`);
    }
    if (!r.ok) bad++;
  }
  return bad ? 2 : 0;
}
