/**
 * Makefile plugins: the real make as the fallback, an honest dry run, and conversion proven
 * equivalent by installing both ways and comparing the trees and the recorded reloads.
 */
import assert from "node:assert/strict";
import { cp, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, EXAMPLES, FIXTURE_BIN, makePlugin, REPO, runCli, snapshot, tempDir, writeTree, type Snapshot } from "../support/rig.js";

const FIXTURES = path.join(REPO, "test/fixtures/make");

const withoutState = (s: Snapshot) => new Map([...s].filter(([k]) => !k.startsWith("var/lib/wazo-tasks") && !["var/", "var/lib/"].includes(k)));

/** Reloads and restarts as a set of commands, whatever way they were asked for. */
async function recordedCalls(file: string): Promise<string[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  const calls = text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { argv: string[] });
  return [
    ...new Set(
      calls.map(({ argv }) => {
        const x = argv.findIndex((a) => /^-[a-z]*x$/.test(a));
        return x >= 0 ? `asterisk: ${argv[x + 1].trim()}` : `systemctl: ${argv.join(" ")}`;
      }),
    ),
  ].sort();
}

describe("Makefile plugins", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));
  const envFor = (calls: string) => ({ PATH: `${FIXTURE_BIN}:${process.env.PATH}`, WAZO_TEST_CALLS: calls });

  for (const shape of ["helloworld-destdir", "install-mode", "sounds", "links", "calld-conf", "pjsip", "untranslatable"]) {
    test(`${shape}: make install and its converted descriptor give the same tree and the same reloads`, async () => {
      const dir = path.join(tmp, shape);
      const viaMake = path.join(dir, "make-plugin");
      const viaTasks = path.join(dir, "tasks-plugin");
      await cp(path.join(FIXTURES, shape), viaMake, { recursive: true });
      await cp(path.join(FIXTURES, shape), viaTasks, { recursive: true });
      const conv = await runCli(["convert", viaTasks, "--write"]);
      assert.equal(conv.code, 0, conv.stderr);
      await rm(path.join(viaTasks, "Makefile"));
      // Like a PBX: Asterisk's folders exist before any plugin.
      const base = { "etc/asterisk/extensions.conf": "[general]\n", "etc/asterisk/extensions_extra.d/.keep": "" };
      const [rootA, rootB] = [await writeTree(path.join(dir, "A"), base), await writeTree(path.join(dir, "B"), base)];
      const beforeA = await snapshot(rootA);
      const a = await runCli(["install", viaMake, "--root", rootA], { env: envFor(path.join(dir, "calls-a")) });
      assert.equal(a.code, 0, a.stderr + a.stdout);
      assert.match(a.stdout, /\(install, make\)/);
      const b = await runCli(["install", viaTasks, "--root", rootB], { env: envFor(path.join(dir, "calls-b")) });
      assert.equal(b.code, 0, b.stderr + b.stdout);
      assert.match(b.stdout, /\(install, descriptor\)/);
      const [sa, sb] = [withoutState(await snapshot(rootA)), withoutState(await snapshot(rootB))];
      assert.ok(sa.size > 0);
      assert.deepEqual(sa, sb);
      const [ca, cb] = [await recordedCalls(path.join(dir, "calls-a")), await recordedCalls(path.join(dir, "calls-b"))];
      if (shape !== "links") assert.ok(ca.length > 0, "the Makefile reloads or restarts something");
      assert.deepEqual(ca, cb);
      // make uninstall takes the root back to what it was.
      const u = await runCli(["uninstall", await nameOf(viaMake), "--root", rootA], { env: envFor(path.join(dir, "calls-a")) });
      assert.equal(u.code, 0, u.stderr);
      assert.deepEqual(await snapshot(rootA), beforeA);
    });
  }

  test("the seed's Makefile ignores DESTDIR: refused under --root, naming the lines", async () => {
    const root = await writeTree(path.join(tmp, "seed-root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    for (const extra of [[], ["--dry-run"]]) {
      const r = await runCli(["install", path.join(FIXTURES, "helloworld"), "--root", root, ...extra]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /Makefile:4:?\d*: error: writes to an absolute path without \$\(DESTDIR\): cp helloworld\.conf \/etc\/asterisk\/extensions_extra\.d\//,
      );
      assert.match(r.stderr, /hint: prefix the paths with \$\(DESTDIR\) in the Makefile, or pass --allow-absolute/);
      assert.deepEqual(await snapshot(root), before);
    }
  });

  test("the seed's Makefile converts to a descriptor equal in effect to the hand-written one", async () => {
    const converted = path.join(tmp, "seed-converted");
    await cp(path.join(FIXTURES, "helloworld"), converted, { recursive: true });
    assert.equal((await runCli(["convert", converted, "--write"])).code, 0);
    await rm(path.join(converted, "Makefile"));
    const [rootB, rootC] = [path.join(tmp, "seed-B"), path.join(tmp, "seed-C")];
    assert.equal((await runCli(["install", converted, "--root", rootB])).code, 0);
    assert.equal((await runCli(["install", path.join(EXAMPLES, "helloworld"), "--root", rootC])).code, 0);
    assert.deepEqual(withoutState(await snapshot(rootB)), withoutState(await snapshot(rootC)));
  });

  test("a failing recipe is reported with its exit code and last lines, and changes nothing", async () => {
    const plugin = await makePlugin(tmp, "failing", {
      "a.conf": "[a]\n",
      Makefile:
        "install:\n\tmkdir -p $(DESTDIR)/etc/asterisk/extensions_extra.d\n\tcp a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/\n\t@echo about to fail\n\tfalse\n\nuninstall:\n\trm -f $(DESTDIR)/etc/asterisk/extensions_extra.d/a.conf\n",
    });
    const root = await writeTree(path.join(tmp, "fail-root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const before = await snapshot(root);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /make install failed \(exit code 2\); last lines:[\s\S]*about to fail[\s\S]*nothing was changed \(make ran into a staging folder\)/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("bad Makefiles are refused before anything runs", async () => {
    const root = await writeTree(path.join(tmp, "bad-root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    const spaces = await runCli(["install", path.join(FIXTURES, "spaces"), "--root", root]);
    assert.equal(spaces.code, 2);
    assert.match(spaces.stderr, /spaces\/Makefile:\d+:\d+: error: indented with spaces; recipe lines must start with a tab/);
    const noUninstall = await runCli(["install", path.join(FIXTURES, "no-uninstall"), "--root", root]);
    assert.equal(noUninstall.code, 2);
    assert.match(noUninstall.stderr, /no-uninstall\/Makefile: error: missing target: uninstall/);
    const noMake = await runCli(["install", path.join(FIXTURES, "helloworld-destdir"), "--root", root], { env: { PATH: FIXTURE_BIN } });
    assert.equal(noMake.code, 2);
    assert.match(noMake.stderr, /helloworld-destdir is a Makefile plugin, but make is not on PATH/);
    assert.deepEqual(await snapshot(root), before);
  });

  // Without the overlay (forced here; as root on Linux the dry run runs make in one: test/contain/overlay.test.ts).
  test("a dry run runs no recipe, not even $(shell ...), and shows the analysed plan", async () => {
    const env = { WAZO_TASKS_CAPTURE: "staging" };
    const marker = path.join(tmp, "marker");
    const plugin = await makePlugin(tmp, "noisy", {
      "a.conf": "[a]\n",
      Makefile: `STAMP := $(shell touch ${marker})\ninstall:\n\tcp a.conf $(DESTDIR)/etc/a.conf\n\t+touch ${marker}-plus\n\nuninstall:\n\trm -f $(DESTDIR)/etc/a.conf\n`,
    });
    const root = path.join(tmp, "noisy-root");
    const r = await runCli(["install", plugin, "--root", root, "--dry-run", "--allow-absolute"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not simulated\s+make\s+make install[\s\S]*3: cp a\.conf/);
    await assert.rejects(stat(marker));
    await assert.rejects(stat(`${marker}-plus`));
    await assert.rejects(stat(root));
    const convertible = await runCli(["install", path.join(FIXTURES, "install-mode"), "--root", root, "--dry-run"], { env });
    assert.equal(convertible.code, 0, convertible.stderr);
    assert.match(convertible.stdout, /would change\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/acme-greeting\.conf/);
    assert.match(convertible.stdout, /would change\s+make\s+make install/);
  });

  test("uninstall runs make uninstall; list --installed shows the executor", async () => {
    const dir = path.join(tmp, "un");
    const plugin = path.join(dir, "plugin");
    await cp(path.join(FIXTURES, "calld-conf"), plugin, { recursive: true });
    const root = path.join(dir, "root");
    const calls = path.join(dir, "calls");
    assert.equal((await runCli(["install", plugin, "--root", root], { env: envFor(calls) })).code, 0);
    const name = await nameOf(plugin);
    const list = await runCli(["list", "--installed", "--root", root]);
    assert.match(list.stdout, new RegExp(`${name}\\s+\\S+\\s+make\\s+1 files`));
    await writeFile(calls, "");
    const u = await runCli(["uninstall", name, "--root", root], { env: envFor(calls) });
    assert.equal(u.code, 0, u.stderr);
    // make uninstall ran (captured in an overlay as root, against the root otherwise): its output is shown.
    assert.match(u.stdout, /\| rm -f \S*\/etc\/wazo-calld\/conf\.d\/50-acme\.yml/);
    assert.deepEqual(await recordedCalls(calls), ["systemctl: restart wazo-calld"]);
    assert.deepEqual([...(await snapshot(root)).keys()], [], "the root is empty again, state folder included");
  });

  test("list shows a plugin whose Makefile is named GNUmakefile or makefile as a make plugin", async () => {
    const dir = path.join(tmp, "names");
    const recipe = "install:\n\t@true\n";
    await makePlugin(dir, "gnu-named", { GNUmakefile: recipe });
    await makePlugin(dir, "lower-named", { makefile: recipe });
    await makePlugin(dir, "no-executor", { "README.md": "nothing to run\n" });
    const before = await snapshot(dir);
    const list = await runCli(["list", "--plugins-dir", dir, "--root", path.join(dir, "root")]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^gnu-named\s+1\.0\.0\s+make\s/m);
    assert.match(list.stdout, /^lower-named\s+1\.0\.0\s+make\s/m);
    assert.match(list.stdout, /^no-executor\s+1\.0\.0\s+unknown\s/m);
    assert.deepEqual(await snapshot(dir), before, "list changes nothing");
  });
});

async function nameOf(dir: string): Promise<string> {
  return /^name:\s*"?([a-z0-9-]+)/m.exec(await readFile(path.join(dir, "package.yml"), "utf8"))![1];
}
