/**
 * Roots a messy server can have — full disks, empty locks, links and FIFOs where files or
 * folders are expected, long names — and command-line values that are out of range: each is
 * refused with a clear message or handled, and the next command works.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readFile, readdir, readlink, stat, symlink, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const STATE = "var/lib/wazo-tasks";
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at |internal error/, `no stack trace: ${s}`);

/** A small tmpfs at `dir` (root only); undefined when this machine cannot mount one. */
function mountTmpfs(dir: string, size: string): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]).status === 0;
}
const umount = (dir: string) => spawnSync("umount", ["-l", dir]);

describe("locks", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("an empty lock is stale once a few seconds old; a fresh one is waited for, then exit 75", async () => {
    const root = await writeTree(path.join(tmp, "empty-lock"), { [`${STATE}/lock`]: "" });
    const fresh = await runCli(["install", "helloworld", "--root", root, "--lock-timeout", "0.3"]);
    assert.equal(fresh.code, 75, fresh.stderr);
    assert.match(fresh.stderr, /another wazo-tasks run \(an unknown process \(the lock file is empty or unreadable\)\) holds the lock/);
    const old = new Date(Date.now() - 60_000);
    await utimes(path.join(root, `${STATE}/lock`), old, old);
    const r = await runCli(["install", "helloworld", "--root", root, "--lock-timeout", "0.3"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(path.join(root, `${STATE}/lock`)), false, "released");
  });

  test("the lock holds its owner; verify, list, recover and reload honour --lock-timeout with exit 75", async () => {
    const root = path.join(tmp, "held");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    await mkdir(path.join(root, `${STATE}/txn`), { recursive: true });
    const lock = path.join(root, `${STATE}/lock`);
    await writeFile(lock, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString(), host: (await import("node:os")).hostname() }) + "\n");
    // A journal makes list and verify want the lock too.
    await writeFile(path.join(root, `${STATE}/txn/journal.json`), "");
    for (const cmd of [["verify"], ["list", "--installed"], ["recover"], ["reload", "--pending"], ["uninstall", "helloworld"]]) {
      const r = await runCli([...cmd, "--root", root, "--lock-timeout", "0.2"]);
      assert.equal(r.code, 75, `${cmd}: ${r.stderr}${r.stdout}`);
      assert.match(r.stderr + r.stdout, new RegExp(`another wazo-tasks run \\(pid ${process.pid}, started `));
    }
  });

  test("ENOSPC while taking the lock: a clear failure, no empty lock left", async (t) => {
    const root = path.join(tmp, "full-lock");
    await mkdir(root);
    if (!mountTmpfs(root, "64k")) return t.skip("cannot mount a tmpfs here (needs root)");
    try {
      await mkdir(path.join(root, STATE), { recursive: true });
      // Fill the file system up.
      spawnSync("sh", ["-c", `dd if=/dev/zero of=${root}/fill bs=4k 2>/dev/null; for i in $(seq 1 200); do : > ${root}/var/f$i 2>/dev/null || break; done`]);
      const r = await runCli(["install", "helloworld", "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /cannot (create the lock|write the root id).*no space left on the device \(ENOSPC\)/);
      noStack(r.stderr);
      assert.equal(await exists(path.join(root, `${STATE}/lock`)), false, "no lock left");
    } finally {
      umount(root);
    }
  });
});

