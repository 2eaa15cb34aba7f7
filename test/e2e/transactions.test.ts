/**
 * Installed state and transactions: rollback at every operation, recovery after kill -9,
 * conflicts, admin edits, upgrades, one writer per root.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, cleanup, events, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const manyFiles = (prefix: string, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`files/${prefix}-${String(i).padStart(4, "0")}.conf`, `[${prefix}-${i}]\nexten = s,1,NoOp(${i})\n`]));
const copyAll = (to: string) => `install:\n  - copy: 'files/*'\n    to: ${to}\n`;

describe("transactions", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("a failure at every file operation of a 3-plugin, 40-file install rolls everything back", async () => {
    const dir = path.join(tmp, "every-op");
    // Prior state: p1 v1 installed (to be upgraded: files overwritten and dropped), an unowned file replaced with --force.
    const p1v1 = await makePlugin(
      dir,
      "p1v1",
      { ...manyFiles("p1", 6), "tasks.yml": copyAll("/etc/asterisk/extensions_extra.d/") },
      'name: p1\ndescription: d\nversion: "1"\n',
    );
    const p1v2files = manyFiles("p1", 14);
    delete p1v2files["files/p1-0001.conf"];
    p1v2files["files/p1-0000.conf"] = "[p1-0]\nexten = s,1,NoOp(v2)\n";
    const p1v2 = await makePlugin(
      dir,
      "p1v2",
      { ...p1v2files, "tasks.yml": copyAll("/etc/asterisk/extensions_extra.d/") },
      'name: p1\ndescription: d\nversion: "2"\n',
    );
    const p2 = await makePlugin(dir, "p2", { ...manyFiles("p2", 13), "tasks.yml": copyAll("/usr/share/p2/deep/folder/") });
    const p3 = await makePlugin(dir, "p3", {
      ...manyFiles("p3", 13),
      "tasks.yml": copyAll("/etc/wazo-p3/conf.d/") + "  - symlink: /etc/wazo-p3/current\n    target: conf.d\n  - mkdir: /var/spool/p3\n",
    });
    const root = await writeTree(path.join(dir, "root"), {
      "etc/wazo-p3/conf.d/p3-0000.conf": "admin's own file\n",
      "etc/asterisk/extensions.conf": "[general]\n",
    });
    assert.equal((await runCli(["install", p1v1, "--root", root])).code, 0);
    const before = await snapshot(root);
    const args = ["install", p1v2, p2, p3, "--root", root, "--force"];
    let n = 1;
    for (; n < 200; n++) {
      const r = await runCli(args, { env: { WAZO_TASKS_FAULT: String(n) } });
      if (r.code === 0) break;
      assert.equal(r.code, 1, `fault ${n}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`fault injected after file operation ${n}; every change of this run was rolled back`));
      assert.deepEqual(await snapshot(root), before, `tree after a failure at operation ${n}`);
    }
    assert.ok(n > 40, `the run has more than 40 file operations (${n - 1} were faulted)`);
    // The last run succeeded: the admin's file was kept in the state folder and comes back on uninstall.
    assert.equal(await readFile(path.join(root, "etc/wazo-p3/conf.d/p3-0000.conf"), "utf8"), "[p3-0]\nexten = s,1,NoOp(0)\n");
    assert.equal((await runCli(["uninstall", "p3", "--root", root])).code, 0);
    assert.equal(await readFile(path.join(root, "etc/wazo-p3/conf.d/p3-0000.conf"), "utf8"), "admin's own file\n");
  });

  test("kill -9 at several points of a 3,000-file install: the next command rolls back", { timeout: 180_000 }, async () => {
    const dir = path.join(tmp, "kill");
    const big = await makePlugin(dir, "big", { ...manyFiles("f", 3000), "tasks.yml": copyAll("/usr/share/big/") });
    const root = await writeTree(path.join(dir, "root"), { "usr/share/big/f-0005.conf": "unowned\n", "etc/keep": "x" });
    const before = await snapshot(root);
    for (const n of ["1", "1500", "3000", "3002"]) {
      const r = await runCli(["install", big, "--root", root, "--force"], { env: { WAZO_TASKS_FAULT: `${n}:kill` }, timeoutMs: 60_000 });
      assert.equal(r.code, null, `killed at operation ${n} (${r.stderr})`);
      const journal = path.join(root, "var/lib/wazo-tasks/txn/journal.json");
      assert.ok(
        await stat(journal).then(
          () => true,
          () => false,
        ),
        "the journal survives the kill",
      );
      const next = await runCli(["list", "--installed", "--root", root]);
      assert.equal(next.code, 0, next.stderr);
      assert.match(next.stderr, /recovered: an interrupted install .* was rolled back first/);
      assert.match(next.stdout, /nothing installed/);
      assert.deepEqual(await snapshot(root), before, `tree after kill at ${n} and recovery`);
    }
    // A kill from outside at an arbitrary moment, then the explicit `recover` command.
    const child = spawn(process.execPath, [CLI, "install", big, "--root", root, "--force"], { stdio: "ignore" });
    await new Promise((r) => setTimeout(r, 900));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const rec = await runCli(["recover", "--root", root]);
    assert.equal(rec.code, 0, rec.stderr);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a file owned by another plugin is refused before any change, naming the owner", async () => {
    const dir = path.join(tmp, "owner");
    const a = await makePlugin(dir, "a", { "x.conf": "[a]\n", "tasks.yml": "install:\n  - copy: x.conf\n    to: /etc/asterisk/extensions_extra.d/\n" });
    const b = await makePlugin(dir, "b", { "x.conf": "[b]\n", "tasks.yml": "install:\n  - copy: x.conf\n    to: /etc/asterisk/extensions_extra.d/\n" });
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", a, "--root", root])).code, 0);
    const before = await snapshot(root);
    for (const extra of [[], ["--force"]]) {
      const r = await runCli(["install", b, "--root", root, ...extra]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /b: \/etc\/asterisk\/extensions_extra\.d\/x\.conf belongs to installed plugin "a"/);
      assert.deepEqual(await snapshot(root), before);
    }
  });

  test("an unowned file is refused without --force, kept and put back with it", async () => {
    const dir = path.join(tmp, "unowned");
    const p = await makePlugin(dir, "p", { "x.conf": "[plugin]\n", "tasks.yml": "install:\n  - copy: x.conf\n    to: /etc/asterisk/extensions_extra.d/\n" });
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions_extra.d/x.conf": "[admin]\n" });
    const before = await snapshot(root);
    const r = await runCli(["install", p, "--root", root]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /x\.conf already exists and is not owned by any plugin[\s\S]*-\[admin\]\n\s+\+\[plugin\][\s\S]*hint: pass --force/);
    assert.deepEqual(await snapshot(root), before);
    assert.equal((await runCli(["install", p, "--root", root, "--force"])).code, 0);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/x.conf"), "utf8"), "[plugin]\n");
    assert.deepEqual(await readdir(path.join(root, "etc/asterisk/extensions_extra.d")), ["x.conf"], "no backup next to the file");
    assert.equal((await runCli(["uninstall", "p", "--root", root])).code, 0);
    assert.deepEqual(await snapshot(root), before);
  });

  test("admin edits survive reinstall, upgrade and uninstall unless forced", async () => {
    const dir = path.join(tmp, "edits");
    const v1 = await makePlugin(
      dir,
      "v1",
      { "x.conf": "[v1]\n", "tasks.yml": "install:\n  - copy: x.conf\n    to: /etc/asterisk/extensions_extra.d/\n" },
      'name: e\ndescription: d\nversion: "1"\n',
    );
    const v2 = await makePlugin(
      dir,
      "v2",
      { "y.conf": "[v2]\n", "tasks.yml": "install:\n  - copy: y.conf\n    to: /etc/asterisk/extensions_extra.d/\n" },
      'name: e\ndescription: d\nversion: "2"\n',
    );
    const root = path.join(dir, "root");
    const x = path.join(root, "etc/asterisk/extensions_extra.d/x.conf");
    assert.equal((await runCli(["install", v1, "--root", root])).code, 0);
    await appendFile(x, "; admin note\n");
    const edited = await snapshot(root);
    const re = await runCli(["install", v1, "--root", root]);
    assert.equal(re.code, 2);
    assert.match(re.stderr, /x\.conf was changed since it was installed[\s\S]*-; admin note/);
    assert.deepEqual(await snapshot(root), edited);
    // Upgrade: v2 no longer ships x.conf, but the edited file stays (with a warning).
    const up = await runCli(["install", v2, "--root", root]);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /x\.conf was changed since install: left in place/);
    assert.equal(await readFile(x, "utf8"), "[v1]\n; admin note\n");
    // Uninstall keeps an edited file unless forced.
    await appendFile(path.join(root, "etc/asterisk/extensions_extra.d/y.conf"), "; edit\n");
    const un = await runCli(["uninstall", "e", "--root", root]);
    assert.equal(un.code, 0);
    assert.match(un.stderr, /y\.conf was changed since install: left in place/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/y.conf"), "utf8"), "[v2]\n; edit\n");
    // --force on reinstall overwrites the edit.
    await writeFile(path.join(dir, "v1/x.conf"), "[v1]\n");
    const root2 = path.join(dir, "root2");
    assert.equal((await runCli(["install", v1, "--root", root2])).code, 0);
    await appendFile(path.join(root2, "etc/asterisk/extensions_extra.d/x.conf"), "; edit\n");
    assert.equal((await runCli(["install", v1, "--root", root2, "--force"])).code, 0);
    assert.equal(await readFile(path.join(root2, "etc/asterisk/extensions_extra.d/x.conf"), "utf8"), "[v1]\n");
  });

  test("8 concurrent installs of different plugins into one root all end installed", { timeout: 120_000 }, async () => {
    const dir = path.join(tmp, "concurrent");
    const plugins = [];
    for (let i = 0; i < 8; i++)
      plugins.push(await makePlugin(dir, `c${i}`, { ...manyFiles(`c${i}`, 20), "tasks.yml": copyAll("/etc/asterisk/extensions_extra.d/") }));
    const root = path.join(dir, "root");
    const results = await Promise.all(plugins.map((p) => runCli(["install", p, "--root", root, "--lock-timeout", "60"], { timeoutMs: 90_000 })));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const list = await runCli(["list", "--installed", "--root", root, "--json"]);
    const listed = events(list.stdout)[0]
      .plugins.map((p: { name: string }) => p.name)
      .sort();
    assert.deepEqual(listed, plugins.map((p) => path.basename(p)).sort());
    assert.equal((await readdir(path.join(root, "etc/asterisk/extensions_extra.d"))).length, 160);
    const v = await runCli(["verify", "--root", root]);
    assert.equal(v.code, 0, v.stdout);
  });

  test("a second run waits for the lock, then names the holder; a stale lock is taken over", async () => {
    const dir = path.join(tmp, "lock");
    const root = await writeTree(path.join(dir, "root"), { "var/lib/wazo-tasks/lock": `${process.pid}\n` });
    const r = await runCli(["install", "helloworld", "--root", root, "--lock-timeout", "0.3"]);
    assert.equal(r.code, 75, "lock held: EX_TEMPFAIL");
    assert.match(r.stderr, new RegExp(`another wazo-tasks run \\(pid ${process.pid}\\) holds the lock`));
    // A pid that no longer runs: the lock is stale.
    const dead = spawn("true");
    await new Promise((res) => dead.on("close", res));
    await writeFile(path.join(root, "var/lib/wazo-tasks/lock"), `${dead.pid}\n`);
    const ok = await runCli(["install", "helloworld", "--root", root, "--lock-timeout", "0.3"]);
    assert.equal(ok.code, 0, ok.stderr);
    await assert.rejects(stat(path.join(root, "var/lib/wazo-tasks/lock")), "the lock is released");
  });

  test("verify reports missing, modified and mode-changed files", async () => {
    const dir = path.join(tmp, "verify");
    const p = await makePlugin(dir, "v", { ...manyFiles("v", 3), "tasks.yml": copyAll("/etc/v/") });
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", p, "--root", root])).code, 0);
    assert.equal((await runCli(["verify", "--root", root])).code, 0);
    await appendFile(path.join(root, "etc/v/v-0000.conf"), "x");
    await (await import("node:fs/promises")).rm(path.join(root, "etc/v/v-0001.conf"));
    await (await import("node:fs/promises")).chmod(path.join(root, "etc/v/v-0002.conf"), 0o600);
    const r = await runCli(["verify", "--root", root]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /modified\s+\/etc\/v\/v-0000\.conf/);
    assert.match(r.stdout, /missing\s+\/etc\/v\/v-0001\.conf/);
    assert.match(r.stdout, /mode\s+\/etc\/v\/v-0002\.conf .*mode 600, installed 644/);
  });
});

describe("signals", () => {
  test("SIGTERM during an install rolls it back before exiting", async () => {
    const dir = await tempDir();
    const plugin = await makePlugin(dir, "slow", { ...manyFiles("s", 5), "tasks.yml": copyAll("/etc/slow/") + "  - run: [sleep, '1']\n" });
    const root = await writeTree(path.join(dir, "root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    const child = spawn(process.execPath, [CLI, "install", plugin, "--root", root], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // Signal once the transaction is open (its journal written), however slow the machine is.
    const journal = path.join(root, "var/lib/wazo-tasks/txn/journal.json");
    for (
      let i = 0;
      i < 400 &&
      !(await stat(journal).then(
        () => true,
        () => false,
      ));
      i++
    )
      await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGTERM");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 1);
    assert.match(stderr, /interrupted by SIGTERM; every change of this run was rolled back/);
    assert.deepEqual(await snapshot(root), before);
    await cleanup(dir);
  });
});
