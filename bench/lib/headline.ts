/**
 * Rows 7–10 of `npm run bench`: one plugin against an Ansible play, one plugin while a lot of
 * unrelated data waits to be written, the dry run of one plugin against `node -e 0`, and a
 * tasks.ts descriptor against the same plugin's tasks.yml. Each is A/B interleaved, like the
 * others (bench/run.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { interleave, type Command, type SideResult } from "./proc.js";
import type { Pbx } from "./pbx.js";

export interface RowContext {
  repo: string;
  tmp: string;
  cli: string;
  node: string;
  pbx: Pbx;
  baseEnv: (extra?: NodeJS.ProcessEnv) => NodeJS.ProcessEnv;
  runsFor: (dflt: number) => number;
  progress: (line: string) => void;
  show: (argv: string[]) => string;
}

export interface HeadlineRow {
  id: number;
  name: string;
  a: SideResult;
  b?: SideResult;
  ratio?: number;
  reloads?: { a: number[]; b: number[] };
  target: string;
  met: boolean | undefined;
  notes: string[];
  commands: { a: string; b?: string };
  skipped?: string;
}

const HELLO = "etc/asterisk/extensions_extra.d/helloworld.conf";
/** Unrelated dirty data for row 8: 1.5 GiB, written in 1 MiB blocks, never flushed. */
const DIRTY_MIB = 1536;

const reloadsIn = (stdout: string) => (/\breloads=dialplan\b/.test(stdout) ? 1 : 0);

function installHello(c: RowContext, root: string, plugin = "helloworld", extra: string[] = []): Command {
  return { argv: [c.node, c.cli, "install", plugin, "--root", root, ...extra], env: c.baseEnv({ WAZO_TASKS_AMI_URL: c.pbx.amiUrl }) };
}

/** Row 7: the same install as an Ansible play would do it (copy, then a handler reloading the dialplan). */
export async function rowAnsible(c: RowContext): Promise<HeadlineRow> {
  const name = "one plugin vs Ansible";
  const target = "A/B ≤ 0.10";
  const which = spawnSync("ansible-playbook", ["--version"], { encoding: "utf8" });
  if (which.status !== 0) {
    const skipped = "ansible-playbook not found (Debian package ansible-core): row skipped";
    c.progress(`7 ${name}: ${skipped}`);
    return {
      id: 7,
      name,
      a: { label: "install helloworld", ms: [], median: NaN, min: NaN, max: NaN },
      target,
      met: undefined,
      notes: [skipped],
      commands: { a: "—" },
      skipped,
    };
  }
  const dir = path.join(c.tmp, "ansible");
  mkdirSync(dir, { recursive: true });
  const src = path.join(c.repo, "plugins-examples/helloworld/helloworld.conf");
  const play = path.join(dir, "helloworld.yml");
  writeFileSync(
    play,
    `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - name: helloworld dialplan\n      ansible.builtin.copy:\n        src: ${src}\n        dest: "{{ root }}/${HELLO}"\n        mode: "0644"\n      notify: reload dialplan\n  handlers:\n    - name: reload dialplan\n      ansible.builtin.command: asterisk -rx 'dialplan reload'\n`,
  );
  writeFileSync(path.join(dir, "inventory"), "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n");
  const ansible = (root: string): Command => ({
    argv: ["ansible-playbook", "-i", path.join(dir, "inventory"), play, "-e", `root=${root}`],
    env: c.pbx.asteriskEnv(
      c.baseEnv({ ANSIBLE_NOCOLOR: "1", ANSIBLE_LOCAL_TEMP: path.join(dir, "tmp"), ANSIBLE_HOME: path.join(dir, "home"), ANSIBLE_RETRY_FILES_ENABLED: "0" }),
    ),
  });
  const reloads = { a: [] as number[], b: [] as number[] };
  const check = (side: "a" | "b") => async (root: string, r: { stdout: string }, measured: boolean) => {
    if (!existsSync(path.join(root, HELLO))) throw new Error(`row 7 ${side}: ${HELLO} was not installed:\n${r.stdout.slice(-2000)}`);
    const n = c.pbx.takeReloads(side === "a" && c.pbx.kind === "real" ? reloadsIn(r.stdout) : 0);
    if (measured) reloads[side].push(n);
    c.pbx.done(root);
  };
  const [ra, rb] = await interleave(
    [
      { label: "install helloworld", prepare: () => c.pbx.prepare("ansible-wt"), command: (root: string) => installHello(c, root), after: check("a") },
      { label: "ansible-playbook (copy + handler)", prepare: () => c.pbx.prepare("ansible-play"), command: ansible, after: check("b") },
    ],
    { warmup: 1, runs: c.runsFor(7), what: `7 ${name}`, progress: c.progress },
  );
  const ratio = ra.median / rb.median;
  return {
    id: 7,
    name,
    a: ra,
    b: rb,
    ratio,
    reloads,
    target,
    met: ratio <= 0.1,
    notes: [`${which.stdout.split("\n")[0]}; local connection, no fact gathering`],
    commands: { a: c.show(installHello(c, "$ROOT").argv), b: c.show(ansible("$ROOT").argv) },
  };
}

