/**
 * Modes: the dry run and `show` print a mode other than 0644/0755; setuid, setgid and
 * world-writable modes are a warning in validate and the dry run, refused with --strict.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

describe("modes", () => {
  let tmp: string;
  let plugin: string;
  let root: string;
  before(async () => {
    tmp = await tempDir();
    const tasks =
      'install:\n  - copy: a.conf\n    to: /etc/p/a.conf\n    mode: "4777"\n  - copy: b.sh\n    to: /usr/bin/p-b\n    mode: "0600"\n  - copy: c.conf\n    to: /etc/p/c.conf\n';
    plugin = await makePlugin(tmp, "modes", { "a.conf": "a\n", "b.sh": "b\n", "c.conf": "c\n", "tasks.yml": tasks });
    root = await writeTree(path.join(tmp, "root"), { "etc/keep": "x" });
  });
  after(() => cleanup(tmp));
  const warning = /tasks\.yml:2: warning: \/etc\/p\/a\.conf would get mode 4777 \(setuid, world-writable\)/;

  test("the dry run and show print unusual modes, and warn about the risky one", async () => {
    for (const args of [
      ["install", plugin, "--root", root, "--dry-run"],
      ["show", plugin, "--root", root],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /would change\s+copy\s+\/etc\/p\/a\.conf\s+\(create, mode 4777\)/);
      assert.match(r.stdout, /would change\s+copy\s+\/usr\/bin\/p-b\s+\(create, mode 0600\)/);
      assert.match(r.stdout, /would change\s+copy\s+\/etc\/p\/c\.conf\s+\(create\)\n/);
      assert.match(r.stderr, warning);
    }
    const v = await runCli(["validate", plugin]);
    assert.equal(v.code, 0);
    assert.match(v.stdout + v.stderr, warning);
    const j = await runCli(["install", plugin, "--root", root, "--dry-run", "--json"]);
    assert.ok(events(j.stdout).some((e) => e.type === "diagnostic" && e.diagnostic.severity === "warning" && /mode 4777/.test(e.diagnostic.message)));
  });

  test("--strict refuses the install before any change", async () => {
    const before = await snapshot(root);
    const r = await runCli(["install", plugin, "--root", root, "--strict"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tasks\.yml:2: error: \/etc\/p\/a\.conf would get mode 4777 \(setuid, world-writable\)/);
    assert.match(r.stderr, /setuid, setgid or world-writable modes refused \(--strict\)/);
    assert.deepEqual(await snapshot(root), before);
  });
});
