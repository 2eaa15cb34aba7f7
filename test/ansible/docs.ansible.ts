/**
 * docs/ansible.md, run: its files are written into a working folder, its `ansible-galaxy` and
 * `ansible-playbook` commands are run there in order, and the output shown after a command must
 * appear, in order, in the real output (whitespace runs and banner stars normalised; `...` lines
 * skipped). test/docs.test.ts does the same for `wazo-tasks` commands and leaves these alone.
 *
 * The document's inventory names real PBXs; here each host becomes a local one with its own
 * staging root and fake Asterisk, and the git repository a local one made with the real git
 * (`file://`). Ansible runs with one fork, so that hosts are shown in inventory order.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFile, cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { dump, load } from "js-yaml";
import { CLI, cleanup, EXAMPLES, REPO, runCli, snapshot, tempDir } from "../support/rig.js";
import { parseRecap, run, SECRET, startFleet, type Fleet } from "./rig.js";

const DOC = path.join(REPO, "docs/ansible.md");

interface Block {
  line: number;
  file?: string;
  lang: string;
  body: string[];
}

function blocks(text: string): Block[] {
  const lines = text.split("\n");
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end].startsWith("```")) end++;
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const file = /`([^`\s]+)`:\s*$/.exec(lines[k] ?? "")?.[1];
    out.push({ line: i + 1, file, lang: open[1], body: lines.slice(i + 1, end) });
    i = end;
  }
  return out;
}

interface Command {
  line: number;
  argv: string[];
  shown: string[];
}

function commands(all: Block[]): Command[] {
  const out: Command[] = [];
  for (const b of all.filter((x) => x.lang === "console")) {
    b.body.forEach((l, k) => {
      const m = /^\$ (.*)$/.exec(l);
      if (m) out.push({ line: b.line + k + 1, argv: m[1].split(/\s+/), shown: [] });
      else if (out.length && l.trim() && l.trim() !== "...") out[out.length - 1].shown.push(l);
    });
  }
  return out;
}

const norm = (s: string) => s.replace(/\*{3,}/g, "***").replace(/[ \t]+/g, " ").trimEnd();

/** Each shown line must be found, in order, among the real lines. */
function assertShown(shown: string[], real: string, where: string) {
  const lines = real.split("\n").map(norm);
  let at = 0;
  for (const want of shown.map(norm)) {
    const found = lines.indexOf(want, at);
    assert.ok(found >= 0, `${where}: this line is not in the output (in order): ${JSON.stringify(want)}\n--- output\n${real}`);
    at = found + 1;
  }
}

/** Whether the wazo-tasks on this branch installs from git (`--ref`). */
const gitSources = () => /--ref\b/.test(spawnSync(process.execPath, [CLI, "install", "--help"], { encoding: "utf8" }).stdout);

