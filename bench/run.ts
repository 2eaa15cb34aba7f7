/**
 * `npm run bench`: wazo-tasks against what it replaces, each row an A/B pair measured in the
 * same run, interleaved (A B A B …), median of at least 5 runs after a warm-up. Prints one table
 * on stdout (progress on stderr) and writes bench/results.json. See docs/performance.md.
 *
 *   npm run bench                      # every row
 *   npm run bench -- --rows 3,4        # some rows
 *   npm run bench -- --runs 9          # counted runs per row (default 5–15 by row; < 5 is flagged)
 *   npm run bench -- --keep            # keep the temp folder (plugins, roots, AMI logs)
 *   npm run bench -- --snapshot        # measure a copy of dist/ taken at the start (other builds running)
 *   npm run bench -- --fake            # the fake AMI server even when a real Asterisk is there
 *
 * Everything generated (plugins, roots, the fake AMI servers' logs) lives in one temp folder,
 * removed at the end.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { FakeAmiProcess } from "./lib/fake-ami.js";
import { rowAnsible, rowDirty, rowDryHello, rowTasksTs, type RowContext } from "./lib/headline.js";
import { FAKE_LARGE_RELOAD_MS, findRealAsterisk, LARGE_EXTENSIONS, startFakePbx, startRealPbx, type Pbx } from "./lib/pbx.js";
import { makeBigPlugin, makeHelloworldMake, makeSmallPlugins, type BigPlugin } from "./lib/fixtures.js";
import { interleave, median, runChecked, type Command, type SideResult } from "./lib/proc.js";
import { peakRss, type Rss } from "./lib/rss.js";

const REPO = path.resolve(fileURLToPath(new URL("..", import.meta.url)));
const BUILT_CLI = path.join(REPO, "dist/cli/main.cjs");
/** The CLI measured: dist/cli/main.cjs (the package's bin), or with --snapshot a copy of dist/ taken at the start. */
let CLI = BUILT_CLI;
const FIXTURE_BIN = path.join(REPO, "test/fixtures/bin");
const NODE = process.execPath;
const PLUGIN_COUNT = 20;
/** AMI port of the real Asterisk instance (this checkout's range: 16000-16999). */
const REAL_AMI_PORT = 16038;

const { values: flags } = parseArgs({
  options: {
    rows: { type: "string" },
    runs: { type: "string" },
    keep: { type: "boolean" },
    snapshot: { type: "boolean" },
    fake: { type: "boolean" },
  },
});
const wanted = new Set((flags.rows ?? "1,2,3,4,5,6,7,8,9,10").split(",").map((s) => Number(s.trim())));
const runsOverride = flags.runs ? Number(flags.runs) : undefined;
if (runsOverride !== undefined && !(Number.isInteger(runsOverride) && runsOverride > 0)) throw new Error("--runs must be a positive whole number");
const runsFor = (dflt: number) => runsOverride ?? dflt;

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

/**
 * The environment every measured process gets: no inherited Node flags or wazo-tasks settings;
 * the cache folder (wazo-tasks' code cache and compiled tasks.ts) in the temp folder, so that a
 * run starts from none: the warm-up runs fill it.
 */
function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === "NODE_OPTIONS" || k.startsWith("WAZO_TASKS_") || k.startsWith("FAKE_") || k === "DESTDIR" || k.startsWith("MAKE")) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", XDG_CACHE_HOME: path.join(tmp, "cache"), ...extra };
}

interface Row {
  skipped?: string;
  /** 1-minute load average at the row's start and end. */
  loadAverage?: [number, number];
  id: number;
  name: string;
  a: SideResult;
  b?: SideResult;
  /** A/B of the medians. */
  ratio?: number;
  reloads?: { a: number[]; b: number[] };
  rss?: Rss[];
  target: string;
  met: boolean | undefined;
  notes: string[];
  commands: { a: string; b?: string };
}

// ---------------------------------------------------------------------------------------------

