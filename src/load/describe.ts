/** A light description of a plugin folder for listings: metadata and executor kind, no validation. */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { PluginKind } from "../model/plugin.js";
import { parseYaml } from "./yaml.js";

export interface PluginSummary {
  name?: string;
  version?: string;
  description?: string;
  kind: PluginKind | "unknown";
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

/** The names GNU make reads, in its search order; loading accepts the same three. */
const MAKEFILE_NAMES = ["GNUmakefile", "makefile", "Makefile"];

/** A folder holding package.yml (or nothing a format knows): its metadata and executor kind. */
export async function describePackagePlugin(dir: string): Promise<PluginSummary> {
  const text = await readFile(path.join(dir, "package.yml"), "utf8").catch(() => "");
  const parsed = parseYaml(text, path.join(dir, "package.yml"));
  const meta = parsed.ok && parsed.doc.value && typeof parsed.doc.value === "object" ? (parsed.doc.value as Record<string, unknown>) : {};
  const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
  const hasMakefile = async () => (await Promise.all(MAKEFILE_NAMES.map((n) => exists(path.join(dir, n))))).some(Boolean);
  const kind =
    (await exists(path.join(dir, "tasks.yml"))) || (await exists(path.join(dir, "tasks.ts"))) ? "descriptor" : (await hasMakefile()) ? "make" : "unknown";
  return { name: str(meta.name), version: str(meta.version), description: str(meta.description), kind };
}
