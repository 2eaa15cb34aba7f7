/**
 * A wazo/rules plugin shaped like wazo-chanspy (spy.conf and the AGI script interfaces.py, both
 * copied into extensions_extra.d) installs on a real Asterisk without --no-lint: one warning for
 * the script, and spy.conf's extensions are loaded although Asterisk reads the script too.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makeExecutable, REPO, runCli, tempDir } from "../support/rig.js";
import { amiUrl, ETC, EXTRA, logMark, logSince, resetInstance, ROOT, rx } from "../support/real-asterisk.js";

const PLUGIN = path.join(REPO, "test/fixtures/wazo-plugins/chanspy");

describe("a wazo-chanspy-shaped plugin on a real Asterisk", () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    tmp = await tempDir();
    await resetInstance();
    // The rules call `asterisk -x`: this `asterisk` is the real one, pointed at the instance.
    await makeExecutable(path.join(tmp, "bin/asterisk"), `#!/bin/sh\nexec '${process.env.WAZO_TASKS_TEST_ASTERISK_BIN}' -C '${ETC}/asterisk.conf' "$@"\n`);
    env = { WAZO_TASKS_AMI_URL: amiUrl(), PATH: `${path.join(tmp, "bin")}:${process.env.PATH}` };
  });
  after(async () => {
    await resetInstance();
    await cleanup(tmp);
  });

  test("installs with one warning naming the script, and its extensions are loaded", async () => {
    const mark = await logMark();
    const r = await runCli(["install", PLUGIN, "--root", ROOT], { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.stderr.match(/warning:/g)?.length, 1, r.stderr);
    assert.match(
      r.stderr,
      /interfaces\.py:1:1: warning: interfaces\.py is not a dialplan file \(it starts with '#!'\), but Asterisk reads it as one: it will ignore its lines/,
    );
    assert.match(r.stderr, /move interfaces\.py out of extensions_extra\.d/);
    assert.match(r.stdout, /verified\s+dialplan \d+ extension\(s\) of the installed plugins are loaded/);
    assert.equal(await readFile(path.join(EXTRA, "interfaces.py"), "utf8"), await readFile(path.join(PLUGIN, "agi/interfaces.py"), "utf8"));
    const shown = rx("dialplan show xivo-extrafeatures");
    assert.match(shown, /'_\*64\.' =>\s+1\. NoOp\(Chanspy\)\s+\[spy\.conf:\d+\]/);
    assert.match(shown, /5\. Hangup\(\)\s+\[spy\.conf:\d+\]/);
    assert.ok(rx("dialplan show pre-example").includes("Return()"), "the other files still load");
    // Asterisk did read the script, and ignored its lines with warnings.
    assert.ok((await logSince(mark)).some((l) => /WARNING.*interfaces\.py/.test(l)));

    const u = await runCli(["uninstall", "acme/chanspy", "--root", ROOT], { env });
    assert.equal(u.code, 0, u.stdout + u.stderr);
    assert.doesNotMatch(rx("dialplan show xivo-extrafeatures"), /_\*64\./);
  });

  test("with a plain extensions_extra.d/*.conf include, the script is not read by Asterisk, and not warned about", async () => {
    const wazo = path.join(ETC, "extensions.d/01-wazo.conf");
    const original = await readFile(wazo, "utf8");
    await writeFile(wazo, original.replace("#include extensions_extra.d/*", "#include extensions_extra.d/*.conf"));
    try {
      rx("dialplan reload");
      const mark = await logMark();
      const r = await runCli(["install", PLUGIN, "--root", ROOT], { env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.doesNotMatch(r.stderr, /warning/);
      assert.match(rx("dialplan show xivo-extrafeatures"), /'_\*64\.' =>\s+1\. NoOp\(Chanspy\)/);
      assert.equal((await logSince(mark)).filter((l) => /interfaces\.py/.test(l)).length, 0, "Asterisk did not read the script");
      assert.equal((await runCli(["uninstall", "acme/chanspy", "--root", ROOT], { env })).code, 0);
    } finally {
      await writeFile(wazo, original);
      rx("dialplan reload");
    }
  });
});