const tmp = mkdtempSync(path.join(os.tmpdir(), "wazo-bench-"));
let rootCounter = 0;
/** A fresh staging root with the folders a PBX already has (on both sides alike). */
function freshRoot(label: string, dirs: string[] = ["/etc/asterisk/extensions_extra.d"]): string {
  const root = path.join(tmp, "roots", `${label}-${++rootCounter}`);
  for (const d of dirs) mkdirSync(path.join(root, d), { recursive: true });
  return root;
}
const removeRoot = (root: string) => rmSync(root, { recursive: true, force: true });

/** Displayed command lines: temp paths shortened. */
const show = (argv: string[]) =>
  argv.map((a) => (a === CLI && CLI !== BUILT_CLI ? "dist/cli/main.cjs (snapshot)" : a.replace(tmp, "$TMP").replace(REPO + "/", ""))).join(" ");

const servers: FakeAmiProcess[] = [];
let pbx: Pbx | undefined;
let pbxNote = "none (no row needs one)";
const rows: Row[] = [];
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    interrupted = true;
    void cleanup().then(() => process.exit(130));
  });
}

async function cleanup(): Promise<void> {
  for (const s of servers.splice(0)) await s.stop().catch(() => undefined);
  if (pbx?.kind === "real") await pbx.stop();
  if (flags.keep) process.stderr.write(`kept ${tmp}\n`);
  else rmSync(tmp, { recursive: true, force: true });
}

const counted = (xs: number[]) => {
  const distinct = [...new Set(xs)];
  return distinct.length === 1 ? String(distinct[0]) : `${Math.min(...xs)}–${Math.max(...xs)}`;
};

function filesUnder(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        bytes += lstatSync(p).size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

const sync = () => execFileSync("sync");

/** A fingerprint of dist/ (paths, sizes, mtimes): a rebuild during the run makes its rows suspect. */
function distFingerprint(): string {
  const parts: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".js")) {
        const st = lstatSync(p);
        parts.push(`${p}:${st.size}:${st.mtimeMs}`);
      }
    }
  };
  walk(path.join(REPO, "dist"));
  return parts.join("\n");
}

// ---------------------------------------------------------------------------------------------

async function rowStartup(): Promise<Row> {
  const a = { argv: [NODE, CLI, "--version"], env: baseEnv() };
  const b = { argv: [NODE, "-e", "0"], env: baseEnv() };
  const version = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")).version as string;
  const [ra, rb] = await interleave(
    [
      {
        label: "wazo-tasks --version",
        command: () => a,
        after: async (_c, r) => {
          if (r.stdout.trim() !== version) throw new Error(`--version printed ${JSON.stringify(r.stdout)}`);
        },
      },
      { label: "node -e 0", command: () => b },
    ],
    { warmup: 2, runs: runsFor(15), what: "1 start-up", progress },
  );
  const ratio = ra.median / rb.median;
  return { id: 1, name: "start-up", a: ra, b: rb, ratio, target: "A/B ≤ 1.30", met: ratio <= 1.3, notes: [], commands: { a: show(a.argv), b: show(b.argv) } };
}

