/**
 * The Wazo market: wazo-plugind's market list (`{"items": [{namespace, name, versions: [{method,
 * version, options, min_wazo_version, max_wazo_version}]}]}`), read once per run over http(s)
 * (Node's fetch) or from disk (file://). Its address: --market, WAZO_TASKS_MARKET_URL, `market:
 * url:` in <root>/etc/wazo-tasks/config.yml, else the public market wazo-plugind uses.
 */
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import { TaskFailure, invalid } from "../model/diagnostic.js";
import { megabytes, readLimited } from "../util/read-limited.js";
import { compareVersions } from "../util/version.js";
import type { SourceEnv } from "./types.js";
import { stripCredentials } from "./url.js";

/** wazo-plugind's `market.host` default, with the market list path. */
export const DEFAULT_MARKET_URL = "https://apps.wazo.community/0.1/plugins";
const MARKET_TIMEOUT_MS = 30_000;
/** The public market list is a few hundred kB; a list larger than this is not a market. */
export const MAX_MARKET_BYTES = 8 * 1024 * 1024;

/** The market list's schema, built on the first read: zod is loaded only by a run that reads a
 * market, not by every install. */
async function marketSchema() {
  const { z } = await import("zod");
  const version = z.union([z.string(), z.number()]).transform(String);
  const MarketVersion = z.looseObject({
    method: z.string(),
    version,
    options: z.record(z.string(), z.unknown()).default({}),
    min_wazo_version: version.nullish(),
    max_wazo_version: version.nullish(),
  });
  const MarketItem = z.looseObject({
    namespace: z.string().min(1),
    name: z.string().min(1),
    display_name: z.string().nullish(),
    description: z.string().nullish(),
    versions: z.array(MarketVersion),
  });
  return z.looseObject({ items: z.array(MarketItem) });
}
export type MarketItem = z.infer<Awaited<ReturnType<typeof marketSchema>>>["items"][number];
export type MarketVersion = MarketItem["versions"][number];

export interface Market {
  url: string;
  items: MarketItem[];
}

/** The market address in force and where it came from: --market, then (with an environment) WAZO_TASKS_MARKET_URL and the config file, then the public market. */
export async function marketUrl(flag: string | undefined, env: SourceEnv | undefined, root: string): Promise<{ url: string; from: string }> {
  if (flag) return { url: flag, from: "--market" };
  // A library call that did not hand its environment reads neither it nor the config file.
  if (!env) return { url: DEFAULT_MARKET_URL, from: "the default" };
  if (env.WAZO_TASKS_MARKET_URL) return { url: env.WAZO_TASKS_MARKET_URL, from: "WAZO_TASKS_MARKET_URL" };
  const { configPath, readConfigText } = await import("../asterisk/settings.js");
  const file = configPath(root);
  const text = await readConfigText(root);
  if (text) {
    const { parseYaml } = await import("../load/yaml.js");
    const parsed = parseYaml(text, file);
    const url = parsed.ok ? (parsed.doc.value as { market?: { url?: unknown } } | null)?.market?.url : undefined;
    if (typeof url === "string" && url) return { url, from: file };
  }
  return { url: DEFAULT_MARKET_URL, from: "the default" };
}

