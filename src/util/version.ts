/**
 * Versions compared as versions, not as strings: split into runs of digits and of letters,
 * compared piece by piece, numbers as numbers (`24.10` > `24.9`, `24.00` = `24.0`), as
 * wazo-plugind does with LooseVersion. A missing piece sorts first (`24.01` < `24.01.1`).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";

const pieces = (v: string): (number | string)[] => (v.trim().match(/\d+|[A-Za-z]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p.toLowerCase()));

/** Negative when a < b, 0 when equal, positive when a > b. */
export function compareVersions(a: string, b: string): number {
  const pa = pieces(a);
  const pb = pieces(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === "number" && typeof y === "number") return x - y;
    if (typeof x === "number") return 1; // 24.1 > 24.rc
    if (typeof y === "number") return -1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** Where the running Wazo version is read from when neither --wazo-version nor WAZO_VERSION is set. */
export const WAZO_VERSION_FILE = "usr/share/wazo/WAZO-VERSION";

/** The Wazo version to check against, and where it came from; undefined when unknown. */
export async function currentWazoVersion(
  root: string,
  flag: string | undefined,
  env: string | undefined,
): Promise<{ version: string; from: string } | undefined> {
  if (flag?.trim()) return { version: flag.trim(), from: "--wazo-version" };
  if (env?.trim()) return { version: env.trim(), from: "WAZO_VERSION" };
  const file = path.join(root, WAZO_VERSION_FILE);
  const text = await readFile(file, "utf8").catch(() => undefined);
  const first = text
    ?.split("\n")
    .map((l) => l.trim())
    .find(Boolean);
  return first ? { version: first, from: file } : undefined;
}
