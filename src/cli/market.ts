import path from "node:path";
import { chooseVersion, marketUrl, readMarket } from "../sources/market.js";
import { currentWazoVersion } from "../util/version.js";
import { readManifests } from "../state/manifest.js";
import { reportFailure } from "./failure.js";
import type { CommonFlags } from "./options.js";

/** `market [TEXT]`: the market's plugins, the version each would install here, what is installed. */
export default async function market(args: string[], flags: CommonFlags): Promise<number> {
  const root = path.resolve(flags.root ?? "/");
  return reportFailure(flags, async () => {
    const where = await marketUrl(flags.market, process.env, root);
    const m = await readMarket(where.url);
    const wazo = await currentWazoVersion(root, flags.wazoVersion, process.env.WAZO_VERSION);
    const installed = await readManifests(root);
    const text = args.join(" ").toLowerCase();
    const rows = m.items
      .map((item) => {
        const name = `${item.namespace}/${item.name}`;
        const pick = chooseVersion(item, wazo?.version);
        return {
          name,
          displayName: item.display_name ?? undefined,
          description: item.description ?? undefined,
          wouldInstall: typeof pick === "string" ? null : pick.version,
          why: typeof pick === "string" ? pick : undefined,
          installed: installed.get(name)?.version ?? null,
          versions: item.versions.map((v) => ({
            version: v.version,
            method: v.method,
            minWazoVersion: v.min_wazo_version ?? undefined,
            maxWazoVersion: v.max_wazo_version ?? undefined,
          })),
        };
      })
      .filter((r) => !text || [r.name, r.displayName, r.description].some((f) => f?.toLowerCase().includes(text)))
      .sort((a, b) => a.name.localeCompare(b.name));
    if (flags.json) {
      process.stdout.write(JSON.stringify({ v: 1, type: "market", url: m.url, wazoVersion: wazo?.version ?? null, plugins: rows }) + "\n");
      return 0;
    }
    process.stdout.write(`market ${m.url}, for Wazo ${wazo ? `${wazo.version} (from ${wazo.from})` : "unknown (newest versions shown)"}\n`);
    if (!rows.length) process.stdout.write(text ? `no plugin matches "${text}"\n` : "the market lists no plugin\n");
    for (const r of rows) {
      const v = r.wouldInstall ?? "-";
      const state = r.installed ? `installed ${r.installed}` : "not installed";
      process.stdout.write(`${r.name.padEnd(28)} ${v.padEnd(10)} ${state.padEnd(18)} ${r.description ?? r.displayName ?? ""}\n`);
      if (r.why && !flags.quiet) process.stdout.write(`  ${r.why}\n`);
    }
    return 0;
  });
}