/** Row 8: one plugin while 1.5 GiB of another program's writes sit dirty in the page cache of the same file system. */
export async function rowDirty(c: RowContext): Promise<HeadlineRow> {
  const name = "one plugin, 1.5 GiB dirty";
  const dirty = path.join(c.tmp, "dirty.bin");
  const sameFs = (a: string, b: string) => statSync(a).dev === statSync(b).dev;
  const notes = [
    `before each A run (untimed): dd if=/dev/zero of=$TMP/dirty.bin bs=1M count=${DIRTY_MIB}, no flush; removed after the run (its pages are dropped, never written)`,
  ];
  const dirtyNow = () => Number(/^Dirty:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024;
  const seen: number[] = [];
  const [ra, rb] = await interleave(
    [
      {
        label: "install helloworld (1.5 GiB dirty)",
        prepare: async () => {
          const root = await c.pbx.prepare("dirty");
          if (!sameFs(root, c.tmp)) throw new Error("row 8: the root and the dirty file are on different file systems");
          execFileSync("dd", ["if=/dev/zero", `of=${dirty}`, "bs=1M", `count=${DIRTY_MIB}`, "status=none"], { timeout: 120_000 });
          seen.push(dirtyNow());
          return root;
        },
        command: (root: string) => installHello(c, root),
        after: async (root: string) => {
          rmSync(dirty, { force: true });
          if (!existsSync(path.join(root, HELLO))) throw new Error("row 8: helloworld was not installed");
          c.pbx.takeReloads();
          c.pbx.done(root);
        },
      },
      {
        label: "install helloworld (quiet)",
        prepare: async () => {
          execFileSync("sync"); // untimed: a quiet file system
          return c.pbx.prepare("quiet");
        },
        command: (root: string) => installHello(c, root),
        after: async (root: string) => {
          if (!existsSync(path.join(root, HELLO))) throw new Error("row 8: helloworld was not installed");
          c.pbx.takeReloads();
          c.pbx.done(root);
        },
      },
    ],
    { warmup: 1, runs: c.runsFor(7), what: `8 ${name}`, progress: c.progress },
  ).finally(() => rmSync(dirty, { force: true }));
  notes.push(`dirty memory (/proc/meminfo Dirty) after each dd: ${seen.map((m) => `${m.toFixed(0)} MiB`).join(", ")}`);
  const ratio = ra.median / rb.median;
  return {
    id: 8,
    name,
    a: ra,
    b: rb,
    ratio,
    target: "A/B ≤ 1.30",
    met: ratio <= 1.3,
    notes,
    commands: { a: c.show(installHello(c, "$ROOT").argv), b: c.show(installHello(c, "$ROOT").argv) },
  };
}

/** Row 9: the dry run of one plugin against Node's own start-up. */
export async function rowDryHello(c: RowContext): Promise<HeadlineRow> {
  const root = path.join(c.tmp, "dry-hello-root");
  mkdirSync(path.join(root, "etc/asterisk/extensions_extra.d"), { recursive: true });
  const a: Command = { argv: [c.node, c.cli, "install", "helloworld", "--root", root, "--dry-run"], env: c.baseEnv() };
  const b: Command = { argv: [c.node, "-e", "0"], env: c.baseEnv() };
  // The same dry run without the code cache (dist/cli/main.cjs): its cache folder is a file.
  const noCache = path.join(c.tmp, "no-cache");
  writeFileSync(noCache, "");
  const check = async (_x: unknown, r: { stdout: string }) => {
    if (!/would change=1\b/.test(r.stdout)) throw new Error(`row 9: unexpected dry run output:\n${r.stdout}`);
  };
  const [ra, rb, rc] = await interleave(
    [
      { label: "install helloworld --dry-run", command: () => a, after: check },
      { label: "node -e 0", command: () => b },
      { label: "the same, no code cache", command: () => ({ ...a, env: { ...a.env, XDG_CACHE_HOME: noCache } }), after: check },
    ],
    { warmup: 2, runs: c.runsFor(15), what: "9 dry run helloworld", progress: c.progress },
  );
  rmSync(root, { recursive: true, force: true });
  const ratio = ra.median / rb.median;
  return {
    id: 9,
    name: "dry run, helloworld",
    a: ra,
    b: rb,
    ratio,
    target: "A/B ≤ 1.50",
    met: ratio <= 1.5,
    notes: [`without the code cache (XDG_CACHE_HOME not a folder): ${rc.median.toFixed(0)} ms, A/B ${(rc.median / rb.median).toFixed(2)}`],
    commands: { a: c.show(a.argv), b: c.show(b.argv) },
  };
}

/** Row 10: plugins-examples/helloworld-ts against the same plugin with its tasks.yml equivalent. */
export async function rowTasksTs(c: RowContext): Promise<HeadlineRow> {
  const ts = path.join(c.repo, "plugins-examples/helloworld-ts");
  const yml = path.join(c.tmp, "helloworld-yml");
  mkdirSync(yml, { recursive: true });
  for (const f of ["package.yml", "helloworld.conf"]) copyFileSync(path.join(ts, f), path.join(yml, f));
  writeFileSync(
    path.join(yml, "tasks.yml"),
    'install:\n  - copy: helloworld.conf\n    to: /etc/asterisk/extensions_extra.d/helloworld-ts.conf\n    mode: "0644"\n  - reload: dialplan\n  - verify:\n      extension: "***43"\n      context: xivo-extrafeatures\n',
  );
  const file = "etc/asterisk/extensions_extra.d/helloworld-ts.conf";
  const check = (side: string) => async (root: string) => {
    if (!existsSync(path.join(root, file))) throw new Error(`row 10 ${side}: ${file} was not installed`);
    c.pbx.takeReloads();
    c.pbx.done(root);
  };
  const [ra, rb] = await interleave(
    [
      {
        label: "install helloworld-ts (tasks.ts)",
        prepare: () => c.pbx.prepare("ts"),
        command: (root: string) => installHello(c, root, ts),
        after: check("a"),
      },
      { label: "install (the same, tasks.yml)", prepare: () => c.pbx.prepare("yml"), command: (root: string) => installHello(c, root, yml), after: check("b") },
    ],
    { warmup: 1, runs: c.runsFor(7), what: "10 tasks.ts vs tasks.yml", progress: c.progress },
  );
  const ratio = ra.median / rb.median;
  return {
    id: 10,
    name: "tasks.ts vs tasks.yml",
    a: ra,
    b: rb,
    ratio,
    target: "A/B ≤ 1.50",
    met: ratio <= 1.5,
    notes: ["tasks.ts is evaluated in a child process (esbuild's transform, cached by content): that process's start-up is most of A's extra time"],
    commands: { a: c.show(installHello(c, "$ROOT", ts).argv), b: c.show(installHello(c, "$ROOT", yml).argv) },
  };
}
