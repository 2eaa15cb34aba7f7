import path from "node:path";
import { acquireLock } from "../apply/lock.js";
import { recoverRoot } from "../apply/recover.js";
import { discardJournal } from "../state/journal.js";
import { reportFailure } from "./failure.js";
import { lockTimeoutMs, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";
import { DEFAULT_LOCK_TIMEOUT_MS } from "./recover-first.js";

export default async function recover(_args: string[], flags: CommonFlags): Promise<number> {
  const root = path.resolve(flags.root ?? "/");
  return reportFailure(flags, async () => {
    const lock = await acquireLock(root, lockTimeoutMs(flags) ?? DEFAULT_LOCK_TIMEOUT_MS, { pid: process.pid });
    try {
      if (flags.discard) return discard(root, flags);
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

/** `--discard`: the journal is set aside without being applied; what it would have put back is listed. */
async function discard(root: string, flags: CommonFlags): Promise<number> {
  const d = await discardJournal(root);
  if (flags.json) {
    process.stdout.write(
      JSON.stringify({ v: 1, type: "summary", ok: true, exitCode: 0, discarded: d ? { paths: d.paths, command: d.command, movedTo: d.to } : null }) + "\n",
    );
    return 0;
  }
  if (!d) {
    if (!flags.quiet) process.stdout.write(`nothing to discard in ${root}\n`);
    return 0;
  }
  const what = d.readable
    ? `${d.paths.length} path(s) it would have put back are left as they are now`
    : "the journal could not be read: the paths it held are not known";
  process.stdout.write(`discarded the journal of an interrupted ${d.command ?? "run"}: ${what}\n`);
  for (const p of d.paths) process.stdout.write(`  /${p.replace(/^\/+/, "")}\n`);
  process.stdout.write(`the journal and the originals it kept were moved to ${d.to}\n`);
  return 0;
}