async function rowOnePlugin(pbx: Pbx, hwMake: string): Promise<Row> {
  const reloads = { a: [] as number[], b: [] as number[] };
  const file = "etc/asterisk/extensions_extra.d/helloworld.conf";
  const aCmd = (root: string): Command => ({ argv: [NODE, CLI, "install", "helloworld", "--root", root], env: baseEnv({ WAZO_TASKS_AMI_URL: pbx.amiUrl }) });
  const bCmd = (root: string): Command => ({ argv: ["make", "-C", hwMake, "install", `DESTDIR=${root}`], env: pbx.asteriskEnv(baseEnv()) });
  const check = (side: "a" | "b") => async (root: string, r: { stdout: string }, measured: boolean) => {
    if (!existsSync(path.join(root, file))) throw new Error(`row 2 ${side}: ${file} was not installed`);
    const n = pbx.takeReloads(side === "a" && pbx.kind === "real" ? viaAmi(r.stdout) : 0);
    if (measured) reloads[side].push(n);
    pbx.done(root);
  };
  const [ra, rb] = await interleave(
    [
      { label: "wazo-tasks install helloworld", prepare: () => pbx.prepare("hello"), command: aCmd, after: check("a") },
      { label: "make install (helloworld)", prepare: () => pbx.prepare("hello"), command: bCmd, after: check("b") },
    ],
    { warmup: 1, runs: runsFor(9), what: "2 one plugin", progress },
  );
  return {
    id: 2,
    name: "one plugin",
    a: ra,
    b: rb,
    ratio: ra.median / rb.median,
    reloads,
    target: "— (reference)",
    met: undefined,
    notes: ["wazo-tasks also verifies ***42@xivo-extrafeatures after the reload (one more AMI Command)"],
    commands: { a: show(aCmd("$ROOT").argv), b: show(bCmd("$ROOT").argv) },
  };
}

/** Reloads a wazo-tasks run made through AMI, from its recap (`reloads=dialplan`). */
const viaAmi = (stdout: string) => (/\breloads=dialplan\b/.test(stdout) ? 1 : 0);

function makeLoop(pluginsDir: string, names: string[], root: string, pbx: Pbx): Command {
  return {
    argv: ["sh", "-c", 'for p in $BENCH_PLUGINS; do make -C "$BENCH_PLUGIN_DIR/$p" install DESTDIR="$BENCH_ROOT" || exit 1; done'],
    env: pbx.asteriskEnv(baseEnv({ BENCH_PLUGINS: names.join(" "), BENCH_PLUGIN_DIR: pluginsDir, BENCH_ROOT: root })),
  };
}

function installMany(pluginsDir: string, names: string[], root: string, pbx: Pbx | undefined, extra: string[] = []): Command {
  return {
    argv: [NODE, CLI, "install", ...names, "--root", root, "--plugins-dir", pluginsDir, ...extra],
    env: baseEnv(pbx ? { WAZO_TASKS_AMI_URL: pbx.amiUrl } : {}),
  };
}

const largeNote = (pbx: Pbx) =>
  pbx.kind === "real"
    ? `${LARGE_EXTENSIONS.toLocaleString("en")} extensions (15,000 priorities) loaded into the real Asterisk first`
    : `fake AMI reload delay ${FAKE_LARGE_RELOAD_MS} ms (≈ ${LARGE_EXTENSIONS.toLocaleString("en")} extensions)`;

async function rowTwenty(pbx: Pbx, plugins: { dir: string; names: string[] }): Promise<Row> {
  const reloads = { a: [] as number[], b: [] as number[] };
  const check = (side: "a" | "b") => async (root: string, r: { stdout: string }, measured: boolean) => {
    const have = readdirSync(path.join(root, "etc/asterisk/extensions_extra.d")).filter((f) => /^p\d\d\.conf$/.test(f)).length;
    if (have !== plugins.names.length) throw new Error(`row 3 ${side}: ${have} dialplan files installed, expected ${plugins.names.length}`);
    const n = pbx.takeReloads(side === "a" && pbx.kind === "real" ? viaAmi(r.stdout) : 0);
    if (measured) reloads[side].push(n);
    pbx.done(root);
  };
  await pbx.large(true);
  const [ra, rb] = await interleave(
    [
      {
        label: `wazo-tasks install p01…p${PLUGIN_COUNT}`,
        prepare: () => pbx.prepare("twenty"),
        command: (root: string) => installMany(plugins.dir, plugins.names, root, pbx),
        after: check("a"),
      },
      {
        label: `${PLUGIN_COUNT} × make install`,
        prepare: () => pbx.prepare("twenty"),
        command: (root: string) => makeLoop(plugins.dir, plugins.names, root, pbx),
        after: check("b"),
      },
    ],
    { warmup: 1, runs: runsFor(5), what: "3 twenty plugins", progress },
  ).finally(() => pbx.large(false));
  const speedup = rb.median / ra.median;
  const okReloads = reloads.a.every((n) => n === 1) && reloads.b.every((n) => n === PLUGIN_COUNT);
  return {
    id: 3,
    name: `${PLUGIN_COUNT} plugins, large PBX`,
    a: ra,
    b: rb,
    ratio: ra.median / rb.median,
    reloads,
    target: `B/A ≥ 12; reloads 1 vs ${PLUGIN_COUNT}`,
    met: speedup >= 12 && okReloads,
    notes: [largeNote(pbx), ...[standInNote(rb, ra)].filter((x): x is string => x !== undefined)],
    commands: {
      a: show(installMany(plugins.dir, plugins.names, "$ROOT", pbx).argv),
      b: show(makeLoop(plugins.dir, plugins.names, "$ROOT", pbx).argv) + `  (BENCH_PLUGINS="${plugins.names[0]} … ${plugins.names[plugins.names.length - 1]}")`,
    },
  };
}

