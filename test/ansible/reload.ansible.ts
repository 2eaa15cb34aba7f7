// Reloads across a fleet: a reload Asterisk refuses fails only that host, with reload_pending,
// and wazo.tasks.reload with pending: true finishes the work once Asterisk is fixed; reload:
// false defers the reload of a rollout to one task at the end.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, EXAMPLES, runCli, tempDir } from "../support/rig.js";
import { counts, playbook, startFleet, writePlaybook, type Fleet } from "./rig.js";

const PLUGIN_PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - wazo.tasks.plugin:
        name: "{{ plugins }}"
        source: "{{ examples }}"
        reload: "{{ do_reload | default(true) }}"
        root: "{{ wazo_root }}"
        ami_user: wazo-tasks
        ami_secret: "{{ ami_secret }}"
        ami_port: "{{ ami_port }}"
`;

const RELOAD_PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - wazo.tasks.reload:
        pending: "{{ pending | default(true) }}"
        modules: "{{ modules | default(omit) }}"
        root: "{{ wazo_root }}"
        ami_url: "ami://wazo-tasks:{{ ami_secret | urlencode }}@127.0.0.1:{{ ami_port }}"
      register: reloaded
    - ansible.builtin.debug:
        msg: "RESULT {{ reloaded | to_json }}"
`;

async function pendingOf(root: string): Promise<Record<string, string[]>> {
  const r = await runCli(["list", "--installed", "--root", root, "--json"]);
  return Object.fromEntries(JSON.parse(r.stdout).plugins.map((p: any) => [p.name, p.reloadPending]));
}

/** The registered results printed by the debug task, per host. */
function results(stdout: string): Record<string, any> {
  const out: Record<string, any> = {};
  const lines = stdout.split("\n");
  lines.forEach((l, i) => {
    const host = /^ok: \[(\w+)\] => \{$/.exec(l)?.[1];
    const msg = host && /^\s+"msg": "RESULT (.*)"$/.exec(lines[i + 1] ?? "")?.[1];
    if (host && msg) out[host] = JSON.parse(JSON.parse(`"${msg}"`));
  });
  return out;
}

describe("reloads across a fleet", { concurrency: false }, () => {
  let dir: string;
  let fleet: Fleet;
  let plugin: string;
  let reload: string;
  before(async () => {
    dir = await tempDir("wt-fleet-reload-");
    fleet = await startFleet(dir, 3);
    plugin = await writePlaybook(fleet, "plugins.yml", PLUGIN_PLAY);
    reload = await writePlaybook(fleet, "reload.yml", RELOAD_PLAY);
  });
  after(async () => {
    await fleet.close();
    await cleanup(dir);
  });
  const vars = (v: Record<string, unknown>) => ["-e", JSON.stringify({ examples: EXAMPLES, ...v })];

  test("a reload refused on one host: that host fails with reload_pending, its files applied; the others complete", async () => {
    const [pbx1] = fleet.pbxs;
    await fleet.restartAmi(pbx1, { pbx_config: "error" });
    const r = await playbook(fleet, plugin, vars({ plugins: ["helloworld"] }));
    assert.equal(r.code, 2, r.stdout);
    assert.deepEqual(counts(r, "failed", fleet), [1, 0, 0]);
    assert.deepEqual(counts(r, "changed", fleet), [0, 1, 1]);
    const line = r.stdout.split("\n").find((l) => l.startsWith("fatal: [pbx1]: FAILED! => "))!;
    const failed = JSON.parse(line.slice(line.indexOf("=> ") + 3));
    assert.equal(failed.rc, 3);
    assert.equal(failed.reload_pending, true);
    assert.equal(failed.reason, "reload-failed");
    assert.equal(failed.changed, true);
    assert.match(failed.msg, /applied the files on .*pbx1, but a reload or the dialplan check failed, so the reload is pending: .*reload dialplan: Cannot reload 'dialplan' \(module pbx_config\).*wazo\.tasks\.reload with pending: true/);
    assert.match(await readFile(path.join(pbx1.root, "etc/asterisk/extensions_extra.d/helloworld.conf"), "utf8"), /\*\*\*42/);
    assert.deepEqual(await pendingOf(pbx1.root), { helloworld: ["dialplan"] });
  });

  test("check mode of wazo.tasks.reload lists what is pending and reloads nothing", async () => {
    const reloads = fleet.pbxs.map((p) => p.ami.reloadCount());
    const r = await playbook(fleet, reload, ["--check"]);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(counts(r, "changed", fleet), [1, 0, 0]);
    assert.deepEqual(results(r.stdout).pbx1.pending, { helloworld: ["dialplan"] });
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount()), reloads);
  });

  test("once Asterisk is fixed, pending: true reloads where something is pending, checks the dialplan, and clears it", async () => {
    const [pbx1, pbx2] = fleet.pbxs;
    await fleet.restartAmi(pbx1);
    const seen = pbx2.ami.connections;
    const r = await playbook(fleet, reload);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(counts(r, "changed", fleet), [1, 0, 0]);
    assert.equal(pbx1.ami.reloadCount("dialplan"), 1);
    const res = results(r.stdout).pbx1;
    assert.deepEqual(res.reloads, ["dialplan"]);
    assert.equal(res.dialplan_check.status, "ok");
    assert.equal(res.dialplan_check.checked, 1);
    assert.deepEqual(await pendingOf(pbx1.root), { helloworld: [] });
    assert.equal(pbx2.ami.connections, seen, "nothing pending: no connection");
  });

  test("reload: false installs without a reload; one reload task at the end reloads each host once", async () => {
    const reloads = fleet.pbxs.map((p) => p.ami.reloadCount());
    const r = await playbook(fleet, plugin, vars({ plugins: ["helloworld", "helloworld-ts"], do_reload: false }));
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1, 1]);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount()), reloads);
    for (const p of fleet.pbxs) assert.deepEqual((await pendingOf(p.root))["helloworld-ts"], ["dialplan"]);
    const done = await playbook(fleet, reload);
    assert.equal(done.code, 0, done.stdout);
    assert.deepEqual(counts(done, "changed", fleet), [1, 1, 1]);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount()), reloads.map((n) => n + 1));
  });

  test("modules: reloads what is named; a module Asterisk does not have fails with wazo-tasks' reason", async () => {
    const ok = await playbook(fleet, reload, ["-e", JSON.stringify({ pending: false, modules: ["res_pjsip.so"] })]);
    assert.equal(ok.code, 0, ok.stdout);
    assert.deepEqual(counts(ok, "changed", fleet), [1, 1, 1]);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount("res_pjsip")), [1, 1, 1]);
    const bad = await playbook(fleet, reload, ["-e", JSON.stringify({ pending: false, modules: ["res_nothing.so"] })]);
    assert.equal(bad.code, 2, bad.stdout);
    assert.deepEqual(counts(bad, "failed", fleet), [1, 1, 1]);
    const line = bad.stdout.split("\n").find((l) => l.startsWith("fatal: [pbx2]: FAILED! => "))!;
    const failed = JSON.parse(line.slice(line.indexOf("=> ") + 3));
    assert.match(failed.msg, /^reload res_nothing\.so: Cannot reload module 'res_nothing\.so' on 127\.0\.0\.1:\d+: Asterisk has no such module loaded/);
    assert.equal(failed.reason, "reload-failed");
    assert.equal(failed.reload_pending, false, "nothing was pending");
  });
});
