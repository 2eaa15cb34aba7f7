/**
 * The planner refuses, before any change, what it cannot copy safely: FIFOs, sockets, devices,
 * links leading out of a copied folder, descriptors that are not regular files or are too large.
 * Links inside a copied folder are installed as the same links, never followed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readlink, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const isRoot = process.getuid?.() === 0;
const copyFiles = "install:\n  - copy: files/\n    to: /usr/share/acme/\n";

describe("sources the planner does not copy", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  /** validate, dry run and install all refuse with `message`, exit 2, and the root is unchanged. */
  async function refused(plugin: string, message: RegExp): Promise<void> {
    const root = await writeTree(path.join(path.dirname(plugin), "root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    for (const args of [
      ["validate", plugin],
      ["install", plugin, "--root", root, "--dry-run"],
      ["install", plugin, "--root", root],
    ]) {
      const r = await runCli(args, { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${args[0]}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout + r.stderr, message, args.join(" "));
      assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
    }
    assert.deepEqual(await snapshot(root), before);
  }

  test("a FIFO in a copied folder is refused, not read (which would hang)", async () => {
    const plugin = await makePlugin(path.join(tmp, "fifo"), "fifo", { "files/a.conf": "a\n", "tasks.yml": copyFiles });
    execFileSync("mkfifo", [path.join(plugin, "files/pipe")]);
    await refused(plugin, /files\/pipe" is a FIFO \(named pipe\): only regular files, folders and links can be copied/);
  });

  test("a socket given as the copy source is refused", async (t) => {
    const plugin = await makePlugin(path.join(tmp, "sock"), "sock", { "tasks.yml": "install:\n  - copy: s.sock\n    to: /usr/share/acme/s\n" });
    const server = net.createServer().listen(path.join(plugin, "s.sock"));
    t.after(() => server.close());
    await new Promise((r) => server.once("listening", r));
    await refused(plugin, /s\.sock" is a socket/);
  });

  test("a character device is refused, not read", { skip: !isRoot && "creating a device node needs root" }, async () => {
    const plugin = await makePlugin(path.join(tmp, "dev"), "dev", { "files/a.conf": "a\n", "tasks.yml": copyFiles });
    execFileSync("mknod", [path.join(plugin, "files/zero"), "c", "1", "5"]);
    await refused(plugin, /files\/zero" is a character device/);
  });

  test("links inside a copied folder are installed as links; a link out of it is refused", async () => {
    const plugin = await makePlugin(path.join(tmp, "links"), "links", { "files/a.conf": "a\n", "files/sub/b.conf": "b\n", "tasks.yml": copyFiles });
    await symlink("a.conf", path.join(plugin, "files/alias.conf"));
    await symlink("sub", path.join(plugin, "files/dirlink"));
    await symlink(".", path.join(plugin, "files/sub/loop"));
    const root = await writeTree(path.join(tmp, "links", "root"), { "etc/keep": "x" });
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const at = (p: string) => path.join(root, "usr/share/acme/files", p);
    assert.deepEqual([await readlink(at("alias.conf")), await readlink(at("dirlink")), await readlink(at("sub/loop"))], ["a.conf", "sub", "."]);
    const out = await makePlugin(path.join(tmp, "out"), "out", { "secret.txt": "s\n", "files/a.conf": "a\n", "tasks.yml": copyFiles });
    await symlink("../secret.txt", path.join(out, "files/leak"));
    await refused(out, /files\/leak" is a link to \.\.\/secret\.txt, outside the copied folder/);
  });

  test("a package.yml that is a folder, or a FIFO tasks.yml, is refused with the file named", async () => {
    const dir = path.join(tmp, "meta");
    const folder = path.join(dir, "folder");
    await mkdir(path.join(folder, "package.yml"), { recursive: true });
    await writeFile(path.join(folder, "tasks.yml"), "install: []\n");
    await refused(folder, /package\.yml: error: package\.yml is a folder, not a regular file/);
    const fifo = await makePlugin(dir, "fifo-tasks", {});
    execFileSync("mkfifo", [path.join(fifo, "tasks.yml")]);
    await refused(fifo, /tasks\.yml: error: tasks\.yml is a FIFO \(named pipe\), not a regular file/);
  });

  test("a descriptor over 1 MB is refused before it is parsed", async () => {
    const big = await makePlugin(path.join(tmp, "big"), "big", { "tasks.yml": `install:\n${"  - mkdir: /var/lib/acme\n".repeat(60_000)}` });
    await refused(big, /tasks\.yml: error: tasks\.yml is 1\.\d MB; descriptors are limited to 1 MB/);
  });
});
