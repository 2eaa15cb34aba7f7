// AmiClient operations against the fake AMI server: Command in both formats, Reload outcomes,
// the ListCommands permission preflight, and dialplan checks after a reload.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { type AmiClient, AmiError, createAmiClient, parseAmiUrl } from "../../src/asterisk/ami-client.js";
import { type FakeAmiOptions, startFakeAmi } from "../support/fake-ami.js";
import type { FakeAmi } from "../support/fake-ami.js";

const servers: FakeAmi[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function connect(t: TestContext, options: FakeAmiOptions = {}, user = "wazo"): Promise<{ ami: FakeAmi; client: AmiClient }> {
  const ami = await startFakeAmi({ authFailureDelayMs: 50, ...options });
  servers.push(ami);
  const client = await createAmiClient(parseAmiUrl(ami.url(user)));
  t.after(() => client.close());
  return { ami, client };
}

function isAmiError(reason: AmiError["code"], message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof AmiError);
    assert.equal(error.code, reason, error.message);
    assert.match(error.message, message);
    return true;
  };
}

const SHOW_NOOP = [
  "[ Context 'xivo-extrafeatures' created by 'pbx_config' ]",
  "  'noop' =>         1. NoOp(xivo-extrafeatures placeholder)       [extensions.conf:9]",
  "",
  "-= 1 extension (1 priority) in 1 context. =-",
];

describe("AmiClient.command", { timeout: 10000 }, () => {
  for (const commandFormat of ["14", "13", "13-glued"] as const) {
    it(`returns the same lines with Asterisk ${commandFormat} answers`, async (t) => {
      const { client } = await connect(t, { commandFormat });
      assert.deepEqual(await client.command("dialplan show xivo-extrafeatures"), SHOW_NOOP);
      assert.deepEqual(await client.command("dialplan reload"), ["Dialplan reloaded."]);
      assert.equal(await client.dialplanHasExtension("noop", "xivo-extrafeatures"), true);
      assert.equal(await client.dialplanHasExtension("***99", "xivo-extrafeatures"), false);
      await client.ping(); // nothing was swallowed
    });
  }

  it("rejects a failing CLI command with its output lines", async (t) => {
    const { client } = await connect(t);
    await assert.rejects(client.command("foo bar"), (error: unknown) => {
      assert.ok(isAmiError("action-failed", /^CLI command 'foo bar' failed on 127\.0\.0\.1:\d+: No such command 'foo bar'/)(error));
      assert.deepEqual((error as AmiError).output, ["No such command 'foo bar' (type 'core show help foo bar' for other possible commands)"]);
      return true;
    });
    await assert.rejects(
      client.command("module unload pbx_config.so"),
      isAmiError("action-failed", /refused CLI command 'module unload pbx_config\.so': Command blacklisted/),
    );
  });
});

describe("AmiClient.reload", { timeout: 10000 }, () => {
  it("reloads a module, 'dialplan' meaning pbx_config", async (t) => {
    const { ami, client } = await connect(t);
    await client.reload("dialplan");
    await client.reload("app_playback");
    assert.deepEqual(
      ami.actions.filter((a) => a.action === "Reload").map((a) => a.module),
      ["pbx_config", "app_playback"],
    );
    assert.equal(ami.reloadCount("pbx_config"), 1);
  });

  it("turns each module error into a typed error naming the module", async (t) => {
    const { client } = await connect(t, { modules: { res_foo: "not-initialized", pbx_config: "error" } });
    await assert.rejects(
      client.reload("nosuch"),
      isAmiError("no-such-module", /^Cannot reload module 'nosuch' on 127\.0\.0\.1:\d+: Asterisk has no such module/),
    );
    await assert.rejects(client.reload("app_dial"), isAmiError("reload-not-supported", /module 'app_dial'.*does not support reload/));
    await assert.rejects(client.reload("res_foo"), isAmiError("module-not-initialized", /module 'res_foo'.*not initialized/));
    await assert.rejects(
      client.reload("dialplan"),
      isAmiError("action-failed", /'dialplan' \(module pbx_config\).*failed to load its configuration \(extensions\.conf.*'An unknown error occurred'/),
    );
  });

  it("retries while another reload is in progress, then gives up", async (t) => {
    const { ami, client } = await connect(t, { reloadInProgress: { pbx_config: 2, app_queue: 99 } });
    await client.reload("pbx_config");
    assert.equal(ami.actions.filter((a) => a.module === "pbx_config").length, 3);
    assert.equal(ami.reloadCount("pbx_config"), 1);
    await assert.rejects(client.reload("app_queue"), isAmiError("action-failed", /another reload was still in progress after 5 attempts/));
    assert.equal(ami.actions.filter((a) => a.module === "app_queue").length, 5);
  });
});

describe("AmiClient permissions", { timeout: 10000 }, () => {
  it("lists the actions of each user like Asterisk 22", async (t) => {
    const { client: wazo } = await connect(t);
    const all = await wazo.listCommands();
    assert.equal(all.size, 77);
    assert.ok(all.has("Reload") && all.has("Command") && all.has("Ping"));
    await wazo.checkPermissions(["Reload", "command"]);
  });

  it("names the missing manager.conf permissions of a limited user", async (t) => {
    const { client } = await connect(t, {}, "limited");
    const listed = await client.listCommands();
    assert.equal(listed.size, 43);
    assert.ok(!listed.has("Reload") && !listed.has("Command") && listed.has("Hangup"));
    await assert.rejects(
      client.checkPermissions(["Ping", "Reload", "Command"]),
      isAmiError(
        "permission-denied",
        /^AMI user 'limited' may not run Reload, Command on 127\.0\.0\.1:\d+: Reload needs `write = system` \(or `config`\), Command needs `write = command` in the \[limited\] section of \/etc\/asterisk\/manager\.conf/,
      ),
    );
  });
});

describe("AmiClient against the simulated dialplan", { timeout: 10000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "fake-ami-"));
  const extra = join(root, "etc/asterisk/extensions_extra.d");
  mkdirSync(extra, { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));

  it("sees a broken line drop the rest of its file and every later file", async (t) => {
    writeFileSync(join(extra, "a-hello.conf"), "[xivo-extrafeatures]\nexten = ***42,1,Playback(hello-world)\n");
    const { client } = await connect(t, { root });
    assert.equal(await client.dialplanHasExtension("***42", "xivo-extrafeatures"), true);
    writeFileSync(join(extra, "b-broken.conf"), "[plugin-b]\nexten = 100,1,NoOp(before)\n[plugin-b-unclosed\nexten = 102,1,NoOp(after)\n");
    writeFileSync(join(extra, "c-later.conf"), "[plugin-c]\nexten = 200,1,NoOp(c)\n");
    assert.equal(await client.dialplanHasExtension("200", "plugin-c"), false, "not loaded before the reload");
    await client.reload("dialplan"); // still `Module Reloaded`
    assert.equal(await client.dialplanHasExtension("***42", "xivo-extrafeatures"), true);
    assert.equal(await client.dialplanHasExtension("100", "plugin-b"), true);
    assert.equal(await client.dialplanHasExtension("102", "plugin-b"), false);
    assert.equal(await client.dialplanHasExtension("200", "plugin-c"), false);
    rmSync(join(extra, "b-broken.conf"));
    await client.command("dialplan reload");
    assert.equal(await client.dialplanHasExtension("200", "plugin-c"), true);
  });
});
