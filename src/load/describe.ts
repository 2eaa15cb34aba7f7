/** A light description of a plugin folder for listings: metadata and executor kind, no validation. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { PluginKind } from "../model/plugin.js";
import { parseYaml } from "./yaml.js";

export interface PluginSummary {
  name?: string;
  version?: string;
  description?: string;
  kind: PluginKind | "unknown";
}

/** package.yml's name, version and description as written, without validation. */
export async function readPackageSummary(dir: string): Promise<Omit<PluginSummary, "kind">> {
  const text = await readFile(path.join(dir, "package.yml"), "utf8").catch(() => "");
  const parsed = parseYaml(text, path.join(dir, "package.yml"));
  const meta = parsed.ok && parsed.doc.value && typeof parsed.doc.value === "object" ? (parsed.doc.value as Record<string, unknown>) : {};
  const str = (v: unknown) => (v === undefined || v === null ? undefined : String(v));
  return { name: str(meta.name), version: str(meta.version), description: str(meta.description) };
}
