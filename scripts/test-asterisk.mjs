#!/usr/bin/env node
// The integration suite against a real Asterisk 22 (test/real-asterisk/*.test.ts).
//
// 1. builds Asterisk once with ../shared/asterisk/build.sh (it skips the build when its cached
//    binary is already there); when that folder is absent, says so in one line and exits 0;
// 2. lays out a private instance with instance.sh in a temp folder (never under ../shared, which
//    may be read-only) and starts it on a free port of 15000-15999, trying another port when
//    `start` says the port is taken;
// 3. runs the tests one file at a time (they share the instance), with the instance's folder and
//    AMI port in WAZO_TASKS_TEST_ASTERISK_DIR / WAZO_TASKS_TEST_AMI_PORT;
// 4. stops the instance whatever happened (also on SIGINT/SIGTERM) and checks its process is gone.
//
// WAZO_TASKS_ASTERISK_SHARED overrides where the shared Asterisk folder is; WAZO_TASKS_ASTERISK_PORT
// is the first port tried. Extra arguments filter test files by substring, as scripts/run-tests.mjs
// does.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SHARED = path.resolve(process.env.WAZO_TASKS_ASTERISK_SHARED ?? path.join(REPO, "..", "shared", "asterisk"));
const BUILD = path.join(SHARED, "build.sh");
const INSTANCE = path.join(SHARED, "instance.sh");
const PORTS = [15000, 15999];

if (!existsSync(BUILD) || !existsSync(INSTANCE)) {
  console.log(`test:asterisk skipped: no Asterisk source at ${SHARED} (build.sh and instance.sh are needed)`);
  process.exit(0);
}

const filters = process.argv.slice(2);
const testDir = path.join(REPO, "test", "real-asterisk");
const files = readdirSync(testDir)
  .filter((f) => f.endsWith(".test.ts"))
  .map((f) => path.join(testDir, f))
  .filter((f) => !filters.length || filters.some((x) => f.includes(x)))
  .sort();
if (!files.length) {
  console.error("test:asterisk: no test files found");
  process.exit(1);
}

const asterisk = build();
const tmp = mkdtempSync(path.join(os.tmpdir(), "wazo-tasks-asterisk-"));
const dir = path.join(tmp, "instance");
let started = false;
/** The test process, while it runs. */
let testRun;

function stopInstance() {
  if (!started) return;
  started = false;
  const pid = readPid();
  spawnSync(path.join(dir, "stop"), [], { stdio: "inherit", timeout: 30_000 });
  if (pid && !gone(pid, 5000)) {
    // stop only ever signals this instance's own pid; this is the last resort.
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
    if (!gone(pid, 5000)) console.error(`test:asterisk: Asterisk (pid ${pid}) is still running`);
  }
}

/** Waits up to `ms` for `pid` to exit (synchronously: this also runs from the exit handler). */
function gone(pid, ms) {
  for (const end = Date.now() + ms; alive(pid);) {
    if (Date.now() > end) return false;
    spawnSync("sleep", ["0.1"]);
  }
  return true;
}

function cleanUp() {
  stopInstance();
  rmSync(tmp, { recursive: true, force: true });
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    testRun?.kill(signal);
    cleanUp();
    process.exit(128 + (os.constants.signals[signal] ?? 1));
  });
}
process.on("exit", () => cleanUp());

let code = 1;
try {
  const port = await startInstance();
  code = await runTests(port);
} catch (e) {
  console.error(`test:asterisk: ${e.message}`);
  code = 1;
} finally {
  cleanUp();
}
process.exit(code);

/** build.sh prints the binary last; on failure it prints the last lines of its log itself. */
function build() {
  const r = spawnSync(BUILD, [], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30 * 60_000 });
  const out = (r.stdout ?? "").trim().split("\n").at(-1) ?? "";
  if (r.status !== 0 || !existsSync(out)) {
    const tail = `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").slice(-30).join("\n");
    const why = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit code ${r.status}`;
    console.error(`test:asterisk: ${BUILD} failed (${why}); its last lines:\n${tail}`);
    process.exit(1);
  }
  return out;
}

async function startInstance() {
  const tried = [];
  for (let attempt = 0; attempt < 8; attempt++) {
    const port = await pickPort(tried);
    tried.push(port);
    const lay = spawnSync(INSTANCE, [dir, String(port), asterisk], { encoding: "utf8", timeout: 60_000 });
    if (lay.status !== 0) throw new Error(`instance.sh failed: ${(lay.stderr || lay.stdout).trim()}`);
    started = true;
    const start = spawnSync(path.join(dir, "start"), [], { encoding: "utf8", timeout: 60_000 });
    if (start.status === 0) {
      console.log(`test:asterisk: Asterisk (${asterisk}) at ${dir}, AMI on 127.0.0.1:${port}`);
      return port;
    }
    const message = (start.stderr || start.stdout || "").trim();
    stopInstance();
    if (!/taken/.test(message)) throw new Error(`the Asterisk instance did not start: ${message}\n${logTail()}`);
    console.log(`test:asterisk: port ${port} is taken, trying another one`);
  }
  throw new Error(`no free AMI port found (tried ${tried.join(", ")})`);
}

/**
 * A port of the range that nothing listens on right now (start still double-checks).
 * WAZO_TASKS_ASTERISK_PORT is tried first, as it is.
 */
async function pickPort(tried) {
  const first = Number(process.env.WAZO_TASKS_ASTERISK_PORT);
  if (first && !tried.length) return first;
  for (let i = 0; i < 50; i++) {
    const port = PORTS[0] + Math.floor(Math.random() * (PORTS[1] - PORTS[0] + 1));
    if (!tried.includes(port) && (await isFree(port))) return port;
  }
  return PORTS[0] + Math.floor(Math.random() * (PORTS[1] - PORTS[0] + 1));
}

function isFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

function runTests(port) {
  // Without NODE_TEST_CONTEXT: run from a test itself, node --test would skip its files.
  const { NODE_TEST_CONTEXT: _, ...inherited } = process.env;
  const env = { ...inherited, WAZO_TASKS_TEST_ASTERISK_DIR: dir, WAZO_TASKS_TEST_AMI_PORT: String(port), WAZO_TASKS_TEST_ASTERISK_BIN: asterisk };
  // One file at a time: the files share the instance and reload its dialplan.
  testRun = spawn(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=1", ...files], { cwd: REPO, env, stdio: "inherit" });
  return new Promise((resolve) =>
    testRun.on("close", (c) => {
      testRun = undefined;
      resolve(c ?? 1);
    }),
  );
}

function readPid() {
  try {
    return Number(readFileSync(path.join(dir, "var/run/asterisk/asterisk.pid"), "utf8").trim()) || undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function logTail() {
  try {
    return readFileSync(path.join(dir, "var/log/asterisk/messages"), "utf8").trim().split("\n").slice(-10).join("\n");
  } catch {
    return "";
  }
}