function git(cwd: string, ...args: string[]) {
  const r = spawnSync("git", ["-c", "user.name=Doc", "-c", "user.email=doc@example.com", "-c", "init.defaultBranch=main", ...args], { cwd, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

describe("docs/ansible.md", { concurrency: false }, () => {
  let dir: string;
  let work: string;
  let fleet: Fleet;
  let repo: string;
  let env: NodeJS.ProcessEnv;
  const all = blocks("");
  before(async () => {
    all.push(...blocks(await readFile(DOC, "utf8")));
    dir = await tempDir("wt-docs-ansible-");
    work = path.join(dir, "work");
    await mkdir(work);
    await symlink(path.join(REPO, "ansible"), path.join(work, "ansible"));
    const inventory = load(all.find((b) => b.file === "inventory.yml")!.body.join("\n")) as any;
    fleet = await startFleet(dir, Object.keys(inventory.pbx.hosts));
    repo = path.join(dir, "repos/wazo-acme-plugins");
    await mkdir(repo, { recursive: true });
    await cp(path.join(EXAMPLES, "helloworld"), path.join(repo, "helloworld"), { recursive: true });
    git(repo, "init", "-q");
    git(repo, "add", ".");
    git(repo, "commit", "-qm", "helloworld");
    git(repo, "tag", "v1.0");
    env = { ...fleet.env, ANSIBLE_COLLECTIONS_PATH: path.join(dir, "collections"), ANSIBLE_FORKS: "1" };
  });
  after(async () => {
    await fleet?.close();
    await cleanup(dir);
  });

  test("has an inventory of several PBXs, a playbook with serial: 2 installing from git, and --check --diff output", () => {
    const inventory = load(all.find((b) => b.file === "inventory.yml")!.body.join("\n")) as any;
    assert.ok(Object.keys(inventory.pbx.hosts).length >= 3);
    const play = (load(all.find((b) => b.file === "plugins.yml")!.body.join("\n")) as any)[0];
    assert.equal(play.serial, 2);
    const task = play.tasks[0]["wazo.tasks.plugin"];
    assert.match(inventory.pbx.vars[/\{\{ (\w+) \}\}/.exec(task.source)![1]], /^https:\/\/.*\.git$/);
    const check = commands(all).find((c) => c.argv.includes("--check") && c.argv.includes("--diff"));
    assert.ok(check && check.shown.length > 0, "the --check --diff output is shown");
  });

  test("every file and command of the page, in order", async (t) => {
    const git = gitSources();
    for (const b of all.filter((x) => x.file)) {
      let text = b.body.join("\n") + "\n";
      if (b.file === "inventory.yml") text = localInventory(text, fleet, `file://${repo}`);
      // Without git sources in this wazo-tasks, the same plugin from a checkout of the repository.
      if (!git) text = text.replace(/source: "\{\{ acme_plugins_repo \}\}"\n\s+ref: v1\.0\n\s+subdirectory: helloworld\n/, `source: ${path.join(repo, "helloworld")}\n`);
      await writeFile(path.join(work, b.file!), text);
    }
    for (const c of commands(all)) {
      const where = `docs/ansible.md:${c.line}`;
      assert.ok(["ansible-galaxy", "ansible-playbook"].includes(c.argv[0]), `${where}: unexpected command ${c.argv[0]}`);
      const before = c.argv.includes("--check") ? await fleet.snapshots() : undefined;
      const r = await run(c.argv, { cwd: work, env });
      assert.equal(r.code, 0, `${where}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
      if (process.env.SHOW_DOC_OUTPUT) await appendFile(process.env.SHOW_DOC_OUTPUT, `${where}: $ ${c.argv.join(" ")}\n${r.stdout}\n`);
      assertShown(c.shown, r.stdout, where);
      assert.ok(!(r.stdout + r.stderr).includes(SECRET), `${where}: the secret is in no output`);
      if (before) assert.deepEqual(await fleet.snapshots(), before, `${where}: --check changed nothing`);
      if (c.argv[0] === "ansible-playbook" && !c.argv.includes("--check")) {
        const recap = parseRecap(r.stdout);
        assert.deepEqual(Object.keys(recap).sort(), fleet.pbxs.map((p) => p.name).sort());
      }
    }
    for (const p of fleet.pbxs) assert.equal(p.ami.reloadCount("dialplan"), 1, `${p.name}: one reload over the whole page`);
    if (!git) t.diagnostic("git sources are not in this wazo-tasks yet: the playbook ran with a local checkout of the repository");
  });

  test("a failure in the first batch stops the rollout: the second batch's PBX is not touched", async () => {
    const [paris1, paris2, lyon] = fleet.pbxs;
    for (const p of fleet.pbxs) assert.equal((await runCli(["uninstall", "helloworld", "--root", p.root, "--no-reload"])).code, 0);
    const inventory = path.join(work, "inventory.yml");
    const inv = load(await readFile(inventory, "utf8")) as any;
    inv.pbx.hosts[paris1.name].wazo_ami_secret = "an-old-secret";
    await writeFile(inventory, dump(inv));
    const untouched = await snapshot(lyon.root);
    const r = await run(["ansible-playbook", "-i", "inventory.yml", "plugins.yml"], { cwd: work, env });
    assert.equal(r.code, 2, r.stdout);
    const recap = parseRecap(r.stdout);
    assert.equal(recap[paris1.name].failed, 1);
    assert.equal(recap[paris2.name].changed, 1, "the rest of the batch completes");
    assert.ok(!recap[lyon.name] || recap[lyon.name].ok === 0, r.stdout);
    assert.match(r.stdout, /NO MORE HOSTS LEFT/);
    assert.deepEqual(await snapshot(lyon.root), untouched);
  });
});

/** The document's inventory with each host made local: its root, its fake Asterisk, the local repository. */
function localInventory(text: string, fleet: Fleet, repoUrl: string): string {
  const inv = load(text) as any;
  for (const p of fleet.pbxs) {
    const host = inv.pbx.hosts[p.name];
    delete host.ansible_host;
    Object.assign(host, { ansible_connection: "local", ansible_python_interpreter: "auto_silent", wazo_root: p.root, wazo_ami_port: p.ami.port, wazo_ami_secret: SECRET });
  }
  delete inv.pbx.vars.ansible_user;
  inv.pbx.vars.acme_plugins_repo = repoUrl;
  return dump(inv);
}
