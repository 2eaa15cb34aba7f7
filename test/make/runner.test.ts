/** runMake against the real GNU make, in temp folders, with stand-in asterisk/systemctl. */
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { convertMakefile } from "../../src/make/convert.js";
import { findOnPath, runMake, type MakeResult, type MakeRun } from "../../src/make/runner.js";
import { copyFixture, fixture, listTree, pathsCreatedBySteps, standIns, tempDir } from "./support.js";

const hasMake = findOnPath("make", process.env.PATH) !== null;
const EXTRA = "/etc/asterisk/extensions_extra.d";

function ran(r: MakeResult): MakeRun {
  assert.ok(!r.notFound, "make must be on PATH for these tests");
  return r as MakeRun;
}

/** A temp root standing for the PBX: the Asterisk folders a Wazo install always has. */
function pbxRoot(dir: string): string {
  const root = join(dir, "root");
  mkdirSync(join(root, EXTRA), { recursive: true });
  return root;
}

test("make install with DESTDIR writes the plugin's bytes into the temp root", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  const plugin = copyFixture("helloworld-destdir", dir);
  const root = pbxRoot(dir);
  const fake = standIns(dir);
  const seen: string[] = [];
  const r = ran(await runMake(plugin, "install", { destdir: root, env: fake.env, onLine: (_s, l) => seen.push(l) }));
  assert.equal(r.ok, true, r.lines.join("\n"));
  assert.deepEqual([r.exitCode, r.signal, r.timedOut], [0, null, false]);
  assert.deepEqual(readFileSync(join(root, EXTRA, "helloworld.conf")), readFileSync(join(fixture("helloworld-destdir"), "helloworld.conf")));
  assert.deepEqual(fake.calls(), [["asterisk", "-x", "dialplan reload"]]);
  assert.deepEqual(seen, [`cp helloworld.conf ${root}${EXTRA}/`, "asterisk -x 'dialplan reload'"]);
  assert.deepEqual(r.lines, seen);

  const u = ran(await runMake(plugin, "uninstall", { destdir: root, env: fake.env }));
  assert.equal(u.ok, true);
  assert.deepEqual(listTree(root), []);
  assert.equal(fake.calls().length, 2);
});

// The translation is checked against make itself: the files make installs are the files the
// converted steps install (same paths, same bytes, same modes), and uninstall removes them.
for (const name of ["helloworld-destdir", "install-mode", "sounds", "links", "calld-conf", "pjsip", "no-uninstall"]) {
  test(`make install of ${name} creates exactly what the converted steps describe`, { skip: !hasMake }, async (t) => {
    const dir = tempDir(t);
    const plugin = copyFixture(name, dir);
    const root = pbxRoot(dir);
    const fake = standIns(dir);
    const conv = convertMakefile(plugin);
    assert.ok(conv.ok);
    const r = ran(await runMake(plugin, "install", { destdir: root, env: fake.env }));
    assert.equal(r.ok, true, r.lines.join("\n"));
    assert.deepEqual(listTree(root), pathsCreatedBySteps(conv.steps.install, plugin));
    for (const step of conv.steps.install) {
      if ("copy" in step && !step.to.endsWith("/") && step.mode) {
        assert.equal((statSync(join(root, step.to)).mode & 0o777).toString(8), step.mode.replace(/^0/, ""));
        assert.deepEqual(readFileSync(join(root, step.to)), readFileSync(join(plugin, step.copy)));
      }
      if ("symlink" in step) assert.equal(readlinkSync(join(root, step.symlink)), step.target);
    }
    const handlers = conv.steps.install.filter((s) => "reload" in s || "restart" in s).length;
    assert.equal(fake.calls().length, handlers);
    if (conv.steps.uninstall.length === 0) return;
    assert.equal(ran(await runMake(plugin, "uninstall", { destdir: root, env: fake.env })).ok, true);
    assert.deepEqual(listTree(root), []);
  });
}

test("stand-ins record the service calls of the restart and module reload fixtures", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  const fake = standIns(dir);
  const root = pbxRoot(dir);
  assert.ok(ran(await runMake(copyFixture("calld-conf", dir), "install", { destdir: root, env: fake.env })).ok);
  assert.ok(ran(await runMake(copyFixture("pjsip", dir), "install", { destdir: root, env: fake.env })).ok);
  assert.deepEqual(fake.calls(), [
    ["systemctl", "restart", "wazo-calld"],
    ["asterisk", "-rx", "module reload res_pjsip.so"],
  ]);
  assert.equal(lstatSync(join(root, "etc/wazo-calld/conf.d/50-acme.yml")).isFile(), true);
});

