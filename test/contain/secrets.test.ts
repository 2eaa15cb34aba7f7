/**
 * The AMI secret stays with the engine: plugin code (run: steps, make, wazo/rules) gets an
 * environment without wazo-tasks' settings, and errors about the configuration file never show
 * the secret nor its line.
 */
import assert from "node:assert/strict";
import { chmod } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const SECRET = "S3cretPassw0rdXYZ";
const env = { WAZO_TASKS_AMI_URL: `ami://wazo:${SECRET}@127.0.0.1:1`, AMI_SECRET: SECRET, MY_PLUGIN_VAR: "seen" };
const leaks = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`.includes(SECRET);

describe("secrets stay with the engine", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("a run: step printing its environment shows no AMI setting, in --json or not", async () => {
    const plugin = await makePlugin(path.join(tmp, "run"), "envdump", { "tasks.yml": "install:\n  - run: [sh, -c, env]\n" });
    for (const json of [[], ["--json"]]) {
      const root = await writeTree(path.join(tmp, `run-root${json.length}`), { "etc/keep": "x" });
      const r = await runCli(["install", plugin, "--root", root, "-v", ...json], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout + r.stderr, /MY_PLUGIN_VAR=seen/, "the program's output is shown");
      assert.equal(leaks(r), false, "the secret is not in the output");
      assert.doesNotMatch(r.stdout + r.stderr, /WAZO_TASKS_AMI_URL|AMI_SECRET/);
    }
  });

  test("make and wazo/rules get the same scrubbed environment", async () => {
    const made = await makePlugin(path.join(tmp, "make"), "makeenv", { Makefile: "install:\n\t@env\nuninstall:\n\t@true\n" });
    const rules = path.join(tmp, "rules", "rulesenv");
    await writeTree(rules, {
      "wazo/plugin.yml": "namespace: t\nname: rulesenv\nversion: 1.0.0\n",
      "wazo/rules": '#!/bin/sh\ncase "$1" in\n  build) env ;;\n  package|install|uninstall) true ;;\nesac\n',
    });
    await chmod(path.join(rules, "wazo/rules"), 0o755);
    for (const plugin of [made, rules]) {
      const root = await writeTree(path.join(tmp, `root-${path.basename(plugin)}`), { "etc/keep": "x" });
      const r = await runCli(["install", plugin, "--root", root, "--json"], { env });
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /MY_PLUGIN_VAR=seen/);
      assert.equal(leaks(r), false);
    }
  });

  test("an invalid secret in config.yml is reported by line, without its value or its line", async () => {
    const root = await writeTree(path.join(tmp, "cfg-root"), { "etc/wazo-tasks/config.yml": "ami:\n  username: wazo\n  secret: 998877665544\n" });
    const before = await snapshot(root);
    for (const json of [[], ["--json"]]) {
      const r = await runCli(["reload", "--root", root, ...json]);
      assert.equal(r.code, 2, r.stderr + r.stdout);
      assert.match(r.stdout + r.stderr, json.length ? /config\.yml","line":3/ : /config\.yml:3/);
      assert.doesNotMatch(r.stdout + r.stderr, /998877665544/);
    }
    assert.deepEqual(await snapshot(root), before);
  });
});
