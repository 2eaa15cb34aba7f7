/**
 * `wazo/plugin.yml`, validated with zod as tolerantly as wazo-plugind reads it: unknown keys are
 * accepted with a warning, numeric versions are read as the text written (`24.00` stays "24.00",
 * where YAML would give the number 24), blank lines and comments before the first key are fine.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { readText } from "../load/plugin.js";
import { issuesToDiagnostics, yamlLocator, type Locator } from "../load/validate.js";
import { parseYaml, type YamlDocument, type YamlPath } from "../load/yaml.js";
import type { Diagnostic } from "../model/diagnostic.js";
import type { LoadResult, RulesInfo, RulesPlugin } from "../model/plugin.js";
import { branchFor, hasTarget, readRulesScript } from "./script.js";
import { MAX_PLUGIN_FORMAT_VERSION, type RulesDependency, type RulesMeta } from "./types.js";

const versionText = z.union([z.string().min(1), z.number()], {
  error: (iss) => (iss.input === undefined ? undefined : 'must be a version, such as 1.0.2 or "24.01"'),
});
const formatVersion = `must be a whole number from 0 to ${MAX_PLUGIN_FORMAT_VERSION}`;
const informational = z.unknown().optional();

export const RulesMetaSchema = z
  .strictObject({
    namespace: z
      .string()
      .regex(/^[a-z0-9]+$/, "must be lower-case letters and digits only (no '-')")
      .describe("Namespace; the plugin is installed as NAMESPACE/NAME."),
    name: z
      .string()
      .regex(/^[a-z0-9-]+$/, "must be lower-case letters, digits and '-'")
      .describe("Plugin name."),
    version: versionText.describe("Plugin version; a number is read as written."),
    plugin_format_version: z.number({ error: formatVersion }).int(formatVersion).min(0, formatVersion).max(MAX_PLUGIN_FORMAT_VERSION, formatVersion).optional(),
    min_wazo_version: versionText.optional(),
    max_wazo_version: versionText.optional(),
    depends: z
      .array(
        z.strictObject({ namespace: z.string().min(1, "must not be empty"), name: z.string().min(1, "must not be empty"), version: versionText.optional() }),
      )
      .optional(),
    debian_depends: z.array(z.string().min(1, "must not be empty")).optional(),
    description: informational,
    short_description: informational,
    display_name: informational,
    author: informational,
    tags: informational,
    homepage: informational,
    license: informational,
    icon: informational,
    color: informational,
    screenshots: informational,
  })
  .describe("wazo/plugin.yml (wazo-plugind format)");

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const isFile = (p: string) =>
  stat(p).then(
    (s) => s.isFile(),
    () => false,
  );

/** Loads a folder holding wazo/plugin.yml and wazo/rules. */
export async function loadRulesPlugin(dir: string): Promise<LoadResult<RulesPlugin>> {
  const metaFile = path.join(dir, "wazo", "plugin.yml");
  const rulesFile = path.join(dir, "wazo", "rules");
  const text = await readText(metaFile);
  const parsed = parseYaml(text, metaFile);
  const diagnostics: Diagnostic[] = [];
  if (!parsed.ok) diagnostics.push(parsed.diagnostic);
  const v = parsed.ok ? validateRulesMeta(parsed.doc) : undefined;
  if (v) diagnostics.push(...v.diagnostics);
  if (!(await isFile(rulesFile)))
    diagnostics.push({
      severity: "error",
      file: metaFile,
      line: 1,
      col: 1,
      source: text,
      message: (await exists(rulesFile)) ? `${rulesFile} is not a file` : `no wazo/rules next to wazo/plugin.yml (${rulesFile})`,
      hint: "a wazo-plugind plugin has wazo/plugin.yml and wazo/rules (a program called with build, package, install, uninstall)",
    });
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length || !v?.meta || !parsed.ok) return { ok: false, diagnostics: errors };
  const meta = v.meta;
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const script = await readRulesScript(rulesFile);
  const say = (message: string, line?: number) =>
    warnings.push({ severity: "warning", file: rulesFile, line, message, source: line ? script.text : undefined });
  if (!script.branches) say('wazo/rules is not read as a `case "$1" in ... esac` statement: every target is called, and a failing one stops the run');
  else {
    if (!hasTarget(script, "package")) say("wazo/rules has no package target: the plugin installs no files");
    const postrm = branchFor(script, "postrm");
    if (postrm && meta.pluginFormatVersion < 1)
      say("the postrm target is never called: it needs plugin_format_version: 1 or more in wazo/plugin.yml", postrm.line);
  }
  const rules: RulesInfo = { meta, metaFile, rulesFile, locate: yamlLocator(parsed.doc), warnings };
  const description = [meta.description, meta.displayName].find((x) => x !== undefined) ?? "";
  // Conflicts about staged files point at the package target, which staged them.
  const pkg = script.branches ? branchFor(script, "package") : undefined;
  const pkgCol = pkg ? (script.text.split(/\r?\n/)[pkg.line - 1] ?? "").search(/\S/) + 1 : undefined;
  const locate: Locator = {
    file: rulesFile,
    diagnostic: (_p, message, o = {}) => ({
      severity: "error",
      file: rulesFile,
      line: pkg?.line,
      col: pkgCol,
      length: "package".length,
      message,
      hint: o.hint,
      source: script.text,
    }),
  };
  return {
    ok: true,
    plugin: { name: `${meta.namespace}/${meta.name}`, version: meta.version, description, dir, kind: "rules", metaFile, tasksFile: rulesFile, locate, rules },
  };
}