describe("an immutable folder", () => {
  test("install into a chattr +i folder fails cleanly, is rolled back, and works once the attribute is gone", async (t) => {
    const tmp = await tempDir();
    const root = await writeTree(path.join(tmp, "root"), { "etc/asterisk/extensions_extra.d/other.conf": "[other]\n" });
    const folder = path.join(root, "etc/asterisk/extensions_extra.d");
    if (spawnSync("chattr", ["+i", folder]).status !== 0) return t.skip("chattr +i is not possible here (needs root and a file system with attributes)");
    try {
      const before = await snapshot(root);
      const r = await runCli(["install", "helloworld", "sounds", "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /cannot \w+ .*extensions_extra\.d\/\S+: operation not permitted.*\(EPERM\); every change of this run was rolled back/);
      assert.match(r.stderr, /hint: .*check the file's attributes \(lsattr\)/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
    } finally {
      spawnSync("chattr", ["-i", folder]);
    }
    const ok = await runCli(["install", "helloworld", "sounds", "--root", root]);
    assert.equal(ok.code, 0, ok.stderr);
    await cleanup(tmp);
  });
});

describe("a full disk", () => {
  test("an upgrade that runs out of space is rolled back by links (no space needed), and the journal's own ENOSPC is clear", async (t) => {
    const tmp = await tempDir();
    const root = path.join(tmp, "root");
    await mkdir(root);
    if (!mountTmpfs(root, "1m")) return t.skip("cannot mount a tmpfs here (needs root)");
    try {
      const big = (c: string) => Buffer.alloc(150_000, c);
      const v1 = await makePlugin(
        tmp,
        "v1",
        { "files/a.bin": big("a"), "files/b.bin": big("b"), "tasks.yml": "install:\n  - copy: 'files/*'\n    to: /usr/share/full/\n" },
        'name: full\ndescription: d\nversion: "1"\n',
      );
      const v2 = await makePlugin(
        tmp,
        "v2",
        { "files/a.bin": big("A"), "files/b.bin": big("B"), "files/c.bin": big("C"), "tasks.yml": "install:\n  - copy: 'files/*'\n    to: /usr/share/full/\n" },
        'name: full\ndescription: d\nversion: "2"\n',
      );
      assert.equal((await runCli(["install", v1, "--root", root])).code, 0);
      // Leave room for about one more big file.
      spawnSync("sh", ["-c", `dd if=/dev/zero of=${root}/ballast bs=1k count=${Math.floor((1024 * 1024 - 2 * 150_000) / 1024) - 220} 2>/dev/null`]);
      const before = await snapshot(root);
      const r = await runCli(["install", v2, "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /no space left on the device \(ENOSPC\); every change of this run was rolled back/);
      noStack(r.stderr);
      assert.deepEqual(await snapshot(root), before);
      // Completely full: even the journal cannot be written.
      spawnSync("sh", ["-c", `dd if=/dev/zero of=${root}/ballast2 bs=1k 2>/dev/null; for i in $(seq 1 100); do : > ${root}/e$i 2>/dev/null || break; done`]);
      const full = await snapshot(root);
      const j = await runCli(["install", v2, "--root", root]);
      assert.equal(j.code, 1, j.stderr);
      assert.match(j.stderr, /cannot (write the journal|create the lock|write the root id).*\(ENOSPC\)/);
      noStack(j.stderr);
      assert.deepEqual(await snapshot(root), full);
    } finally {
      umount(root);
      await cleanup(tmp);
    }
  });
});

describe("links, folders, FIFOs and long names", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("install --force over a symbolic link keeps the link itself and puts it back on uninstall", async () => {
    const root = await writeTree(path.join(tmp, "link"), { "etc/asterisk/shared/helloworld.conf": "[admin's]\n" });
    await mkdir(path.join(root, "etc/asterisk/extensions_extra.d"));
    const link = path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf");
    await symlink("../shared/helloworld.conf", link);
    const before = await snapshot(root);
    const refused = await runCli(["install", "helloworld", "--root", root]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already exists and is not owned by any plugin/);
    assert.deepEqual(await snapshot(root), before);
    const r = await runCli(["install", "helloworld", "--root", root, "--force"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(root, "etc/asterisk/shared/helloworld.conf"), "utf8"), "[admin's]\n", "written in place of the link, not through it");
    const un = await runCli(["uninstall", "helloworld", "--root", root]);
    assert.equal(un.code, 0, un.stderr);
    assert.equal(await readlink(link), "../shared/helloworld.conf");
    assert.deepEqual(await snapshot(root), before);
  });

  test("a refused install leaves the root's own empty var/ and var/lib/ in place", async () => {
    const root = await writeTree(path.join(tmp, "empty-dirs"), { "etc/asterisk/extensions_extra.d/helloworld.conf": "[admin]\n" });
    await mkdir(path.join(root, "var/lib"), { recursive: true });
    const before = await snapshot(root);
    const r = await runCli(["install", "helloworld", "--root", root]);
    assert.equal(r.code, 2);
    assert.deepEqual(await snapshot(root), before);
    // And an install then uninstall leaves them too, removing only what it made.
    assert.equal((await runCli(["install", "helloworld", "--root", root, "--force"])).code, 0);
    assert.equal((await runCli(["uninstall", "helloworld", "--root", root])).code, 0);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a file or a FIFO where a folder is needed, a FIFO where a file goes: refused before any change", async () => {
    const linker = await makePlugin(tmp, "linker", { "tasks.yml": "install:\n  - symlink: /etc/wazo-p/current\n    target: /etc/asterisk\n" });
    const cases: [string, (root: string) => Promise<void>, RegExp][] = [
      [
        "file-as-folder",
        (root) => writeFile(path.join(root, "etc/asterisk"), "not a folder\n"),
        /\/etc\/asterisk is a file where a folder is needed for \/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf/,
      ],
      [
        "fifo-as-folder",
        async (root) => void spawnSync("mkfifo", [path.join(root, "etc/asterisk/extensions_extra.d")]),
        /\/etc\/asterisk\/extensions_extra\.d is a FIFO, socket or device where a folder is needed/,
      ],
      [
        "fifo-as-file",
        async (root) =>
          void (
            await mkdir(path.join(root, "etc/asterisk/extensions_extra.d")),
            spawnSync("mkfifo", [path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf")])
          ),
        /helloworld\.conf is a FIFO, socket or device, not a regular file/,
      ],
      [
        "fifo-as-link",
        async (root) => void (await mkdir(path.join(root, "etc/wazo-p")), spawnSync("mkfifo", [path.join(root, "etc/wazo-p/current")])),
        /\/etc\/wazo-p\/current is a FIFO, socket or device, not a file or link/,
      ],
    ];
    for (const [name, setup, message] of cases) {
      const root = await writeTree(path.join(tmp, name), { "etc/.keep": "" });
      if (name !== "file-as-folder") await mkdir(path.join(root, "etc/asterisk"));
      await setup(root);
      const before = await snapshot(root);
      for (const extra of [[], ["--force"]]) {
        const r = await runCli(["install", name === "fifo-as-link" ? linker : "helloworld", "--root", root, ...extra]);
        assert.equal(r.code, 2, `${name}: ${r.stderr}`);
        assert.match(r.stderr, message);
        noStack(r.stderr);
        assert.deepEqual(await snapshot(root), before, name);
      }
    }
  });

  test("a 250-byte file name installs and uninstalls (the temp name never adds length); a 256-byte one is refused", async () => {
    const name = `${"n".repeat(245)}.conf`;
    const p = await makePlugin(tmp, "long", { [name]: "[long]\n", "tasks.yml": `install:\n  - copy: ${name}\n    to: /etc/long/\n` });
    const root = path.join(tmp, "long-root");
    const r = await runCli(["install", p, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readdir(path.join(root, "etc/long")), [name]);
    assert.equal((await runCli(["uninstall", "long", "--root", root])).code, 0);
    const tooLong = await makePlugin(tmp, "toolong", { "x.conf": "[x]\n", "tasks.yml": `install:\n  - copy: x.conf\n    to: /etc/${"m".repeat(256)}\n` });
    const before = await snapshot(root);
    const t = await runCli(["install", tooLong, "--root", root]);
    assert.equal(t.code, 2, t.stderr);
    assert.match(t.stderr, /is 256 bytes long, more than the 255 a file name can have/);
    assert.deepEqual(await snapshot(root), before);
  });
});

describe("command-line values", () => {
  test("--lock-timeout and --ami-port out of range: exit 2 naming the option, nothing done", async () => {
    const tmp = await tempDir();
    const root = path.join(tmp, "root");
    for (const [args, option] of [
      [["install", "helloworld", "--lock-timeout", "abc"], "--lock-timeout"],
      [["verify", "--lock-timeout", "-1"], "--lock-timeout"],
      [["recover", "--lock-timeout", ""], "--lock-timeout"],
      [["install", "helloworld", "--ami-port", "99999"], "--ami-port"],
      [["reload", "--ami-port", "50x"], "--ami-port"],
    ] as const) {
      const r = await runCli([...args, "--root", root]);
      assert.equal(r.code, 2, `${args}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`option '${option} <\\w+>' argument '.*' is invalid`));
      assert.equal(await exists(root), false, "nothing created");
    }
    await cleanup(tmp);
  });

  test("reload: with nothing after it is reported at its own line and column", async () => {
    const tmp = await tempDir();
    const p = await makePlugin(tmp, "p", { "x.conf": "[x]\n", "tasks.yml": "install:\n  - copy: x.conf\n    to: /etc/x/\n  - reload:\n" });
    const r = await runCli(["validate", p]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tasks\.yml:4:12: error: "reload" must be string/);
    await cleanup(tmp);
  });
});
