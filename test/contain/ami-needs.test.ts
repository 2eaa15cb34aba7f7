/**
 * A plugin whose package.yml declares `needs: [ami]` is the only one whose code (run: steps,
 * make install, make uninstall) gets the AMI settings, as WAZO_TASKS_AMI_HOST/PORT/USER/SECRET.
 * The dry run and show say so; the secret is masked in every output, human and --json, and is
 * in no file under the root.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, makePlugin, runCli, tempDir, writeTree } from "../support/rig.js";

const SECRET = "Amb3rS3cretQ9";
// Port 1: nothing listens; no test run reloads, so nothing connects.
const env = { WAZO_TASKS_AMI_URL: `ami://tasks:${SECRET}@127.0.0.1:1` };
const meta = (name: string, needs = "needs: [ami]\n") => `name: ${name}\ndescription: test plugin ${name}\nversion: "1.0.0"\n${needs}`;
const all = (r: { stdout: string; stderr: string }) => `${r.stdout}\n${r.stderr}`;
// Says whether it got the secret without printing it, then prints it (which must be masked).
const PROBE =
  'env | grep "^WAZO_TASKS_AMI_" | grep -v SECRET | sort; [ "$WAZO_TASKS_AMI_SECRET" = ' +
  SECRET +
  ' ] && echo got-the-secret; echo "said: $WAZO_TASKS_AMI_SECRET"';

/** Every regular file under `dir` that holds `text`. */
async function filesHolding(dir: string, text: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const file = path.join(e.parentPath, e.name);
    if ((await readFile(file, "latin1")).includes(text)) found.push(file);
  }
  return found;
}

