/**
 * The Ansible suite's rig: a fleet of PBXs on this machine (`ansible_connection: local`), each
 * with its own staging root and its own fake Asterisk (AMI server on its own port, its users from
 * the root's manager.d), and the real `ansible-playbook` run as a process against them.
 *
 * The collection is installed by scripts/test-ansible.mjs into WAZO_TASKS_ANSIBLE_COLLECTIONS
 * (from a tarball built with `ansible-galaxy collection build`); the suite never touches
 * ~/.ansible.
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { startFakeAmi, type FakeAmi, type FakeReloadOutcome } from "../support/fake-ami.js";
import { managerUsers } from "../support/fake-asterisk.js";
import { makeExecutable, REPO, snapshot, type Snapshot } from "../support/rig.js";

export const SECRET = "s3cr3t-Zq8v1Rk4Lm";
export const KEEP_CONF = "etc/asterisk/extensions_extra.d/00-keep.conf";

export function collectionsPath(): string {
  const dir = process.env.WAZO_TASKS_ANSIBLE_COLLECTIONS;
  if (!dir) throw new Error("WAZO_TASKS_ANSIBLE_COLLECTIONS is not set: run the suite with `npm run test:ansible`");
  return dir;
}

export interface Pbx {
  name: string;
  root: string;
  ami: FakeAmi;
  /** Extra host variables for the inventory. */
  vars: Record<string, unknown>;
}

export interface Fleet {
  dir: string;
  pbxs: Pbx[];
  inventory: string;
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
  /** Rewrites the inventory (after a change of `vars`). */
  writeInventory(): Promise<void>;
  snapshots(): Promise<Snapshot[]>;
  /** Stops a host's fake Asterisk and starts another on the same port. */
  restartAmi(pbx: Pbx, modules?: Record<string, FakeReloadOutcome>): Promise<void>;
}

/** A root as on a Wazo PBX: extensions_extra.d holds a file already, and AMI has a wazo-tasks user. */
async function makeRoot(root: string): Promise<void> {
  await mkdir(path.join(root, "etc/asterisk/manager.d"), { recursive: true });
  await mkdir(path.join(root, "etc/asterisk/extensions_extra.d"), { recursive: true });
  await writeFile(path.join(root, KEEP_CONF), "; keeps the #include glob of extensions.conf matching\n");
  await writeFile(path.join(root, "etc/asterisk/manager.d/99-wazo-tasks.conf"), `[wazo-tasks]\nsecret = ${SECRET}\nread =\nwrite = system,command\n`);
}

async function startAmi(root: string, port = 0, modules?: Record<string, FakeReloadOutcome>): Promise<FakeAmi> {
  return startFakeAmi({ root, port, users: managerUsers(root), authFailureDelayMs: 50, modules });
}

/** PBXs named pbx1..pbxN (or as given) under `dir`, with `wazo-tasks` on the PATH given to Ansible. */
export async function startFleet(dir: string, hosts: number | string[] = 3): Promise<Fleet> {
  const bin = path.join(dir, "bin");
  await makeExecutable(path.join(bin, "wazo-tasks"), `#!/bin/sh\nexec '${process.execPath}' '${path.join(REPO, "dist/cli/main.cjs")}' "$@"\n`);
  const names = typeof hosts === "number" ? Array.from({ length: hosts }, (_, i) => `pbx${i + 1}`) : hosts;
  const pbxs: Pbx[] = [];
  for (const name of names) {
    const root = path.join(dir, "roots", name);
    await makeRoot(root);
    pbxs.push({ name, root, ami: await startAmi(root), vars: {} });
  }
  const inventory = path.join(dir, "inventory.yml");
  const fleet: Fleet = {
    dir,
    pbxs,
    inventory,
    env: ansibleEnv(dir, bin),
    async writeInventory() {
      const hosts = Object.fromEntries(
        pbxs.map((p) => [p.name, { ansible_connection: "local", ansible_python_interpreter: "auto_silent", wazo_root: p.root, ami_port: p.ami.port, ami_secret: SECRET, ...p.vars }]),
      );
      await writeFile(inventory, JSON.stringify({ all: { hosts } }, null, 2));
    },
    snapshots: () => Promise.all(pbxs.map((p) => snapshot(p.root))),
    async restartAmi(pbx, modules) {
      const port = pbx.ami.port;
      await pbx.ami.close();
      pbx.ami = await startAmi(pbx.root, port, modules);
    },
    async close() {
      await Promise.all(pbxs.map((p) => p.ami.close()));
    },
  };
  await fleet.writeInventory();
  return fleet;
}

/** The environment of ansible-playbook: no config file, no colours, temp folders under `dir`. */
export function ansibleEnv(dir: string, bin?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: bin ? `${bin}:${process.env.PATH}` : process.env.PATH,
    ANSIBLE_CONFIG: path.join(dir, "no-ansible.cfg"),
    ANSIBLE_COLLECTIONS_PATH: collectionsPath(),
    ANSIBLE_NOCOLOR: "1",
    ANSIBLE_FORCE_COLOR: "0",
    ANSIBLE_RETRY_FILES_ENABLED: "0",
    ANSIBLE_LOCAL_TEMP: path.join(dir, "ansible-local"),
    ANSIBLE_REMOTE_TMP: path.join(dir, "ansible-remote"),
    ANSIBLE_HOME: path.join(dir, "ansible-home"),
    ANSIBLE_DEPRECATION_WARNINGS: "0",
    WAZO_TASKS_AMI_URL: "",
    WAZO_TASKS_PLUGINS_PATH: "",
    NO_COLOR: "1",
  };
}

export interface PlayResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** PLAY RECAP per host: ok, changed, failed, ... */
  recap: Record<string, Record<string, number>>;
}

/** Runs a real command (ansible-playbook, ansible-doc...) asynchronously, so the fake AMIs of this process keep answering. */
export function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 180_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function parseRecap(stdout: string): Record<string, Record<string, number>> {
  const recap: Record<string, Record<string, number>> = {};
  const at = stdout.lastIndexOf("PLAY RECAP");
  if (at < 0) return recap;
  for (const line of stdout.slice(at).split("\n").slice(1)) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    recap[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  }
  return recap;
}

/** `ansible-playbook -i INVENTORY PLAYBOOK ARGS` for the fleet. */
export async function playbook(fleet: Fleet, file: string, args: string[] = []): Promise<PlayResult> {
  const r = await run(["ansible-playbook", "-i", fleet.inventory, file, ...args], { cwd: fleet.dir, env: fleet.env });
  return { ...r, recap: parseRecap(r.stdout) };
}

/** Writes a playbook (YAML text) into the fleet's folder; returns its path. */
export async function writePlaybook(fleet: Fleet, name: string, yaml: string): Promise<string> {
  const file = path.join(fleet.dir, name);
  await writeFile(file, yaml);
  return file;
}

/** The recap's counter for each host, in fleet order. */
export const counts = (r: PlayResult, key: string, fleet: Fleet) => fleet.pbxs.map((p) => r.recap[p.name]?.[key]);
