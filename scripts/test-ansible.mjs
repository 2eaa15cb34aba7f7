#!/usr/bin/env node
// The Ansible suite (npm run test:ansible): the collection in ansible/ with the real ansible-core.
// Installs ansible-core with apt-get when ansible-playbook is missing (CI runs as root on Debian),
// builds the collection tarball, installs it into a temp collections path, then runs
// test/ansible/*.ansible.ts with node:test. Extra arguments filter test files by substring.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const hasPython = (module) => spawnSync("/usr/bin/python3", ["-c", `import ${module}`], { stdio: "ignore" }).status === 0;
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

function sh(argv, opts = {}) {
  const r = spawnSync(argv[0], argv.slice(1), { stdio: "inherit", ...opts });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

// python3-voluptuous and python3-pycodestyle let the suite run ansible-test's validate-modules
// and pep8 checks offline.
const missing = [
  ...(has("ansible-playbook") ? [] : ["ansible-core"]),
  ...(hasPython("voluptuous") ? [] : ["python3-voluptuous"]),
  ...(hasPython("pycodestyle") ? [] : ["python3-pycodestyle"]),
];
if (missing.length) {
  if (!has("apt-get") || process.getuid?.() !== 0) {
    if (missing.includes("ansible-core")) {
      console.error(
        "test-ansible: ansible-playbook is missing; install ansible-core (Debian: apt-get install -y ansible-core python3-voluptuous python3-pycodestyle)",
      );
      process.exit(1);
    }
  } else {
    console.error(`test-ansible: installing ${missing.join(" ")} with apt-get`);
    try {
      sh(["apt-get", "update"]);
      sh(["apt-get", "install", "-y", "--no-install-recommends", ...missing], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
    } catch (e) {
      console.error(`test-ansible: ${e.message}`);
      process.exit(1);
    }
  }
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "wt-ansible-"));
let status = 1;
try {
  const env = {
    ...process.env,
    ANSIBLE_HOME: path.join(tmp, "home"),
    ANSIBLE_CONFIG: path.join(tmp, "none.cfg"),
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_COLLECTIONS_PATH: path.join(tmp, "collections"),
  };
  sh(["ansible-galaxy", "collection", "build", "ansible", "--output-path", path.join(tmp, "build")], { env });
  const tarball = readdirSync(path.join(tmp, "build")).find((f) => f.endsWith(".tar.gz"));
  sh(["ansible-galaxy", "collection", "install", path.join(tmp, "build", tarball), "-p", path.join(tmp, "collections")], { env });

  const filters = process.argv.slice(2);
  const files = readdirSync("test/ansible")
    .filter((f) => f.endsWith(".ansible.ts"))
    .map((f) => path.join("test/ansible", f))
    .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
    .sort();
  if (!files.length) throw new Error("no test files found");
  const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...files], {
    stdio: "inherit",
    env: { ...process.env, WAZO_TASKS_ANSIBLE_COLLECTIONS: path.join(tmp, "collections"), WAZO_TASKS_ANSIBLE_TARBALL: path.join(tmp, "build", tarball) },
  });
  status = r.status ?? 1;
} catch (e) {
  console.error(`test-ansible: ${e.message}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(status);
