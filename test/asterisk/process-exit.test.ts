// A CLI built on the AMI client must exit as soon as its work is done: after close(), or after
// a failed connect, no socket or timer of ours may be left. Each scenario runs in a child
// process (test/support/ami-exit-probe.ts) that reports its active resources and then simply
// returns; the fake server runs here.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { type FakeAmi, startFakeAmi } from "../support/fake-ami.js";

const PROBE = join(import.meta.dirname, "../support/ami-exit-probe.ts");

function runProbe(url: string, scenario: string): Promise<{ code: number | null; resources: string[]; lingerMs: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", PROBE, url, scenario], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    let reportedAt = 0;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      if (stdout.includes("\n")) reportedAt ||= Date.now();
    });
    child.on("error", reject);
    child.on("close", (code) => {
      try {
        resolve({ code, resources: JSON.parse(stdout) as string[], lingerMs: Date.now() - reportedAt });
      } catch {
        reject(new Error(`probe printed ${JSON.stringify(stdout)} and exited ${code}`));
      }
    });
  });
}

describe("process exit after the AMI client is done", { timeout: 20000 }, () => {
  let ami: FakeAmi;
  let silent: FakeAmi;
  after(async () => {
    await ami?.close();
    await silent?.close();
  });

  const scenarios: Array<[string, () => string]> = [
    ["ok", () => ami.url()],
    ["failed-login", () => ami.url().replace("wazosecret", "wrong")],
    ["timeout", () => silent.url()],
  ];
  for (const [scenario, url] of scenarios) {
    it(`leaves no socket or timer behind (${scenario})`, async () => {
      ami ??= await startFakeAmi({ authFailureDelayMs: 50 });
      silent ??= await startFakeAmi({ silent: "after-greeting" });
      const { code, resources, lingerMs } = await runProbe(url(), scenario);
      assert.equal(code, 0);
      assert.ok(!resources.includes("TCPSocketWrap") && !resources.includes("Timeout"), resources.join(", "));
      assert.ok(lingerMs < 1000, `the process lingered ${lingerMs} ms`);
    });
  }
});
