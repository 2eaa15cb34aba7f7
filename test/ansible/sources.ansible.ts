// Git sources through Ansible: install from a repository made with the real git (file://), with
// ref and subdirectory; again is changed=0; when the branch moves, --check --diff shows the
// update and state: latest (wazo-tasks upgrade) installs it. Skipped while this wazo-tasks has
// no git sources (`install --ref`). The market: a `file://` market answer listing that repository.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFile, cp, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CLI, cleanup, EXAMPLES, tempDir } from "../support/rig.js";
import { counts, playbook, startFleet, writePlaybook, type Fleet } from "./rig.js";

const HELP = spawnSync(process.execPath, [CLI, "install", "--help"], { encoding: "utf8" }).stdout;
const UPGRADE = spawnSync(process.execPath, [CLI, "upgrade", "--help"], { encoding: "utf8" }).status === 0;
const skip = !/--ref\b/.test(HELP) && "this wazo-tasks has no git sources (install --ref)";
const HELLO = "etc/asterisk/extensions_extra.d/helloworld.conf";

function git(cwd: string, ...args: string[]) {
  const r = spawnSync("git", ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

const PLAY = (state: string) => `- hosts: all
  gather_facts: false
  tasks:
    - wazo.tasks.plugin:
        name: helloworld
        state: ${state}
        source: "{{ repo }}"
        ref: main
        subdirectory: plugins/hello
        root: "{{ wazo_root }}"
        ami_user: wazo-tasks
        ami_secret: "{{ ami_secret }}"
        ami_port: "{{ ami_port }}"
`;

describe("plugins from git across a fleet", { skip, concurrency: false }, () => {
  let dir: string;
  let fleet: Fleet;
  let repo: string;
  let extra: string[];
  before(async () => {
    dir = await tempDir("wt-fleet-git-");
    fleet = await startFleet(dir, 2);
    repo = path.join(dir, "repo");
    await mkdir(path.join(repo, "plugins"), { recursive: true });
    await cp(path.join(EXAMPLES, "helloworld"), path.join(repo, "plugins/hello"), { recursive: true });
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "v1");
    extra = ["-e", JSON.stringify({ repo: `file://${repo}` })];
  });
  after(async () => {
    await fleet?.close();
    await cleanup(dir);
  });

  test("installs from the repository's subdirectory on every host, then again is changed=0 with no reload", async () => {
    const play = await writePlaybook(fleet, "git.yml", PLAY("present"));
    const r = await playbook(fleet, play, extra);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1]);
    for (const p of fleet.pbxs) assert.match(await readFile(path.join(p.root, HELLO), "utf8"), /\*\*\*42/);
    const again = await playbook(fleet, play, extra);
    assert.deepEqual(counts(again, "changed", fleet), [0, 0]);
    assert.deepEqual(fleet.pbxs.map((p) => p.ami.reloadCount("dialplan")), [1, 1]);
  });

  test("when the branch moves, --check --diff shows the update; state: latest installs it", { skip: !UPGRADE && "no upgrade command" }, async () => {
    await appendFile(path.join(repo, "plugins/hello/helloworld.conf"), "same = n,Hangup()\n");
    git(repo, "commit", "-qam", "v2");
    const play = await writePlaybook(fleet, "latest.yml", PLAY("latest"));
    const before = await fleet.snapshots();
    const check = await playbook(fleet, play, ["--check", "--diff", ...extra]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.deepEqual(counts(check, "changed", fleet), [1, 1]);
    assert.equal(check.stdout.split("\n").filter((l) => l === "+same = n,Hangup()").length, 2, check.stdout);
    assert.deepEqual(await fleet.snapshots(), before);
    const r = await playbook(fleet, play, extra);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1]);
    for (const p of fleet.pbxs) assert.match(await readFile(path.join(p.root, HELLO), "utf8"), /Hangup/);
    assert.deepEqual(counts(await playbook(fleet, play, extra), "changed", fleet), [0, 0]);
  });

  test("state: absent removes what git installed", async () => {
    const play = await writePlaybook(fleet, "absent.yml", PLAY("absent"));
    const r = await playbook(fleet, play, extra);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1]);
    for (const p of fleet.pbxs) await assert.rejects(readFile(path.join(p.root, HELLO)));
  });
});

const MARKET_PLAY = `- hosts: all
  gather_facts: false
  tasks:
    - wazo.tasks.plugin:
        name: "{{ wanted }}"
        source: market
        market_url: "{{ market }}"
        wazo_version: "24.05"
        state: "{{ wanted_state | default('present') }}"
        root: "{{ wazo_root }}"
        ami_user: wazo-tasks
        ami_secret: "{{ ami_secret }}"
        ami_port: "{{ ami_port }}"
`;

describe("plugins from the market across a fleet", { skip, concurrency: false }, () => {
  let dir: string;
  let fleet: Fleet;
  let play: string;
  let market: string;
  before(async () => {
    dir = await tempDir("wt-fleet-market-");
    fleet = await startFleet(dir, 2);
    const repo = path.join(dir, "repo");
    await cp(path.join(EXAMPLES, "helloworld"), repo, { recursive: true });
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "v1");
    const source = { url: `file://${repo}`, ref: "main" };
    const versions = [
      { method: "git", version: "1.0.0", options: source, min_wazo_version: "24.01", max_wazo_version: null },
      { method: "git", version: "0.9.0", options: source, min_wazo_version: null, max_wazo_version: "23.17" },
    ];
    await writeFile(path.join(dir, "market.json"), JSON.stringify({ items: [{ namespace: "acme", name: "helloworld", description: "***42", versions }] }));
    market = `file://${path.join(dir, "market.json")}`;
    play = await writePlaybook(fleet, "market.yml", MARKET_PLAY);
  });
  after(async () => {
    await fleet?.close();
    await cleanup(dir);
  });
  const vars = (v: Record<string, unknown>) => ["-e", JSON.stringify({ market, ...v })];

  test("a version outside the host's Wazo range fails with wazo-tasks' message, nothing changed", async () => {
    const before = await fleet.snapshots();
    const r = await playbook(fleet, play, vars({ wanted: "acme/helloworld@0.9.0" }));
    assert.equal(r.code, 2, r.stdout);
    assert.deepEqual(counts(r, "failed", fleet), [1, 1]);
    assert.match(r.stdout, /"msg": "acme\/helloworld 0\.9\.0 is for Wazo <= 23\.17, and this is Wazo 24\.05/);
    assert.match(r.stdout, /"rc": 2/);
    assert.deepEqual(await fleet.snapshots(), before);
  });

  test("NAMESPACE/NAME installs the newest version for this Wazo, then is changed=0; absent removes it", async () => {
    const r = await playbook(fleet, play, vars({ wanted: "acme/helloworld" }));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(counts(r, "changed", fleet), [1, 1]);
    for (const p of fleet.pbxs) assert.match(await readFile(path.join(p.root, HELLO), "utf8"), /\*\*\*42/);
    assert.deepEqual(counts(await playbook(fleet, play, vars({ wanted: "acme/helloworld" })), "changed", fleet), [0, 0]);
    const gone = await playbook(fleet, play, vars({ wanted: "acme/helloworld", wanted_state: "absent" }));
    assert.equal(gone.code, 0, gone.stdout);
    assert.deepEqual(counts(gone, "changed", fleet), [1, 1]);
    for (const p of fleet.pbxs) await assert.rejects(readFile(path.join(p.root, HELLO)));
  });
});