async function rowReinstall(pbx: Pbx, plugins: { dir: string; names: string[] }): Promise<Row> {
  // Untimed set-up: the root holds the 20 plugins already, installed by wazo-tasks (it needs
  // its state); the make side reinstalls over the same files (make install overwrites them).
  await pbx.large(true);
  try {
    const root = await pbx.prepare("reinstall");
    await runChecked(installMany(plugins.dir, plugins.names, root, pbx), "row 4 set-up");
    pbx.takeReloads();
    const reloads = { a: [] as number[], b: [] as number[] };
    const [ra, rb] = await interleave(
      [
        {
          label: `wazo-tasks install p01…p${PLUGIN_COUNT} (again)`,
          command: () => installMany(plugins.dir, plugins.names, root, pbx),
          after: async (_x: unknown, r, measured) => {
            if (!/\bchanged=0\b/.test(r.stdout)) throw new Error(`row 4: the reinstall changed something:\n${r.stdout.slice(-2000)}`);
            const n = pbx.takeReloads(pbx.kind === "real" ? viaAmi(r.stdout) : 0);
            if (measured) reloads.a.push(n);
          },
        },
        {
          label: `${PLUGIN_COUNT} × make install (again)`,
          command: () => makeLoop(plugins.dir, plugins.names, root, pbx),
          after: async (_x: unknown, _r, measured) => {
            const n = pbx.takeReloads();
            if (measured) reloads.b.push(n);
          },
        },
      ],
      { warmup: 1, runs: runsFor(5), what: "4 reinstall", progress },
    );
    pbx.done(root);
    const speedup = rb.median / ra.median;
    return {
      id: 4,
      name: `reinstall ${PLUGIN_COUNT}, unchanged`,
      a: ra,
      b: rb,
      ratio: ra.median / rb.median,
      reloads,
      target: "B/A ≥ 15; 0 reloads",
      met: speedup >= 15 && reloads.a.every((n) => n === 0),
      notes: [largeNote(pbx), ...[standInNote(rb, ra)].filter((x): x is string => x !== undefined)],
      commands: { a: show(installMany(plugins.dir, plugins.names, "$ROOT", pbx).argv), b: show(makeLoop(plugins.dir, plugins.names, "$ROOT", pbx).argv) },
    };
  } finally {
    await pbx.large(false);
  }
}

