import path from "node:path";
import { listAvailable } from "../load/lookup.js";
import { describePlugin } from "../formats/index.js";
import { readManifests } from "../state/manifest.js";
import { describeSource } from "../sources/types.js";
import { reportFailure } from "./failure.js";
import { lockTimeoutMs, type CommonFlags } from "./options.js";
import { loggerFor } from "./output.js";
import { recoverIfInterrupted } from "./recover-first.js";

export default async function list(_args: string[], flags: CommonFlags): Promise<number> {
  const root = path.resolve(flags.root ?? "/");
  return reportFailure(flags, async () => {
    if (flags.installed) {
      await recoverIfInterrupted(root, loggerFor(flags), process.pid, lockTimeoutMs(flags));
      const manifests = [...(await readManifests(root)).values()].sort((a, b) => a.name.localeCompare(b.name));
      const rows = manifests.map((m) => ({
        name: m.name,
        version: m.version,
        installedBy: m.installedBy,
        installedAt: m.installedAt,
        files: m.files.filter((f) => f.type !== "dir").length,
        reloadPending: m.reloadPending.map((h) => ("reload" in h ? h.reload : `restart ${h.restart}`)),
        ...(m.origin ? { origin: m.origin } : {}),
      }));
      if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "list", installed: true, root, plugins: rows }) + "\n");
      else if (!rows.length) process.stdout.write(`nothing installed in ${root}\n`);
      else
        for (const r of rows)
          process.stdout.write(
            `${r.name.padEnd(24)} ${r.version.padEnd(10)} ${r.installedBy.padEnd(10)} ${String(r.files).padStart(4)} files  ${r.installedAt}${r.reloadPending.length ? `  reload pending: ${r.reloadPending.join(", ")}` : ""}\n${r.origin ? `  from ${describeSource(r.origin)}\n` : ""}`,
          );
      return 0;
    }
    const found = await listAvailable({ pluginsDirs: flags.pluginsDir, envPath: process.env.WAZO_TASKS_PLUGINS_PATH, root });
    const rows = await Promise.all(found.map(async (p) => ({ ...(await describePlugin(p.dir)), name: p.name, dir: p.dir })));
    if (flags.json) process.stdout.write(JSON.stringify({ v: 1, type: "list", installed: false, plugins: rows }) + "\n");
    else for (const r of rows) process.stdout.write(`${r.name.padEnd(24)} ${(r.version ?? "?").padEnd(10)} ${r.kind.padEnd(10)} ${r.description ?? ""}\n`);
    return 0;
  });
}
