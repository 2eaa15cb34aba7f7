/**
 * Containment cases no other test covers: SIGINT during a long `run:` step (inside the
 * transaction) stops it at once and rolls back; a tasks.ts that never finishes leaves no process
 * behind; setgid and sticky world-writable modes are warned about like setuid ones.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { running } from "./processes.js";
import { CLI, cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A process that exists and is not a zombie. */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};
async function waitFor(file: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await exists(file)) return;
  throw new Error(`${file} never appeared`);
}

describe("containment, the remaining cases", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-audit-")));
  after(() => cleanup(tmp));

  test("SIGINT during a long run: step stops it at once; the copy before it is rolled back, nothing is left running", async () => {
    const marks = path.join(tmp, "int-marks");
    await mkdir(marks, { recursive: true });
    // The shell is found by its command line (which names the marks folder): as root it runs in a PID namespace, where $$ is not this machine's pid.
    const script = `echo started > ${marks}/started; sleep 30; echo late > ${marks}/late`;
    const plugin = await makePlugin(tmp, "slow", {
      "a.conf": "[a]\n",
      "tasks.yml": `install:\n  - copy: a.conf\n    to: /etc/asterisk/slow.conf\n  - run: [sh, -c, ${JSON.stringify(script)}]\n`,
    });
    const root = await writeTree(path.join(tmp, "int-root"), { "etc/asterisk/other.conf": "mine\n" });
    const before = await snapshot(root);
    const child = spawn(process.execPath, [CLI, "install", plugin, "--root", root], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WAZO_TASKS_AMI_URL: "" },
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    await waitFor(path.join(marks, "started"));
    child.kill("SIGINT");
    // Far below the step's 10-minute limit and the sleep's 30 s: the step was stopped, not waited for.
    const code = await new Promise((r) => child.on("close", r));
    assert.notEqual(code, 0, output);
    assert.match(output, /rolled back/, output);
    assert.deepEqual(running(marks), [], "the step's shell is gone");
    assert.equal(await exists(path.join(marks, "late")), false);
    assert.deepEqual(await snapshot(root), before, "the copy made before the step is undone");
  });

  test("a tasks.ts that never finishes loading leaves no process behind", async () => {
    const marks = path.join(tmp, "loop-marks");
    await mkdir(marks, { recursive: true });
    const plugin = await makePlugin(tmp, "spin", {
      "tasks.ts": `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(path.join(marks, "pid"))}, String(process.pid));\nwhile (true) {}\nexport default { install: [] };\n`,
    });
    const r = await runCli(["validate", plugin], { env: { WAZO_TASKS_TS_TIMEOUT_MS: "1000" } });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /did not finish loading within 1 s/);
    const pid = Number(await readFile(path.join(marks, "pid"), "utf8"));
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
    assert.equal(alive(pid), false, "the process that evaluated tasks.ts is gone");
  });

  test("setgid (2755) and 7777 modes are warned about in validate, not only 4777", async () => {
    const tasks = 'install:\n  - copy: a\n    to: /usr/share/m/a\n    mode: "2755"\n  - copy: b\n    to: /usr/share/m/b\n    mode: "7777"\n';
    const plugin = await makePlugin(tmp, "setgid", { a: "a\n", b: "b\n", "tasks.yml": tasks });
    const r = await runCli(["validate", plugin]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /\/usr\/share\/m\/a would get mode 2755 \(setgid\)/);
    assert.match(r.stdout + r.stderr, /\/usr\/share\/m\/b would get mode 7777 \(setuid, setgid, world-writable\)/);
  });
});
