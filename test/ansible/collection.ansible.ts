// The collection as a user gets it: installed from the folder and from the built tarball, its
// documentation read by ansible-doc and checked by ansible-test's validate-modules (the docs
// against the argument specs) and pep8 test, and the module's own refusals of bad arguments.
// ansible-test sanity itself needs the network (it bootstraps pip into a venv), so its
// validators run here directly, offline.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, EXAMPLES, REPO, snapshot, tempDir } from "../support/rig.js";
import { ansibleEnv, counts, playbook, run, SECRET, startFleet, writePlaybook, type Fleet } from "./rig.js";

const VALIDATE = "/usr/lib/python3/dist-packages/ansible_test/_util/controller/sanity/validate-modules/validate.py";
const PYTHON = "/usr/bin/python3";
const hasVoluptuous = spawnSync(PYTHON, ["-c", "import voluptuous"]).status === 0;
const hasPycodestyle = spawnSync(PYTHON, ["-c", "import pycodestyle"]).status === 0;

describe("the wazo.tasks collection", () => {
  let dir: string;
  before(async () => (dir = await tempDir("wt-collection-")));
  after(() => cleanup(dir));

  test("installs from the folder, and ansible-doc shows both modules' documentation", async () => {
    const env = { ...ansibleEnv(dir), ANSIBLE_COLLECTIONS_PATH: path.join(dir, "from-folder") };
    const installed = await run(["ansible-galaxy", "collection", "install", path.join(REPO, "ansible"), "-p", path.join(dir, "from-folder")], { env });
    assert.equal(installed.code, 0, installed.stderr);
    assert.match(installed.stdout, /wazo\.tasks:0\.1\.0 was installed successfully/);
    const doc = await run(["ansible-doc", "wazo.tasks.plugin"], { env });
    assert.equal(doc.code, 0, doc.stderr);
    assert.equal(doc.stderr, "", "no warning about the documentation");
    for (const option of ["name", "state", "source", "ref", "subdirectory", "root", "force", "reinstall", "wazo_version", "ami_url", "ami_secret", "executable"])
      assert.match(doc.stdout, new RegExp(`^[-=] ${option}$`, "m"), `option ${option} documented`);
    assert.match(doc.stdout, /^EXAMPLES:/m);
    assert.match(doc.stdout, /^RETURN VALUES:/m);
    const reload = await run(["ansible-doc", "wazo.tasks.reload"], { env });
    assert.equal(reload.code, 0, reload.stderr);
    assert.match(reload.stdout, /^- pending$/m);
  });

  test("the documentation parses as YAML and matches the argument specs (ansible-doc --json)", async () => {
    const r = await run(["ansible-doc", "--json", "wazo.tasks.plugin", "wazo.tasks.reload"], { env: ansibleEnv(dir) });
    assert.equal(r.code, 0, r.stderr);
    const docs = JSON.parse(r.stdout);
    const plugin = docs["wazo.tasks.plugin"];
    assert.deepEqual(plugin.doc.options.state.choices, ["present", "absent", "latest"]);
    assert.equal(plugin.doc.attributes.check_mode.support, "full");
    assert.equal(plugin.doc.attributes.diff_mode.support, "full");
    assert.ok(plugin.return.reload_pending, "RETURN documents reload_pending");
    assert.ok(plugin.examples.includes("wazo.tasks.plugin:"));
    assert.equal(docs["wazo.tasks.reload"].doc.options.pending.type, "bool");
  });

  test("ansible-test's validate-modules finds nothing", { skip: !hasVoluptuous && "python3-voluptuous is not installed (apt-get install python3-voluptuous)" }, async () => {
    // ansible-test sanity itself wants to download pip into a venv; its validator runs offline.
    const base = path.join(dir, "sanity/ansible_collections/wazo");
    await mkdir(base, { recursive: true });
    await cp(path.join(REPO, "ansible"), path.join(base, "tasks"), { recursive: true });
    const r = await run(
      [PYTHON, VALIDATE, "--format", "json", "--arg-spec", "--collection", "ansible_collections/wazo/tasks", "--collection-version", "0.1.0", "plugins/modules/plugin.py", "plugins/modules/reload.py"],
      { cwd: path.join(base, "tasks"), env: { ...ansibleEnv(dir), ANSIBLE_COLLECTIONS_PATH: path.join(dir, "sanity") } },
    );
    assert.equal(r.stderr, "");
    assert.deepEqual(JSON.parse(r.stdout), {}, r.stdout);
    assert.equal(r.code, 0);
  });

  test("pep8 as ansible-test's sanity checks it", { skip: !hasPycodestyle && "python3-pycodestyle is not installed" }, async () => {
    const ignore = (await readFile("/usr/lib/python3/dist-packages/ansible_test/_util/controller/sanity/pep8/current-ignore.txt", "utf8")).split("\n").filter(Boolean);
    const r = await run([PYTHON, "-m", "pycodestyle", "--max-line-length", "160", "--config", "/dev/null", "--ignore", ignore.join(","), path.join(REPO, "ansible/plugins")]);
    assert.equal(r.stdout + r.stderr, "");
    assert.equal(r.code, 0);
  });

  test("the Python compiles with the standard library and ansible only", async () => {
    const files = ["plugins/modules/plugin.py", "plugins/modules/reload.py", "plugins/module_utils/wazo_tasks.py", "plugins/module_utils/plugin_task.py", "plugins/doc_fragments/common.py"].map((f) => path.join(REPO, "ansible", f));
    const r = await run([PYTHON, "-c", `import ast,sys\nfor f in sys.argv[1:]:\n  for n in ast.walk(ast.parse(open(f).read())):\n    if isinstance(n,(ast.Import,ast.ImportFrom)):\n      m=(n.module if isinstance(n,ast.ImportFrom) else n.names[0].name) or ''\n      print(m.split('.')[0])`, ...files]);
    assert.equal(r.code, 0, r.stderr);
    const roots = new Set(r.stdout.split("\n").filter(Boolean));
    assert.deepEqual([...roots].filter((m) => !["__future__", "json", "os", "re", "urllib", "ansible", "ansible_collections"].includes(m)), []);
  });
});

