/**
 * A library run's AbortSignal during the file changes: the program in flight (a `run:` step) is
 * stopped with its process group, every change is rolled back, and nothing of another run going
 * on at the same time is touched. The process a run is in (its environment) is a value handed in.
 */
import assert from "node:assert/strict";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { InternalRunOptions } from "../../src/engine.js";
import { installPlugins } from "../../src/index.js";
import { running } from "../contain/processes.js";
import { exists, waitFor } from "../support/processes.js";
import { cleanup, makePlugin, snapshot, tempDir, writeTree } from "../support/rig.js";

/** A plugin that copies a file, then runs a step that says it started, sleeps, and writes
 * `late`; its shell is known by `token` on its command line (it may run in a PID namespace). */
function slowPlugin(dir: string, marks: string, seconds: number, token: string): Promise<string> {
  const script = `echo started > ${marks}/started; sleep ${seconds}; echo late > ${marks}/late`;
  return makePlugin(dir, "slow", {
    "files/slow.conf": "[slow]\n",
    "tasks.yml": `install:\n  - copy: 'files/*'\n    to: /etc/asterisk/\n  - run: [sh, -c, '${script}', ${token}]\n`,
  });
}

const alive = (token: string) => running(token).length > 0;

describe("aborting a library run", { timeout: 120_000 }, () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  const setup = async (name: string) => {
    const marks = path.join(tmp, `${name}-marks`);
    await mkdir(marks, { recursive: true });
    const token = `wazo-abort-${name}-${process.pid}`;
    const plugin = await slowPlugin(path.join(tmp, name), marks, 20, token);
    const root = await writeTree(path.join(tmp, `${name}-root`), { "etc/asterisk/keep.conf": "x\n" });
    return { marks, plugin, root, token, before: await snapshot(root) };
  };

  test("during a long run: step, stops it with its process group and rolls the target back", async () => {
    const { marks, plugin, root, token, before } = await setup("one");
    const ac = new AbortController();
    const run = installPlugins([plugin], { root, signal: ac.signal });
    await waitFor(path.join(marks, "started"));
    ac.abort();
    const summary = await run;
    assert.equal(summary.failure?.reason, "aborted", JSON.stringify(summary.failure));
    assert.equal(summary.exitCode, 1);
    assert.match(summary.failure.message, /^slow: run sh -c .* interrupted by the abort signal; every change of this run was rolled back$/);
    assert.equal(alive(token), false, "the step's shell is gone");
    assert.deepEqual(await snapshot(root), before);
    assert.equal(await exists(path.join(marks, "late")), false, "the step was stopped, not waited for");
  });

  test("stops only its own run's programs: a run going on at the same time goes on", async () => {
    const a = await setup("a");
    const b = await setup("b");
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = installPlugins([a.plugin], { root: a.root, signal: stopA.signal });
    const runB = installPlugins([b.plugin], { root: b.root, signal: stopB.signal });
    await waitFor(path.join(a.marks, "started"));
    await waitFor(path.join(b.marks, "started"));
    stopA.abort();
    assert.equal((await runA).failure?.reason, "aborted");
    assert.deepEqual(await snapshot(a.root), a.before);
    assert.equal(alive(b.token), true, "the other run's step still runs");
    stopB.abort();
    assert.equal((await runB).failure?.reason, "aborted");
    assert.equal(alive(b.token), false);
    assert.deepEqual(await snapshot(b.root), b.before);
  });

  test("programs start from the environment handed in, not from this process's", async () => {
    const marks = path.join(tmp, "env-marks");
    await mkdir(marks, { recursive: true });
    const plugin = await makePlugin(path.join(tmp, "env"), "env", {
      "tasks.yml": `install:\n  - run: [sh, -c, 'echo "$PROBE" > ${marks}/probe']\n`,
    });
    const root = await writeTree(path.join(tmp, "env-root"), { "etc/keep": "x\n" });
    assert.equal(process.env.PROBE, undefined);
    const opts: InternalRunOptions = { root, host: { env: { PATH: process.env.PATH, PROBE: "handed in" }, pid: process.pid } };
    const summary = await installPlugins([plugin], opts);
    assert.equal(summary.exitCode, 0, JSON.stringify(summary.failure));
    assert.equal(await readFile(path.join(marks, "probe"), "utf8"), "handed in\n");
  });
});
