/**
 * Plugin code (make recipes, `run:` steps) leaves nothing running after its run: killed with
 * its process group on SIGTERM, when it exits, and when wazo-tasks itself is killed with -9.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runProcess } from "../../src/util/process.js";
import { running } from "./processes.js";
import { CLI, cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (token: string) => running(token).length > 0;

async function waitFor(file: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await exists(file)) return;
  throw new Error(`${file} never appeared`);
}

/** A Makefile plugin whose install writes a marker, sleeps, then writes `late`; its shell's
 * command line holds `token`. */
async function sleeper(dir: string, seconds: number, token: string): Promise<string> {
  // The marks folder comes from the environment (make refuses plain absolute paths without DESTDIR).
  const recipe = `\t@sh -c 'echo started > "$$MARKS/started"; sleep ${seconds}; echo late > $(DESTDIR)/late; echo late > "$$MARKS/late"' ${token}\n`;
  return makePlugin(dir, "sleeper", { Makefile: `install:\n${recipe}uninstall:\n\t@true\n` });
}

// These watch marks written outside the root: make runs into a staging DESTDIR, where they are
// written for real (an overlay would capture them: see overlay.test.ts).
const STAGING = { WAZO_TASKS_CAPTURE: "staging" };

describe("no child outlives its run", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("kill -9 of wazo-tasks during make: after recovery, the sleeping recipe never writes", async () => {
    const marks = path.join(tmp, "k9-marks");
    await mkdir(marks, { recursive: true });
    const token = `wazo-k9-${process.pid}`;
    const plugin = await sleeper(path.join(tmp, "k9"), 2, token);
    const root = await writeTree(path.join(tmp, "k9-root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    const child = spawn(process.execPath, [CLI, "install", plugin, "--root", root], {
      stdio: "ignore",
      env: { ...process.env, WAZO_TASKS_AMI_URL: "", MARKS: marks, ...STAGING },
    });
    await waitFor(path.join(marks, "started"));
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    const rec = await runCli(["recover", "--root", root]);
    assert.equal(rec.code, 0, rec.stderr);
    await sleep(3000);
    assert.equal(await exists(path.join(marks, "late")), false, "the recipe went on after wazo-tasks died");
    assert.equal(alive(token), false, "the recipe's shell is gone");
    assert.deepEqual(await snapshot(root), before);
  });

  test("SIGTERM during a long make stops make at once, nothing changed", async () => {
    const marks = path.join(tmp, "term-marks");
    await mkdir(marks, { recursive: true });
    const token = `wazo-term-${process.pid}`;
    const plugin = await sleeper(path.join(tmp, "term"), 30, token);
    const root = await writeTree(path.join(tmp, "term-root"), { "etc/keep": "x" });
    const before = await snapshot(root);
    const child = spawn(process.execPath, [CLI, "install", plugin, "--root", root], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WAZO_TASKS_AMI_URL: "", MARKS: marks, ...STAGING },
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    await waitFor(path.join(marks, "started"));
    child.kill("SIGTERM");
    const code = await new Promise((r) => child.on("close", r));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /make install interrupted by SIGTERM; nothing was changed/);
    assert.equal(await exists(path.join(marks, "late")), false, "make was stopped, not waited for");
    assert.equal(alive(token), false, "the recipe's shell is gone");
    assert.deepEqual(await snapshot(root), before);
  });

  test("what a contained program leaves in the background is killed when it exits", async () => {
    const out = path.join(tmp, "bg-late");
    const token = `wazo-bg-${process.pid}`;
    const r = await runProcess(["sh", "-c", `sh -c 'sleep 1; echo late > ${out}' ${token} &`], { contain: true });
    assert.equal(r.ok, true, r.error);
    await sleep(1500);
    assert.equal(alive(token), false);
    assert.equal(await exists(out), false);
  });

  test("a run: step's child that calls setsid dies with the run and never writes", async () => {
    const marks = path.join(tmp, "run-setsid-marks");
    await mkdir(marks, { recursive: true });
    const token = `wazo-run-setsid-${process.pid}`;
    // The step exits once the child has left the group (its shell runs after setsid).
    const child = `setsid sh -c 'touch "$MARKS/started"; sleep 3; echo x > $DESTDIR/late' ${token} &`;
    const step = `${child} until [ -e "$MARKS/started" ]; do sleep 0.1; done`;
    const plugin = await makePlugin(path.join(tmp, "run-setsid"), "runsetsid", { "tasks.yml": `install:\n  - run: [sh, -c, ${JSON.stringify(step)}]\n` });
    const root = await writeTree(path.join(tmp, "run-setsid-root"), { "etc/keep": "x" });
    const r = await runCli(["install", plugin, "--root", root], { env: { MARKS: marks } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await exists(path.join(marks, "started")), true);
    assert.deepEqual(running(token), [], "no process of the step is left when the run ends");
    await sleep(5000);
    assert.deepEqual(running(token), []);
    assert.equal(await exists(path.join(root, "late")), false, "the setsid child went on after the run");
  });

  test("a run: step sees and signals a process of this machine by its pid", async () => {
    const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });
    const gone = new Promise((r) => sleeper.on("exit", (code, signal) => r(signal)));
    try {
      const step = `kill -0 ${sleeper.pid} && kill ${sleeper.pid}`;
      const plugin = await makePlugin(path.join(tmp, "run-kill"), "runkill", { "tasks.yml": `install:\n  - run: [sh, -c, ${JSON.stringify(step)}]\n` });
      const root = await writeTree(path.join(tmp, "run-kill-root"), { "etc/keep": "x" });
      const r = await runCli(["install", plugin, "--root", root]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(await gone, "SIGTERM", "the step's kill reached the sleep");
    } finally {
      sleeper.kill("SIGKILL");
    }
  });

  test("a contained program keeps its exit code, its signal and a clear error when missing", async () => {
    assert.equal((await runProcess(["sh", "-c", "exit 3"], { contain: true })).exitCode, 3);
    const killed = await runProcess(["sh", "-c", "kill -TERM $$"], { contain: true });
    assert.equal(killed.signal, "SIGTERM");
    const missing = await runProcess(["no-such-program-here"], { contain: true });
    assert.deepEqual([missing.ok, missing.error], [false, "cannot run no-such-program-here: ENOENT"]);
  });
});
