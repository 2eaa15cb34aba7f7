/**
 * The validators compiled at build time (src/load/compiled-validators.ts) are the zod schemas'
 * (src/load/schema.ts): the generated file is what the schemas give today, and on every
 * package.yml and step of the examples and fixtures, and on broken variants of them, both say
 * the same. (A document they reject is explained by zod itself.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { load } from "js-yaml";
import * as compiled from "../../src/load/compiled-validators.js";
import { PackageSchema, STEP_SCHEMAS } from "../../src/load/schema.js";
import { STEP_KINDS, type StepKind } from "../../src/load/step-kinds.js";
import { REPO } from "../support/rig.js";

async function filesNamed(dir: string, names: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== "node_modules") out.push(...(await filesNamed(p, names)));
    else if (names.includes(e.name)) out.push(p);
  }
  return out;
}

/** Broken variants of a mapping: each value replaced by wrong types and edge strings, an extra key, each key dropped. */
function variants(v: Record<string, unknown>): unknown[] {
  const out: unknown[] = [{ ...v, extra: 1 }];
  for (const k of Object.keys(v)) {
    const { [k]: _, ...without } = v;
    out.push(without);
    for (const bad of [
      1,
      1.5,
      true,
      null,
      [],
      {},
      "",
      "/",
      "..",
      "../x",
      "/a/../b",
      "a/..",
      "x",
      "0644",
      "644",
      "08",
      "dialplan",
      "res_pjsip.so",
      "a b",
      ["x"],
      [],
      [1],
      "é",
    ])
      out.push({ ...v, [k]: bad });
  }
  return out;
}

const agree = (name: string, check: (v: unknown) => boolean, schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  assert.equal(check(v), schema.safeParse(v).success, `${name}: compiled and zod disagree on ${JSON.stringify(v)}`);

test("the compiled validators are up to date with the zod schemas", () => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "scripts/write-validators.mjs", "--check"], { cwd: REPO, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
});

test("compiled validators and zod agree on every example, fixture and broken variant", async () => {
  const roots = [path.join(REPO, "plugins-examples"), path.join(REPO, "test/fixtures")];
  let steps = 0;
  let packages = 0;
  for (const root of roots) {
    for (const file of await filesNamed(root, ["package.yml", "tasks.yml"])) {
      let doc: unknown;
      try {
        doc = load(await readFile(file, "utf8"));
      } catch {
        continue; // a YAML syntax error fixture
      }
      if (!doc || typeof doc !== "object") continue;
      if (file.endsWith("package.yml")) {
        for (const v of [doc, ...variants(doc as Record<string, unknown>)]) agree("package", compiled.pkg, PackageSchema, v);
        packages++;
        continue;
      }
      for (const list of ["install", "uninstall"]) {
        const items = (doc as Record<string, unknown>)[list];
        if (!Array.isArray(items)) continue;
        for (const step of items) {
          if (!step || typeof step !== "object") continue;
          const kind = STEP_KINDS.find((k) => k in step) as StepKind | undefined;
          if (!kind) continue;
          for (const v of [step, ...variants(step as Record<string, unknown>)])
            agree(kind, (compiled as Record<StepKind, (v: unknown) => boolean>)[kind], STEP_SCHEMAS[kind], v);
          steps++;
        }
      }
    }
  }
  assert.ok(packages > 10 && steps > 10, `checked ${packages} package.yml and ${steps} steps`);
  // Every kind, even one no example uses.
  for (const kind of STEP_KINDS) agree(kind, (compiled as Record<StepKind, (v: unknown) => boolean>)[kind], STEP_SCHEMAS[kind], { [kind]: "x" });
});
