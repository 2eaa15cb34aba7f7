import { verifyPlugins } from "../verify.js";
import { errorText } from "../model/failure.js";
import { formatDiagnostic } from "../report/diagnostic.js";
import { runOptions, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";

export default async function verify(args: string[], flags: CommonFlags): Promise<number> {
  const emit = loggerFor(flags);
  const r = await verifyPlugins({
    ...runOptions(flags, emit),
    root: flags.root,
    plugins: args,
    dialplan: flags.dialplan === true,
    repair: flags.repair === true,
  });
  const { drift } = r;
  for (const a of r.repairs ?? [])
    if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "repair", ...a }) + "\n");
    else process.stdout.write(`  ${a.action.padEnd(10)} ${a.file}  (${a.problem}; ${a.detail})\n`);
  const failed = r.failure && r.failure.reason !== "drift" ? r.failure : undefined;
  if (flags.json) {
    for (const d of drift) process.stdout.write(JSON.stringify({ v: 1, type: "drift", ...d }) + "\n");
    if (failed) for (const diagnostic of failed.diagnostics) process.stdout.write(JSON.stringify({ v: 1, type: "diagnostic", diagnostic }) + "\n");
    const error = failed && errorText(failed);
    process.stdout.write(
      JSON.stringify({
        v: 1,
        type: "summary",
        ok: r.ok,
        exitCode: r.exitCode,
        plugins: r.plugins,
        drifted: drift.length,
        ...(r.dialplanChecked === undefined ? {} : { dialplanChecked: r.dialplanChecked }),
        ...(failed ? { error } : {}),
        ...(r.failure ? { failure: r.failure } : {}),
        durationMs: r.durationMs,
      }) + "\n",
    );
    return r.exitCode;
  }
  if (failed) {
    for (const d of failed.diagnostics) process.stderr.write(formatDiagnostic(d, process.cwd()) + "\n");
    process.stderr.write(`error: ${failed.message}${failed.hint ? `\n  hint: ${failed.hint}` : ""}\n`);
    return r.exitCode;
  }
  if (r.dialplanChecked !== undefined && !flags.quiet)
    process.stdout.write(`dialplan: ${r.dialplanChecked - drift.filter((d) => d.kind === "not-loaded").length} of ${r.dialplanChecked} extension(s) loaded\n`);
  for (const d of drift) process.stdout.write(`  ${d.kind.padEnd(10)} ${d.path}  (${d.plugin}: ${d.detail})\n`);
  if (!flags.quiet)
    process.stdout.write(
      drift.length ? `${drift.length} path(s) drifted from the installed state\n` : `ok: ${r.plugins.length} plugin(s) match their installed state\n`,
    );
  return r.exitCode;
}
