/**
 * Uninstall drops the cached tree a git plugin came from, and only such a tree: a manifest whose
 * `source` climbs out of the cache (a tampered state file) must not remove anything.
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, test } from "node:test";
import { dropCachedTrees } from "../../src/sources/session.js";
import type { SourceRecord } from "../../src/sources/types.js";
import { cleanup, snapshot, tempDir, writeTree } from "../support/rig.js";

let tmp: string;
after(() => cleanup(tmp));

const origin: SourceRecord = { method: "git", url: "file:///srv/hello", commit: "0123456789abcdef0123456789abcdef01234567" };

test("a cached tree nothing uses any more is removed; a source outside the cache never is", async () => {
  tmp = await tempDir("wt-cache-drop-");
  const root = path.join(tmp, "root");
  const cache = path.join(root, "var/lib/wazo-tasks/cache/git");
  const tree = path.join(cache, "srv-hello-0123456789ab", origin.commit);
  await writeTree(root, { "var/lib/keep.txt": "admin data\n", "etc/asterisk/extensions.conf": "[general]\n" });
  await mkdir(tree, { recursive: true });
  await writeFile(path.join(tree, "package.yml"), "name: hello\n");
  const before = await snapshot(root);

  for (const source of [path.join(cache, "..", ".."), `${cache}/../../..`, path.join(cache, "x", "..", "..", "..", "lib")])
    await dropCachedTrees(root, [{ source, origin }]);
  assert.deepEqual(await snapshot(root), before, "nothing outside a cached tree is removed");

  await dropCachedTrees(root, [{ source: tree, origin }]);
  const after = await snapshot(root);
  assert.ok(!after.has(path.relative(root, tree) + "/"), "the cached tree is gone");
  assert.equal(after.get("var/lib/keep.txt"), before.get("var/lib/keep.txt"));
});
