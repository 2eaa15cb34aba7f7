/**
 * Without an overlay (not root, no overlayfs: forced here with WAZO_TASKS_CAPTURE=staging; see
 * overlay.test.ts for the overlay), `make install` runs into a staging folder and what it staged is installed as typed,
 * journaled operations: a recipe deleting the root, other plugins' files or writing outside the
 * root changes nothing there; service calls become handlers run after the files are in place.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, FIXTURE_BIN, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const CONF = "[acme]\nexten = s,1,NoOp()\n";
const PBX = {
  "etc/asterisk/extensions.conf": "[general]\n",
  "etc/asterisk/extensions_extra.d/other.conf": "[other]\nexten = s,1,NoOp()\n",
  "etc/admin.conf": "mine\n",
};
const makefile = (install: string) => `install:\n${install}uninstall:\n\t@true\n`;

// The fallback, whatever this machine can do.
const env = { WAZO_TASKS_CAPTURE: "staging" };

describe("make install is captured in a staging DESTDIR", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  async function setup(name: string, install: string) {
    const dir = path.join(tmp, name);
    const plugin = await makePlugin(dir, name, { "a.conf": CONF, Makefile: makefile(install) });
    const root = await writeTree(path.join(dir, "root"), PBX);
    return { dir, plugin, root, before: await snapshot(root) };
  }

  test("a recipe deleting $(DESTDIR)/ then failing changes nothing", async () => {
    const { plugin, root, before } = await setup("wipe", "\trm -rf $(DESTDIR)/\n\tfalse\n");
    const r = await runCli(["install", plugin, "--root", root], { env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /make install failed \(exit code 2\)[\s\S]*nothing was changed \(make ran into a staging folder\)/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a recipe deleting other plugins' files and $(DESTDIR)/ installs only its own file", async () => {
    const install =
      "\trm -f $(DESTDIR)/etc/asterisk/extensions_extra.d/*.conf\n\trm -rf $(DESTDIR)/\n\tinstall -D -m 0644 a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/acme.conf\n";
    const { plugin, root, before } = await setup("deleter", install);
    const r = await runCli(["install", plugin, "--root", root], { env });
    assert.equal(r.code, 0, r.stderr);
    const after = await snapshot(root);
    for (const [p, v] of before) assert.equal(after.get(p), v, `${p} is untouched`);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/acme.conf"), "utf8"), CONF);
  });

  test("a write outside DESTDIR is refused before any change", async () => {
    const { dir, plugin, root, before } = await setup("escape", "\tinstall -D a.conf $(DESTDIR)/../out4\n");
    const r = await runCli(["install", plugin, "--root", root], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /make install wrote outside DESTDIR \(\$\(DESTDIR\)\/\.\.\/out4\): refused, nothing was changed/);
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual((await snapshot(dir)).has("out4"), false);
  });

  test("service calls run once the files are in place, and not at all when nothing changed", async () => {
    const { dir, plugin, root } = await setup(
      "svc",
      "\tinstall -D -m 0644 a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/acme.conf\n\tasterisk -rx 'dialplan reload'\n\tsystemctl restart wazo-calld\n",
    );
    const calls = path.join(dir, "calls");
    const svcEnv = { ...env, PATH: `${FIXTURE_BIN}:${process.env.PATH}`, WAZO_TEST_CALLS: calls };
    const first = await runCli(["install", plugin, "--root", root], { env: svcEnv });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /changed\s+reload\s+dialplan/);
    assert.match(first.stdout, /changed\s+restart\s+restart wazo-calld/);
    const n = (await readFile(calls, "utf8")).split("\n").filter(Boolean).length;
    const again = await runCli(["install", plugin, "--root", root], { env: svcEnv });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /reloads=none/);
    assert.equal((await readFile(calls, "utf8")).split("\n").filter(Boolean).length, n, "no call the second time");
  });
});
