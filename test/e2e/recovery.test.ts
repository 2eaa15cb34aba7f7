/**
 * Every state has a way out: a journal bound to its root, state files checked before use,
 * rollbacks that go on past failures and finish later, and the documented ways out
 * (`recover`, `recover --discard`, `verify --repair`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cp, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const STATE = "var/lib/wazo-tasks";
const JOURNAL = `${STATE}/txn/journal.json`;
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at |internal error/, `no stack trace: ${s}`);
const manyFiles = (prefix: string, n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`files/${prefix}-${i}.conf`, `[${prefix}-${i}]\nexten = s,1,NoOp(${i})\n`]));
const copyAll = (to: string) => `install:\n  - copy: 'files/*'\n    to: ${to}\n`;

describe("a journal bound to its root", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("a journal copied from another root is refused, and --discard sets it aside", async () => {
    const a = await writeTree(path.join(tmp, "A"), { "etc/keep": "a\n" });
    const b = path.join(tmp, "B");
    assert.equal((await runCli(["install", "helloworld", "--root", b])).code, 0);
    const killed = await runCli(["install", "sounds", "--root", a], { env: { WAZO_TASKS_FAULT: "2:kill" } });
    assert.equal(killed.code, null);
    await mkdir(path.join(b, `${STATE}/txn`), { recursive: true });
    await cp(path.join(a, JOURNAL), path.join(b, JOURNAL));
    const before = await snapshot(b);
    for (const cmd of [["recover"], ["list", "--installed"], ["uninstall", "helloworld"]]) {
      const r = await runCli([...cmd, "--root", b]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`the journal ${b}/var/lib/wazo-tasks/txn/journal\\.json belongs to another root \\(${a}\\)`));
      assert.match(r.stderr, /hint: `wazo-tasks recover --discard --root .*` sets the journal and its backups aside/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(b), before, `${cmd} changed nothing`);
    }
    const d = await runCli(["recover", "--discard", "--root", b]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /discarded the journal of an interrupted install: \d+ path\(s\) it would have put back are left as they are now/);
    assert.match(d.stdout, /usr\/share\/asterisk\/sounds/);
    assert.match(d.stdout, /moved to .*var\/lib\/wazo-tasks\/discarded\//);
    const list = await runCli(["list", "--installed", "--root", b]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^helloworld /m);
    assert.ok(await exists(path.join(b, "etc/asterisk/extensions_extra.d/helloworld.conf")), "B's plugin is untouched");
    // Root A still recovers its own journal.
    const ra = await runCli(["recover", "--root", a]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.deepEqual([...(await snapshot(a)).keys()], ["etc/", "etc/keep"]);
  });

  test("a root moved after a crash (mv A B) is recovered in its new place, --force originals included", async () => {
    const a = await writeTree(path.join(tmp, "moved-A"), { "etc/asterisk/extensions_extra.d/helloworld.conf": "[admin]\n", "etc/keep": "x\n" });
    const before = await snapshot(a);
    for (const n of ["1", "2", "3"]) {
      const killed = await runCli(["install", "helloworld", "--root", a, "--force"], { env: { WAZO_TASKS_FAULT: `${n}:kill` } });
      assert.equal(killed.code, null, killed.stderr);
      const b = path.join(tmp, `moved-B${n}`);
      await rename(a, b);
      const r = await runCli(["list", "--installed", "--root", b]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /the root moved from .*moved-A since the interrupted run/);
      assert.match(r.stderr, /recovered: an interrupted install/);
      assert.deepEqual(await snapshot(b), before, `kill at ${n}, moved, recovered`);
      await rename(b, a);
    }
  });

  test("a corrupt, truncated or empty journal is reported with its path and a way out", async () => {
    const root = path.join(tmp, "corrupt-journal");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    for (const [content, why] of [
      ["", /empty file/],
      ['{"format":2,"rootId":"x","entr', /not valid JSON/],
      ['{"format":2}', /rootId/],
    ] as const) {
      await mkdir(path.join(root, `${STATE}/txn`), { recursive: true });
      await writeFile(path.join(root, JOURNAL), content);
      const before = await snapshot(root);
      const r = await runCli(["list", "--installed", "--root", root]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`corrupt journal ${root}/var/lib/wazo-tasks/txn/journal\\.json: `));
      assert.match(r.stderr, why);
      assert.match(r.stderr, /recover --discard/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
      const d = await runCli(["recover", "--discard", "--root", root]);
      assert.equal(d.code, 0, d.stderr);
      assert.match(d.stdout, /discarded the journal/);
      assert.equal((await runCli(["verify", "--root", root])).code, 0);
    }
  });
});

describe("state files are checked before use", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("a manifest path leading out of the root is refused; verify --repair drops it and uninstall stays inside", async () => {
    const root = path.join(tmp, "escape", "root");
    const victim = await writeTree(path.join(tmp, "escape", "victim"), { "data.txt": "precious\n" });
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const mf = path.join(root, `${STATE}/installed/helloworld.json`);
    const m = JSON.parse(await readFile(mf, "utf8"));
    const data = await readFile(path.join(victim, "data.txt"));
    m.files.push({ path: "/../../victim/data.txt", type: "file", sha256: createHash("sha256").update(data).digest("hex"), mode: 0o644, size: data.length });
    await writeFile(mf, JSON.stringify(m));
    const before = await snapshot(path.join(tmp, "escape"));
    for (const cmd of [
      ["uninstall", "helloworld"],
      ["install", "helloworld"],
      ["list", "--installed"],
    ]) {
      const r = await runCli([...cmd, "--root", root]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /corrupt state file .*helloworld\.json: files\.\d+\.path: must be an absolute path inside the root, without '\.\.'/);
      assert.match(r.stderr, /verify --repair/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(path.join(tmp, "escape")), before);
    }
    const v = await runCli(["verify", "--root", root]);
    assert.equal(v.code, 1);
    assert.match(v.stdout, /corrupt\s+.*helloworld\.json/);
    const fix = await runCli(["verify", "--repair", "--root", root]);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    assert.match(fix.stdout, /rebuilt\s+.*helloworld\.json .*1 invalid or missing one\(s\) dropped/);
    const un = await runCli(["uninstall", "helloworld", "--root", root]);
    assert.equal(un.code, 0, un.stderr);
    assert.equal(await readFile(path.join(victim, "data.txt"), "utf8"), "precious\n");
  });

  test("a folder replaced by a link out of the root: uninstall and recovery leave what it leads to alone", async () => {
    const dir = path.join(tmp, "link-out");
    const victim = await writeTree(path.join(dir, "victim"), { "q-0.conf": "[q-0]\nexten = s,1,NoOp(0)\n", "r-0.conf": "[r-0]\nexten = s,1,NoOp(0)\n" });
    const r = await makePlugin(dir, "r", { ...manyFiles("r", 1), "tasks.yml": copyAll("/etc/r/") });
    const q = await makePlugin(dir, "q", { ...manyFiles("q", 3), "tasks.yml": copyAll("/etc/q/") });
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", r, "--root", root])).code, 0);
    // Uninstall: /etc/r is now a link to the victim folder, which holds an identical r-0.conf.
    await rename(path.join(root, "etc/r"), path.join(dir, "r-moved"));
    await symlink(victim, path.join(root, "etc/r"));
    const un = await runCli(["uninstall", "r", "--root", root]);
    assert.equal(un.code, 0, un.stderr);
    assert.match(un.stderr, /\/etc\/r\/r-0\.conf is reached through \/etc\/r, a link leading outside the root .*: left alone/);
    // Recovery: a killed install's new folder replaced by a link out of the root.
    assert.equal((await runCli(["install", q, "--root", root], { env: { WAZO_TASKS_FAULT: "3:kill" } })).code, null);
    await rm(path.join(root, "etc/q"), { recursive: true });
    await symlink(victim, path.join(root, "etc/q"));
    const rec = await runCli(["recover", "--root", root]);
    assert.equal(rec.code, 1, rec.stderr);
    assert.match(rec.stderr, /etc\/q\/q-0\.conf: cannot restore: etc\/q leads outside the root .*: left alone/);
    assert.equal((await runCli(["recover", "--root", root])).code, 0);
    assert.deepEqual((await readdir(victim)).sort(), ["q-0.conf", "r-0.conf"], "nothing outside the root was removed");
  });

  test('a tampered manifest ({"name":"helloworld"}) stops every command with the way out; --repair sets it aside, the files stay', async () => {
    const root = path.join(tmp, "tampered");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const mf = path.join(root, `${STATE}/installed/helloworld.json`);
    await writeFile(mf, '{"name":"helloworld"}');
    const before = await snapshot(root);
    for (const cmd of [
      ["list", "--installed"],
      ["install", "helloworld"],
      ["uninstall", "helloworld"],
      ["reload", "--pending"],
    ]) {
      const r = await runCli([...cmd, "--root", root]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /corrupt state file .*helloworld\.json: format: /);
      assert.match(r.stderr, /`wazo-tasks verify --repair --root .*` rebuilds it from the disk or sets it aside/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
    }
    const v = await runCli(["verify", "--root", root]);
    assert.equal(v.code, 1, v.stderr);
    assert.match(v.stdout, /corrupt\s+.*helloworld\.json/);
    const fix = await runCli(["verify", "--repair", "--root", root]);
    assert.equal(fix.code, 0, fix.stderr);
    assert.match(fix.stdout, /set aside .*helloworld\.json .*the files it listed stay on disk, unowned; moved to .*corrupt\//);
    assert.ok(await exists(path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf")), "the installed file stays");
    assert.equal((await runCli(["list", "--installed", "--root", root])).code, 0);
    const again = await runCli(["install", "helloworld", "--root", root]);
    assert.equal(again.code, 0, again.stderr);
  });

  test("a corrupt pending.json: reload --pending and uninstall --no-reload refuse before any change; --repair sets it aside", async () => {
    const root = path.join(tmp, "pending");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const pending = path.join(root, `${STATE}/pending.json`);
    await writeFile(pending, '{"handlers": [{"reload": ');
    const before = await snapshot(root);
    for (const cmd of [
      ["reload", "--pending"],
      ["uninstall", "helloworld", "--no-reload"],
    ]) {
      const r = await runCli([...cmd, "--root", root]);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr + r.stdout, /corrupt state file .*pending\.json: not valid JSON/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
    }
    const fix = await runCli(["verify", "--repair", "--root", root]);
    assert.equal(fix.code, 0, fix.stdout + fix.stderr);
    assert.match(fix.stdout, /set aside .*pending\.json/);
    const un = await runCli(["uninstall", "helloworld", "--no-reload", "--root", root]);
    assert.equal(un.code, 0, un.stderr);
    assert.deepEqual(JSON.parse(await readFile(pending, "utf8")), { handlers: [{ reload: "dialplan" }] });
  });
});

describe("a rollback that always finishes", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("an injected error at every file operation (EPERM, ENOSPC, ENOTDIR, EISDIR, ENAMETOOLONG) is rolled back and reported", async () => {
    const dir = path.join(tmp, "errno");
    const v1 = await makePlugin(
      dir,
      "v1",
      { ...manyFiles("e", 4), "tasks.yml": copyAll("/etc/asterisk/extensions_extra.d/") },
      'name: e\ndescription: d\nversion: "1"\n',
    );
    const v2files = manyFiles("e", 7);
    delete v2files["files/e-1.conf"];
    v2files["files/e-0.conf"] = "[e-0]\nexten = s,1,NoOp(v2)\n";
    const v2 = await makePlugin(
      dir,
      "v2",
      { ...v2files, "tasks.yml": copyAll("/etc/asterisk/extensions_extra.d/") + "  - symlink: /etc/e/current\n    target: /etc/asterisk\n" },
      'name: e\ndescription: d\nversion: "2"\n',
    );
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions_extra.d/e-6.conf": "admin\n" });
    assert.equal((await runCli(["install", v1, "--root", root])).code, 0);
    const before = await snapshot(root);
    const codes = ["EPERM", "ENOSPC", "ENOTDIR", "EISDIR", "ENAMETOOLONG"];
    let n = 1;
    for (; n < 60; n++) {
      const code = codes[n % codes.length];
      const r = await runCli(["install", v2, "--root", root, "--force"], { env: { WAZO_TASKS_FAULT: `${n}:errno=${code}` } });
      if (r.code === 0) break;
      assert.equal(r.code, 1, `fault ${n}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`cannot \\w+ \\S+: .*\\(${code}\\); every change of this run was rolled back`));
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before, `tree after ${code} at operation ${n}`);
    }
    assert.ok(n > 8, `more than 8 operations were faulted (${n - 1})`);
  });

  test("a rollback that fails on one path goes on, keeps it in the journal, and recover finishes it", async () => {
    const dir = path.join(tmp, "rb");
    const p = await makePlugin(dir, "p", { ...manyFiles("r", 5), "tasks.yml": copyAll("/etc/r/") });
    const root = await writeTree(path.join(dir, "root"), { "etc/r/r-2.conf": "admin\n", "etc/keep": "k\n" });
    const before = await snapshot(root);
    for (const [n, m] of [
      [3, 1],
      [5, 2],
      [6, 4],
    ]) {
      const r = await runCli(["install", p, "--root", root, "--force"], { env: { WAZO_TASKS_FAULT: `${n}:errno=ENOSPC,rollback=${m}:errno=EIO` } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /the rollback could not put back 1 path\(s\):\n\s+\/\S+: cannot restore: input\/output error \(EIO\)/);
      assert.match(r.stderr, /hint: they stay in the journal: fix the cause, then run `wazo-tasks recover --root /);
      noStack(r.stderr);
      const j = JSON.parse(await readFile(path.join(root, JOURNAL), "utf8"));
      assert.equal(j.entries.length, 1, "only the path not put back stays in the journal");
      const rec = await runCli(["recover", "--root", root]);
      assert.equal(rec.code, 0, rec.stderr);
      assert.deepEqual(await snapshot(root), before, `fault ${n}, rollback fault ${m}, then recover`);
    }
  });

  test("uninstall with an immutable file (chattr +i): the rollback restores only what the run changed", async (t) => {
    const root = path.join(tmp, "immutable");
    assert.equal((await runCli(["install", "sounds", "helloworld", "--root", root])).code, 0);
    const hello = path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf");
    const { spawnSync } = await import("node:child_process");
    if (spawnSync("chattr", ["+i", hello]).status !== 0) return t.skip("chattr +i is not possible here (needs root and a file system with attributes)");
    try {
      const before = await snapshot(root);
      const r = await runCli(["uninstall", "sounds", "helloworld", "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /cannot \w+ \S*\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf: operation not permitted.*\(EPERM\); every change of this run was rolled back/,
      );
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
      assert.deepEqual((await readdir(path.dirname(hello))).sort(), ["acme-sounds.conf", "helloworld.conf"], "no stray temp file");
      const v = await runCli(["verify", "--root", root]);
      assert.equal(v.code, 0, v.stdout);
    } finally {
      spawnSync("chattr", ["-i", hello]);
    }
    assert.equal((await runCli(["uninstall", "sounds", "helloworld", "--root", root])).code, 0);
  });
});
