/**
 * Durability bounded by the run's own writes, checked on the system calls of a real install
 * (strace -f -y, which names each fd's file): each new file is fsynced under its temp name
 * before any of the batch is renamed; each touched folder is fsynced after the renames and
 * before the commit (the journal's removal); nothing flushes a whole file system. Skipped when
 * strace is not installed.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, cleanup, makeExecutable, makePlugin, pathWith, tempDir, writeTree } from "../support/rig.js";

const strace = spawnSync("strace", ["-V"]).status === 0;

interface Call {
  name: string;
  args: string;
}

/** The calls of interest, in the order the kernel saw them (strace -f writes them so). */
function calls(log: string): Call[] {
  const out: Call[] = [];
  for (const line of log.split("\n")) {
    // A call interrupted by another thread's shows as `NAME(ARGS <unfinished ...>`, then
    // `<... NAME resumed>`: its start is the first line.
    const m = /^\d+\s+(\w+)\((.*)$/.exec(line);
    if (m) out.push({ name: m[1], args: m[2] });
  }
  return out;
}

describe("durability", { skip: strace ? false : "strace is not installed" }, () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("an install fsyncs its own files and folders in dpkg's order, and never syncs the file system", async () => {
    const files = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`files/d-${String(i).padStart(2, "0")}.conf`, `[d-${i}]\nexten = s,1,NoOp(${i})\n`]),
    );
    const plugin = await makePlugin(tmp, "durable", { ...files, "tasks.yml": "install:\n  - copy: 'files/*'\n    to: /etc/asterisk/extensions_extra.d/\n" });
    const root = await writeTree(path.join(tmp, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    // A `sync` on PATH that leaves a mark: the run must not call it.
    const bin = path.join(tmp, "bin");
    const mark = path.join(tmp, "sync-called");
    await makeExecutable(path.join(bin, "sync"), `#!/bin/sh\necho "$@" >> ${mark}\n`);
    const log = path.join(tmp, "strace.log");
    const r = spawnSync(
      "strace",
      [
        "-f",
        "-y",
        "-qq",
        "-o",
        log,
        "-e",
        "trace=fsync,fdatasync,syncfs,sync,rename,renameat,renameat2,unlink,unlinkat,execve",
        process.execPath,
        CLI,
        "install",
        plugin,
        "--root",
        root,
      ],
      {
        env: { ...process.env, PATH: pathWith(bin), NO_COLOR: "1", WAZO_TASKS_AMI_URL: "" },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    assert.equal(r.status, 0, r.stderr);
    const dir = path.join(root, "etc/asterisk/extensions_extra.d");
    assert.equal((await readdir(dir)).length, 40);
    assert.equal(await readFile(mark, "utf8").catch(() => "not called"), "not called");

    const seen = calls(await readFile(log, "utf8"));
    assert.deepEqual(
      seen.filter((c) => c.name === "syncfs" || c.name === "sync"),
      [],
      "no sync/syncfs",
    );
    assert.deepEqual(
      seen.filter((c) => c.name === "execve" && /\/sync"/.test(c.args)),
      [],
      "no sync program",
    );
    const idx = (pred: (c: Call) => boolean) => seen.findIndex(pred);
    const lastIdx = (pred: (c: Call) => boolean) => seen.length - 1 - [...seen].reverse().findIndex(pred);
    const isRename = (c: Call, name: string) => c.name.startsWith("rename") && c.args.includes(`.${name}.wazo-tasks-tmp`) && c.args.includes(`/${name}"`);
    const isFsyncOf = (c: Call, p: string) => (c.name === "fsync" || c.name === "fdatasync") && c.args.replace(/^\d+/, "").startsWith(`<${p}>`);
    const firstRename = idx((c) => c.name.startsWith("rename") && c.args.includes(`${dir}/.d-`));
    assert.ok(firstRename > 0, "the files are renamed into place");
    for (let i = 0; i < 40; i++) {
      const name = `d-${String(i).padStart(2, "0")}.conf`;
      assert.ok(idx((c) => isRename(c, name)) > 0, `${name} is renamed from its temp name`);
      const flushed = idx((c) => isFsyncOf(c, path.join(dir, `.${name}.wazo-tasks-tmp`)));
      assert.ok(flushed >= 0, `${name} is fsynced under its temp name`);
      assert.ok(flushed < firstRename, `${name} is fsynced before the first rename of the batch`);
    }
    const lastRename = lastIdx((c) => c.name.startsWith("rename") && c.args.includes(dir));
    const commit = idx((c) => c.name.startsWith("unlink") && c.args.includes("txn/journal.json"));
    const folderFlush = lastIdx((c) => isFsyncOf(c, dir));
    assert.ok(commit > 0, "the journal is removed at the commit");
    assert.ok(folderFlush > lastRename && folderFlush < commit, "the folder is fsynced after the renames, before the commit");
    assert.equal(seen.filter((c) => isFsyncOf(c, dir)).length, 1, "the folder is fsynced once");
  });
});