describe("needs: [ami] in package.yml", () => {
  let tmp: string;
  let n = 0;
  const freshRoot = () => writeTree(path.join(tmp, `root-${++n}`), { "etc/keep": "x" });
  before(async () => (tmp = await tempDir("wt-needs-")));
  after(() => cleanup(tmp));

  test("a run: step of the declaring plugin gets the settings, the other plugin none; the secret is masked, human and --json", async () => {
    const needy = await makePlugin(tmp, "needy", { "tasks.yml": `install:\n  - run: [sh, -c, ${JSON.stringify(PROBE)}]\n` }, meta("needy"));
    const plain = await makePlugin(tmp, "plain", { "tasks.yml": 'install:\n  - run: [sh, -c, "env | grep -c AMI || echo no-ami"]\n' });
    for (const json of [[], ["--json"]]) {
      const root = await freshRoot();
      const r = await runCli(["install", needy, plain, "--root", root, ...json], { env });
      assert.equal(r.code, 0, all(r));
      const text = all(r);
      assert.match(text, /WAZO_TASKS_AMI_HOST=127\.0\.0\.1/);
      assert.match(text, /WAZO_TASKS_AMI_PORT=1\b/);
      assert.match(text, /WAZO_TASKS_AMI_USER=tasks/);
      assert.match(text, /got-the-secret/, "the code got the secret");
      assert.match(text, /said: \*\*\*/, "what it printed of it is masked");
      assert.match(text, /no-ami/, "the plugin that declares nothing gets no AMI setting");
      assert.equal(text.includes(SECRET), false, "the secret is in no output");
      assert.deepEqual(await filesHolding(root, SECRET), [], "nor in any file under the root");
      if (json.length) {
        const plugins = events(r.stdout).filter((e) => e.type === "plugin");
        assert.deepEqual(
          plugins.map((e) => [e.name, e.needs]),
          [
            ["needy", ["ami"]],
            ["plain", undefined],
          ],
        );
      } else assert.match(r.stdout, /needy 1\.0\.0 \(install, descriptor\)\n {2}note: this plugin's code gets the AMI credentials/);
    }
  });

  test("the dry run and show say so, and run nothing", async () => {
    const plugin = await makePlugin(tmp, "shown", { "tasks.yml": "install:\n  - run: [sh, -c, 'echo ran > ran.txt']\n" }, meta("shown"));
    const root = await freshRoot();
    const note = "this plugin's code gets the AMI credentials";
    const dry = await runCli(["install", plugin, "--root", root, "--dry-run"], { env });
    assert.equal(dry.code, 0, all(dry));
    assert.ok(dry.stdout.includes(note), dry.stdout);
    const show = await runCli(["show", plugin, "--root", root], { env });
    assert.equal(show.code, 0, all(show));
    assert.match(show.stdout, /needs: {6}ami \(this plugin's code gets the AMI credentials\)/);
    const showJson = await runCli(["show", plugin, "--root", root, "--json"], { env });
    assert.deepEqual(events(showJson.stdout).find((e) => e.type === "show")?.needs, ["ami"]);
    for (const r of [dry, show, showJson]) assert.equal(all(r).includes(SECRET), false);
    assert.equal(existsSync(path.join(plugin, "ran.txt")), false, "nothing ran");
  });

  test("without AMI settings the code gets none, with a warning", async () => {
    const plugin = await makePlugin(tmp, "lonely", { "tasks.yml": 'install:\n  - run: [sh, -c, "env | grep -c AMI_ || echo no-ami"]\n' }, meta("lonely"));
    const r = await runCli(["install", plugin, "--root", await freshRoot()]);
    assert.equal(r.code, 0, all(r));
    assert.match(r.stderr, /warning: lonely: needs: \[ami\] in package\.yml, but no AMI settings are configured/);
    assert.match(r.stdout, /no-ami/);
  });

  test("make install (captured) and make uninstall get it; a failure quoting the secret is masked", async () => {
    const recipe = (target: string) => `\t@[ "$$WAZO_TASKS_AMI_SECRET" = ${SECRET} ] && echo ${target}-got-the-secret\n`;
    const makefile = `install:\n${recipe("install")}\tinstall -D -m 644 a.conf $(DESTDIR)/etc/asterisk/a.conf\nuninstall:\n${recipe("uninstall")}\trm -f $(DESTDIR)/etc/asterisk/a.conf\n`;
    const plugin = await makePlugin(tmp, "maker", { Makefile: makefile, "a.conf": "[a]\n" }, meta("maker"));
    const root = await freshRoot();
    const inst = await runCli(["install", plugin, "--root", root, "--json"], { env });
    assert.equal(inst.code, 0, all(inst));
    assert.match(inst.stdout, /install-got-the-secret/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/a.conf"), "utf8"), "[a]\n");
    const manifest = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/maker.json"), "utf8"));
    assert.deepEqual(manifest.needs, ["ami"], "recorded, so that uninstall hands the same");
    const un = await runCli(["uninstall", "maker", "--root", root], { env });
    assert.equal(un.code, 0, all(un));
    assert.match(un.stdout, /uninstall-got-the-secret/);
    assert.match(un.stdout, /note: this plugin's code gets the AMI credentials/);
    for (const r of [inst, un]) assert.equal(all(r).includes(SECRET), false);
    assert.deepEqual(await filesHolding(root, SECRET), []);

    const failing = await makePlugin(
      tmp,
      "leaky",
      { Makefile: 'install:\n\t@echo "secret is $$WAZO_TASKS_AMI_SECRET"; exit 3\nuninstall:\n\t@true\n' },
      meta("leaky"),
    );
    for (const json of [[], ["--json"]]) {
      const r = await runCli(["install", failing, "--root", await freshRoot(), ...json], { env });
      assert.equal(r.code, 1, all(r));
      assert.match(all(r), /make install failed \(exit code 2\); last lines:[\s\S]*secret is \*\*\*/);
      assert.equal(all(r).includes(SECRET), false);
    }
  });

  test("needs: with an unknown value is refused at its line", async () => {
    const plugin = await makePlugin(tmp, "wrong", { "tasks.yml": "install:\n  - mkdir: /etc/x\n" }, meta("wrong", "needs: [database]\n"));
    const r = await runCli(["validate", plugin]);
    assert.equal(r.code, 2, all(r));
    assert.match(r.stderr, /package\.yml:4/);
    assert.match(r.stderr, /ami/);
  });
});
