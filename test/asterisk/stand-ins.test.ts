// The stand-in `asterisk` and `systemctl` executables of test/fixtures/bin.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type FakeAmi, startFakeAmi } from "../support/fake-ami.js";

const BIN = join(import.meta.dirname, "../fixtures/bin");
const dir = mkdtempSync(join(tmpdir(), "stand-ins-"));
const servers: FakeAmi[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

function run(tool: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(FAKE_|WAZO_TEST_CALLS$)/.test(name)));
  return new Promise((resolve) => {
    execFile(join(BIN, tool), args, { env: { ...base, ...env }, cwd: dir, timeout: 8000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function fake(commandFormat?: "14" | "13-glued"): Promise<Record<string, string>> {
  const ami = await startFakeAmi({ commandFormat, authFailureDelayMs: 50 });
  servers.push(ami);
  lastFake = ami;
  return { FAKE_AMI_PORT: String(ami.port) };
}
let lastFake: FakeAmi;

const UNREACHABLE = "Unable to connect to remote asterisk (does /var/run/asterisk/asterisk.ctl exist?)\n";

describe("stand-in asterisk", { timeout: 15000 }, () => {
  it("runs `dialplan reload` on the fake AMI server and records the call", async () => {
    const calls = join(dir, "calls.ndjson");
    const env = { ...(await fake()), WAZO_TEST_CALLS: calls };
    assert.deepEqual(await run("asterisk", ["-rx", "dialplan reload"], env), { code: 0, stdout: "Dialplan reloaded.\n", stderr: "" });
    assert.equal(lastFake.reloadCount("pbx_config"), 1);
    assert.equal(lastFake.actions.find((a) => a.action === "Command")?.command, "dialplan reload");
    assert.deepEqual(JSON.parse(readFileSync(calls, "utf8")), { argv: ["-rx", "dialplan reload"], cwd: dir });
  });

  it("prints failing and unknown commands like `asterisk -rx`, exit code 0", async () => {
    const env = await fake();
    assert.deepEqual(await run("asterisk", ["-r", "-x", "dialplan show ***99@nowhere"], env), {
      code: 0,
      stdout: "There is no existence of 'nowhere' context\nCommand 'dialplan show ***99@nowhere' failed.\n",
      stderr: "",
    });
    const unknown = await run("asterisk", ["-x", "foo bar"], env);
    assert.equal(unknown.stdout, "No such command 'foo bar' (type 'core show help foo bar' for other possible commands)\n");
  });

  it("reads Asterisk 13 answers with the marker glued to the last line", async () => {
    const result = await run("asterisk", ["-rx", "core show version"], await fake("13-glued"));
    assert.match(result.stdout, /^Asterisk 22\.10\.1 built by .* UTC\n$/);
  });

  it("fails like a stopped Asterisk", async () => {
    for (const env of [{ FAKE_ASTERISK_DOWN: "1" }, { FAKE_AMI_PORT: "1" }] as Array<Record<string, string>>) {
      assert.deepEqual(await run("asterisk", ["-rx", "dialplan reload"], env), { code: 1, stdout: "", stderr: UNREACHABLE });
    }
    const refused = await run("asterisk", ["-rx", "core show version"], { ...(await fake()), FAKE_AMI_SECRET: "wrong" });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /AMI login refused for user 'wazo'/);
  });

  it("answers offline without FAKE_AMI_PORT", async () => {
    assert.deepEqual(await run("asterisk", ["-rx", "dialplan reload"]), { code: 0, stdout: "Dialplan reloaded.\n", stderr: "" });
    assert.deepEqual(await run("asterisk", ["-rx", "core show version"]), { code: 0, stdout: "", stderr: "" });
  });
});

describe("stand-in systemctl", { timeout: 15000 }, () => {
  it("records the call and succeeds", async () => {
    const calls = join(dir, "systemctl.ndjson");
    assert.deepEqual(await run("systemctl", ["restart", "asterisk.service"], { WAZO_TEST_CALLS: calls }), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(JSON.parse(readFileSync(calls, "utf8")), { argv: ["restart", "asterisk.service"], cwd: dir });
  });

  it("fails for the unit named in FAKE_SYSTEMCTL_FAIL", async () => {
    const failed = await run("systemctl", ["restart", "asterisk"], { FAKE_SYSTEMCTL_FAIL: "asterisk" });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^Job for asterisk\.service failed because the control process exited with error code\.\n/);
    assert.equal((await run("systemctl", ["restart", "wazo-calld"], { FAKE_SYSTEMCTL_FAIL: "asterisk" })).code, 0);
  });
});
