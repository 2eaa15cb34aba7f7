/**
 * Manifests and pending.json are checked by validators compiled from their zod schemas
 * (src/state/schema.ts → src/state/compiled-validators.ts), and by zod only to explain a file
 * those reject. On the manifests real installs write, and on every variant with one value broken
 * or one key dropped, both must say the same; and a corrupt manifest is still refused with zod's
 * message, naming the file.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import * as compiled from "../../src/state/compiled-validators.js";
import { ManifestSchema, PendingSchema } from "../../src/state/schema.js";
import { cleanup, REPO, runCli, snapshot, tempDir } from "../support/rig.js";

const BAD: unknown[] = [1, 1.5, -1, true, null, [], {}, "", "/", ".", "./", "..", "../x", "/a/../b", "/a//b", "a\0b", "x", "0644", "é", [1], ["x"], [{}]];

/** `v` with the value at each leaf and each node replaced by BAD values, and each key dropped. */
function variants(v: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (node: unknown, rebuild: (x: unknown) => unknown) => {
    if (node === null || typeof node !== "object") return;
    const entries = Array.isArray(node) ? node.map((x, i) => [i, x] as const) : Object.entries(node);
    for (const [k, child] of entries) {
      const replaced = (x: unknown) => rebuild(Array.isArray(node) ? node.map((y, i) => (i === k ? x : y)) : { ...node, [k]: x });
      for (const bad of BAD) out.push(replaced(bad));
      if (!Array.isArray(node)) {
        const { [k as string]: _, ...without } = node as Record<string, unknown>;
        out.push(rebuild(without));
      }
      walk(child, replaced);
    }
  };
  walk(v, (x) => x);
  return out;
}

const agree = (name: string, check: (v: unknown) => boolean, schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) =>
  assert.equal(check(v), schema.safeParse(v).success, `${name}: compiled and zod disagree on ${JSON.stringify(v)}`);

let tmp: string;
let root: string;
before(async () => {
  tmp = await tempDir();
  root = path.join(tmp, "root");
  const plugins = path.join(REPO, "plugins-examples");
  const rules = path.join(REPO, "test/fixtures/wazo-plugins/dialplan");
  for (const args of [
    ["install", "helloworld", "calld-conf", "sounds", "--plugins-dir", plugins],
    ["install", rules],
    ["uninstall", "sounds"],
  ]) {
    const r = await runCli([...args, "--root", root, "--no-reload"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  }
});
after(() => cleanup(tmp));

test("compiled validators and zod agree on real manifests, pending.json and each broken variant", async () => {
  const dir = path.join(root, "var/lib/wazo-tasks/installed");
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
  assert.ok(names.length >= 3, `manifests: ${names.join(", ")}`);
  let checked = 0;
  for (const n of names) {
    const manifest = JSON.parse(await readFile(path.join(dir, n), "utf8"));
    assert.equal(compiled.manifest(manifest), true, `${n} is valid`);
    for (const v of [manifest, ...variants(manifest)]) {
      agree(n, compiled.manifest, ManifestSchema, v);
      checked++;
    }
  }
  const pending = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/pending.json"), "utf8"));
  for (const v of [pending, ...variants(pending)]) agree("pending.json", compiled.pending, PendingSchema, v);
  assert.ok(checked > 1000, `${checked} manifests checked`);
});

test("a manifest the compiled validator rejects is refused with zod's message, the file named, nothing changed", async () => {
  const file = path.join(root, "var/lib/wazo-tasks/installed/helloworld.json");
  const manifest = JSON.parse(await readFile(file, "utf8"));
  manifest.files[0].path = "/etc/../victim";
  await writeFile(file, JSON.stringify(manifest, null, 2));
  const before = await snapshot(root);
  const r = await runCli(["uninstall", "helloworld", "--root", root, "--no-reload"]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `corrupt state file ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: files\\.0\\.path: must be an absolute path inside the root, without '\\.\\.'`,
    ),
  );
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.deepEqual(await snapshot(root), before);
});
