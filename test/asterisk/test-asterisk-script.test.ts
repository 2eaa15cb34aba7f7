/**
 * scripts/test-asterisk.mjs with stand-ins for ../shared/asterisk (build.sh, instance.sh and the
 * start/stop/rx scripts it writes): skipped in one line without the folder, fails with the build
 * log's last lines, tries another port when `start` says the port is taken, and stops the
 * instance whether the tests pass or fail, leaving no process behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makeExecutable, REPO, tempDir } from "../support/rig.js";

function runScript(env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, "scripts/test-asterisk.mjs"), "instance.test"], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.on("error", () => resolve({ code: null, out: "spawn failed" }));
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code) => resolve({ code, out }));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * A shared folder whose "Asterisk" is a node process that answers the AMI greeting. The
 * instance's scripts log their calls to DIR/calls, and every pid started to DIR/pids.
 */
async function standIns(dir: string, opts: { taken?: number; rxFails?: boolean }): Promise<void> {
  const bin = path.join(dir, "bin/asterisk");
  await makeExecutable(bin, "#!/bin/sh\necho 'Asterisk 22.10.1'\n");
  await makeExecutable(path.join(dir, "build.sh"), `#!/bin/sh\necho '${bin}'\n`);
  const server = path.join(dir, "ami.cjs");
  await writeFile(server, "require('net').createServer((s) => s.end('Asterisk Call Manager/11.0.0\\r\\n')).listen(Number(process.argv[2]), '127.0.0.1');\n");
  const start = [
    "#!/bin/sh",
    `echo "start $PORT" >> '${dir}/calls'`,
    `[ "$PORT" = "${opts.taken ?? 0}" ] && { echo "start: AMI port $PORT is taken by another program" >&2; exit 1; }`,
    `'${process.execPath}' '${server}' "$PORT" </dev/null >/dev/null 2>&1 &`,
    `echo $! > "$DIR/var/run/asterisk/asterisk.pid"; echo $! >> '${dir}/pids'`,
    "sleep 0.3",
  ].join("\n");
  const stop = [
    "#!/bin/sh",
    `echo "stop $PORT" >> '${dir}/calls'`,
    `[ -f "$DIR/var/run/asterisk/asterisk.pid" ] && kill "$(cat "$DIR/var/run/asterisk/asterisk.pid")" 2>/dev/null`,
    "exit 0",
  ].join("\n");
  const rx = opts.rxFails ? "#!/bin/sh\nexit 1" : "#!/bin/sh\necho 'Asterisk 22.10.1 built by a stand-in'";
  // instance.sh DIR PORT ASTERISK: writes the three scripts with DIR and PORT filled in.
  await writeFile(path.join(dir, "start.in"), start + "\n");
  await writeFile(path.join(dir, "stop.in"), stop + "\n");
  await writeFile(path.join(dir, "rx.in"), rx + "\n");
  await makeExecutable(
    path.join(dir, "instance.sh"),
    [
      "#!/bin/sh",
      'D=$1; P=$2; mkdir -p "$D/var/run/asterisk" "$D/var/log/asterisk"; : > "$D/var/log/asterisk/messages"',
      `for s in start stop rx; do { echo "#!/bin/sh"; echo "DIR='$D'; PORT='$P'"; tail -n +2 '${dir}'/$s.in; } > "$D/$s"; chmod +x "$D/$s"; done`,
      'echo "$D"',
    ].join("\n") + "\n",
  );
}

describe("npm run test:asterisk", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("without ../shared/asterisk it says so in one line and passes", async () => {
    const r = await runScript({ WAZO_TASKS_ASTERISK_SHARED: path.join(tmp, "absent") });
    assert.equal(r.code, 0);
    assert.match(r.out, /^test:asterisk skipped: no Asterisk source at .*absent \(build\.sh and instance\.sh are needed\)\n$/);
  });

  test("a failing build.sh fails the suite with the last lines of its log", async () => {
    const dir = path.join(tmp, "broken-build");
    await standIns(dir, {});
    await makeExecutable(
      path.join(dir, "build.sh"),
      "#!/bin/sh\nfor i in $(seq 1 50); do echo \"log line $i\" >&2; done\necho 'configure: error: libedit not found' >&2\nexit 1\n",
    );
    const r = await runScript({ WAZO_TASKS_ASTERISK_SHARED: dir });
    assert.equal(r.code, 1);
    assert.match(r.out, /build\.sh failed \(exit code 1\); its last lines:\n[\s\S]*log line 50\nconfigure: error: libedit not found/);
    assert.doesNotMatch(r.out, /log line 5\n/, "only the last lines");
  });

  test("a taken port: another one is tried; the instance is stopped after the tests and no process is left", async () => {
    const dir = path.join(tmp, "taken");
    await standIns(dir, { taken: 15001 });
    const r = await runScript({ WAZO_TASKS_ASTERISK_SHARED: dir, WAZO_TASKS_ASTERISK_PORT: "15001" });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /port 15001 is taken, trying another one/);
    const calls = (await readFile(path.join(dir, "calls"), "utf8")).trim().split("\n");
    assert.deepEqual(calls.slice(0, 2), ["start 15001", "stop 15001"], "the half-started instance is stopped before the next try");
    assert.match(calls[2], /^start 15\d{3}$/);
    assert.deepEqual(calls.slice(3), [calls[2].replace("start", "stop")]);
    const pids = (await readFile(path.join(dir, "pids"), "utf8")).trim().split("\n").map(Number);
    assert.equal(pids.length, 1);
    assert.equal(alive(pids[0]), false);
  });

  test("a failing test still stops the instance", async () => {
    const dir = path.join(tmp, "failing");
    await standIns(dir, { rxFails: true });
    const r = await runScript({ WAZO_TASKS_ASTERISK_SHARED: dir });
    assert.equal(r.code, 1, r.out);
    const calls = (await readFile(path.join(dir, "calls"), "utf8")).trim().split("\n");
    assert.deepEqual(
      calls.map((c) => c.split(" ")[0]),
      ["start", "stop"],
    );
    const pids = (await readFile(path.join(dir, "pids"), "utf8")).trim().split("\n").map(Number);
    assert.equal(alive(pids[0]), false);
  });
});
