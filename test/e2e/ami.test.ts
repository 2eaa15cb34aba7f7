/**
 * AMI-backed runs through the real CLI against the fake Asterisk 22 AMI server: one login, one
 * pbx_config reload, verification, and every failure mode with its exit code, a one-line cause,
 * nothing hanging, the secret never printed, and the target untouched when preflight fails.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { startFakeAmi, type FakeAmi } from "../support/fake-ami.js";
import { cleanup, events, FIXTURE_BIN, HELLO_CONF, makePlugin, runCli, snapshot, tempDir, writeTree, type CliResult } from "../support/rig.js";

const SECRET = "s3cr3t-Never-Print-Me";
const users = {
  wazo: { secret: SECRET, read: "all", write: "all" },
  limited: { secret: SECRET, read: "system", write: "call" },
};
const PBX = {
  "etc/asterisk/extensions.conf": "[general]\n\n#include extensions_extra.d/*\n",
  "etc/asterisk/extensions_extra.d/00-base.conf": "[xivo-extrafeatures]\nexten = noop,1,NoOp()\n",
};

const outputs: string[] = [];
async function cli(args: string[], ami: FakeAmi | string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const url = typeof ami === "string" ? ami : ami.url();
  const r = await runCli(args, { env: { WAZO_TASKS_AMI_URL: url, ...env }, timeoutMs: 20_000 });
  outputs.push(r.stdout, r.stderr);
  return r;
}
const amiActions = (ami: FakeAmi) => ami.actions.map((a) => a.action);

describe("AMI-backed installs", { timeout: 120_000 }, () => {
  let tmp: string;
  const servers: FakeAmi[] = [];
  const fake = async (root: string, extra: Parameters<typeof startFakeAmi>[0] = {}) => {
    const s = await startFakeAmi({ root, users, authFailureDelayMs: 100, ...extra });
    servers.push(s);
    return s;
  };
  before(async () => (tmp = await tempDir()));
  after(async () => {
    for (const s of servers) await s.close();
    await cleanup(tmp);
  });

  test("helloworld: one login, apply, one pbx_config reload, verify ***42, logoff", async () => {
    const root = await writeTree(path.join(tmp, "hello"), PBX);
    const ami = await fake(root);
    const r = await cli(["install", "helloworld", "--root", root, "--json"], ami);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ami.logins.length, 1);
    assert.deepEqual(
      ami.reloads.map((x) => `${x.module} via ${x.via}`),
      ["pbx_config via Reload"],
    );
    assert.ok(ami.dialplan.has("***42", "xivo-extrafeatures"));
    const acts = amiActions(ami);
    assert.equal(acts[0]?.toLowerCase(), "login");
    assert.equal(acts.at(-1)?.toLowerCase(), "logoff");
    assert.ok(ami.actions.some((a) => a.action?.toLowerCase() === "command" && a.command === "dialplan show ***42@xivo-extrafeatures"));
    const ev = events(r.stdout);
    assert.ok(ev.some((e) => e.type === "verify" && e.status === "ok" && e.extension === "***42"));
    assert.ok(ev.some((e) => e.type === "dialplan-check" && e.status === "ok" && e.checked === 1));
    assert.deepEqual(ev.at(-1)!.reloads, ["dialplan"]);
    // Reinstall: nothing changed, no reload, not even a connection.
    const before = ami.connections;
    assert.equal((await cli(["install", "helloworld", "--root", root], ami)).code, 0);
    assert.equal(ami.connections, before);
    // Uninstall: the extension is gone after the reload.
    const u = await cli(["uninstall", "helloworld", "--root", root], ami);
    assert.equal(u.code, 0, u.stderr);
    assert.match(u.stdout, /verified\s+verify\s+\*\*\*42@xivo-extrafeatures is gone/);
    assert.equal(ami.dialplan.has("***42", "xivo-extrafeatures"), false);
  });

  test("preflight failures exit 1 with one line and leave the target untouched", async () => {
    const root = await writeTree(path.join(tmp, "pre"), PBX);
    const before = await snapshot(root);
    const ami = await fake(root);
    const wrong = await cli(["install", "helloworld", "--root", root], ami.url().replace(SECRET, "wrong-secret"));
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /error: cannot use Asterisk: .*refused the login of user 'wazo'.*; nothing was changed/);
    const limited = await cli(["install", "helloworld", "--root", root], ami.url("limited"));
    assert.equal(limited.code, 1);
    assert.match(limited.stderr, /may not run Reload.*write = system/);
    const port = await freePort();
    const refused = await cli(["install", "helloworld", "--root", root], `ami://wazo:${SECRET}@127.0.0.1:${port}`);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refused/i);
    for (const r of [wrong, limited, refused]) {
      assert.equal(
        r.stderr
          .trim()
          .split("\n")
          .filter((l) => l.startsWith("error:")).length,
        1,
      );
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    assert.deepEqual(await snapshot(root), before);
  });

  test("a server that never answers times out; nothing hangs, nothing changes", async () => {
    const root = await writeTree(path.join(tmp, "silent"), PBX);
    const before = await snapshot(root);
    const ami = await fake(root, { silent: "after-greeting" });
    const started = Date.now();
    const r = await cli(["install", "helloworld", "--root", root], ami);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /did not answer the login within 5000 ms .*; nothing was changed/);
    assert.ok(Date.now() - started < 15_000);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a reload that fails after the files: exit 3, files kept, reload pending, then reload --pending", async () => {
    const root = await writeTree(path.join(tmp, "pending"), PBX);
    const broken = await fake(root, { modules: { pbx_config: "error" } });
    const r = await cli(["install", "helloworld", "--root", root], broken);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /failed\s+reload\s+dialplan/);
    assert.match(r.stderr, /run `wazo-tasks reload --pending`/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf"), "utf8"), HELLO_CONF);
    const m = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8"));
    assert.deepEqual(m.reloadPending, [{ reload: "dialplan" }]);
    const fixed = await fake(root);
    const p = await cli(["reload", "--pending", "--root", root], fixed);
    assert.equal(p.code, 0, p.stderr);
    assert.deepEqual(
      fixed.reloads.map((x) => x.module),
      ["pbx_config"],
    );
    const after = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8"));
    assert.deepEqual(after.reloadPending, []);
    assert.match(p.stdout, /verified\s+dialplan 1 extension\(s\)/);
  });

  test("reload MODULE names the module in its error", async () => {
    const root = await writeTree(path.join(tmp, "mod"), PBX);
    const ami = await fake(root);
    const ok = await cli(["reload", "app_playback", "--root", root], ami);
    assert.equal(ok.code, 0, ok.stderr);
    const r = await cli(["reload", "app_dial", "--root", root], ami);
    assert.equal(r.code, 1, "reload applies nothing: a failed reload is 1, not 3");
    assert.match(r.stderr, /reload\s+app_dial .*app_dial.*does not support reload/i);
    const none = await cli(["reload", "nosuch", "--root", root], ami);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /nosuch/);
  });

  test("a verify step that fails exits 3 and keeps the files", async () => {
    const root = await writeTree(path.join(tmp, "verify"), PBX);
    const ami = await fake(root);
    const plugin = await makePlugin(tmp, "wrongverify", {
      "w.conf": "[w]\nexten = 1,1,NoOp()\n",
      "tasks.yml":
        "install:\n  - copy: w.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n  - verify:\n      extension: '2'\n      context: w\n",
    });
    const r = await cli(["install", plugin, "--root", root], ami);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /failed\s+verify\s+2@w is loaded\s+\(2@w is not loaded after the reload\)/);
  });

  test("a reload that silently drops another plugin's dialplan is detected, rolled back and reloaded", async () => {
    const root = await writeTree(path.join(tmp, "drop"), PBX);
    const ami = await fake(root);
    const c = await makePlugin(tmp, "cplugin", {
      "zz-c.conf": "[ctx-c]\nexten = 300,1,NoOp(c)\n",
      "tasks.yml": "install:\n  - copy: zz-c.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n",
    });
    assert.equal((await cli(["install", c, "--root", root], ami)).code, 0);
    assert.ok(ami.dialplan.has("300", "ctx-c"));
    const before = await snapshot(root);
    // An unclosed section header: Asterisk stops reading here and drops every later file.
    const b = await makePlugin(tmp, "bplugin", {
      "mm-b.conf": "[ctx-b]\nexten = 200,1,NoOp(b)\n[broken\nexten = 201,1,NoOp()\n",
      "tasks.yml": "install:\n  - copy: mm-b.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n",
    });
    const refused = await cli(["install", b, "--root", root], ami);
    assert.equal(refused.code, 2, "the linter refuses it first");
    assert.match(refused.stderr, /mm-b\.conf:3:1: error:/);
    const r = await cli(["install", b, "--root", root, "--no-lint", "--json"], ami);
    assert.equal(r.code, 3, r.stderr);
    const check = events(r.stdout).find((e) => e.type === "dialplan-check")!;
    assert.equal(check.status, "rolled back");
    assert.deepEqual(check.missing.map((m: { extension: string; plugin: string; cause: string }) => [m.extension, m.plugin, m.cause]).sort(), [
      ["201", "bplugin", "/etc/asterisk/extensions_extra.d/mm-b.conf"],
      ["300", "cplugin", "/etc/asterisk/extensions_extra.d/mm-b.conf"],
    ]);
    assert.match(events(r.stdout).at(-1)!.error, /every change of this run was rolled back and the dialplan reloaded again/);
    assert.deepEqual(await snapshot(root), before);
    assert.ok(ami.dialplan.has("300", "ctx-c"), "plugin C's extension is back");
    const v = await cli(["verify", "--dialplan", "--root", root], ami);
    assert.equal(v.code, 0, v.stdout + v.stderr);
    assert.match(v.stdout, /dialplan: 1 of 1 extension\(s\) loaded/);
  });

  test("settings from the config file; a bad config file is exit 2 with its line", async () => {
    const root = await writeTree(path.join(tmp, "conf"), PBX);
    const ami = await fake(root);
    await writeTree(root, {
      "etc/wazo-tasks/config.yml": `ami:\n  port: ${ami.port}\n  username: wazo\n  secret_file: /etc/wazo-tasks/ami-secret\n`,
      "etc/wazo-tasks/ami-secret": `${SECRET}\n`,
    });
    const r = await cli(["install", "helloworld", "--root", root, "-v"], "");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(ami.reloads.length, 1);
    await writeFile(path.join(root, "etc/wazo-tasks/config.yml"), "ami:\n  port: 'x'\n  username: wazo\n");
    const before = await snapshot(root);
    const bad = await cli(["reload", "--root", root], "");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /config\.yml:2:9: error: "port" must be number/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("the secret never appears in any output or state file", async () => {
    const root = await writeTree(path.join(tmp, "secret"), PBX);
    const ami = await fake(root);
    await cli(["install", "helloworld", "--root", root, "--dry-run", "-v"], ami);
    assert.equal(ami.connections, 0, "a dry run never connects to Asterisk");
    for (const extra of [["-v"], ["--json"]]) await cli(["install", "helloworld", "--root", root, ...extra], ami);
    await cli(["install", "helloworld", "--root", root, "-v"], ami.url().replace(SECRET, `${SECRET}x`));
    for (const out of outputs) assert.ok(!out.includes(SECRET), `secret printed in: ${out.slice(0, 200)}`);
    const state = await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8");
    assert.ok(!state.includes(SECRET));
  });
});

describe("asterisk -rx and no transport at all", () => {
  test("asterisk -rx is judged by its output: an unreachable Asterisk fails the reload (exit 3)", async () => {
    const tmp = await tempDir();
    const root = path.join(tmp, "root");
    const r = await runCli(["install", "helloworld", "--root", root], { env: { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, FAKE_ASTERISK_DOWN: "1" } });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /failed\s+reload\s+dialplan\s+\(asterisk -rx 'dialplan reload' failed: Unable to connect to remote asterisk/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf"), "utf8"), HELLO_CONF);
    await cleanup(tmp);
  });

  test("without --root, no AMI and no asterisk on PATH, a run that must reload is refused before any change", async () => {
    const { connectAsterisk } = await import("../../src/asterisk/connect.js");
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      await assert.rejects(connectAsterisk({ staging: false }), /no AMI is configured and no asterisk executable is on PATH/);
      const none = await connectAsterisk({ staging: true });
      assert.equal(none.transport, "none");
    } finally {
      process.env.PATH = saved;
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