test("the untranslatable fixture really installs with make (sed and loop included)", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  const fake = standIns(dir);
  const root = pbxRoot(dir);
  assert.ok(ran(await runMake(copyFixture("untranslatable", dir), "install", { destdir: root, env: fake.env })).ok);
  assert.match(readFileSync(join(root, EXTRA, "acme-host.conf"), "utf8"), /Dial\(PJSIP\/pbx\.example\.com\)/);
  assert.deepEqual(listTree(root), [`${EXTRA}/acme-host.conf`, `${EXTRA}/acme-one.conf`]);
});

test("DESTDIR is also in make's environment", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "Makefile"), 'show:\n\t@echo "env=$$DESTDIR var=$(DESTDIR)"\n');
  const r = ran(await runMake(dir, "show", { destdir: join(dir, "r"), env: process.env }));
  assert.deepEqual(r.lines, [`env=${join(dir, "r")} var=${join(dir, "r")}`]);
  assert.deepEqual(r.command.slice(1), ["show", `DESTDIR=${join(dir, "r")}`]);
});

test("a failing recipe gives make's exit code and the last lines", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "Makefile"), "fail:\n\t@echo step one\n\t@echo oops >&2\n\t@exit 3\n\t@echo never\n");
  const r = ran(await runMake(dir, "fail", { env: process.env }));
  assert.deepEqual([r.ok, r.exitCode, r.timedOut], [false, 2, false]);
  assert.deepEqual(r.lines.slice(0, 2), ["step one", "oops"]);
  assert.match(r.lines.at(-1)!, /\[Makefile:4: fail\] Error 3/);
  assert.ok(!r.lines.includes("never"));
});

test("only the last lines are kept, every line is streamed", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "Makefile"), "many:\n\t@i=1; while [ $$i -le 50 ]; do echo line $$i; i=$$((i+1)); done\n");
  let count = 0;
  const r = ran(await runMake(dir, "many", { onLine: () => count++, env: process.env }));
  assert.equal(count, 50);
  assert.equal(r.lines.length, 20);
  assert.deepEqual([r.lines[0], r.lines.at(-1)], ["line 31", "line 50"]);
});

test("a timeout kills make and its children (the whole process group)", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  // The recipe's shell is found by its name ($0): as root it runs in a PID namespace, where $$ is not this machine's pid.
  const token = `wazo-slow-${process.pid}`;
  writeFileSync(join(dir, "Makefile"), `slow:\n\t@echo started; sh -c 'sleep 30; :' ${token}\n`);
  const r = ran(await runMake(dir, "slow", { timeoutMs: 500, env: process.env }));
  assert.deepEqual([r.ok, r.timedOut], [false, true]);
  // make either dies of the signal or reports its killed child and exits 2: both are races of the same kill.
  assert.ok(r.signal === "SIGTERM" || r.exitCode === 2, `exit ${r.exitCode} signal ${r.signal}`);
  assert.ok(r.durationMs < 5000, `took ${r.durationMs} ms`);
  assert.equal(r.lines[0], "started");
  await new Promise((ok) => setTimeout(ok, 100));
  // Gone, or a zombie not yet reaped by the init of a container: stopped for good either way.
  const left = readdirSync("/proc").filter((p) => {
    try {
      return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, "utf8").includes(token) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, "utf8"));
    } catch {
      return false;
    }
  });
  assert.deepEqual(left, [], "the recipe's shell must be gone");
});

test("a background process keeping make's output open does not hold the result", { skip: !hasMake }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "Makefile"), "bg:\n\t@sleep 3 & echo started\n");
  const r = ran(await runMake(dir, "bg", { env: process.env }));
  assert.deepEqual([r.ok, r.exitCode, r.lines], [true, 0, ["started"]]);
  assert.ok(r.durationMs < 2500, `took ${r.durationMs} ms`);
});

test("make not on PATH is a distinct result, checked before spawning", async (t) => {
  const empty = tempDir(t);
  const r = await runMake(fixture("helloworld-destdir"), "install", { env: { PATH: empty }, destdir: join(empty, "root") });
  assert.equal(r.ok, false);
  assert.ok(r.notFound);
  assert.match(r.message, /make not found on PATH/);
});

test("targets that make would read as options or variables are refused", async () => {
  await assert.rejects(runMake(fixture("helloworld"), "-f/etc/passwd", { env: process.env }), /invalid make target/);
  await assert.rejects(runMake(fixture("helloworld"), "DESTDIR=/", { env: process.env }), /invalid make target/);
});
