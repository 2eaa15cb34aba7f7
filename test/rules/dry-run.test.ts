/**
 * wazo-plugind plugins: the dry run (targets listed, or run into a temporary folder with
 * --preview-build), and rollback: a failing package, a failure at every file operation, a
 * failing `rules uninstall`.
 */
import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { actions, copyFixture, readCalls, rulesEnv, RULES_FIXTURES } from "./support.js";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("wazo-plugind plugins: dry run and rollback", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-rules-dry-")));
  after(() => cleanup(tmp));

  /** A plugin whose build and package say on their output that they ran. */
  async function marking(dir: string): Promise<string> {
    return writeTree(path.join(dir, "marking"), {
      "wazo/plugin.yml": "namespace: test\nname: marking\nversion: 1\n",
      "wazo/rules": [
        "#!/bin/sh",
        "set -e",
        'case "$1" in',
        `  build) echo ran build ;;`,
        `  package) echo ran package; mkdir -p "$pkgdir/etc/asterisk/extensions_extra.d"; cp m.conf "$pkgdir/etc/asterisk/extensions_extra.d/" ;;`,
        "  install) systemctl daemon-reload ;;",
        "esac",
        "",
      ].join("\n"),
      "m.conf": "[m]\nexten = s,1,NoOp()\n",
    });
  }

  test("--dry-run lists the rules targets as not simulated and runs none of them", async () => {
    const dir = path.join(tmp, "plain");
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const calls = path.join(dir, "calls");
    const plugin = await marking(dir);
    const before = await snapshot(dir);
    const r = await runCli(["install", plugin, "acme/calld-conf", "--plugins-dir", RULES_FIXTURES, "--root", root, "--dry-run"], { env: rulesEnv(calls) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not simulated\s+rules\s+wazo\/rules build\s+\(programs are not run in a dry run\)/);
    assert.match(r.stdout, /not simulated\s+rules\s+wazo\/rules package/);
    assert.match(r.stdout, /not simulated\s+rules\s+wazo\/rules install\s+\(plugin code, run after the files are in place\)/);
    assert.match(r.stdout, /would run\s+restart\s+restart wazo-calld/);
    assert.doesNotMatch(r.stdout, /ran (build|package)/);
    assert.deepEqual(await snapshot(dir), before, "no build, no package, nothing written");
    assert.deepEqual(await actions(calls), []);
  });

  test("--dry-run --preview-build runs build and package in a temporary folder and shows the files", async () => {
    const dir = path.join(tmp, "preview");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const plugin = await marking(dir);
    const pluginBefore = await snapshot(plugin);
    const r = await runCli(["install", plugin, "--root", root, "--dry-run", "--preview-build"], { env: rulesEnv(calls) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /test\/marking \| ran build\n[\s\S]*test\/marking \| ran package\n/);
    assert.match(r.stdout, /would change\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/m\.conf\s+\(create\)/);
    assert.match(r.stdout, /not simulated\s+rules\s+wazo\/rules install/);
    assert.ok(!(await exists(root)), "the root is not even created");
    assert.deepEqual(await snapshot(plugin), pluginBefore);
    assert.deepEqual(await actions(calls), []);
  });

  test("a package that fails: exit 1, its output shown, nothing changed, nothing reloaded", async () => {
    const dir = path.join(tmp, "broken");
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions_extra.d/keep.conf": "[keep]\n" });
    const calls = path.join(dir, "calls");
    const before = await snapshot(dir);
    const r = await runCli(["install", "acme/hello", "acme/broken", "--plugins-dir", RULES_FIXTURES, "--root", root], { env: rulesEnv(calls) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /acme\/broken \| building acme\/broken/);
    assert.match(r.stderr, /error: acme\/broken: wazo\/rules package failed \(exit code 1\); last lines:\n\s+cp: cannot stat 'does-not-exist\.conf'/);
    assert.match(r.stderr, /nothing was changed/);
    assert.deepEqual(await snapshot(dir), before);
    assert.deepEqual(await readCalls(calls), []);
  });

  test("a failure at every file operation of a two-plugin install rolls everything back, and no rules install runs", async () => {
    const dir = path.join(tmp, "faults");
    const root = await writeTree(path.join(dir, "root"), { "etc/wazo-calld/conf.d/10-base.yml": "a: 1\n", "usr/local/bin/other": "x" });
    const calls = path.join(dir, "calls");
    const before = await snapshot(root);
    let n = 1;
    for (; n < 100; n++) {
      const r = await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root, "--wazo-version", "24.05"], {
        env: rulesEnv(calls, { WAZO_TASKS_FAULT: String(n) }),
      });
      if (r.code === 0) break;
      assert.equal(r.code, 1, `fault ${n}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`fault injected after file operation ${n}; every change of this run was rolled back`));
      assert.deepEqual(await snapshot(root), before, `tree after a failure at operation ${n}`);
      assert.deepEqual(await actions(calls), [], `no program or handler after a failure at operation ${n}`);
    }
    assert.ok(n > 15, `the install has more than 15 file operations (${n - 1} were faulted)`);
    assert.deepEqual(await actions(calls), [
      "systemctl daemon-reload",
      "systemctl enable acme-agent",
      "systemctl restart acme-agent",
      "systemctl restart wazo-calld",
    ]);
  });

  test("uninstall runs the copy of wazo/ kept at install (the plugin folder is gone); a failing `rules uninstall` rolls it back", async () => {
    const dir = path.join(tmp, "uninstall");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls, { WAZO_VERSION: "24.05" });
    const plugin = await copyFixture("agent", path.join(dir, "plugins"));
    assert.equal((await runCli(["install", plugin, "--plugins-dir", RULES_FIXTURES, "--root", root], { env })).code, 0);
    await cleanup(plugin);
    const before = await snapshot(root);
    const d = await runCli(["uninstall", "acme/agent", "--root", root, "--dry-run"], { env });
    assert.equal(d.code, 0, d.stderr);
    assert.match(
      d.stdout,
      /not simulated\s+rules\s+wazo\/rules uninstall[\s\S]*would change\s+remove\s+installed files[\s\S]*not simulated\s+rules\s+wazo\/rules postrm/,
    );
    const n = (await actions(calls)).length;
    const r = await runCli(["uninstall", "acme/agent", "--root", root], { env: { ...env, FAKE_SYSTEMCTL_FAIL: "acme-agent" } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /wazo\/rules uninstall failed \(exit code 1\)[\s\S]*every change of this run was rolled back/);
    assert.deepEqual(await snapshot(root), before);
    const u = await runCli(["uninstall", "acme/agent", "--root", root], { env });
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual((await actions(calls)).slice(n), [
      "systemctl stop acme-agent",
      "systemctl stop acme-agent",
      "systemctl disable acme-agent",
      "systemctl daemon-reload",
    ]);
    assert.ok(!(await exists(path.join(root, "lib/systemd/system/acme-agent.service"))));
  });
});
