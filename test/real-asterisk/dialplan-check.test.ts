/**
 * The dialplan check after a reload, on a real Asterisk: what each plugin's manifest lists is asked
 * of Asterisk, and when a plugin's file unloads another plugin's extensions (Asterisk stops
 * reading at an unclosed header and drops every file after it, yet answers "Module Reloaded"),
 * the run is rolled back and the dialplan reloaded again.
 */
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, makePlugin, runCli, snapshot, tempDir } from "../support/rig.js";
import { amiUrl, ETC, EXTRA, resetInstance, ROOT, rx } from "../support/real-asterisk.js";

const env = () => ({ WAZO_TASKS_AMI_URL: amiUrl() });
const tasks = (file: string) => `install:\n  - copy: ${file}\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n`;

describe("the dialplan check after a reload, on a real Asterisk", () => {
  let tmp: string;
  before(async () => {
    tmp = await tempDir();
    await resetInstance();
  });
  after(async () => {
    await resetInstance();
    await cleanup(tmp);
  });

  test("a file that unloads another plugin's extensions is rolled back, and the dialplan reloaded", async () => {
    const c = await makePlugin(tmp, "cplugin", { "zz-c.conf": "[ctx-c]\nexten = 300,1,NoOp(c)\n", "tasks.yml": tasks("zz-c.conf") });
    const installed = await runCli(["install", c, "--root", ROOT], { env: env() });
    assert.equal(installed.code, 0, installed.stdout + installed.stderr);
    assert.match(rx("dialplan show 300@ctx-c"), /NoOp\(c\)\s+\[zz-c\.conf:\d+\]/);
    const before = await snapshot(ETC);

    const b = await makePlugin(tmp, "bplugin", {
      "mm-b.conf": "[ctx-b]\nexten = 200,1,NoOp(b)\n[broken\nexten = 201,1,NoOp()\n",
      "tasks.yml": tasks("mm-b.conf"),
    });
    const refused = await runCli(["install", b, "--root", ROOT], { env: env() });
    assert.equal(refused.code, 2, "the linter refuses it first");
    assert.match(refused.stderr, /mm-b\.conf:3:1: error: section header is not closed/);
    assert.deepEqual(await snapshot(ETC), before);

    const r = await runCli(["install", b, "--root", ROOT, "--no-lint", "--json"], { env: env() });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    const check = events(r.stdout).find((e) => e.type === "dialplan-check")!;
    assert.equal(check.status, "rolled back");
    const lost = check.missing.map((m: { extension: string; plugin: string; cause: string }) => [m.extension, m.plugin, m.cause]).sort();
    assert.deepEqual(lost, [
      ["201", "bplugin", "/etc/asterisk/extensions_extra.d/mm-b.conf"],
      ["300", "cplugin", "/etc/asterisk/extensions_extra.d/mm-b.conf"],
    ]);
    assert.deepEqual(await snapshot(ETC), before, "every file is as before");
    assert.match(rx("dialplan show 300@ctx-c"), /NoOp\(c\)/, "plugin C's extension is loaded again");
    assert.match(rx("dialplan show ctx-b"), /There is no existence of 'ctx-b' context/);

    const v = await runCli(["verify", "--dialplan", "--root", ROOT], { env: env() });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /dialplan: 1 of 1 extension\(s\) loaded/);
  });

  test("verify --dialplan tells when an installed plugin's extension is no longer loaded", async () => {
    // An admin removes the file by hand and reloads: the manifest still lists 300@ctx-c.
    await rm(path.join(EXTRA, "zz-c.conf"));
    rx("dialplan reload");
    const v = await runCli(["verify", "--dialplan", "--root", ROOT], { env: env() });
    assert.notEqual(v.code, 0, v.stdout);
    assert.match(v.stdout + v.stderr, /300@ctx-c/);
  });
});
