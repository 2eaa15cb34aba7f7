/**
 * `remove:` of a folder that holds files the plugin did not install: kept, with the reason and
 * those files named, and the same every run (unchanged, no reload).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, FIXTURE_BIN, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

describe("remove: of a non-empty folder", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("is kept with the files that are not ours, unchanged and without a reload the next time", async () => {
    const conf = "[xivo-extrafeatures]\nexten = ***72,1,NoOp()\n";
    const tasks = "install:\n  - copy: a.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - remove: /var/cache/acme\n  - reload: dialplan\n";
    const plugin = await makePlugin(tmp, "acme", { "a.conf": conf, "tasks.yml": tasks });
    const root = await writeTree(path.join(tmp, "root"), {
      "etc/asterisk/extensions.conf": "[general]\n",
      "var/cache/acme/admin.db": "data\n",
      "var/cache/acme/notes.txt": "n\n",
    });
    const calls = path.join(tmp, "calls");
    const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, WAZO_TEST_CALLS: calls };
    const first = await runCli(["install", plugin, "--root", root], { env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      /kept\s+remove\s+\/var\/cache\/acme\s+\(\/var\/cache\/acme is not empty: kept, it holds 2 files not installed by acme \(admin\.db, notes\.txt\)\)/,
    );
    const reloads = (await readFile(calls, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
    const before = await snapshot(root);
    for (const json of [false, true]) {
      const again = await runCli(["install", plugin, "--root", root, ...(json ? ["--json"] : [])], { env });
      assert.equal(again.code, 0, again.stderr);
      if (json) {
        const summary = events(again.stdout).find((e) => e.type === "summary")!;
        assert.deepEqual([summary.changed, summary.reloads], [0, []]);
      } else assert.match(again.stdout, /changed=0 unchanged=1 failed=0 reloads=none/);
    }
    assert.equal((await readFile(calls, "utf8").catch(() => "")).split("\n").filter(Boolean).length, reloads, "no reload the second time");
    assert.deepEqual(await snapshot(root), before);
  });
});