async function rowBig(big: BigPlugin): Promise<Row> {
  const parent = big.targetParent;
  const aCmd = (root: string): Command => ({ argv: [NODE, CLI, "install", big.name, "--root", root, "--plugins-dir", big.searchDir], env: baseEnv() });
  const bCmd = (root: string): Command => ({ argv: ["cp", "-r", big.filesDir, path.join(root, parent) + "/"], env: baseEnv() });
  const prepare = async () => freshRoot("big", [parent]);
  const check = (side: "a" | "b") => async (root: string, _r: unknown, measured: boolean) => {
    const copied = path.join(root, parent, "files");
    if (!measured) {
      // Warm-up: the whole tree, once per side.
      const got = filesUnder(copied);
      if (got.files !== big.files || got.bytes !== big.bytes)
        throw new Error(`row 5 ${side}: copied ${got.files} files / ${got.bytes} bytes, expected ${big.files} / ${big.bytes}`);
    } else if (!existsSync(path.join(copied, "lang9/set9/f4999.wav"))) throw new Error(`row 5 ${side}: the last file is missing`);
    removeRoot(root);
    sync(); // untimed: each run starts with no dirty pages left by the previous one
  };
  sync();
  const [ra, rb] = await interleave(
    [
      { label: `wazo-tasks install big (${big.files} files)`, prepare, command: aCmd, after: check("a") },
      { label: "cp -r", prepare, command: bCmd, after: check("b") },
    ],
    { warmup: 1, runs: runsFor(5), what: "5 big plugin", progress },
  );
  const rss: Rss[] = [];
  for (let i = 0; i < 2; i++) {
    const root = freshRoot("big-rss", [parent]);
    rss.push(await peakRss(aCmd(root), tmp, "row 5 peak RSS"));
    removeRoot(root);
    sync();
  }
  // The target is in MB (10^6 bytes, like the "30 MB" of files); ru_maxrss is in KiB.
  const peakMB = Math.max(...rss.map((r) => r.mib)) * 1.048576;
  const ratio = ra.median / rb.median;
  return {
    id: 5,
    name: `${big.files} files, ${(big.bytes / 1e6).toFixed(0)} MB`,
    a: ra,
    b: rb,
    ratio,
    rss,
    target: "A/B ≤ 2; peak RSS ≤ 120 MB",
    met: ratio <= 2 && peakMB <= 120,
    notes: [
      `peak RSS (MB = 10^6 bytes): ${rss[0].method}; runs ${rss.map((r) => `${(r.mib * 1.048576).toFixed(1)} MB = ${r.mib.toFixed(1)} MiB${r.selfMib !== undefined && r.timeMib !== undefined ? ` (read by the process itself: ${r.selfMib.toFixed(1)} MiB)` : ""}`).join(", ")}`,
      "`sync` after every run (untimed), so no run pays for the previous one's writeback",
    ],
    commands: { a: show(aCmd("$ROOT").argv), b: show(bCmd("$ROOT").argv) },
  };
}

async function rowDryRun(plugins: { dir: string; names: string[] }): Promise<Row> {
  const root = freshRoot("dry");
  const a = installMany(plugins.dir, plugins.names, root, undefined, ["--dry-run"]);
  const b = { argv: [NODE, "-e", "0"], env: baseEnv() };
  const [ra, rb] = await interleave(
    [
      {
        label: `wazo-tasks install p01…p${PLUGIN_COUNT} --dry-run`,
        command: () => a,
        after: async (_c, r) => {
          if (!/would change=20\b/.test(r.stdout)) throw new Error(`row 6: unexpected dry run output:\n${r.stdout.slice(-2000)}`);
          if (existsSync(path.join(root, "var"))) throw new Error("row 6: the dry run wrote into the root");
        },
      },
      { label: "(reference) node -e 0", command: () => b },
    ],
    { warmup: 1, runs: runsFor(7), what: "6 dry run", progress },
  );
  removeRoot(root);
  return {
    id: 6,
    name: `dry run, ${PLUGIN_COUNT} plugins`,
    a: ra,
    b: rb,
    ratio: ra.median / rb.median,
    target: "A < 1.5 × B + 20 ms",
    met: ra.median < 1.5 * rb.median + 20,
    notes: [`1.5 × B + 20 ms = ${fmtMs(1.5 * rb.median + 20)}`],
    commands: { a: show(installMany(plugins.dir, plugins.names, "$ROOT", undefined, ["--dry-run"]).argv), b: show(b.argv) },
  };
}

