/**
 * Bad input: each case must exit 2, name the file and line, print no stack trace, and leave the
 * root exactly as it was.
 */
import assert from "node:assert/strict";
import { mkdir, symlink } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const META = 'name: bad\ndescription: a broken plugin\nversion: "1.0"\n';
const CONF = "[ctx]\nexten = s,1,NoOp()\n";

interface Case {
  name: string;
  files: Record<string, string>;
  meta?: string;
  /** Regex the stderr must match (file:line:col and message). */
  expect: RegExp;
  /** Extra plugins installed in the same command. */
  with?: Record<string, string>;
  setup?: (root: string, plugin: string) => Promise<void>;
  /** False when the problem only exists against a given root (validate does not read one). */
  validate?: boolean;
}

const tasks = (body: string) => ({ "a.conf": CONF, "tasks.yml": body });

const CASES: Case[] = [
  { name: "bad YAML in tasks.yml", files: tasks("install:\n  - copy: a.conf\n    to: [unclosed\n"), expect: /tasks\.yml:\d+:\d+: error: YAML syntax error/ },
  {
    name: "bad YAML in package.yml",
    meta: "name: bad\ndescription: 'open\nversion: 1\n",
    files: tasks("install:\n  - reload: dialplan\n"),
    expect: /package\.yml:\d+:\d+: error: YAML syntax error/,
  },
  {
    name: "missing name",
    meta: 'description: d\nversion: "1"\n',
    files: tasks("install:\n  - reload: dialplan\n"),
    expect: /package\.yml:1:1: error: missing required key "name"/,
  },
  {
    name: "version as a number",
    meta: "name: bad\ndescription: d\nversion: 1.0\n",
    files: tasks("install:\n  - reload: dialplan\n"),
    expect: /package\.yml:3:10: error: version must be a string, not the number 1.0\n[\s\S]*hint: quote it: version: "1.0"/,
  },
  {
    name: "name with capitals",
    meta: 'name: Bad\ndescription: d\nversion: "1"\n',
    files: tasks("install:\n  - reload: dialplan\n"),
    expect: /package\.yml:1:7: error: "name" must be lower-case letters/,
  },
  {
    name: "unknown key in package.yml",
    meta: META + "author: me\n",
    files: tasks("install:\n  - reload: dialplan\n"),
    expect: /package\.yml:4:1: error: unknown key "author"\n[\s\S]*valid keys here: name, description, version/,
  },
  {
    name: "unknown key in a step",
    files: tasks("install:\n  - copy: a.conf\n    dest: /etc/asterisk/\n"),
    expect: /tasks\.yml:3:5: error: unknown key "dest"[\s\S]*valid keys here: copy, to, mode, lint/,
  },
  { name: "missing key in a step", files: tasks("install:\n  - copy: a.conf\n"), expect: /tasks\.yml:2:5: error: missing required key "to"/ },
  {
    name: "unknown step kind",
    files: tasks("install:\n  - copyy: a.conf\n    to: /etc/\n"),
    expect: /tasks\.yml:2:5: error: unknown step kind "copyy"[\s\S]*one of: copy, remove, mkdir/,
  },
  {
    name: "two kinds in one step",
    files: tasks("install:\n  - copy: a.conf\n    remove: /etc/x\n    to: /etc/\n"),
    expect: /tasks\.yml:3:5: error: a step has one kind, this one has copy and remove/,
  },
  {
    name: "mode as a number",
    files: tasks("install:\n  - copy: a.conf\n    to: /etc/asterisk/\n    mode: 644\n"),
    expect: /tasks\.yml:4:11: error: "mode" must be string, not number 644/,
  },
  {
    name: "missing source file",
    files: tasks("install:\n  - copy: nope.conf\n    to: /etc/asterisk/\n"),
    expect: /tasks\.yml:2:11: error: source "nope\.conf" does not exist/,
  },
  {
    name: "glob matching nothing",
    files: tasks("install:\n  - copy: '*.nothing'\n    to: /etc/asterisk/\n"),
    expect: /tasks\.yml:2:11: error: "\*\.nothing" matches no file/,
  },
  {
    name: "glob into a file path",
    files: tasks("install:\n  - copy: '*.conf'\n    to: /etc/asterisk/x.conf\n"),
    expect: /tasks\.yml:2:11: error: "\*\.conf" is a glob: "to" must be a folder/,
  },
  {
    name: "absolute source",
    files: tasks("install:\n  - copy: /etc/passwd\n    to: /etc/asterisk/\n"),
    expect: /tasks\.yml:2:11: error: "copy" must be relative to the plugin folder/,
  },
  {
    name: "source with ..",
    files: tasks("install:\n  - copy: ../secret\n    to: /etc/asterisk/\n"),
    expect: /tasks\.yml:2:11: error: "copy" must stay inside the plugin folder/,
  },
  {
    name: "relative target",
    files: tasks("install:\n  - copy: a.conf\n    to: etc/asterisk/\n"),
    expect: /tasks\.yml:3:9: error: "to" must be an absolute path/,
  },
  {
    name: "target with ..",
    files: tasks("install:\n  - copy: a.conf\n    to: /etc/../../outside/\n"),
    expect: /tasks\.yml:3:9: error: "to" must not contain '\.\.' segments/,
  },
  {
    name: "duplicate targets in one plugin",
    files: tasks("install:\n  - copy: a.conf\n    to: /etc/asterisk/x.conf\n  - copy: a.conf\n    to: /etc/asterisk/x.conf\n"),
    expect: /tasks\.yml:5:9: error: bad: \/etc\/asterisk\/x\.conf is also a target of another step of this plugin/,
  },
  {
    name: "duplicate targets across plugins",
    files: tasks("install:\n  - copy: a.conf\n    to: /etc/asterisk/x.conf\n"),
    with: { "a.conf": CONF, "tasks.yml": "install:\n  - copy: a.conf\n    to: /etc/asterisk/x.conf\n" },
    expect: /is also a target of plugin "bad"/,
  },
  { name: "install is not a list", files: tasks("install: a.conf\n"), expect: /tasks\.yml:1:10: error: "install" must be a non-empty list of steps/ },
  { name: "empty install list", files: tasks("install: []\n"), expect: /tasks\.yml:1:10: error: "install" must be a non-empty list/ },
  { name: "no install key", files: tasks("uninstall:\n  - reload: dialplan\n"), expect: /tasks\.yml:1:1: error: missing required key "install"/ },
  { name: "unknown top-level key", files: tasks("install:\n  - reload: dialplan\nhandlers: []\n"), expect: /tasks\.yml:3:1: error: unknown key "handlers"/ },
  {
    name: "bad module name",
    files: tasks("install:\n  - reload: 'pbx config'\n"),
    expect: /tasks\.yml:2:13: error: "reload" must be 'dialplan' or an Asterisk module name/,
  },
  {
    name: "empty tasks.yml",
    files: { "tasks.yml": "" },
    expect: /tasks\.yml:1:1: error: the descriptor must be a mapping with an "install:" list, not nothing/,
  },
  { name: "no descriptor at all", files: { "a.conf": CONF }, expect: /tasks\.yml: error: no tasks\.yml, tasks\.ts or Makefile/ },
  {
    name: "source symlink leading out of the plugin",
    files: tasks("install:\n  - copy: link.conf\n    to: /etc/asterisk/\n"),
    setup: async (_root, plugin) => symlink("/etc/hostname", path.join(plugin, "link.conf")),
    expect: /tasks\.yml:2:11: error: source "link\.conf" leads outside the plugin folder/,
  },
  {
    name: "target escaping the root through a symlink",
    files: tasks("install:\n  - copy: a.conf\n    to: /usr/share/wazo/\n"),
    setup: async (root) => {
      const outside = path.join(path.dirname(root), "outside");
      await mkdir(outside, { recursive: true });
      await symlink(outside, path.join(root, "usr"));
    },
    expect: /tasks\.yml:3:9: error: bad: target \/usr\/share\/wazo\/a\.conf leads outside the root through \/usr/,
    validate: false,
  },
];

