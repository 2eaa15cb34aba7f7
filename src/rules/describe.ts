/** A light description of a wazo-plugind plugin folder for listings (no validation, no code run). */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { PluginSummary } from "../load/describe.js";
import { parseYaml } from "../load/yaml.js";
import { validateRulesMeta } from "./meta.js";

export async function describeRulesPlugin(dir: string): Promise<PluginSummary> {
  const file = path.join(dir, "wazo", "plugin.yml");
  const parsed = parseYaml(await readFile(file, "utf8").catch(() => ""), file);
  const meta = parsed.ok ? validateRulesMeta(parsed.doc).meta : undefined;
  if (!meta) return { kind: "rules" };
  return { name: `${meta.namespace}/${meta.name}`, version: meta.version, description: meta.description ?? meta.displayName, kind: "rules" };
}
