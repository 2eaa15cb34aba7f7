// A fleet of three PBXs driven by the real ansible-playbook and the wazo.tasks.plugin module:
// check and diff mode, idempotence, per-host failures, no secret in any output, and removal.
// The tests share one fleet and run in order, each starting from where the previous one left it.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, EXAMPLES, runCli, tempDir, type Snapshot } from "../support/rig.js";
import { counts, KEEP_CONF, playbook, SECRET, startFleet, writePlaybook, type Fleet } from "./rig.js";

const HELLO = "etc/asterisk/extensions_extra.d/helloworld.conf";
const HELLO_TS = "etc/asterisk/extensions_extra.d/helloworld-ts.conf";

// Host variables (host_plugins, host_source) replace the play's defaults for one host.
const PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - name: Wazo plugins
      wazo.tasks.plugin:
        name: "{{ host_plugins | default(plugins) }}"
        source: "{{ host_source | default(examples) }}"
        state: "{{ plugin_state | default('present') }}"
        root: "{{ wazo_root }}"
        ami_user: wazo-tasks
        ami_secret: "{{ ami_secret }}"
        ami_port: "{{ ami_port }}"
`;

/** The JSON result the default callback prints for a failed host (one line, or indented with -vvv). */
function fatal(stdout: string, host: string): Record<string, any> {
  const lines = stdout.split("\n");
  const at = lines.findIndex((l) => l.startsWith(`fatal: [${host}]: FAILED! => `));
  assert.ok(at >= 0, `no failure shown for ${host}:\n${stdout}`);
  let text = lines[at].slice(lines[at].indexOf("=> ") + 3);
  for (let i = at + 1; ; i++) {
    try {
      return JSON.parse(text);
    } catch (e) {
      if (i >= lines.length) throw e;
      text += "\n" + lines[i];
    }
  }
}

const plugins = (names: string[]) => ["-e", JSON.stringify({ plugins: names, examples: EXAMPLES })];

describe("a fleet of three PBXs", { concurrency: false }, () => {
  let dir: string;
  let fleet: Fleet;
  let play: string;
  let pristine: Snapshot[];
  before(async () => {
    dir = await tempDir("wt-fleet-");
    fleet = await startFleet(dir, 3);
    play = await writePlaybook(fleet, "plugins.yml", PLAY);
    pristine = await fleet.snapshots();
  });
  after(async () => {
    await fleet.close();
    await cleanup(dir);
  });

  test("--check --diff shows each host's diffs, one per file, and changes nothing", async () => {
    const before = await fleet.snapshots();
    const r = await playbook(fleet, play, ["--check", "--diff", ...plugins(["helloworld", "sounds"])]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1, 1]);
    assert.deepEqual(counts(r, "failed", fleet), [0, 0, 0]);
    const created = r.stdout.split("\n").filter((l) => l === "+++ /etc/asterisk/extensions_extra.d/helloworld.conf (new)");
    assert.equal(created.length, 3, r.stdout);
    assert.equal(r.stdout.split("\n").filter((l) => l === "+exten = ***42,1,Playback(hello-world)").length, 3);
    assert.equal(r.stdout.split("\n").filter((l) => l === "binary file /usr/share/asterisk/sounds/en/acme/welcome.wav would be created").length, 3);
    assert.ok(!/create folder|^create /m.test(r.stdout), "folders are not diff entries");
    assert.deepEqual(await fleet.snapshots(), before, "a check run changes no root");
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.connections), [0, 0, 0], "a check run connects to no Asterisk");
  });

  test("the first run installs on every host, with one reload each and the dialplan checked", async () => {
    const r = await playbook(fleet, play, plugins(["helloworld", "sounds"]));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1, 1]);
    for (const p of fleet.pbxs) {
      assert.match(await readFile(path.join(p.root, HELLO), "utf8"), /^exten = \*\*\*42,1,Playback\(hello-world\)$/m);
      assert.equal(p.ami.reloadCount("dialplan"), 1, `${p.name}: one reload for both plugins`);
      const commands = p.ami.actions.filter((a) => a.action?.toLowerCase() === "command").map((a) => a.command);
      assert.ok(commands.includes("dialplan show ***42@xivo-extrafeatures"), `${p.name}: ${commands.join(", ")}`);
      assert.ok(commands.includes("dialplan show ***46@xivo-extrafeatures"), `${p.name}: ${commands.join(", ")}`);
      assert.deepEqual(p.ami.logins, [{ username: "wazo-tasks", ok: true }]);
    }
  });

  test("the second run is changed=0 on every host, with no reload and no AMI connection", async () => {
    const before = await fleet.snapshots();
    const seen = fleet.pbxs.map((p) => [p.ami.connections, p.ami.actions.length]);
    const r = await playbook(fleet, play, plugins(["helloworld", "sounds"]));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [0, 0, 0]);
    assert.deepEqual(counts(r, "ok", fleet), [1, 1, 1]);
    assert.deepEqual(fleet.pbxs.map((p) => [p.ami.connections, p.ami.actions.length]), seen);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount()), [1, 1, 1]);
    assert.deepEqual(await fleet.snapshots(), before);
  });

  test("a wrong secret on one host and a broken plugin on another: those fail unchanged, the third completes; no secret in -vvv output", async () => {
    const [pbx1, pbx2, pbx3] = fleet.pbxs;
    const wrong = "wr0ng-Secret-Xy7Qp2";
    pbx2.vars = { ami_secret: wrong };
    pbx3.vars = { host_plugins: ["helloworld-ts", "unknown-step"], host_source: path.join(EXAMPLES, "invalid") };
    await fleet.writeInventory();
    const [, before2, before3] = await fleet.snapshots();
    const r = await playbook(fleet, play, ["-vvv", "--diff", ...plugins(["helloworld", "sounds", "helloworld-ts"])]);
    assert.equal(r.code, 2, "ansible-playbook reports failed hosts");
    assert.deepEqual(counts(r, "changed", fleet), [1, 0, 0]);
    assert.deepEqual(counts(r, "failed", fleet), [0, 1, 1]);
    assert.match(await readFile(path.join(pbx1.root, HELLO_TS), "utf8"), /\*\*\*43/);
    assert.ok(r.stdout.includes("+exten = ***43,1,Playback(hello-world)"), "--diff without --check shows what changed");

    const [, after2, after3] = await fleet.snapshots();
    assert.deepEqual(after2, before2, "pbx2's root is unchanged");
    assert.deepEqual(after3, before3, "pbx3's root is unchanged");
    assert.equal(pbx2.ami.logins.at(-1)?.ok, false);
    assert.equal(pbx3.ami.connections, 1, "invalid input is refused before any connection");

    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(SECRET), "the secret is in no output");
      assert.ok(!text.includes(wrong), "the wrong secret is in no output either");
    }
    assert.ok(r.stdout.includes("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"), "-vvv shows the module arguments, the secret masked");
    assert.equal(fatal(r.stdout, "pbx2").rc, 1);
    assert.match(fatal(r.stdout, "pbx2").msg, /cannot use Asterisk: .*wazo-tasks.*nothing was changed/);
    const broken = fatal(r.stdout, "pbx3");
    assert.equal(broken.rc, 2);
    assert.match(broken.msg, /^invalid plugin: .*invalid\/unknown-step\/tasks\.yml:5:5: unknown step kind "relaod"/);
    assert.equal(broken.diagnostics.length, 2);
    assert.equal(broken.reload_pending, false);

    pbx2.vars = {};
    pbx3.vars = {};
    await fleet.writeInventory();
    const fixed = await playbook(fleet, play, plugins(["helloworld", "sounds", "helloworld-ts"]));
    assert.equal(fixed.code, 0, fixed.stdout);
    assert.deepEqual(counts(fixed, "changed", fleet), [0, 1, 1]);
  });

  test("state: absent removes the plugins, then is changed=0", async () => {
    const absent = ["-e", JSON.stringify({ plugins: ["helloworld", "sounds", "helloworld-ts"], examples: EXAMPLES, plugin_state: "absent" })];
    const reloads = fleet.pbxs.map((p) => p.ami.reloadCount("dialplan"));
    const installed = await fleet.snapshots();
    const preview = await playbook(fleet, play, ["--check", "--diff", ...absent]);
    assert.equal(preview.code, 0, preview.stdout);
    assert.deepEqual(counts(preview, "changed", fleet), [1, 1, 1]);
    assert.equal(preview.stdout.split("\n").filter((l) => l === "remove /etc/asterisk/extensions_extra.d/helloworld.conf").length, 3, preview.stdout);
    assert.deepEqual(await fleet.snapshots(), installed);
    const r = await playbook(fleet, play, absent);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1, 1]);
    for (const [i, p] of fleet.pbxs.entries()) {
      assert.equal(p.ami.reloadCount("dialplan"), reloads[i] + 1);
      const now = (await fleet.snapshots())[i];
      for (const key of now.keys()) if (key.startsWith("var/lib/wazo-tasks/")) now.delete(key);
      now.delete("var/lib/");
      now.delete("var/");
      assert.deepEqual(now, pristine[i], `${p.name}: the root is as before the first install (${KEEP_CONF} kept)`);
      const listed = await runCli(["list", "--installed", "--root", p.root, "--json"]);
      assert.deepEqual(JSON.parse(listed.stdout).plugins, []);
    }
    const seen = fleet.pbxs.map((p) => p.ami.connections);
    const again = await playbook(fleet, play, absent);
    assert.equal(again.code, 0);
    assert.deepEqual(counts(again, "changed", fleet), [0, 0, 0]);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.connections), seen);
  });
});