describe("wazo.tasks.plugin refuses bad arguments before anything changes", () => {
  let dir: string;
  let fleet: Fleet;
  before(async () => {
    dir = await tempDir("wt-args-");
    fleet = await startFleet(dir, 1);
  });
  after(async () => {
    await fleet.close();
    await cleanup(dir);
  });

  const cases: Array<[string, string, RegExp]> = [
    ["a git source with two names", `name: [a, b]\n        source: https://git.example.com/acme/plugins.git`, /a git source holds one plugin: give its name alone in name \(got 2\)/],
    ["ref without a git source", `name: helloworld\n        source: ${EXAMPLES}\n        ref: v1`, /ref and subdirectory need a git URL in source/],
    ["a folder that does not exist", `name: helloworld\n        source: /nonexistent/plugins`, /source \/nonexistent\/plugins is not an absolute path of a folder on this host/],
    ["a plugin folder under another name", `name: helloworld\n        source: ${path.join(EXAMPLES, "sounds")}`, /source .*sounds holds the plugin sounds, but name says helloworld/],
    ["no name", `state: present`, /name is required unless state is latest/],
    ["ami_url with ami_user", `name: helloworld\n        ami_url: "ami://u:p@127.0.0.1:1"\n        ami_user: u`, /parameters are mutually exclusive: ami_url\|ami_user/],
    ["an executable that is not there", `name: helloworld\n        executable: /nonexistent/wazo-tasks`, /executable \/nonexistent\/wazo-tasks is not an executable file on this host/],
  ];
  for (const [what, args, message] of cases)
    test(what, async () => {
      const before = await snapshot(fleet.pbxs[0].root);
      const play = await writePlaybook(fleet, "bad.yml", `- hosts: all\n  gather_facts: false\n  tasks:\n    - wazo.tasks.plugin:\n        ${args}\n        root: "{{ wazo_root }}"\n`);
      const r = await playbook(fleet, play);
      assert.equal(r.code, 2, r.stdout);
      assert.deepEqual(counts(r, "failed", fleet), [1]);
      assert.match(r.stdout, message);
      assert.deepEqual(await snapshot(fleet.pbxs[0].root), before);
    });

  test("without ami_secret, the secret comes from the root's config file; ami_port replaces only the port", async () => {
    const pbx = fleet.pbxs[0];
    await mkdir(path.join(pbx.root, "etc/wazo-tasks"), { recursive: true });
    await writeFile(path.join(pbx.root, "etc/wazo-tasks/config.yml"), "ami:\n  port: 1\n  username: wazo-tasks\n  secret_file: ami-secret\n");
    await writeFile(path.join(pbx.root, "etc/wazo-tasks/ami-secret"), SECRET + "\n", { mode: 0o600 });
    const play = await writePlaybook(fleet, "config.yml", `- hosts: all\n  gather_facts: false\n  tasks:\n    - wazo.tasks.plugin:\n        name: helloworld\n        root: "{{ wazo_root }}"\n        ami_port: "{{ ami_port }}"\n`);
    const r = await playbook(fleet, play, ["-vvv"]);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(counts(r, "changed", fleet), [1]);
    assert.equal(pbx.ami.reloadCount("dialplan"), 1);
    assert.match(r.stdout, new RegExp(`"--ami-port",\\s*"${pbx.ami.port}"`));
    assert.ok(!(r.stdout + r.stderr).includes(SECRET));
  });

  test("a root locked by another run: the task waits lock_timeout, then fails saying so, nothing changed", async () => {
    const root = fleet.pbxs[0].root;
    await mkdir(path.join(root, "var/lib/wazo-tasks"), { recursive: true });
    await writeFile(path.join(root, "var/lib/wazo-tasks/lock"), `${process.pid}\n`);
    try {
      const before = await snapshot(root);
      const play = await writePlaybook(fleet, "locked.yml", `- hosts: all\n  gather_facts: false\n  tasks:\n    - wazo.tasks.plugin:\n        name: sounds\n        lock_timeout: 1\n        root: "{{ wazo_root }}"\n`);
      const r = await playbook(fleet, play);
      assert.equal(r.code, 2, r.stdout);
      assert.match(r.stdout, new RegExp(`"msg": "[^"]*another wazo-tasks run \\(pid ${process.pid}\\) holds the lock`));
      assert.match(r.stdout, /"--lock-timeout", "1"/);
      assert.deepEqual(await snapshot(root), before);
    } finally {
      await rm(path.join(root, "var/lib/wazo-tasks/lock"));
    }
  });

  test("credentials in a git URL appear in no output, even when the fetch fails", async () => {
    const token = "ghp_T0kenInAUrl9x8y7z";
    const root = fleet.pbxs[0].root;
    const before = await snapshot(root);
    const play = await writePlaybook(fleet, "token.yml", `- hosts: all\n  gather_facts: false\n  tasks:\n    - wazo.tasks.plugin:\n        name: acme\n        source: "https://deploy:${token}@127.0.0.1:9/acme.git"\n        root: "{{ wazo_root }}"\n      ignore_errors: true\n    - wazo.tasks.plugin:\n        name: ["https://${token}@127.0.0.1:9/acme.git"]\n        root: "{{ wazo_root }}"\n      ignore_errors: true\n`);
    const r = await playbook(fleet, play, ["-vvv"]);
    assert.deepEqual(counts(r, "ignored", fleet), [2], r.stdout);
    assert.equal((r.stdout.match(/^fatal: \[pbx1\]: FAILED!/gm) ?? []).length, 2, "both fail: nothing listens there");
    assert.ok(!(r.stdout + r.stderr).includes(token), "the token is masked");
    assert.deepEqual(await snapshot(root), before);
  });

  test("a plugin folder as source installs that plugin", async () => {
    const plugin = path.join(dir, "my-plugin");
    await mkdir(plugin);
    await writeFile(path.join(plugin, "package.yml"), 'name: my-plugin\ndescription: one file\nversion: "1.0.0"\n');
    await writeFile(path.join(plugin, "tasks.yml"), "install:\n  - copy: my.conf\n    to: /etc/acme/\n");
    await writeFile(path.join(plugin, "my.conf"), "x = 1\n");
    const play = await writePlaybook(fleet, "one.yml", `- hosts: all\n  gather_facts: false\n  tasks:\n    - wazo.tasks.plugin:\n        name: my-plugin\n        source: ${plugin}\n        root: "{{ wazo_root }}"\n`);
    const r = await playbook(fleet, play);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(counts(r, "changed", fleet), [1]);
    const again = await playbook(fleet, play);
    assert.deepEqual(counts(again, "changed", fleet), [0]);
  });
});
