import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { spawn } from "node:child_process";
import { CLI, cleanup, events, HELLO_CONF, makeExecutable, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const HELLO = "/etc/asterisk/extensions_extra.d/helloworld.conf";

/** A stand-in `asterisk` that records its argv and answers like `asterisk -rx` does. */
async function standInAsterisk(dir: string): Promise<{ bin: string; calls: () => Promise<string[]> }> {
  const log = path.join(dir, "asterisk-calls.log");
  await makeExecutable(
    path.join(dir, "bin/asterisk"),
    `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\ncase "$2" in\n  "dialplan reload") echo "Dialplan reloaded." ;;\n  "dialplan show "*) echo "[ Context 'xivo-extrafeatures' created by 'pbx_config' ]"; echo "  '***42' =>          1. Playback(hello-world)" ;;\nesac\nexit 0\n`,
  );
  return { bin: path.join(dir, "bin"), calls: async () => (await readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean) };
}

describe("install helloworld", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("puts the seed's helloworld.conf under the root, records it, and reinstall changes nothing", async () => {
    const root = path.join(tmp, "root1");
    const r = await runCli(["install", "helloworld", "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(root, HELLO), "utf8"), HELLO_CONF);
    assert.equal((await stat(path.join(root, HELLO))).mode & 0o777, 0o644);
    assert.match(r.stdout, /changed\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf/);
    assert.match(r.stdout, /changed=1 unchanged=0 failed=0/);
    const manifest = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8"));
    assert.equal(manifest.version, "0.0.1");
    const entry = manifest.files.find((f: { path: string }) => f.path === HELLO);
    assert.equal(entry.sha256, createHash("sha256").update(HELLO_CONF).digest("hex"));
    assert.equal(entry.mode, 0o644);

    const before = await snapshot(root);
    const again = await runCli(["install", "helloworld", "--root", root, "--json"]);
    assert.equal(again.code, 0, again.stderr);
    const summary = events(again.stdout).at(-1)!;
    assert.equal(summary.type, "summary");
    assert.equal(summary.ok, true);
    assert.equal(summary.changed, 0);
    assert.deepEqual(summary.reloads, []);
    assert.deepEqual(summary.plugins, [{ name: "helloworld", version: "0.0.1", action: "reinstall", status: "unchanged" }]);
    assert.deepEqual(await snapshot(root), before, "a reinstall changes nothing on disk");
  });

  test("dry run writes nothing, shows what would change and a diff", async () => {
    const root = await writeTree(path.join(tmp, "root2"), { "etc/asterisk/extensions_extra.d/other.conf": "[ctx]\n" });
    const before = await snapshot(root);
    const r = await runCli(["install", "helloworld", "--root", root, "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /would change\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf/);
    assert.match(r.stdout, /would run\s+reload\s+dialplan/);
    assert.deepEqual(await snapshot(root), before);

    // Installed, then the plugin ships a new version of the file: the dry run shows a diff.
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const plugin = await makePlugin(
      tmp,
      "hello2",
      {
        "helloworld.conf": HELLO_CONF.replace("hello-world", "hello-world2"),
        "tasks.yml": "install:\n  - copy: helloworld.conf\n    to: /etc/asterisk/extensions_extra.d/\n",
      },
      'name: helloworld\ndescription: x\nversion: "0.0.2"\n',
    );
    const snap = await snapshot(root);
    const d = await runCli(["install", plugin, "--root", root, "--dry-run"]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /-exten = \*\*\*42,1,Playback\(hello-world\)\n\s+\+exten = \*\*\*42,1,Playback\(hello-world2\)/);
    assert.deepEqual(await snapshot(root), snap);
  });

  test("uninstall removes exactly what install put there", async () => {
    const root = await writeTree(path.join(tmp, "root3"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const before = await snapshot(root);
    assert.equal((await runCli(["install", "helloworld", "--root", root])).code, 0);
    const u = await runCli(["uninstall", "helloworld", "--root", root]);
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(await snapshot(root), before);
    const again = await runCli(["uninstall", "helloworld", "--root", root]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /plugin "helloworld" is not installed/);
  });

  test("a multi-file plugin: folder, glob, explicit target and mode", async () => {
    const plugin = await makePlugin(tmp, "multi", {
      "sounds/en/a.wav": Buffer.from([0, 1, 2, 3]),
      "sounds/en/b.wav": Buffer.from([4, 5]),
      "sounds/fr/a.wav": Buffer.from([6]),
      "conf/one.conf": "[one]\n",
      "conf/two.conf": "[two]\n",
      "conf/notes.txt": "not copied",
      "bin/tool.sh": "#!/bin/sh\n",
      "tasks.yml": [
        "install:",
        "  - copy: sounds",
        "    to: /usr/share/asterisk/sounds/multi",
        "  - copy: conf/*.conf",
        "    to: /etc/asterisk/extensions_extra.d/",
        "  - copy: bin/tool.sh",
        "    to: /usr/local/bin/multi-tool",
        '    mode: "0755"',
        "  - mkdir: /var/spool/multi",
        '    mode: "0750"',
        "",
      ].join("\n"),
    });
    const root = path.join(tmp, "root4");
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    const snap = await snapshot(root);
    const files = [...snap.keys()].filter((k) => !k.startsWith("var/lib/wazo-tasks")).sort();
    assert.deepEqual(files, [
      "etc/",
      "etc/asterisk/",
      "etc/asterisk/extensions_extra.d/",
      "etc/asterisk/extensions_extra.d/one.conf",
      "etc/asterisk/extensions_extra.d/two.conf",
      "usr/",
      "usr/local/",
      "usr/local/bin/",
      "usr/local/bin/multi-tool",
      "usr/share/",
      "usr/share/asterisk/",
      "usr/share/asterisk/sounds/",
      "usr/share/asterisk/sounds/multi/",
      "usr/share/asterisk/sounds/multi/en/",
      "usr/share/asterisk/sounds/multi/en/a.wav",
      "usr/share/asterisk/sounds/multi/en/b.wav",
      "usr/share/asterisk/sounds/multi/fr/",
      "usr/share/asterisk/sounds/multi/fr/a.wav",
      "var/",
      "var/lib/",
      "var/spool/",
      "var/spool/multi/",
    ]);
    assert.deepEqual(await readFile(path.join(root, "usr/share/asterisk/sounds/multi/en/a.wav")), Buffer.from([0, 1, 2, 3]));
    assert.equal((await stat(path.join(root, "usr/local/bin/multi-tool"))).mode & 0o777, 0o755);
    assert.equal((await stat(path.join(root, "var/spool/multi"))).mode & 0o777, 0o750);
    const u = await runCli(["uninstall", "multi", "--root", root]);
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual([...(await snapshot(root)).keys()], []);
  });

  test("tasks.ts is loaded and validated by the same schema", async () => {
    const plugin = await makePlugin(tmp, "hello-ts", {
      "hello.conf": HELLO_CONF,
      "tasks.ts":
        'const tasks = {\n  install: [\n    { copy: "hello.conf", to: "/etc/asterisk/extensions_extra.d/" },\n    { reload: "dialplan" },\n  ],\n};\nexport default tasks;\n',
    });
    const root = path.join(tmp, "root5");
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/hello.conf"), "utf8"), HELLO_CONF);

    const bad = await makePlugin(tmp, "bad-ts", { "tasks.ts": 'export default {\n  install: [\n    { copy: "x.conf", to: "relative/" },\n  ],\n};\n' });
    const b = await runCli(["install", bad, "--root", root]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /tasks\.ts:3:\d+: error: "to" must be an absolute path/);
  });

  test("handlers are coalesced: three plugins, one dialplan reload, and none when nothing changed", async () => {
    const dir = await tempDir();
    const { bin, calls } = await standInAsterisk(dir);
    const plugins = [];
    for (const n of ["p1", "p2", "p3"])
      plugins.push(
        await makePlugin(dir, n, {
          [`${n}.conf`]: `[${n}]\nexten = s,1,NoOp\n`,
          "tasks.yml": `install:\n  - copy: ${n}.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n`,
        }),
      );
    const root = path.join(dir, "root");
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const r = await runCli(["install", ...plugins, "--root", root, "--json"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await calls(), ["-rx dialplan reload"]);
    assert.deepEqual(events(r.stdout).at(-1)!.reloads, ["dialplan"]);
    const again = await runCli(["install", ...plugins, "--root", root, "--json"], { env });
    assert.equal(again.code, 0);
    assert.deepEqual(await calls(), ["-rx dialplan reload"], "no reload when nothing changed");
    await cleanup(dir);
  });

  test("helloworld through asterisk -rx: reload once, then verify the extension", async () => {
    const dir = await tempDir();
    const { bin, calls } = await standInAsterisk(dir);
    const r = await runCli(["install", "helloworld", "--root", path.join(dir, "root")], { env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await calls(), ["-rx dialplan reload", "-rx dialplan show ***42@xivo-extrafeatures"]);
    assert.match(r.stdout, /verified\s+verify\s+\*\*\*42@xivo-extrafeatures is loaded/);
    await cleanup(dir);
  });

  test("--no-reload applies the files and records the reload as pending", async () => {
    const dir = await tempDir();
    const { bin, calls } = await standInAsterisk(dir);
    const root = path.join(dir, "root");
    const r = await runCli(["install", "helloworld", "--root", root, "--no-reload"], { env: { PATH: `${bin}:${process.env.PATH}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await calls(), []);
    const m = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8"));
    assert.deepEqual(m.reloadPending, [{ reload: "dialplan" }]);
    const list = await runCli(["list", "--installed", "--root", root]);
    assert.match(list.stdout, /helloworld\s+0\.0\.1\s+descriptor\s+1 files .*reload pending: dialplan/);
    await cleanup(dir);
  });

  test("an upgrade writes the new files and removes the ones no longer shipped", async () => {
    const dir = await tempDir();
    const v1 = await makePlugin(
      dir,
      "v1",
      { "a.conf": "[a]\n", "b.conf": "[b]\n", "tasks.yml": "install:\n  - copy: '*.conf'\n    to: /etc/asterisk/extensions_extra.d/\n" },
      'name: up\ndescription: d\nversion: "1"\n',
    );
    const v2 = await makePlugin(
      dir,
      "v2",
      { "a.conf": "[a2]\n", "tasks.yml": "install:\n  - copy: '*.conf'\n    to: /etc/asterisk/extensions_extra.d/\n" },
      'name: up\ndescription: d\nversion: "2"\n',
    );
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", v1, "--root", root])).code, 0);
    const r = await runCli(["install", v2, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /up 2 \(upgrade from 1, descriptor\)/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/a.conf"), "utf8"), "[a2]\n");
    await assert.rejects(stat(path.join(root, "etc/asterisk/extensions_extra.d/b.conf")));
    await cleanup(dir);
  });
});

describe("details users rely on", () => {
  test("a chmod folds into the copy or folder it names, and a reinstall stays unchanged", async () => {
    const dir = await tempDir();
    const plugin = await makePlugin(dir, "perm", {
      "tool.sh": "#!/bin/sh\n",
      "tasks.yml":
        "install:\n  - copy: tool.sh\n    to: /usr/local/bin/perm-tool\n  - chmod: /usr/local/bin/perm-tool\n    mode: '0750'\n  - mkdir: /var/spool/perm\n  - chmod: /var/spool/perm\n    mode: '0700'\n",
    });
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", plugin, "--root", root])).code, 0);
    assert.equal((await stat(path.join(root, "usr/local/bin/perm-tool"))).mode & 0o777, 0o750);
    assert.equal((await stat(path.join(root, "var/spool/perm"))).mode & 0o777, 0o700);
    const again = await runCli(["install", plugin, "--root", root, "--json"]);
    assert.equal(events(again.stdout).at(-1)!.changed, 0, again.stdout);
    await cleanup(dir);
  });

  test("uninstall --no-reload leaves the reload pending in the state folder; reload --pending runs it", async () => {
    const dir = await tempDir();
    const { bin, calls } = await standInAsterisk(dir);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const root = path.join(dir, "root");
    assert.equal((await runCli(["install", "helloworld", "--root", root], { env })).code, 0);
    const u = await runCli(["uninstall", "helloworld", "--root", root, "--no-reload"], { env });
    assert.equal(u.code, 0, u.stderr);
    assert.deepEqual(JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/pending.json"), "utf8")).handlers, [{ reload: "dialplan" }]);
    const before = (await calls()).length;
    const r = await runCli(["reload", "--pending", "--root", root], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await calls()).slice(before), ["-rx dialplan reload"]);
    await assert.rejects(stat(path.join(root, "var/lib/wazo-tasks/pending.json")));
    await cleanup(dir);
  });

  test("a closed output pipe does not stop a run half way", async () => {
    const dir = await tempDir();
    const root = path.join(dir, "root");
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [CLI, "install", "helloworld", "--root", root, "--json"], { stdio: ["ignore", "pipe", "ignore"] });
      child.stdout.once("data", () => child.stdout.destroy());
      child.on("close", resolve);
    });
    assert.equal(code, 0);
    assert.equal(await readFile(path.join(root, HELLO), "utf8"), HELLO_CONF);
    assert.ok((await stat(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"))).isFile());
    await cleanup(dir);
  });
});
