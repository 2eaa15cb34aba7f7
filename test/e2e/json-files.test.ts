// The dry run's per-file changes in --json (`files` on step events): what the Ansible module
// turns into one diff entry per file.
import assert from "node:assert/strict";
import { appendFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, HELLO_CONF, runCli, snapshot, tempDir } from "../support/rig.js";

const HELLO = "/etc/asterisk/extensions_extra.d/helloworld.conf";

describe("--dry-run --json: files", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  const stepsOf = (stdout: string) => events(stdout).filter((e) => e.type === "step");

  test("a new text file comes as a diff from /dev/null, each created folder as its own entry", async () => {
    const root = path.join(tmp, "fresh");
    const r = await runCli(["install", "helloworld", "--root", root, "--dry-run", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const [step] = stepsOf(r.stdout);
    const write = step.files.find((f: any) => f.op === "write");
    assert.deepEqual(write, {
      op: "write",
      path: HELLO,
      change: "create",
      diff: `--- /dev/null\n+++ ${HELLO} (new)\n@@ -0,0 +1,3 @@\n${HELLO_CONF.trimEnd()
        .split("\n")
        .map((l) => "+" + l)
        .join("\n")}\n`,
    });
    assert.deepEqual(
      step.files.filter((f: any) => f.op === "mkdir").map((f: any) => f.path),
      ["/etc", "/etc/asterisk", "/etc/asterisk/extensions_extra.d"],
    );
    assert.equal(step.diff, undefined, "the step's own diff stays for updates only");
    assert.deepEqual([...(await snapshot(tmp)).keys()], [], "a dry run writes nothing");
  });

  test("an update carries the same diff as the step; binary files and unchanged steps say so", async () => {
    const root = path.join(tmp, "edited");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    await appendFile(path.join(root, HELLO), "; local edit\n");
    await writeFile(path.join(root, "marker"), "x");
    const r = await runCli(["install", "helloworld", "sounds", "--root", root, "--dry-run", "--force", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const steps = stepsOf(r.stdout);
    const hello = steps.find((s) => s.target === HELLO)!;
    assert.equal(hello.files.length, 1);
    assert.equal(hello.files[0].change, "update");
    assert.equal(hello.files[0].diff, hello.diff);
    assert.match(hello.diff, /^-; local edit$/m);
    const wav = steps.flatMap((s) => s.files ?? []).find((f: any) => f.path.endsWith("welcome.wav"));
    assert.equal(wav.diff, "binary file /usr/share/asterisk/sounds/en/acme/welcome.wav would be created");
    const again = await runCli(["install", "helloworld", "--root", path.join(tmp, "fresh2")]);
    assert.equal(again.code, 0);
    const unchanged = stepsOf((await runCli(["install", "helloworld", "--root", path.join(tmp, "fresh2"), "--dry-run", "--json"])).stdout);
    assert.equal(unchanged[0].status, "unchanged");
    assert.equal(unchanged[0].files, undefined);
  });

  test("an uninstall lists each path it would remove, without content", async () => {
    const root = path.join(tmp, "remove");
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const r = await runCli(["uninstall", "helloworld", "--root", root, "--dry-run", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const files = stepsOf(r.stdout)[0].files;
    assert.ok(
      files.some((f: any) => f.op === "remove" && f.path === HELLO && f.change === "remove" && f.diff === undefined),
      JSON.stringify(files),
    );
  });
});
