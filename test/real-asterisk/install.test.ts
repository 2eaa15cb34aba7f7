/**
 * The seed's flows on a real Asterisk: `install helloworld` / `uninstall helloworld` through AMI,
 * each followed by `dialplan show ***42@xivo-extrafeatures`, and a Makefile-only plugin through the
 * real make, whose `asterisk -rx 'dialplan reload'` reaches this instance.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, EXAMPLES, HELLO_CONF, makeExecutable, runCli, snapshot, tempDir } from "../support/rig.js";
import { amiUrl, ETC, EXTRA, resetInstance, ROOT, rx } from "../support/real-asterisk.js";

const env = () => ({ WAZO_TASKS_AMI_URL: amiUrl() });
const etcTree = () => snapshot(ETC);

describe("the seed's plugins on a real Asterisk", () => {
  let tmp: string;
  before(async () => {
    tmp = await tempDir();
    await resetInstance();
  });
  after(async () => {
    await resetInstance();
    await cleanup(tmp);
  });

  test("install helloworld loads ***42; uninstall unloads it and leaves the tree as it was", async () => {
    assert.match(rx("dialplan show ***42@xivo-extrafeatures"), /There is no existence of \*\*\*42@xivo-extrafeatures extension/);
    const before = await etcTree();
    const r = await runCli(["install", "helloworld", "--root", ROOT], { env: env() });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /reload\s+dialplan/);
    assert.match(r.stdout, /verified\s+dialplan 1 extension\(s\) of the installed plugins are loaded/);
    assert.equal(await readFile(path.join(EXTRA, "helloworld.conf"), "utf8"), HELLO_CONF);
    const shown = rx("dialplan show ***42@xivo-extrafeatures");
    assert.match(shown, /'\*\*\*42' =>\s+1\. Playback\(hello-world\)\s+\[helloworld\.conf:\d+\]/);
    assert.match(shown, /2\. Return\(\)/);

    const u = await runCli(["uninstall", "helloworld", "--root", ROOT], { env: env() });
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.match(rx("dialplan show ***42@xivo-extrafeatures"), /There is no existence of \*\*\*42@xivo-extrafeatures extension/);
    assert.deepEqual(await etcTree(), before);
  });

  test("a Makefile plugin installs through make, and its own asterisk -rx reload reaches Asterisk", async () => {
    // The Makefile calls `asterisk -rx`: this `asterisk` is the real one, pointed at the instance.
    const bin = path.join(tmp, "bin");
    await makeExecutable(path.join(bin, "asterisk"), `#!/bin/sh\nexec '${process.env.WAZO_TASKS_TEST_ASTERISK_BIN}' -C '${ETC}/asterisk.conf' "$@"\n`);
    const plugin = path.join(EXAMPLES, "acme-greeting-make");
    const makeEnv = { PATH: `${bin}:${process.env.PATH}` };
    const conf = await readFile(path.join(plugin, "acme-greeting.conf"), "utf8");
    const ext = /exten\s*=>?\s*([^,]+),/.exec(conf)![1].trim();
    const ctx = /^\[([^\]]+)\]/m.exec(conf)![1];
    const r = await runCli(["install", plugin, "--root", ROOT], { env: makeEnv });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\(install, make\)/);
    assert.equal(await readFile(path.join(EXTRA, "acme-greeting.conf"), "utf8"), conf);
    assert.match(rx(`dialplan show ${ext}@${ctx}`), /\[acme-greeting\.conf:\d+\]/);

    const u = await runCli(["uninstall", "acme-greeting-make", "--root", ROOT], { env: makeEnv });
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.match(rx(`dialplan show ${ext}@${ctx}`), /There is no existence of/);
  });
});