/**
 * What the stand-in `asterisk` adds to each `make install`: it is a Node script, so every call
 * pays Node's start-up, where the real `asterisk -rx` is a small C client that starts like any
 * native program (about 10 ms a call in all, /work/shared/performance-notes.md). Measured here,
 * interleaved and under the same load: the stand-in, `node -e 0` and `/bin/true`; the Node part
 * of a call is `node -e 0` − `/bin/true`. Reported as a correction, never applied to the table.
 */
let standIn: { medianMs: number; nodeStartMs: number; nativeStartMs: number; ms: number[] } | undefined;

async function measureStandIn(ami: FakeAmiProcess): Promise<NonNullable<typeof standIn>> {
  const cmds: Command[] = [
    { argv: [path.join(FIXTURE_BIN, "asterisk"), "-x", "core show version"], env: baseEnv({ FAKE_AMI_PORT: String(ami.port) }) },
    { argv: [NODE, "-e", "0"], env: baseEnv() },
    { argv: ["/bin/true"], env: baseEnv() },
  ];
  const ms: number[][] = [[], [], []];
  for (let i = 0; i < 10; i++) {
    for (const [j, cmd] of cmds.entries()) {
      const r = await runChecked(cmd, "stand-in asterisk");
      if (i > 0) ms[j].push(r.ms);
    }
  }
  ami.takeReloads();
  const result = { medianMs: median(ms[0]), nodeStartMs: median(ms[1]), nativeStartMs: median(ms[2]), ms: ms[0] };
  progress(
    `stand-in asterisk -x: ${result.medianMs.toFixed(0)} ms a call; node -e 0 ${result.nodeStartMs.toFixed(0)} ms; /bin/true ${result.nativeStartMs.toFixed(1)} ms`,
  );
  return result;
}

function standInNote(b: SideResult, a: SideResult): string | undefined {
  if (!standIn) return undefined;
  const perCall = Math.max(0, standIn.nodeStartMs - standIn.nativeStartMs);
  const corrected = b.median - PLUGIN_COUNT * perCall;
  return `the stand-in asterisk is a Node script (${standIn.medianMs.toFixed(0)} ms a call, of which ≈ ${perCall.toFixed(0)} ms is Node's start-up): with a native asterisk client the make loop would take ≈ ${fmtMs(corrected)}, B/A ≈ ${(corrected / a.median).toFixed(1)}×`;
}

