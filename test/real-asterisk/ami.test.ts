/**
 * The AMI client against a real Asterisk 22: login accepted and refused, a permission refused to
 * `limited`, Reload of pbx_config when it works and when extensions.conf is broken, the output of
 * a `dialplan show` of 5,000 extensions, and Asterisk stopping in the middle of a run. Then the
 * fake AMI server of the default suite is held to the same answers as the real one.
 */
import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { AmiError, createAmiClient, parseAmiUrl } from "../../src/asterisk/ami-client.js";
import { cleanup, HELLO_CONF, makePlugin, runCli, tempDir } from "../support/rig.js";
import {
  amiUrl,
  ETC,
  EXTRA,
  logMark,
  logSince,
  putExtra,
  resetInstance,
  ROOT,
  saveExtensionsConf,
  startAsterisk,
  stopAsterisk,
} from "../support/real-asterisk.js";

const failsWith = (code: AmiError["code"], message: RegExp) => (e: unknown) => {
  assert.ok(e instanceof AmiError, String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  assert.doesNotMatch(e.message, /wazosecret|limited@/);
  return true;
};

describe("the AMI client on a real Asterisk", () => {
  before(async () => {
    await saveExtensionsConf();
    await resetInstance();
  });
  after(() => resetInstance());

  test("login is accepted for wazo and refused with a wrong secret", async () => {
    const client = await createAmiClient(parseAmiUrl(amiUrl()));
    await client.ping();
    await client.close();
    await assert.rejects(createAmiClient(parseAmiUrl(amiUrl("wazo", "wrong"))), failsWith("auth-failed", /127\.0\.0\.1/));
  });

  test("limited may not Reload: the preflight names the manager.conf permission, and Asterisk refuses", async () => {
    const client = await createAmiClient(parseAmiUrl(amiUrl("limited", "limited")));
    try {
      await assert.rejects(client.checkPermissions(["Reload", "Command"]), failsWith("permission-denied", /limited.*(system|config)|write/));
      await assert.rejects(client.reload("dialplan"), failsWith("permission-denied", /Reload/));
    } finally {
      await client.close();
    }
  });

  test("Reload of pbx_config succeeds, and fails when extensions.conf is broken (the old dialplan stays)", async () => {
    await putExtra({ "helloworld.conf": HELLO_CONF });
    const client = await createAmiClient(parseAmiUrl(amiUrl()));
    try {
      await client.reload("dialplan");
      assert.equal(await client.dialplanHasExtension("***42", "xivo-extrafeatures"), true);
      const good = await saveExtensionsConf();
      await writeFile(path.join(ETC, "extensions.conf"), good.replace("#include extensions.d/*", "#include missing-file.conf"));
      await putExtra({ "helloworld.conf": "[xivo-extrafeatures]\nexten = ***43,1,NoOp()\n" });
      await assert.rejects(client.reload("dialplan"), failsWith("action-failed", /pbx_config.*extensions\.conf/));
      assert.equal(await client.dialplanHasExtension("***42", "xivo-extrafeatures"), true, "the old dialplan is kept");
      assert.equal(await client.dialplanHasExtension("***43", "xivo-extrafeatures"), false);
    } finally {
      await client.close();
      await resetInstance();
    }
  });

  test("an empty extensions_extra.d: Wazo's nested #include logs an ERROR and loads; in extensions.conf itself the Reload fails", async () => {
    const client = await createAmiClient(parseAmiUrl(amiUrl()));
    try {
      await rm(path.join(EXTRA, "example.conf"));
      const mark = await logMark();
      await client.reload("dialplan");
      assert.ok((await logSince(mark)).some((l) => /ERROR.*The file 'extensions_extra\.d\/\*' was listed as a #include but it does not exist/.test(l)));
      assert.equal(await client.dialplanHasExtension("noop", "xivo-extrafeatures"), true, "the rest of the dialplan loads");
      const good = await saveExtensionsConf();
      await writeFile(path.join(ETC, "extensions.conf"), good.replace("#include extensions.d/*", "#include extensions_extra.d/*"));
      await assert.rejects(client.reload("dialplan"), failsWith("action-failed", /An unknown error occurred/));
    } finally {
      await client.close();
      await resetInstance();
    }
  });

  test("Command returns every line of a 5,000-extension dialplan show", async () => {
    const lines = ["[big]"];
    for (let i = 0; i < 5000; i++) lines.push(`exten = ${10000 + i},1,NoOp(${i})`, "same = n,Return()");
    await putExtra({ "big.conf": lines.join("\n") + "\n" });
    const client = await createAmiClient(parseAmiUrl(amiUrl()));
    try {
      await client.reload("dialplan");
      const output = await client.command("dialplan show big");
      assert.equal(output.filter((l) => /^\s+'\d+' =>\s+1\. NoOp\(\d+\)/.test(l)).length, 5000);
      assert.equal(output.filter((l) => /^\s+2\. Return\(\)/.test(l)).length, 5000);
      assert.match(output.at(-1) ?? output.at(-2) ?? "", /-= 5000 extensions \(10000 priorities\) in 1 context\. =-/);
    } finally {
      await client.close();
      await resetInstance();
    }
  });

  test("Asterisk stopping in the middle of a run: the action fails as socket-closed, the CLI exits 3 and says so", async () => {
    const client = await createAmiClient(parseAmiUrl(amiUrl()));
    const pending = client.command("dialplan show");
    stopAsterisk();
    try {
      await pending.then(
        () => undefined,
        (e) => assert.ok(e instanceof AmiError && ["socket-closed", "connection-refused"].includes(e.code), String(e)),
      );
      await assert.rejects(
        client.command("core show version"),
        (e: unknown) => e instanceof AmiError && e.code === "socket-closed" && e.reason === "ami-unreachable",
      );
      await client.close();
      startAsterisk();
      // A plugin whose own step stops Asterisk after its file is written, before the reload.
      const tmp = await tempDir();
      try {
        const plugin = await makePlugin(tmp, "stopper", {
          "stopper.conf": "[stopper]\nexten = s,1,NoOp()\n",
          "tasks.yml": `install:\n  - copy: stopper.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - run: ['${path.join(ROOT, "stop")}']\n  - reload: dialplan\n`,
        });
        const r = await runCli(["install", plugin, "--root", ROOT], { env: { WAZO_TASKS_AMI_URL: amiUrl() } });
        assert.equal(r.code, 3, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /127\.0\.0\.1:\d+/);
        assert.doesNotMatch(r.stdout + r.stderr, /wazosecret|\n\s+at /);
        assert.equal(await readFile(path.join(EXTRA, "stopper.conf"), "utf8"), "[stopper]\nexten = s,1,NoOp()\n", "applied: the file stays");
      } finally {
        await cleanup(tmp);
      }
    } finally {
      startAsterisk();
      await resetInstance();
    }
  });
});
