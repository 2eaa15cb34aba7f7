/**
 * The include chain read from the target: Wazo's layout, a plain extensions_extra.d/*.conf layout,
 * no extensions.conf at all (Wazo's layout assumed, and said), #exec and #tryinclude, and the
 * files a run is about to write (the overlay).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { contextAround, readDialplanChain, wouldRead } from "../../src/dialplan/chain.js";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const WAZO = {
  "etc/asterisk/extensions.conf": "[general]\nstatic = yes\n\n#include extensions.d/*\n",
  "etc/asterisk/extensions.d/01-wazo.conf": "[xivo-extrafeatures]\nexten = noop,1,NoOp()\n#include extensions_extra.d/*\n",
  "etc/asterisk/extensions_extra.d/example.conf": "[pre-example]\nexten = s,1,NoOp()\n",
  "etc/asterisk/extensions_extra.d/zz-last.conf": "[last]\nexten = s,1,NoOp()\n",
};
const PLAIN = {
  "etc/asterisk/extensions.conf": '[general]\n\n[default]\nexten = 1,1,NoOp()\n#tryinclude "missing.conf"\n#include <extensions_extra.d/*.conf>\n',
  "etc/asterisk/extensions_extra.d/a.conf": "[a]\nexten = 1,1,NoOp()\n",
  "etc/asterisk/extensions_extra.d/notes.txt": "not read\n",
};

describe("the dialplan include chain", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("Wazo's layout: extensions.conf, extensions.d/*, then every file of extensions_extra.d in name order", async () => {
    const root = await writeTree(path.join(tmp, "wazo"), WAZO);
    const overlay = new Map([["/etc/asterisk/extensions_extra.d/spy.conf", path.join(root, "etc/asterisk/extensions_extra.d/example.conf")]]);
    const chain = await readDialplanChain(root, overlay);
    assert.equal(chain.source, "read");
    assert.deepEqual(
      chain.files.map((f) => f.target),
      [
        "/etc/asterisk/extensions.conf",
        "/etc/asterisk/extensions.d/01-wazo.conf",
        "/etc/asterisk/extensions_extra.d/example.conf",
        "/etc/asterisk/extensions_extra.d/spy.conf",
        "/etc/asterisk/extensions_extra.d/zz-last.conf",
      ],
    );
    assert.ok(wouldRead(chain, "/etc/asterisk/extensions_extra.d/interfaces.py"));
    const around = contextAround(chain, "/etc/asterisk/extensions_extra.d/spy.conf", () => false);
    assert.deepEqual([...(around.sectionsBefore ?? [])].sort(), ["pre-example", "xivo-extrafeatures"]);
    assert.deepEqual([...(around.contexts ?? [])].sort(), ["last", "pre-example", "xivo-extrafeatures"]);
  });

  test("a plain layout: only *.conf of extensions_extra.d is read; #tryinclude of a missing file is skipped", async () => {
    const root = await writeTree(path.join(tmp, "plain"), PLAIN);
    const chain = await readDialplanChain(root);
    assert.deepEqual(
      chain.files.map((f) => f.target),
      ["/etc/asterisk/extensions.conf", "/etc/asterisk/extensions_extra.d/a.conf"],
    );
    assert.equal(wouldRead(chain, "/etc/asterisk/extensions_extra.d/interfaces.py"), false);
    assert.equal(wouldRead(chain, "/etc/asterisk/extensions_extra.d/new.conf"), true);
  });

  test("no extensions.conf: Wazo's layout is assumed, and nothing is known of the files before", async () => {
    const root = await writeTree(path.join(tmp, "none"), { "etc/asterisk/extensions_extra.d/a.conf": "[a]\n" });
    const chain = await readDialplanChain(root);
    assert.equal(chain.source, "assumed");
    assert.deepEqual(
      chain.files.map((f) => f.target),
      ["/etc/asterisk/extensions_extra.d/a.conf"],
    );
    assert.equal(contextAround(chain, "/etc/asterisk/extensions_extra.d/a.conf", () => true).sectionsBefore, undefined);
  });

  test("#exec hides what it outputs: the contexts of the dialplan are not known", async () => {
    const root = await writeTree(path.join(tmp, "exec"), { ...WAZO, "etc/asterisk/extensions.conf": "#exec /usr/bin/confgen\n#include extensions.d/*\n" });
    const chain = await readDialplanChain(root);
    assert.deepEqual(chain.execs, ["/usr/bin/confgen"]);
    const around = contextAround(chain, "/etc/asterisk/extensions_extra.d/zz-last.conf", () => false);
    assert.equal(around.contexts, undefined);
    assert.equal(around.sectionsBefore, undefined);
  });

  test("install follows the chain: a script is linted (one warning) in Wazo's layout, not read at all in a plain one", async () => {
    const plugin = await makePlugin(tmp, "spy", {
      "spy.conf": "[xivo-extrafeatures]\nexten = _*64.,1,NoOp(spy)\n",
      "interfaces.py": "#!/usr/bin/env python3\nimport sys\n",
      "tasks.yml":
        "install:\n  - copy: spy.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - copy: interfaces.py\n    to: /etc/asterisk/extensions_extra.d/\n",
    });
    const wazo = await writeTree(path.join(tmp, "wazo-install"), WAZO);
    const r = await runCli(["install", plugin, "--root", wazo, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/warning:/g)?.length, 1, r.stderr);
    assert.match(
      r.stderr,
      /interfaces\.py:1:1: warning: interfaces\.py is not a dialplan file \(it starts with '#!'\), but Asterisk reads it as one: it will ignore its lines/,
    );
    const plain = await writeTree(path.join(tmp, "plain-install"), PLAIN);
    const p = await runCli(["install", plugin, "--root", plain, "--dry-run"]);
    assert.equal(p.code, 0, p.stderr);
    assert.doesNotMatch(p.stderr, /warning/);
    const bare = path.join(tmp, "bare-install");
    const b = await runCli(["install", plugin, "--root", bare, "--dry-run", "--verbose"]);
    assert.equal(b.code, 0, b.stderr);
    assert.match(
      b.stderr,
      /no \/etc\/asterisk\/extensions\.conf under .*bare-install: assuming Wazo's layout, where Asterisk reads every file of \/etc\/asterisk\/extensions_extra\.d\//,
    );
    assert.match(b.stderr, /interfaces\.py:1:1: warning/);
  });

  test("an #include of a missing file is refused, naming it, and nothing changes", async () => {
    const plugin = await makePlugin(tmp, "inc", {
      "inc.conf": "[inc]\nexten = 1,1,NoOp()\n#include inc-extra.conf\n",
      "tasks.yml": "install:\n  - copy: inc.conf\n    to: /etc/asterisk/extensions_extra.d/\n",
    });
    const root = await writeTree(path.join(tmp, "inc-root"), WAZO);
    const before = await snapshot(root);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /inc\.conf:3:1: error: #include of inc-extra\.conf, which does not exist/);
    assert.deepEqual(await snapshot(root), before);
    await writeTree(root, { "etc/asterisk/inc-extra.conf": "[inc-extra]\n" });
    assert.equal((await runCli(["install", plugin, "--root", root, "--dry-run"])).code, 0);
  });

  test("a FIFO named by an #include, or matched by the glob, is skipped, not waited on: a dry run finishes", async () => {
    const root = await writeTree(path.join(tmp, "fifo"), {
      ...WAZO,
      "etc/asterisk/extensions.conf": "[general]\nstatic = yes\n\n#tryinclude pipe.conf\n#include extensions.d/*\n",
    });
    execFileSync("mkfifo", [path.join(root, "etc/asterisk/pipe.conf"), path.join(root, "etc/asterisk/extensions_extra.d/pipe.conf")]);
    const chain = await readDialplanChain(root);
    assert.deepEqual(
      chain.files.map((f) => f.target),
      [
        "/etc/asterisk/extensions.conf",
        "/etc/asterisk/extensions.d/01-wazo.conf",
        "/etc/asterisk/extensions_extra.d/example.conf",
        "/etc/asterisk/extensions_extra.d/zz-last.conf",
      ],
    );
    const plugin = await makePlugin(tmp, "fifo-neighbour", {
      "n.conf": "[n]\nexten = 1,1,NoOp()\n",
      "tasks.yml": "install:\n  - copy: n.conf\n    to: /etc/asterisk/extensions_extra.d/\n",
    });
    const r = await runCli(["install", plugin, "--root", root, "--dry-run"], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /would change=1\b/);
  });
});