// ---------------------------------------------------------------------------------------------

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function table(rs: Row[]): string {
  const head = ["#", "benchmark", "A (wazo-tasks)", "B (baseline)", "A median", "B median", "A/B", "B/A", "reloads A / B", "peak RSS A", "target", "met"];
  const body = rs.map((r) => [
    String(r.id),
    r.name,
    r.a.label.replace(/^wazo-tasks /, ""),
    r.b?.label ?? "—",
    r.skipped ? "skipped" : fmtMs(r.a.median),
    r.b ? fmtMs(r.b.median) : "—",
    r.ratio !== undefined ? `${r.ratio.toFixed(2)}` : "—",
    r.ratio !== undefined ? `${(1 / r.ratio).toFixed(1)}×` : "—",
    r.reloads ? `${counted(r.reloads.a)} / ${counted(r.reloads.b)}` : "—",
    r.rss ? `${(Math.max(...r.rss.map((x) => x.mib)) * 1.048576).toFixed(0)} MB` : "—",
    r.target,
    r.met === undefined ? "—" : r.met ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync("git", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

const machine = {
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.cpus().length,
  availableParallelism: os.availableParallelism(),
  memoryGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  os: `${os.type()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
  /** 1-minute load average at the start and the end: other work on the machine skews absolute times. */
  loadAverage: { start: Number(os.loadavg()[0].toFixed(2)), end: 0 },
  commit: git(["rev-parse", "--short", "HEAD"]),
  /** Files of src/ that differ from the commit when the bench ran (dist/ is built from them). */
  uncommittedSrc: git(["status", "--porcelain", "src"])?.split("\n").filter(Boolean).length,
};

const started = Date.now();
try {
  if (!existsSync(BUILT_CLI)) throw new Error(`${BUILT_CLI} is missing: run \`npm run build\` (npm run bench does)`);
  if (flags.snapshot) {
    // The same files, so the same start-up: dist/ copied, what it reads next to it linked back.
    const app = path.join(tmp, "app");
    cpSync(path.join(REPO, "dist"), path.join(app, "dist"), { recursive: true });
    for (const f of ["package.json", "node_modules", "plugins-examples", "schema"])
      if (existsSync(path.join(REPO, f))) symlinkSync(path.join(REPO, f), path.join(app, f));
    CLI = path.join(app, "dist/cli/main.cjs");
  }
  const distAtStart = distFingerprint();
  process.stderr.write(`wazo-tasks benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n  temp folder ${tmp}\n`);
  const hwMake = makeHelloworldMake(REPO, tmp);
  const plugins = makeSmallPlugins(tmp, PLUGIN_COUNT);
  let big: BigPlugin | undefined;
  if (wanted.has(5)) {
    const t = Date.now();
    big = makeBigPlugin(tmp);
    progress(`generated ${big.files} files (${(big.bytes / 1e6).toFixed(1)} MB) in ${big.folders} folders in ${Date.now() - t} ms`);
  }
  const needsPbx = [2, 3, 4, 7, 8, 10].some((r) => wanted.has(r));
  if (needsPbx) {
    const real = flags.fake ? { missing: "--fake" } : findRealAsterisk(REPO);
    if ("missing" in real) {
      const fake = await startFakePbx(REPO, tmp, FIXTURE_BIN, freshRoot);
      servers.push(...fake.servers);
      pbx = fake;
      pbxNote = `fake AMI server: ${real.missing}`;
      if (wanted.has(3) || wanted.has(4)) standIn = await measureStandIn(fake.servers[0]);
    } else {
      pbx = await startRealPbx(real, tmp, REAL_AMI_PORT);
      pbxNote = pbx.describe;
    }
    process.stderr.write(`  PBX: ${pbxNote}\n`);
  }
  const ctx: RowContext = { repo: REPO, tmp, cli: CLI, node: NODE, pbx: pbx!, baseEnv, runsFor, progress, show };
  // Each row with the load average (1 min) at its start and end: the machine may be shared.
  const measure = async (id: number, fn: () => Promise<Row>) => {
    if (!wanted.has(id) || interrupted) return;
    const before = os.loadavg()[0];
    const row = await fn();
    row.loadAverage = [Number(before.toFixed(2)), Number(os.loadavg()[0].toFixed(2))];
    rows.push(row);
  };
  await measure(1, rowStartup);
  await measure(2, () => rowOnePlugin(pbx!, hwMake));
  await measure(3, () => rowTwenty(pbx!, plugins));
  await measure(4, () => rowReinstall(pbx!, plugins));
  await measure(5, () => rowBig(big!));
  await measure(6, () => rowDryRun(plugins));
  await measure(7, () => rowAnsible(ctx));
  await measure(8, () => rowDirty(ctx));
  await measure(9, () => rowDryHello(ctx));
  await measure(10, () => rowTasksTs(ctx));

  const few = rows.filter((r) => !r.skipped && r.a.ms.length < 5);
  const out = [
    `PBX: ${pbxNote}`,
    table(rows),
    "",
    ...rows.flatMap((r) => [
      `${r.id}. A: ${r.commands.a}`,
      ...(r.commands.b ? [`   B: ${r.commands.b}`] : []),
      ...r.notes.map((n) => `   note: ${n}`),
      ...(r.loadAverage ? [`   load average ${r.loadAverage[0]} → ${r.loadAverage[1]}`] : []),
    ]),
    "",
    `medians of ${[...new Set(rows.filter((r) => !r.skipped).map((r) => r.a.ms.length))].join("/")} interleaved runs after a warm-up; ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.os}, ${machine.date}; ${((Date.now() - started) / 1000).toFixed(0)} s`,
    ...(few.length
      ? [`WARNING: ${few.length > 1 ? "rows" : "row"} ${few.map((r) => r.id).join(", ")} ${few.length > 1 ? "have" : "has"} fewer than 5 counted runs (--runs)`]
      : []),
    ...(Math.max(machine.loadAverage.start, os.loadavg()[0]) > machine.cores * 0.75
      ? [
          `WARNING: the machine was busy (load average up to ${Math.max(machine.loadAverage.start, os.loadavg()[0]).toFixed(1)} on ${machine.cores} cores): absolute times are inflated and ratios noisier; run again on an idle machine`,
        ]
      : []),
  ];
  // Every Node process (`node -e 0` too) then parses that CA bundle before running anything:
  // on this kind of machine 30–40 ms of CPU, which Node sides pay and a PBX does not.
  if (process.env.NODE_EXTRA_CA_CERTS)
    out.push(
      `note: NODE_EXTRA_CA_CERTS is set (${process.env.NODE_EXTRA_CA_CERTS}): every Node process, \`node -e 0\` included, parses it at start-up, which raises the Node baselines of rows 1, 6 and 9`,
    );
  machine.loadAverage.end = Number(os.loadavg()[0].toFixed(2));
  const distChanged = distFingerprint() !== distAtStart;
  if (distChanged)
    out.push(
      flags.snapshot
        ? "note: dist/ was rebuilt during the run; the snapshot taken at the start was measured"
        : "WARNING: dist/ was rebuilt during the run (another build?): rows may mix two versions; run again, or use --snapshot",
    );
  out.push(
    `load average (1 min) ${machine.loadAverage.start} at the start, ${machine.loadAverage.end} at the end; commit ${machine.commit ?? "?"}${machine.uncommittedSrc ? ` + ${machine.uncommittedSrc} uncommitted src/ files` : ""}`,
  );
  process.stdout.write(`${out.join("\n")}\n`);
  const results = {
    machine,
    durationS: Math.round((Date.now() - started) / 1000),
    distChangedDuringRun: distChanged,
    snapshot: flags.snapshot === true,
    pbx: { kind: pbx?.kind ?? null, describe: pbxNote },
    fakeLargeReloadDelayMs: pbx?.kind === "fake" ? FAKE_LARGE_RELOAD_MS : null,
    standInAsterisk: standIn ?? null,
    rows: rows.map((r) => ({
      id: r.id,
      name: r.name,
      target: r.target,
      met: r.met ?? null,
      ratio: r.ratio ?? null,
      a: { ...r.a, command: r.commands.a },
      b: r.b ? { ...r.b, command: r.commands.b } : null,
      reloads: r.reloads ?? null,
      rss: r.rss ?? null,
      loadAverage: r.loadAverage ?? null,
      skipped: r.skipped ?? null,
      notes: r.notes,
    })),
  };
  writeFileSync(path.join(REPO, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);
  process.stderr.write("wrote bench/results.json\n");
  // A full run (every row, at least 5 counted runs each) also replaces the table of
  // docs/performance.md, between its two markers.
  if (!flags.rows && !few.length && !interrupted) {
    const doc = path.join(REPO, "docs/performance.md");
    const text = readFileSync(doc, "utf8");
    const [start, end] = ["<!-- bench:start -->", "<!-- bench:end -->"];
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) {
      const block = ["", "```text", ...out, "```", ""].join("\n");
      writeFileSync(doc, text.slice(0, i + start.length) + block + text.slice(j));
      process.stderr.write("wrote the table into docs/performance.md\n");
    }
  }
} catch (e) {
  if (!interrupted) {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
} finally {
  await cleanup();
}
