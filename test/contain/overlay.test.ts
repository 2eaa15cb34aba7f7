/**
 * Overlay capture (root on Linux with overlayfs): `make install` runs in a private mount
 * namespace over an overlay of the machine, so whatever the recipe writes or removes is seen,
 * wherever it goes; writes outside the root and removals of files the plugin does not own are
 * refused with the path named, the rest installs as typed operations.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { overlayUnavailable } from "../../src/make/overlay.js";
import { running } from "./processes.js";
import { CLI, cleanup, FIXTURE_BIN, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const CONF = "[acme]\nexten = s,1,NoOp()\n";
const OWN = "etc/asterisk/extensions_extra.d/acme.conf";
const PBX = {
  "etc/asterisk/extensions.conf": "[general]\n",
  "etc/asterisk/extensions_extra.d/other.conf": "[other]\nexten = s,1,NoOp()\n",
  "etc/admin.conf": "mine\n",
};
const INSTALL_OWN = `\tinstall -D -m 0644 a.conf $(DESTDIR)/${OWN}\n`;
const makefile = (install: string) => `install:\n${install}uninstall:\n\t@true\n`;
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const why = await overlayUnavailable(process.env.PATH);
if (why) console.log(`# overlay capture tests skipped: ${why}`);

describe("make install captured in an overlay", { skip: why }, () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  /** A plugin and, apart from it, a root like a PBX; `outside` watches the rest of the temp folder. */
  async function setup(name: string, install: string) {
    const dir = path.join(tmp, name);
    const plugin = await makePlugin(path.join(dir, "plugins"), name, { "a.conf": CONF, Makefile: makefile(install) });
    const root = await writeTree(path.join(dir, "root"), PBX);
    return { dir, plugin, root, before: await snapshot(root), outside: await snapshot(dir) };
  }

  test("a well-behaved Makefile installs the same tree as the staging DESTDIR does", async () => {
    const a = await setup("same-a", `${INSTALL_OWN}\tmkdir -p $(DESTDIR)/usr/share/acme\n\tln -sf ../../../${OWN} $(DESTDIR)/usr/share/acme/link\n`);
    const b = await setup("same-b", `${INSTALL_OWN}\tmkdir -p $(DESTDIR)/usr/share/acme\n\tln -sf ../../../${OWN} $(DESTDIR)/usr/share/acme/link\n`);
    const ra = await runCli(["install", a.plugin, "--root", a.root]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.doesNotMatch(ra.stderr, /not captured/);
    const rb = await runCli(["install", b.plugin, "--root", b.root], { env: { WAZO_TASKS_CAPTURE: "staging" } });
    assert.equal(rb.code, 0, rb.stderr);
    const strip = (s: Map<string, string>) => new Map([...s].filter(([k]) => !k.startsWith("var/lib/wazo-tasks")));
    assert.deepEqual(strip(await snapshot(a.root)), strip(await snapshot(b.root)));
    assert.equal(await readFile(path.join(a.root, OWN), "utf8"), CONF);
  });

  test("$(DESTDIR)/../x is refused with the path named; nothing changed anywhere", async () => {
    const { dir, plugin, root, before, outside } = await setup("up", "\tinstall -D a.conf $(DESTDIR)/../out4\n");
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`make install wrote outside the root ${root} \\(${path.join(dir, "out4")}\\): refused, nothing was changed`));
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await snapshot(dir), outside);
  });

  test("~/x is refused with the path named and never written", async () => {
    const { dir, plugin, root, before } = await setup("home", `${INSTALL_OWN}\tcp a.conf ~/out6\n`);
    const home = path.join(dir, "home");
    await mkdir(home);
    const r = await runCli(["install", plugin, "--root", root], { env: { HOME: home } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`wrote outside the root [^(]*\\(${path.join(home, "out6")}\\)`));
    assert.equal(await exists(path.join(home, "out6")), false);
    assert.deepEqual(await snapshot(root), before);
  });

  test("an absolute path run with --allow-absolute is still refused, and /etc is untouched", async () => {
    const target = `/etc/wazo-tasks-capture-test-${process.pid}.conf`;
    const { plugin, root, before } = await setup("abs", `\tcp a.conf ${target}\n`);
    const r = await runCli(["install", plugin, "--root", root, "--allow-absolute"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`wrote outside the root [^(]*\\(${target}\\)`));
    assert.equal(await exists(target), false);
    assert.deepEqual(await snapshot(root), before);
  });

  test("removing another plugin's file is refused with the path named", async () => {
    const { plugin, root, before } = await setup("rm-other", `\t-rm -rf $(DESTDIR)/\n${INSTALL_OWN}`);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /make install removed what this plugin does not own \(\/etc\/admin\.conf, \/etc\/asterisk\/extensions\.conf, \/etc\/asterisk\/extensions_extra\.d\/other\.conf\): refused/,
    );
    assert.deepEqual(await snapshot(root), before);
  });

  test("a folder emptied and made again (an opaque folder) is a removal too", async () => {
    const d = "$(DESTDIR)/etc/asterisk/extensions_extra.d";
    const { plugin, root, before } = await setup("opaque", `\trm -rf ${d}\n\tmkdir ${d}\n${INSTALL_OWN}`);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /does not own \(\/etc\/asterisk\/extensions_extra\.d\/other\.conf\)/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a recipe deleting the root then failing changes nothing", async () => {
    const { plugin, root, before } = await setup("wipe", "\trm -rf $(DESTDIR)/\n\tfalse\n");
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /make install failed[\s\S]*nothing was changed/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("removing its own file of the installed version is allowed; the plugin folder stays as it was", async () => {
    const { dir, plugin, root } = await setup("own", `${INSTALL_OWN}\tinstall -D -m 0644 a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/old.conf\n`);
    assert.equal((await runCli(["install", plugin, "--root", root])).code, 0);
    const v2 = await makePlugin(path.join(dir, "plugins"), "own", {
      "a.conf": CONF,
      Makefile: makefile(`\trm -f $(DESTDIR)/etc/asterisk/extensions_extra.d/old.conf\n\ttouch built-in-place\n${INSTALL_OWN}`),
    });
    const pluginBefore = await snapshot(v2);
    const r = await runCli(["install", v2, "--root", root, "--reinstall"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(path.join(root, "etc/asterisk/extensions_extra.d/old.conf")), false);
    assert.equal(await readFile(path.join(root, OWN), "utf8"), CONF);
    assert.deepEqual(await snapshot(v2), pluginBefore, "what make wrote in the plugin folder is thrown away");
  });

  test("systemctl called by its full path is recorded and run once the files are in place", async () => {
    const { dir, plugin, root } = await setup("fullpath", `${INSTALL_OWN}\t/usr/bin/systemctl restart wazo-calld\n`);
    const calls = path.join(dir, "calls");
    const r = await runCli(["install", plugin, "--root", root], { env: { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, WAZO_TEST_CALLS: calls } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /changed\s+restart\s+restart wazo-calld/);
    assert.match(await readFile(calls, "utf8"), /restart.*wazo-calld/);
  });

  for (const mode of ["overlay", "staging"])
    test(`a child that calls setsid dies with the run and never writes (${mode})`, async () => {
      const token = `wazo-setsid-${process.pid}-${mode}`;
      const { dir, plugin, root } = await setup(`setsid-${mode}`, `\tsetsid sh -c 'sleep 3; echo x > $(DESTDIR)/late' ${token} &\n${INSTALL_OWN}`);
      const before = await snapshot(dir);
      const r = await runCli(["install", plugin, "--root", root], { env: mode === "staging" ? { WAZO_TASKS_CAPTURE: "staging" } : {} });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(running(token), [], "no process of the recipe is left when the run ends");
      await sleep(5000);
      assert.deepEqual(running(token), []);
      assert.equal(await exists(path.join(root, "late")), false);
      const after = await snapshot(dir);
      const state = (k: string) => k.startsWith("root/var/lib/wazo-tasks") || k === "root/var/" || k === "root/var/lib/";
      assert.deepEqual(
        [...after.keys()].filter((k) => !before.has(k) && !state(k)),
        ["root/etc/asterisk/extensions_extra.d/acme.conf"],
      );
    });

  for (const mode of ["overlay", "staging"])
    test(`kill -9 of wazo-tasks during make: after recovery, nothing the recipe started is left (${mode})`, async () => {
      const token = `wazo-k9-setsid-${process.pid}-${mode}`;
      const { plugin, root, before } = await setup(`k9-${mode}`, `\tsetsid sh -c 'sleep 8; echo x > $(DESTDIR)/late' ${token} &\n\tsleep 30\n`);
      const child = spawn(process.execPath, [CLI, "install", plugin, "--root", root], {
        stdio: "ignore",
        env: { ...process.env, WAZO_TASKS_AMI_URL: "", ...(mode === "staging" ? { WAZO_TASKS_CAPTURE: "staging" } : {}) },
      });
      for (const end = Date.now() + 15_000; !running(token).length; await sleep(50)) if (Date.now() > end) throw new Error("the recipe never started");
      child.kill("SIGKILL");
      await new Promise((r) => child.on("close", r));
      const rec = await runCli(["recover", "--root", root]);
      assert.equal(rec.code, 0, rec.stderr);
      // The supervisor notices wazo-tasks is gone and kills what carries the run's token; on a
      // busy machine that can end a moment after recover does. Long before the recipe would write.
      for (const end = Date.now() + 3000; running(token).length && Date.now() < end;) await sleep(50);
      assert.deepEqual(running(token), [], "no process of the recipe is left");
      await sleep(5000);
      assert.deepEqual(running(token), []);
      assert.deepEqual(await snapshot(root), before);
    });

  test("a dry run runs make in the overlay and shows its real changes; the root stays byte for byte", async () => {
    const { dir, plugin, root, before, outside } = await setup(
      "dry",
      `${INSTALL_OWN}\tfor f in one two; do echo $$f > $(DESTDIR)/etc/asterisk/extensions_extra.d/acme-$$f.conf; done\n\tasterisk -rx 'dialplan reload'\n`,
    );
    const r = await runCli(["install", plugin, "--root", root, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    for (const f of ["acme.conf", "acme-one.conf", "acme-two.conf"])
      assert.match(r.stdout, new RegExp(`would change\\s+copy\\s+/etc/asterisk/extensions_extra\\.d/${f.replace(".", "\\.")}\\s+\\(create\\)`));
    assert.match(r.stdout, /would run\s+reload\s+dialplan/);
    assert.doesNotMatch(r.stdout, /runs the real make|not simulated/);
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await snapshot(dir), outside);
  });

  test("a dry run shows a refusal as the install would", async () => {
    const { plugin, root, before } = await setup("dry-rm", `\trm -f $(DESTDIR)/etc/admin.conf\n${INSTALL_OWN}`);
    const r = await runCli(["install", plugin, "--root", root, "--dry-run"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /make install removed what this plugin does not own \(\/etc\/admin\.conf\)/);
    assert.deepEqual(await snapshot(root), before);
  });

  describe("make uninstall", () => {
    /** Installs a plugin whose uninstall target is `uninstall` (the Makefile is the plugin folder's, read again at uninstall). */
    async function installed(name: string, uninstall: string) {
      const dir = path.join(tmp, name);
      const plugin = await makePlugin(path.join(dir, "plugins"), name, { "a.conf": CONF, Makefile: `install:\n${INSTALL_OWN}uninstall:\n${uninstall}` });
      const root = await writeTree(path.join(dir, "root"), PBX);
      const pristine = await snapshot(root);
      const r = await runCli(["install", plugin, "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      return { dir, plugin, root, pristine, before: await snapshot(root) };
    }

    test("a well-behaved uninstall takes the root back to what it was", async () => {
      const { root, pristine } = await installed("un-ok", `\trm -f $(DESTDIR)/${OWN}\n`);
      const r = await runCli(["uninstall", "un-ok", "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      const state = (k: string) => k.startsWith("var/");
      assert.deepEqual(new Map([...(await snapshot(root))].filter(([k]) => !state(k))), pristine);
    });

    test("removing another plugin's file is refused with the path named, dry run included", async () => {
      const { root, before } = await installed("un-other", `\trm -f $(DESTDIR)/${OWN} $(DESTDIR)/etc/asterisk/extensions_extra.d/other.conf\n`);
      for (const extra of [["--dry-run"], []]) {
        const r = await runCli(["uninstall", "un-other", "--root", root, ...extra]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(
          r.stderr,
          /make uninstall removed what this plugin does not own \(\/etc\/asterisk\/extensions_extra\.d\/other\.conf\): refused, nothing was changed/,
        );
        assert.deepEqual(await snapshot(root), before);
      }
    });

    test("an uninstall that writes is refused", async () => {
      const { root, before } = await installed("un-write", `\trm -f $(DESTDIR)/${OWN}\n\techo x > $(DESTDIR)/etc/admin.conf\n`);
      const r = await runCli(["uninstall", "un-write", "--root", root]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /make uninstall wrote \/etc\/admin\.conf: refused, nothing was changed/);
      assert.deepEqual(await snapshot(root), before);
    });
  });

  test("without the overlay it says so once and falls back to the staging DESTDIR", async () => {
    const a = await setup("fallback-a", INSTALL_OWN);
    const b = await makePlugin(path.join(a.dir, "plugins"), "fallback-b", {
      "b.conf": CONF,
      Makefile: makefile("\tinstall -D b.conf $(DESTDIR)/etc/b.conf\n"),
    });
    const r = await runCli(["install", a.plugin, b, "--root", a.root], { env: { WAZO_TASKS_CAPTURE: "staging" } });
    assert.equal(r.code, 0, r.stderr);
    const warnings =
      r.stderr.match(/warning: make install is not captured in an overlay \(WAZO_TASKS_CAPTURE=staging is set\): make install runs into a staging DESTDIR/g) ??
      [];
    assert.equal(warnings.length, 1, r.stderr);
  });
});
