/**
 * wazo-plugind plugins (wazo/plugin.yml + wazo/rules) installed and removed by the real CLI in
 * temporary roots, with the recording stand-ins of test/fixtures/bin first on PATH.
 */
import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, makePlugin, runCli, snapshot, tempDir, writeTree, type Snapshot } from "../support/rig.js";
import { actions, byHand, copyFixture, fixture, readCalls, rulesEnv, RULES_FIXTURES, withoutState } from "./support.js";

const HELLO = "etc/asterisk/extensions_extra.d/acme-hello.conf";
const CALLD = "etc/wazo-calld/conf.d/50-acme.yml";
const manifest = async (root: string, name: string) =>
  JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed", `${name.replace("/", "+")}.json`), "utf8"));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("wazo-plugind plugins: install and uninstall", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-rules-")));
  after(() => cleanup(tmp));

  test("a dialplan plugin: installed as NAMESPACE/NAME with one reload, listed, reinstalled by NAME without change, uninstalled", async () => {
    const dir = path.join(tmp, "hello");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls);
    const pluginBefore = await snapshot(fixture("dialplan"));

    const r = await runCli(["install", "acme/hello", "--plugins-dir", RULES_FIXTURES, "--root", root], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /acme\/hello 24\.00 \(install, rules\)/);
    assert.match(r.stdout, /changed\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/acme-hello\.conf/);
    assert.match(r.stdout, /changed\s+reload\s+dialplan/);
    assert.match(r.stderr, /dialplan\/wazo\/plugin\.yml:12:1: warning: unknown key "asterisk": accepted and ignored/);
    assert.equal(await readFile(path.join(root, HELLO), "utf8"), await readFile(fixture("dialplan/dialplan/acme-hello.conf"), "utf8"));
    // `rules install` is only `asterisk -x 'dialplan reload'`: the coalesced reload handler, through the stand-in.
    assert.deepEqual(await actions(calls), ["asterisk -rx dialplan reload"]);

    const m = await manifest(root, "acme/hello");
    assert.equal(m.name, "acme/hello");
    assert.equal(m.version, "24.00", "a number version is read as written");
    assert.equal(m.installedBy, "rules");
    assert.deepEqual(m.rules, { namespace: "acme", name: "hello", formatVersion: 0, copy: "var/lib/wazo-tasks/rules/acme+hello", depends: [] });
    assert.deepEqual(m.extensions, [{ context: "xivo-extrafeatures", extension: "***43", file: "/" + HELLO }]);
    // wazo/ is kept in the state folder for uninstall; nothing else than the staged files is installed.
    assert.equal(
      await readFile(path.join(root, "var/lib/wazo-tasks/rules/acme+hello/wazo/rules"), "utf8"),
      await readFile(fixture("dialplan/wazo/rules"), "utf8"),
    );
    assert.equal((await stat(path.join(root, "var/lib/wazo-tasks/rules/acme+hello/wazo/rules"))).mode & 0o777, 0o755);
    assert.deepEqual([...withoutState(await snapshot(root)).keys()].sort(), ["etc/", "etc/asterisk/", "etc/asterisk/extensions_extra.d/", HELLO]);
    assert.deepEqual(await snapshot(fixture("dialplan")), pluginBefore, "the plugin folder is left as it was");

    const list = await runCli(["list", "--plugins-dir", RULES_FIXTURES], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /acme\/hello\s+24\.00\s+rules\s+Hello dialplan/);
    assert.match(list.stdout, /acme\/calld-conf\s+1\.2\.0\s+rules\s+wazo-calld settings for ACME/);
    const installed = await runCli(["list", "--installed", "--root", root]);
    assert.match(installed.stdout, /acme\/hello\s+24\.00\s+rules\s+1 files/);

    const snap = await snapshot(root);
    const again = await runCli(["install", "hello", "--plugins-dir", RULES_FIXTURES, "--root", root, "--json"], { env });
    assert.equal(again.code, 0, again.stderr);
    const summary = events(again.stdout).at(-1)!;
    assert.equal(summary.changed, 0);
    assert.deepEqual(summary.plugins, [{ name: "acme/hello", version: "24.00", action: "reinstall", status: "unchanged" }]);
    assert.deepEqual(await snapshot(root), snap, "a reinstall changes nothing");
    assert.deepEqual(await actions(calls), ["asterisk -rx dialplan reload"], "and reloads nothing");

    const u = await runCli(["uninstall", "acme/hello", "--root", root], { env });
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /acme\/hello 24\.00 \(uninstall, rules\)/);
    assert.deepEqual(await snapshot(root), new Map(), "uninstall leaves the root as it was");
    assert.deepEqual(
      await actions(calls),
      ["asterisk -rx dialplan reload", "asterisk -rx dialplan reload"],
      "rules uninstall only reloads: one reload, after the file is gone",
    );
  });

  test("three plugins whose install reloads the dialplan (two rules, one descriptor): one reload", async () => {
    const dir = path.join(tmp, "coalesce");
    const calls = path.join(dir, "calls");
    const other = await writeTree(path.join(dir, "other"), {
      "wazo/plugin.yml": "namespace: other\nname: greet\nversion: 1.0.0\n",
      "wazo/rules": `#!/bin/sh\ncase "$1" in\n  package) install -D -m 644 greet.conf "$pkgdir/etc/asterisk/extensions_extra.d/greet.conf" ;;\n  install) /usr/sbin/asterisk -rx 'dialplan reload' >/dev/null; echo reloaded ;;\nesac\n`,
      "greet.conf": "[greet]\nexten = s,1,NoOp()\n",
    });
    const desc = await makePlugin(dir, "desc", {
      "d.conf": "[d]\nexten = s,1,NoOp()\n",
      "tasks.yml": "install:\n  - copy: d.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n",
    });
    const r = await runCli(["install", fixture("dialplan"), other, desc, "--root", path.join(dir, "root"), "--json"], { env: rulesEnv(calls) });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await actions(calls), ["asterisk -rx dialplan reload"]);
    assert.deepEqual(events(r.stdout).at(-1)!.reloads, ["dialplan"]);
  });

  test("a conf.d file made by build, a restart, a rules file that is not executable; postrm after the files are gone", async () => {
    const dir = path.join(tmp, "calld");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls);
    const pluginBefore = await snapshot(fixture("calld-conf"));
    const r = await runCli(["install", "acme/calld-conf", "--plugins-dir", RULES_FIXTURES, "--root", root], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(root, CALLD), "utf8"), "rest_api:\n  max_threads: 20\n");
    assert.equal((await stat(path.join(root, CALLD))).mode & 0o777, 0o640);
    assert.match(r.stdout, /changed\s+restart\s+restart wazo-calld/);
    assert.deepEqual(await actions(calls), ["systemctl restart wazo-calld"]);
    assert.deepEqual(await snapshot(fixture("calld-conf")), pluginBefore, "build ran in a copy: no build/ folder in the plugin");
    assert.equal((await manifest(root, "acme/calld-conf")).rules.formatVersion, 1);

    const u = await runCli(["uninstall", "calld-conf", "--root", root], { env });
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(await snapshot(root), new Map());
    // uninstall) is empty; postrm) restarts: a handler, run once the file is removed.
    assert.deepEqual(await actions(calls), ["systemctl restart wazo-calld", "systemctl restart wazo-calld"]);
  });

  test("depends: the dependency from the search folders is installed first; programs run after the files, uninstall and postrm around the removal", async () => {
    const dir = path.join(tmp, "agent");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls, { WAZO_VERSION: "24.05" });
    const r = await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root, "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    const plugins = events(r.stdout)
      .filter((e) => e.type === "plugin")
      .map((e) => e.name);
    assert.deepEqual(plugins, ["acme/calld-conf", "acme/agent"]);
    assert.equal((await stat(path.join(root, "usr/local/bin/acme-agent"))).mode & 0o777, 0o755, "package changed the mode of its copy");
    assert.equal((await stat(fixture("agent/acme-agent"))).mode & 0o777, 0o644, "not of the plugin's file");
    const snap = withoutState(await snapshot(root));
    assert.equal(snap.get("usr/local/bin/agent"), "link /usr/local/bin/acme-agent");
    assert.equal(snap.get("var/lib/acme-agent/"), "dir 755");
    // wazo/rules install of acme/agent runs as written (it enables a unit), before the coalesced restart.
    assert.deepEqual(await actions(calls), [
      "systemctl daemon-reload",
      "systemctl enable acme-agent",
      "systemctl restart acme-agent",
      "systemctl restart wazo-calld",
    ]);
    assert.deepEqual((await manifest(root, "acme/agent")).rules.depends, [{ namespace: "acme", name: "calld-conf", version: "1.0" }]);

    // Installed again: the dependency is installed, so only acme/agent is in the run; nothing changes.
    const again = await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root, "--json"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(events(again.stdout).at(-1)!.plugins, [{ name: "acme/agent", version: "2.0.1", action: "reinstall", status: "unchanged" }]);

    // Removing the dependency first: allowed, with a warning.
    const snapBefore = await snapshot(root);
    const dep = await runCli(["uninstall", "acme/calld-conf", "--root", root, "--dry-run"], { env });
    assert.equal(dep.code, 0, dep.stderr);
    assert.match(dep.stderr, /warning: acme\/calld-conf: still installed and depending on it: acme\/agent/);
    assert.deepEqual(await snapshot(root), snapBefore);

    const before = (await actions(calls)).length;
    const u = await runCli(["uninstall", "acme/agent", "--root", root], { env });
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual((await actions(calls)).slice(before), ["systemctl stop acme-agent", "systemctl disable acme-agent", "systemctl daemon-reload"]);
    const left = [...withoutState(await snapshot(root)).keys()].sort();
    assert.deepEqual(left, ["etc/", "etc/wazo-calld/", "etc/wazo-calld/conf.d/", CALLD]);
    assert.ok(!(await exists(path.join(root, "var/lib/wazo-tasks/rules/acme+agent"))), "the copy of wazo/ is removed");
  });

  test("the installed tree is the tree the rules stage by hand into a pkgdir", async () => {
    const dir = path.join(tmp, "by-hand");
    const root = path.join(dir, "root");
    const r = await runCli(["install", "acme/hello", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root, "--wazo-version", "24.05"], {
      env: rulesEnv(path.join(dir, "calls")),
    });
    assert.equal(r.code, 0, r.stderr);
    const expected: Snapshot = new Map();
    for (const [plugin, targets] of [
      ["dialplan", ["package"]],
      ["calld-conf", ["build", "package"]],
      ["agent", ["build", "package"]],
    ] as const) {
      const pkgdir = await byHand(fixture(plugin), [...targets]);
      for (const [k, v] of await snapshot(pkgdir)) {
        if (expected.has(k) && expected.get(k) !== v) assert.fail(`${k} differs between two plugins' pkgdir`);
        expected.set(k, v);
      }
      await cleanup(path.dirname(pkgdir));
    }
    assert.deepEqual(withoutState(await snapshot(root)), expected);
  });

  test("a failing `rules install` keeps the files (exit 3) and runs again at the next install; --no-reload leaves it for later", async () => {
    const dir = path.join(tmp, "pending");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls, { WAZO_VERSION: "24.05" });
    const r = await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root], { env: { ...env, FAKE_SYSTEMCTL_FAIL: "acme-agent" } });
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /failed\s+rules\s+wazo\/rules install\s+\(wazo\/rules install failed \(exit code 1\); last lines:\n\s+Job for acme-agent\.service failed/,
    );
    assert.match(r.stderr, /the files are installed, but wazo\/rules install failed: fix the cause, then `wazo-tasks install acme\/agent` runs it again/);
    assert.ok(await exists(path.join(root, "lib/systemd/system/acme-agent.service")));
    assert.equal((await manifest(root, "acme/agent")).rules.installPending, true);

    const fixed = await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root], { env });
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.match(fixed.stdout, /changed\s+rules\s+wazo\/rules install/);
    assert.equal((await manifest(root, "acme/agent")).rules.installPending, undefined);
    assert.deepEqual((await actions(calls)).slice(-3), ["systemctl daemon-reload", "systemctl enable acme-agent", "systemctl restart acme-agent"]);
    const n = (await actions(calls)).length;
    assert.equal((await runCli(["install", "acme/agent", "--plugins-dir", RULES_FIXTURES, "--root", root], { env })).code, 0);
    assert.equal((await actions(calls)).length, n, "once it ran, an unchanged reinstall runs nothing");

    const root2 = path.join(dir, "root2");
    const nr = await runCli(["install", "acme/agent", "acme/hello", "--plugins-dir", RULES_FIXTURES, "--root", root2, "--no-reload"], { env });
    assert.equal(nr.code, 0, nr.stderr);
    assert.equal((await actions(calls)).length, n, "--no-reload: no program, no reload, no restart");
    assert.match(nr.stdout, /skipped\s+rules\s+wazo\/rules install/);
    assert.equal((await manifest(root2, "acme/agent")).rules.installPending, true);
    assert.deepEqual((await manifest(root2, "acme/hello")).reloadPending, [{ reload: "dialplan" }]);
  });

  test("an upgrade: new and changed files, one no longer shipped removed, the kept wazo/ updated", async () => {
    const dir = path.join(tmp, "upgrade");
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    const env = rulesEnv(calls);
    const v2 = await copyFixture("dialplan", path.join(dir, "v2"));
    await writeFile(path.join(v2, "wazo/plugin.yml"), "namespace: acme\nname: hello\nversion: 24.01\n");
    await writeFile(path.join(v2, "dialplan/acme-hello.conf"), "[xivo-extrafeatures]\nexten = ***43,1,Playback(hello-world2)\nsame = n,Return()\n");
    const rules = (await readFile(path.join(v2, "wazo/rules"), "utf8")).replace(
      'cp dialplan/acme-hello.conf "$pkgdir/etc/asterisk/extensions_extra.d/"',
      'cp dialplan/acme-hello.conf "$pkgdir/etc/asterisk/extensions_extra.d/"\n        mkdir -p "$pkgdir/usr/share/acme" && echo 2 > "$pkgdir/usr/share/acme/VERSION"',
    );
    await writeFile(path.join(v2, "wazo/rules"), rules);
    assert.equal((await runCli(["install", fixture("dialplan"), "--root", root], { env })).code, 0);

    const snap = await snapshot(root);
    const d = await runCli(["install", v2, "--root", root, "--dry-run", "--preview-build"], { env });
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /acme\/hello 24\.01 \(upgrade from 24\.00, rules\)/);
    assert.match(d.stdout, /-exten = \*\*\*43,1,Playback\(hello-world\)\n\s+\+exten = \*\*\*43,1,Playback\(hello-world2\)/);
    assert.match(d.stdout, /would change\s+copy\s+\/usr\/share\/acme\/VERSION\s+\(create\)/);
    assert.deepEqual(await snapshot(root), snap, "a dry run changes nothing");

    const r = await runCli(["install", v2, "--root", root], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(root, "usr/share/acme/VERSION"), "utf8"), "2\n");
    assert.equal(await readFile(path.join(root, "var/lib/wazo-tasks/rules/acme+hello/wazo/rules"), "utf8"), rules);

    const back = await runCli(["install", fixture("dialplan"), "--root", root], { env });
    assert.equal(back.code, 0, back.stderr);
    assert.ok(!(await exists(path.join(root, "usr/share/acme"))), "what 24.00 does not ship is removed");
    assert.deepEqual(await readCalls(calls).then((c) => c.filter((x) => x.startsWith("asterisk")).length), 3);
  });
});