/** Validates plugin.yml; unknown keys come back as warnings. */
export function validateRulesMeta(doc: YamlDocument): { meta?: RulesMeta; diagnostics: Diagnostic[] } {
  const at = yamlLocator(doc);
  const value = doc.value;
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return {
      diagnostics: [
        at.diagnostic(
          [],
          `wazo/plugin.yml must be a mapping with namespace, name and version, not ${value === null || value === undefined ? "nothing" : Array.isArray(value) ? "a list" : typeof value}`,
        ),
      ],
    };
  // An optional key left empty (`depends:`) means "none", as wazo-plugind reads it.
  const input = Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(([k, v]) => v !== null || ["namespace", "name", "version"].includes(k)),
  );
  const r = RulesMetaSchema.safeParse(input);
  const issues = r.success
    ? []
    : r.error.issues.map((i) =>
        i.code === "invalid_union" && valueAt(input, i.path as YamlPath) === undefined ? { ...i, code: "invalid_type" as const, expected: "string" } : i,
      );
  const diagnostics = issuesToDiagnostics({ issues } as unknown as z.ZodError, input, RulesMetaSchema, [], at).map((d, k) =>
    issues[k].code === "unrecognized_keys" ? { ...d, severity: "warning" as const, message: `${d.message}: accepted and ignored`, hint: undefined } : d,
  );
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  const data = input as Record<string, unknown>;
  const text = (p: YamlPath): string | undefined => {
    const v = valueAt(input, p);
    if (v === undefined) return undefined;
    return typeof v === "number" ? numberSource(doc, p, v) : String(v);
  };
  const depends: RulesDependency[] = ((data.depends as Record<string, unknown>[] | undefined) ?? []).map((d, i) => ({
    namespace: String(d.namespace),
    name: String(d.name),
    ...(d.version !== undefined ? { version: text(["depends", i, "version"]) } : {}),
  }));
  const str = (v: unknown) => (typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined);
  const meta: RulesMeta = {
    namespace: data.namespace as string,
    name: data.name as string,
    version: text(["version"])!,
    pluginFormatVersion: (data.plugin_format_version as number | undefined) ?? 0,
    minWazoVersion: text(["min_wazo_version"]),
    maxWazoVersion: text(["max_wazo_version"]),
    depends,
    debianDepends: (data.debian_depends as string[] | undefined) ?? [],
    description: str(data.description) ?? str(data.short_description),
    displayName: str(data.display_name),
  };
  return { meta, diagnostics };
}

/** A number as written in the YAML source (`24.00`, not 24), falling back to its JS form. */
function numberSource(doc: YamlDocument, p: YamlPath, value: number): string {
  const m = /^[0-9][0-9A-Za-z._+~-]*/.exec(doc.text.slice(doc.offsetOf(p)));
  return m && Number(m[0].replace(/_/g, "")) === value ? m[0] : String(value);
}

function valueAt(input: unknown, p: YamlPath): unknown {
  let v: unknown = input;
  for (const k of p) v = v && typeof v === "object" ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}
