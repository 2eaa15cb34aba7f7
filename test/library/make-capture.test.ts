/**
 * A library run's make capture (staging DESTDIR, no overlay): its temporary folders are the
 * run's, removed when the call returns, and the run's AbortSignal stops make while the plugin
 * is being expanded, before any change.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { installPlugins } from "../../src/index.js";
import { exists, waitFor } from "../support/processes.js";
import { cleanup, makePlugin, snapshot, tempDir, writeTree } from "../support/rig.js";

const CONF = "[acme]\nexten = s,1,NoOp()\n";

describe("a library run's make capture", { timeout: 120_000 }, () => {
  let tmp: string;
  let scratch: string;
  const saved = { TMPDIR: process.env.TMPDIR, WAZO_TASKS_CAPTURE: process.env.WAZO_TASKS_CAPTURE, MARKS: process.env.MARKS };
  before(async () => {
    tmp = await tempDir();
    // The fallback, whatever this machine can do; temporary folders land where they can be seen.
    scratch = path.join(tmp, "scratch");
    await mkdir(scratch);
    process.env.TMPDIR = scratch;
    process.env.WAZO_TASKS_CAPTURE = "staging";
  });
  after(async () => {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    await cleanup(tmp);
  });

  test("removes its temporary folders when the call returns", async () => {
    const plugin = await makePlugin(path.join(tmp, "plain"), "acme", {
      "a.conf": CONF,
      Makefile: "install:\n\tinstall -D -m 0644 a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/acme.conf\nuninstall:\n\t@true\n",
    });
    const root = await writeTree(path.join(tmp, "plain-root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const summary = await installPlugins([plugin], { root });
    assert.equal(summary.exitCode, 0, JSON.stringify(summary.failure));
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/acme.conf"), "utf8"), CONF);
    assert.deepEqual(await readdir(scratch), []);
  });

  test("its AbortSignal stops make install at once: nothing changed, nothing left behind", async () => {
    const marks = path.join(tmp, "marks");
    await mkdir(marks);
    process.env.MARKS = marks;
    const plugin = await makePlugin(path.join(tmp, "slow"), "slow", {
      "a.conf": CONF,
      // The marks folder comes from the environment (make refuses plain absolute paths without DESTDIR).
      Makefile: `install:\n\t@sh -c 'echo started > "$$MARKS/started"; sleep 20; echo late > $(DESTDIR)/late; echo late > "$$MARKS/late"'\nuninstall:\n\t@true\n`,
    });
    const root = await writeTree(path.join(tmp, "slow-root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const before = await snapshot(root);
    const ac = new AbortController();
    const run = installPlugins([plugin], { root, signal: ac.signal });
    await waitFor(path.join(marks, "started"));
    ac.abort();
    const summary = await run;
    assert.equal(summary.failure?.reason, "aborted", JSON.stringify(summary.failure));
    assert.equal(summary.exitCode, 1);
    assert.equal(summary.failure.message, "slow: make install interrupted by the abort signal; nothing was changed (make ran into a staging folder)");
    assert.equal(await exists(path.join(marks, "late")), false, "make was stopped, not waited for");
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await readdir(scratch), []);
  });
});
