/**
 * Schema validation with messages a PBX admin can act on: zod issues are turned into diagnostics
 * at the position of the offending value (or key), with the valid choices named.
 *
 * A document is first checked by the validators compiled from the same zod schemas at build
 * time (scripts/write-validators.mjs); zod itself, costly to load, is loaded only to explain a
 * document those reject.
 */
import type { z } from "zod";
import type { Diagnostic } from "../model/diagnostic.js";
import type { Locator } from "../model/plugin.js";
import * as compiled from "./compiled-validators.js";
import type { PackageMeta, Tasks } from "./schema.js";
import { STEP_KINDS, type StepKind } from "./step-kinds.js";
import type { YamlDocument, YamlPath } from "./yaml.js";

const schemas = () => import("./schema.js");

export type { Locator };

export function yamlLocator(doc: YamlDocument): Locator {
  return { file: doc.file, diagnostic: doc.diagnostic, raw: doc.raw };
}

function shapeKeys(schema: z.ZodType): string[] {
  const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

function describeType(v: unknown): string {
  if (v === null || v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Converts the issues of one safeParse into diagnostics, prefixing `base` to their paths. */
export function issuesToDiagnostics(error: z.ZodError, input: unknown, schema: z.ZodType, base: YamlPath, at: Locator): Diagnostic[] {
  return error.issues.map((issue) => {
    const path = [...base, ...(issue.path as (string | number)[])];
    const value = valueAt(input, issue.path as (string | number)[]);
    if (issue.code === "unrecognized_keys") {
      const keys = issue.keys;
      const valid = shapeKeys(subSchema(schema, issue.path as (string | number)[]));
      return at.diagnostic([...path, keys[0]], `unknown key ${keys.map((k) => JSON.stringify(k)).join(", ")}`, {
        key: true,
        hint: valid.length ? `valid keys here: ${valid.join(", ")}` : undefined,
      });
    }
    if (issue.code === "invalid_type") {
      const key = path[path.length - 1];
      if (value === undefined) return at.diagnostic(path.slice(0, -1), `missing required key "${key}"`, { hint: `add "${key}:"` });
      if (key === "version" && typeof value === "number") {
        // YAML reads 1.0 as the number 1: quote what was written, not what it became.
        const written = at.raw?.(path) ?? String(value);
        return at.diagnostic(path, `version must be a string, not the number ${written}`, { hint: `quote it: version: "${written}"` });
      }
      return at.diagnostic(path, `"${key}" must be ${issue.expected}, not ${describeType(value)}`);
    }
    return at.diagnostic(path, `"${path[path.length - 1] ?? "value"}" ${issue.message}`);
  });
}

function valueAt(input: unknown, path: (string | number)[]): unknown {
  let v: unknown = input;
  for (const p of path) v = v && typeof v === "object" ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function subSchema(schema: z.ZodType, path: (string | number)[]): z.ZodType {
  let s: z.ZodType = schema;
  for (const p of path) {
    const shape = (s as unknown as { shape?: Record<string, z.ZodType> }).shape;
    if (shape && typeof p === "string" && shape[p]) s = shape[p];
    else return s;
  }
  return s;
}

export async function validatePackage(value: unknown, at: Locator): Promise<{ ok: true; value: PackageMeta } | { ok: false; diagnostics: Diagnostic[] }> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, diagnostics: [at.diagnostic([], `package.yml must be a mapping with name, description and version, not ${describeType(value)}`)] };
  if (compiled.pkg(value)) return { ok: true, value: value as PackageMeta };
  const { PackageSchema } = await schemas();
  const r = PackageSchema.safeParse(value);
  return r.success ? { ok: true, value: r.data } : { ok: false, diagnostics: issuesToDiagnostics(r.error, value, PackageSchema, [], at) };
}

/**
 * Validates a descriptor step by step: the step's kind is told from its key first, so an
 * unknown kind or a mistyped field is reported against that kind's own keys, not a union soup.
 */
export async function validateTasks(value: unknown, at: Locator): Promise<{ ok: true; value: Tasks } | { ok: false; diagnostics: Diagnostic[] }> {
  const diagnostics: Diagnostic[] = [];
  if (value === null || typeof value !== "object" || Array.isArray(value))
    return { ok: false, diagnostics: [at.diagnostic([], `the descriptor must be a mapping with an "install:" list, not ${describeType(value)}`)] };
  const top = value as Record<string, unknown>;
  for (const key of Object.keys(top))
    if (key !== "install" && key !== "uninstall")
      diagnostics.push(at.diagnostic([key], `unknown key "${key}"`, { key: true, hint: "valid keys here: install, uninstall" }));
  if (!("install" in top)) diagnostics.push(at.diagnostic([], `missing required key "install"`, { hint: "add an install: list of steps" }));
  for (const list of ["install", "uninstall"] as const) {
    if (!(list in top)) continue;
    const steps = top[list];
    if (!Array.isArray(steps) || (list === "install" && steps.length === 0)) {
      diagnostics.push(at.diagnostic([list], `"${list}" must be a non-empty list of steps, not ${describeType(steps)}`));
      continue;
    }
    for (const [i, step] of steps.entries()) diagnostics.push(...(await validateStep(step, [list, i], at)));
  }
  return diagnostics.length ? { ok: false, diagnostics } : { ok: true, value: value as Tasks };
}

const COMPILED: Record<StepKind, (v: unknown) => boolean> = compiled;

async function validateStep(step: unknown, path: YamlPath, at: Locator): Promise<Diagnostic[]> {
  const hint = `each step is a mapping with one of: ${STEP_KINDS.join(", ")}`;
  if (step === null || typeof step !== "object" || Array.isArray(step))
    return [at.diagnostic(path, `a step must be a mapping, not ${describeType(step)}`, { hint })];
  const kinds = Object.keys(step).filter((k): k is StepKind => (STEP_KINDS as readonly string[]).includes(k));
  if (kinds.length === 0) {
    const first = Object.keys(step)[0] ?? "";
    return [at.diagnostic([...path, first], `unknown step kind "${first}"`, { key: true, hint })];
  }
  if (kinds.length > 1)
    return [at.diagnostic([...path, kinds[1]], `a step has one kind, this one has ${kinds.join(" and ")}`, { key: true, hint: "split it into two steps" })];
  if (COMPILED[kinds[0]](step)) return [];
  const schema = (await schemas()).STEP_SCHEMAS[kinds[0]];
  const r = schema.safeParse(step);
  return r.success ? [] : issuesToDiagnostics(r.error, step, schema, path, at);
}