describe("invalid plugins: exit 2, file:line, no stack trace, root unchanged", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  CASES.forEach((c, i) => {
    test(c.name, async () => {
      const dir = path.join(tmp, `case${i}`);
      const root = await writeTree(path.join(dir, "root"), {
        "etc/asterisk/extensions.conf": "[general]\n",
        "etc/asterisk/extensions_extra.d/keep.conf": CONF,
      });
      const plugin = await makePlugin(dir, "bad", c.files, c.meta ?? META);
      const plugins = [plugin];
      if (c.with) plugins.push(await makePlugin(dir, "other", c.with, 'name: other\ndescription: d\nversion: "1"\n'));
      await c.setup?.(root, plugin);
      const before = await snapshot(path.dirname(root));
      for (const args of [
        ["install", ...plugins, "--root", root],
        ["install", ...plugins, "--root", root, "--dry-run"],
      ]) {
        const r = await runCli(args);
        assert.equal(r.code, 2, `exit code for ${args.join(" ")}\n${r.stderr}`);
        assert.match(r.stderr, c.expect);
        assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+\)?\n/, "no stack trace");
        assert.deepEqual(await snapshot(path.dirname(root)), before, "nothing changed");
      }
      if (!c.with && c.validate !== false) {
        const v = await runCli(["validate", plugin]);
        assert.equal(v.code, 2, v.stderr);
        assert.match(v.stderr, c.expect);
      }
    });
  });

  test("unknown plugin name suggests the closest one", async () => {
    const r = await runCli(["install", "helloworl", "--root", path.join(tmp, "r")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown plugin "helloworl"[\s\S]*did you mean "helloworld"\?/);
  });

  test("validate lists every problem, not only the first", async () => {
    const plugin = await makePlugin(
      tmp,
      "many",
      tasks("install:\n  - copy: nope.conf\n    to: relative\n  - copyy: x\n"),
      "name: many\ndescription: d\nversion: 2\nextra: 1\n",
    );
    const r = await runCli(["validate", plugin]);
    assert.equal(r.code, 2);
    for (const re of [
      /package\.yml:3:10: error: version must be a string/,
      /package\.yml:4:1: error: unknown key "extra"/,
      /tasks\.yml:3:9: error: "to" must be an absolute path/,
      /tasks\.yml:4:5: error: unknown step kind "copyy"/,
    ])
      assert.match(r.stderr, re);
  });
});

describe("dialplan lint before install", () => {
  test("a broken dialplan file is refused by install, dry run and validate, before any change", async () => {
    const tmp = await tempDir();
    const plugin = await makePlugin(tmp, "broken", {
      "b.conf": "[ctx]\nexten = 1,n,Playback(hello)\nsame = n,Hangup()\n",
      "tasks.yml": "install:\n  - copy: b.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n",
    });
    const root = await writeTree(path.join(tmp, "root"), { "etc/asterisk/extensions_extra.d/a.conf": "[a]\nexten = 1,1,NoOp()\n" });
    const before = await snapshot(root);
    for (const args of [
      ["install", plugin, "--root", root],
      ["install", plugin, "--root", root, "--dry-run"],
      ["validate", plugin],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(
        r.stderr,
        /b\.conf:2:11: error: 'n' on the first line of the context: there is no previous priority\n  2 \| exten = 1,n,Playback\(hello\)\n {4}\| {11}\^/,
      );
      assert.deepEqual(await snapshot(root), before);
    }
    const forced = await runCli(["install", plugin, "--root", root, "--no-lint"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, /--no-lint: dialplan files are not checked/);
    await cleanup(tmp);
  });
});
