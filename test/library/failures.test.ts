/**
 * Every failure reason, produced for real where wazo-tasks can meet it, with the exit code it
 * ends with and the facts a program reads (failure.reason, failure.ami, failure.command...),
 * and the target unchanged when nothing was applied.
 */
import assert from "node:assert/strict";
import { readFile, unlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_CODES, FAILURE_REASONS, type ExitCode, type Failure, type FailureReason } from "../../src/model/diagnostic.js";
import type { AsteriskControl } from "../../src/asterisk/control.js";
import { AsteriskError } from "../../src/asterisk/control.js";
import type { InternalRunOptions } from "../../src/engine.js";
import { installPlugins, reloadAsterisk, uninstallPlugins, verifyPlugins } from "../../src/index.js";
import { startFakeAmi, type FakeAmi } from "../support/fake-ami.js";
import { cleanup, events, HELLO_CONF, makePlugin, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { RULES_FIXTURES, rulesEnv } from "../rules/support.js";

const PBX = {
  "etc/asterisk/extensions.conf": "[general]\n\n#include extensions_extra.d/*\n",
  "etc/asterisk/extensions_extra.d/00-base.conf": "[xivo-extrafeatures]\nexten = noop,1,NoOp()\n",
};
const HELLO_TARGET = "etc/asterisk/extensions_extra.d/helloworld.conf";

/** A control that reloads fine and answers `hasExtension` as told. */
const control = (transport: AsteriskControl["transport"], has: boolean, reload?: () => Promise<void>): AsteriskControl => ({
  transport,
  reload: reload ?? (async () => {}),
  command: async () => [],
  hasExtension: async () => has,
  close: async () => {},
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe("failure reasons and exit codes", { timeout: 180_000 }, () => {
  let tmp: string;
  let n = 0;
  const servers: FakeAmi[] = [];
  const root = async (files: Record<string, string> = PBX) => writeTree(path.join(tmp, `r${++n}`), files);
  const seen = new Map<FailureReason, ExitCode>();
  /** Checks the failure, that the summary's exit code is the failure's, and records the pair. */
  const expect = (r: { exitCode: number; failure?: Failure; ok: boolean }, reason: FailureReason, exitCode: ExitCode) => {
    assert.ok(r.failure, "a failure");
    assert.equal(r.failure.reason, reason, JSON.stringify(r.failure));
    assert.equal(r.exitCode, exitCode, JSON.stringify(r.failure));
    assert.equal(r.failure.exitCode, exitCode);
    assert.equal(r.ok, false);
    assert.ok(r.failure.message && !r.failure.message.includes("\n    at "), "a message, no stack");
    seen.set(reason, exitCode);
    return r.failure;
  };
  before(async () => (tmp = await tempDir()));
  after(async () => {
    for (const s of servers) await s.close();
    await cleanup(tmp);
  });
  const fake = async (r: string, extra: Parameters<typeof startFakeAmi>[0] = {}) => {
    const s = await startFakeAmi({ root: r, authFailureDelayMs: 20, ...extra });
    servers.push(s);
    return s;
  };

  test("invalid-input, invalid-url, conflict, admin-edit: exit 2, nothing changed", async () => {
    const r1 = await root();
    const before1 = await snapshot(r1);
    expect(await installPlugins(["no-such-plugin"], { root: r1 }), "invalid-input", 2);
    expect(await reloadAsterisk({ ami: "http://wazo:secret@127.0.0.1", root: r1 }), "invalid-url", 2);
    await writeFile(path.join(r1, HELLO_TARGET), "[mine]\n");
    const conflictBefore = await snapshot(r1);
    const c = expect(await installPlugins(["helloworld"], { root: r1 }), "conflict", 2);
    assert.match(c.diagnostics[0]!.message, /already exists and is not owned by any plugin/);
    assert.deepEqual(await snapshot(r1), conflictBefore);
    await unlink(path.join(r1, HELLO_TARGET));
    assert.deepEqual(await snapshot(r1), before1);
    // An admin edit of an installed file, then a new version of the plugin.
    const plugins = path.join(tmp, "plugins");
    const dir = await makePlugin(plugins, "edited", {
      "tasks.yml": "install:\n  - copy: e.conf\n    to: /etc/asterisk/extensions_extra.d/\n",
      "e.conf": "[e]\n",
    });
    const r2 = await root();
    assert.equal((await installPlugins([dir], { root: r2 })).exitCode, 0);
    await writeFile(path.join(r2, "etc/asterisk/extensions_extra.d/e.conf"), "[e]\n; admin\n");
    await writeFile(path.join(dir, "e.conf"), "[e]\nexten = 1,1,NoOp()\n");
    const edited = await snapshot(r2);
    const a = expect(await installPlugins([dir], { root: r2 }), "admin-edit", 2);
    assert.match(a.diagnostics[0]!.message, /was changed since it was installed/);
    assert.deepEqual(await snapshot(r2), edited);
  });

  test("ami-auth, ami-permission, ami-unreachable, ami-timeout: exit 1 before any change, with the AMI user and host", async () => {
    const r = await root();
    const before1 = await snapshot(r);
    const ami = await fake(r);
    const auth = expect(await installPlugins(["helloworld"], { root: r, ami: `ami://wazo:wrong@127.0.0.1:${ami.port}` }), "ami-auth", 1);
    assert.deepEqual(auth.ami, { user: "wazo", host: "127.0.0.1", port: ami.port });
    const perm = expect(await installPlugins(["helloworld"], { root: r, ami: `ami://limited:limited@127.0.0.1:${ami.port}` }), "ami-permission", 1);
    assert.equal(perm.ami?.user, "limited");
    assert.match(perm.message, /manager\.conf/);
    const port = await freePort();
    const down = expect(
      await installPlugins(["helloworld"], { root: r, ami: { host: "127.0.0.1", port, username: "wazo", secret: "x" } }),
      "ami-unreachable",
      1,
    );
    assert.deepEqual(down.ami, { user: "wazo", host: "127.0.0.1", port });
    const silent = await fake(r, { silent: true });
    expect(
      await installPlugins(["helloworld"], { root: r, ami: { host: "127.0.0.1", port: silent.port, username: "wazo", secret: "wazosecret", timeoutMs: 300 } }),
      "ami-timeout",
      1,
    );
    assert.deepEqual(await snapshot(r), before1);
    // The same through `reload`, which applies nothing: exit 1, not 3.
    expect(await reloadAsterisk({ ami: `ami://wazo:wrong@127.0.0.1:${ami.port}`, root: r }), "ami-auth", 1);
    expect(await reloadAsterisk({ ami: `ami://wazo:x@127.0.0.1:${port}`, root: r }), "ami-unreachable", 1);
  });

  test("ami-failed and reload-failed in reload: exit 1", async () => {
    const r = await root();
    const refused = control("ami", true, async () => {
      throw new AsteriskError("Asterisk refused it", "ami-failed");
    });
    expect(await reloadAsterisk({ asterisk: refused, root: r, targets: ["app_dial"] }), "ami-failed", 1);
    const ami = await fake(r);
    const f = expect(await reloadAsterisk({ ami: ami.url(), root: r, targets: ["app_dial"] }), "reload-failed", 1);
    assert.match(f.message, /app_dial.*does not support reload/);
  });

  test("reload-failed, verify-failed, dialplan-lost after the files: exit 3", async () => {
    const r1 = await root();
    const broken = await fake(r1, { modules: { pbx_config: "error" } });
    const f = expect(await installPlugins(["helloworld"], { root: r1, ami: broken.url() }), "reload-failed", 3);
    assert.match(f.hint ?? "", /wazo-tasks reload --pending/);
    assert.equal(await readFile(path.join(r1, HELLO_TARGET), "utf8"), HELLO_CONF, "files kept");
    const r2 = await root();
    expect(await installPlugins(["helloworld"], { root: r2, asterisk: control("rx", false) }), "verify-failed", 3);
    // Through AMI the loaded dialplan is checked: this run's file lost ***42, so it is rolled back.
    const r3 = await root();
    const before3 = await snapshot(r3);
    const lost = expect(await installPlugins(["helloworld"], { root: r3, asterisk: control("ami", false) }), "dialplan-lost", 3);
    assert.match(lost.message, /rolled back/);
    assert.deepEqual(await snapshot(r3), before3);
    // `reload` sees the same loss, and applied nothing: exit 1.
    assert.equal((await installPlugins(["helloworld"], { root: r3 })).exitCode, 0);
    expect(await reloadAsterisk({ asterisk: control("ami", false), root: r3 }), "dialplan-lost", 1);
  });

  test("drift: verify exit 1", async () => {
    const r = await root();
    assert.equal((await installPlugins(["helloworld"], { root: r })).exitCode, 0);
    await unlink(path.join(r, HELLO_TARGET));
    const v = await verifyPlugins({ root: r });
    expect(v, "drift", 1);
    assert.deepEqual(
      v.drift.map((d: { kind: string; path: string }) => [d.kind, d.path]),
      [["missing", `/${HELLO_TARGET}`]],
    );
  });

  test("apply-failed, make-failed, command-failed: rolled back, exit 1, with the command and its exit status", async () => {
    const plugins = path.join(tmp, "failing");
    const r1 = await root();
    const before1 = await snapshot(r1);
    const fault: InternalRunOptions = { root: r1, fault: { after: 1, kill: false } };
    expect(await installPlugins(["helloworld"], fault), "apply-failed", 1);
    assert.deepEqual(await snapshot(r1), before1);
    const make = await makePlugin(plugins, "make-fails", { Makefile: "install:\n\tmkdir -p $(DESTDIR)/etc/acme\n\texit 4\nuninstall:\n\ttrue\n" });
    const m = expect(await installPlugins([make], { root: r1 }), "make-failed", 1);
    assert.equal(m.command, "make install");
    assert.equal(m.exitStatus, 2, "make's own exit status");
    assert.deepEqual(await snapshot(r1), before1);
    const run = await makePlugin(plugins, "run-fails", {
      "tasks.yml": "install:\n  - copy: a.conf\n    to: /etc/acme/\n  - run: [sh, -c, 'exit 5']\n",
      "a.conf": "a\n",
    });
    const c = expect(await installPlugins([run], { root: r1 }), "command-failed", 1);
    assert.equal(c.command, "sh -c exit 5");
    assert.equal(c.exitStatus, 5);
    assert.deepEqual(await snapshot(r1), before1);
  });

  test("rules-failed, lock-held, io and internal through the command line; the JSON stream ends with its summary", async () => {
    const r1 = await root();
    const rules = await runCli(["install", "acme/broken", "--plugins-dir", RULES_FIXTURES, "--root", r1, "--json"], { env: rulesEnv(path.join(tmp, "calls")) });
    const last = events(rules.stdout).at(-1)!;
    assert.equal(last.type, "summary");
    assert.equal(last.failure.reason, "rules-failed");
    assert.equal(rules.code, 1);
    seen.set("rules-failed", 1);
    await writeTree(r1, { "var/lib/wazo-tasks/lock": `${process.pid}\n` });
    expect(await installPlugins(["helloworld"], { root: r1, lockTimeoutMs: 100 }), "lock-held", 75);
    await unlink(path.join(r1, "var/lib/wazo-tasks/lock"));
    const file = path.join(tmp, "not-a-folder");
    await writeFile(file, "");
    const io = await runCli(["install", "helloworld", "--root", file, "--json"]);
    const summary = events(io.stdout).at(-1)!;
    assert.equal(summary.type, "summary");
    assert.deepEqual([summary.failure.reason, summary.failure.path, summary.failure.code, io.code], ["io", file, "ENOTDIR", 2]);
    assert.equal(io.stderr, "");
    const human = await runCli(["install", "helloworld", "--root", file]);
    assert.equal(human.code, 2);
    assert.match(human.stderr, /^error: the root .*not-a-folder is not a folder\n  hint: --root names the staging root folder/);
    assert.doesNotMatch(human.stderr, /\n\s+at /, "no stack");
    assert.equal(await readFile(file, "utf8"), "", "the file is untouched");
    seen.set("io", 2);
    // A bug (here: a consumer's emit that throws) is `internal`, exit 70, and the summary still comes.
    const summaries: unknown[] = [];
    const internal = await installPlugins(["helloworld"], {
      root: await root(),
      emit: (e) => {
        if (e.type === "plan") throw new TypeError("emit broke");
        if (e.type === "summary") summaries.push(e);
      },
    });
    expect(internal, "internal", 70);
    assert.match(internal.failure!.message, /^internal error \(please report it\): emit broke$/);
    assert.equal(summaries.length, 1);
  });

  test("aborted: before any change, and during the file changes (rolled back)", async () => {
    const r = await root();
    const before1 = await snapshot(r);
    const ac = new AbortController();
    ac.abort();
    expect(await installPlugins(["helloworld"], { root: r, signal: ac.signal }), "aborted", 1);
    expect(await reloadAsterisk({ asterisk: control("ami", true), root: r, signal: ac.signal }), "aborted", 1);
    expect(await verifyPlugins({ root: r, signal: ac.signal }), "aborted", 1);
    // Aborted once the first file is written: every change of the run is undone.
    let reads = 0;
    const late = {
      get aborted() {
        return ++reads > 2;
      },
    } as AbortSignal;
    const sounds = expect(await installPlugins(["sounds"], { root: r, signal: late }), "aborted", 1);
    assert.match(sounds.message, /interrupted by the abort signal; every change of this run was rolled back/);
    assert.deepEqual(await snapshot(r), before1);
    assert.equal((await installPlugins(["helloworld"], { root: r })).exitCode, 0);
    expect(await uninstallPlugins(["helloworld"], { root: r, signal: ac.signal }), "aborted", 1);
    assert.equal(await readFile(path.join(r, HELLO_TARGET), "utf8"), HELLO_CONF);
  });

  test("every reason has its documented exit code, and each one was produced above", () => {
    const documented: Record<FailureReason, ExitCode> = {
      "invalid-input": 2,
      "invalid-url": 2,
      conflict: 2,
      "admin-edit": 2,
      "ami-auth": 1,
      "ami-permission": 1,
      "ami-unreachable": 1,
      "ami-timeout": 1,
      "ami-failed": 1,
      "reload-failed": 3,
      "verify-failed": 3,
      "dialplan-lost": 3,
      drift: 1,
      "apply-failed": 1,
      "make-failed": 1,
      "command-failed": 1,
      "rules-failed": 1,
      "git-failed": 2,
      "market-failed": 2,
      "lock-held": 75,
      io: 1,
      aborted: 1,
      internal: 70,
    };
    for (const reason of FAILURE_REASONS) assert.equal(EXIT_CODES[reason], documented[reason], reason);
    assert.deepEqual([...FAILURE_REASONS].sort(), Object.keys(documented).sort());
    // git-failed and market-failed come from plugin sources, which this suite does not fetch.
    assert.deepEqual(
      FAILURE_REASONS.filter((r) => !seen.has(r) && r !== "git-failed" && r !== "market-failed"),
      [],
    );
  });
});
