/**
 * Printed paths are escaped: a file name with a newline or an escape sequence cannot forge an
 * output line or drive the terminal; JSON output keeps the exact names.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { printable } from "../../src/report/escape.js";

const FORGED = "x.conf\n  unchanged     copy     passwd";
const COLORED = "y\x1b[2J.conf";

describe("printed paths are escaped", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("a file name with a newline or ESC is shown escaped in the dry run; JSON keeps it exact", async () => {
    const plugin = await makePlugin(tmp, "names", {
      [`files/${FORGED}`]: "a\n",
      [`files/${COLORED}`]: "b\n",
      "tasks.yml": "install:\n  - copy: 'files/x*'\n    to: /usr/share/names/\n  - copy: 'files/y*'\n    to: /usr/share/names/\n",
    });
    const root = await writeTree(path.join(tmp, "root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    const r = await runCli(["install", plugin, "--root", root, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^\s+unchanged\s+copy\s+passwd/m, "no forged line");
    assert.ok(!r.stdout.includes("\x1b"), "no escape character reaches the terminal");
    assert.ok(r.stdout.includes("x.conf\\n  unchanged     copy     passwd"), r.stdout);
    assert.ok(r.stdout.includes("y\\x1b[2J.conf"), r.stdout);
    const j = await runCli(["install", plugin, "--root", root, "--dry-run", "--json"]);
    const targets = events(j.stdout)
      .filter((e) => e.type === "step")
      .map((e) => e.target as string);
    assert.ok(targets.includes(`/usr/share/names/${FORGED}`), JSON.stringify(targets));
    assert.ok(targets.includes(`/usr/share/names/${COLORED}`));
    assert.deepEqual(await snapshot(root), before);
  });

  test("printable escapes C0, DEL, C1 and reordering controls, keeps tabs and other text", () => {
    assert.equal(printable("a\tb\r\n\0\x7f\x85\u202eé"), "a\tb\\r\\n\\0\\x7f\\x85\\u202eé");
  });
});