/** Reads and validates the market list; every failure is an invalid-input error naming the market. */
export async function readMarket(url: string): Promise<Market> {
  const shown = stripCredentials(url);
  const hint = "check the market address (--market URL, WAZO_TASKS_MARKET_URL, or market: url: in etc/wazo-tasks/config.yml) and the network";
  let text: string;
  try {
    if (url.startsWith("file://"))
      text = await readLimited(fileURLToPath(url), {
        what: "market lists",
        hint: 'a market list is wazo-plugind\'s {"items": [...]}',
        limit: MAX_MARKET_BYTES,
      });
    else if (/^https?:\/\//i.test(url)) {
      const res = await fetch(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(MARKET_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
      text = await boundedBody(res, shown, hint);
    } else throw invalid(`unknown market address ${shown}`, [], "the market is an http://, https:// or file:// URL");
  } catch (e) {
    if (e instanceof Error && e.name === "TaskFailure") throw e;
    const err = e as NodeJS.ErrnoException & { cause?: { code?: string; message?: string } };
    const why = err.code ?? err.cause?.code ?? err.cause?.message ?? err.message;
    throw new TaskFailure("market-failed", `cannot read the market at ${shown}: ${why}`, [], `${hint} (tried: GET ${shown})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TaskFailure(
      "market-failed",
      `the market at ${shown} did not answer JSON: ${(e as Error).message}`,
      [],
      `${hint}; a market answers wazo-plugind's market list: {"items": [...]}`,
    );
  }
  const r = (await marketSchema()).safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new TaskFailure(
      "market-failed",
      `the market at ${shown} answered something other than a market list: ${issue.path.join(".") || "(top)"}: ${issue.message}`,
      [],
      `${hint}; a market answers {"items": [{"namespace", "name", "versions": [...]}]}`,
    );
  }
  return { url: shown, items: r.data.items };
}

/** The answer's body, read no further than MAX_MARKET_BYTES: a larger one is refused, not read whole. */
async function boundedBody(res: Response, shown: string, hint: string): Promise<string> {
  const tooLarge = (size: string) =>
    new TaskFailure(
      "market-failed",
      `the market at ${shown} answered ${size}; market lists are limited to ${megabytes(MAX_MARKET_BYTES).replace(/\.0 /, " ")}`,
      [],
      hint,
    );
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > MAX_MARKET_BYTES) {
    await res.body?.cancel();
    throw tooLarge(megabytes(declared));
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += chunk.length;
    if (size > MAX_MARKET_BYTES) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge(`more than ${megabytes(MAX_MARKET_BYTES).replace(/\.0 /, " ")}`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** `NAMESPACE/NAME[@VERSION]`, as named on the command line. */
export const MARKET_ARG = /^([a-z0-9]+)\/([a-z0-9-]+)(?:@([A-Za-z0-9._+~-]+))?$/;

export const inRange = (v: MarketVersion, wazo: string) =>
  (!v.min_wazo_version || compareVersions(wazo, v.min_wazo_version) >= 0) && (!v.max_wazo_version || compareVersions(wazo, v.max_wazo_version) <= 0);

export const rangeText = (v: MarketVersion) =>
  v.min_wazo_version || v.max_wazo_version
    ? `Wazo ${[v.min_wazo_version && `>= ${v.min_wazo_version}`, v.max_wazo_version && `<= ${v.max_wazo_version}`].filter(Boolean).join(" and ")}`
    : "any Wazo";

/**
 * The version to install: `wanted` exactly, else the newest whose Wazo range includes `wazo`
 * (any when the Wazo version is unknown), at least `atLeast`. A string says why there is none.
 */
export function chooseVersion(item: MarketItem, wazo: string | undefined, wanted?: string, atLeast?: string): MarketVersion | string {
  const sorted = [...item.versions].sort((a, b) => compareVersions(b.version, a.version));
  const name = `${item.namespace}/${item.name}`;
  if (wanted) {
    const v = sorted.find((x) => x.version === wanted);
    if (!v) return `no version ${wanted} of ${name} in the market (it has ${sorted.map((x) => x.version).join(", ") || "none"})`;
    if (wazo && !inRange(v, wazo)) return `${name} ${wanted} is for ${rangeText(v)}, and this is Wazo ${wazo}`;
    return v;
  }
  const fit = sorted.filter((v) => (!wazo || inRange(v, wazo)) && (!atLeast || compareVersions(v.version, atLeast) >= 0));
  if (fit.length) return fit[0];
  if (!sorted.length) return `${name} has no version in the market`;
  const listed = sorted.map((v) => `${v.version} (${rangeText(v)})`).join(", ");
  return `no version of ${name}${atLeast ? ` ${atLeast} or later` : ""} in the market is for Wazo ${wazo}: ${listed}`;
}
