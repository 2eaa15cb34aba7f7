/**
 * The library's contract beyond failure reasons: the reload API and its result, an explicit
 * environment (nothing read unless asked), AMI clients from URLs and their disposal, readable AMI
 * logs, verify's `not-loaded`, an uninstall with nothing left to remove, and the io failures
 * of a read-only or unwritable root through the command line.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdir, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  AmiError,
  createAmiClient,
  fromEnvironment,
  installPlugins,
  parseAmiUrl,
  reloadAsterisk,
  uninstallPlugins,
  verifyPlugins,
  type Event,
} from "../../src/index.js";
import { startFakeAmi, type FakeAmi } from "../support/fake-ami.js";
import { cleanup, CLI, events, FIXTURE_BIN, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const PBX = {
  "etc/asterisk/extensions.conf": "[general]\n\n#include extensions_extra.d/*\n",
  "etc/asterisk/extensions_extra.d/00-base.conf": "[xivo-extrafeatures]\nexten = noop,1,NoOp()\n",
};

describe("library API", { timeout: 120_000 }, () => {
  let tmp: string;
  let n = 0;
  const servers: FakeAmi[] = [];
  const root = async () => writeTree(path.join(tmp, `r${++n}`), PBX);
  const fake = async (r: string, extra: Parameters<typeof startFakeAmi>[0] = {}) => {
    const s = await startFakeAmi({ root: r, authFailureDelayMs: 20, ...extra });
    servers.push(s);
    return s;
  };
  before(async () => (tmp = await tempDir()));
  after(async () => {
    for (const s of servers) await s.close();
    await cleanup(tmp);
  });

  test("reloadAsterisk takes a URL, an AmiConfig or parseAmiUrl's result, and says what it reloaded and checked", async () => {
    const r = await root();
    assert.equal((await installPlugins(["helloworld"], { root: r })).exitCode, 0);
    const ami = await fake(r);
    const url = ami.url();
    const emitted: Event[] = [];
    for (const option of [url, parseAmiUrl(url), { host: "127.0.0.1", port: ami.port, username: "wazo", secret: "wazosecret", timeoutMs: 2000 }]) {
      const result = await reloadAsterisk({ ami: option, root: r, emit: (e) => emitted.push(e) });
      assert.equal(result.exitCode, 0, JSON.stringify(result.failure));
      assert.deepEqual(result.reloads, ["dialplan"]);
      assert.deepEqual(result.dialplanCheck, { checked: 1, status: "ok", missing: [] });
      assert.equal(result.failure, undefined);
    }
    assert.equal(ami.reloads.length, 3);
    assert.equal(emitted.filter((e) => e.type === "summary").length, 3);
    const modules = await reloadAsterisk({ ami: url, root: r, targets: ["app_playback"] });
    assert.deepEqual([modules.reloads, modules.dialplanCheck], [["app_playback"], undefined]);
    // No `ami`: never a live Asterisk, even with one configured in the environment.
    const none = await reloadAsterisk({ root: r });
    assert.equal(none.failure?.reason, "invalid-input");
    assert.match(none.failure!.hint!, /"auto"/);
  });

  test("parseAmiUrl throws an AmiError 'invalid-url' that does not quote the secret", () => {
    assert.throws(
      () => parseAmiUrl("ami://wazo:TOPSECRET@host:99999"),
      (e: unknown) => e instanceof AmiError && e.reason === "invalid-url" && e.code === "invalid-url" && !e.message.includes("TOPSECRET"),
    );
  });

  test("explicit environment: without `ami`, WAZO_TASKS_AMI_URL and asterisk on PATH are not used; with fromEnvironment() they are", async () => {
    const r = await root();
    const ami = await fake(r);
    const saved = { url: process.env.WAZO_TASKS_AMI_URL, path: process.env.PATH };
    process.env.WAZO_TASKS_AMI_URL = ami.url();
    process.env.PATH = `${FIXTURE_BIN}:${saved.path}`;
    try {
      const quiet = await installPlugins(["helloworld"], { root: r });
      assert.equal(quiet.exitCode, 0);
      assert.deepEqual(quiet.reloads, []);
      assert.equal(ami.logins.length, 0, "no connection to the configured AMI");
      await uninstallPlugins(["helloworld"], { root: r });
      const asked = await installPlugins(["helloworld"], { ...fromEnvironment(), root: r });
      assert.equal(asked.exitCode, 0, JSON.stringify(asked.failure));
      assert.deepEqual(asked.reloads, ["dialplan"]);
      assert.equal(ami.logins.length, 1);
    } finally {
      process.env.WAZO_TASKS_AMI_URL = saved.url;
      if (saved.url === undefined) delete process.env.WAZO_TASKS_AMI_URL;
      process.env.PATH = saved.path;
    }
  });

  test("createAmiClient takes a URL, tags its errors with the user and host, and is async-disposable", async () => {
    const r = await root();
    const ami = await fake(r);
    const lines: string[] = [];
    const client = await createAmiClient(ami.url(), { log: (l) => lines.push(l) });
    const allowed = await client.listCommands();
    assert.ok(allowed.size > 50);
    // A long answer is logged one header per line, not as one 4 KB line.
    assert.ok(
      lines.every((l) => l.length <= 400),
      `longest: ${Math.max(...lines.map((l) => l.length))}`,
    );
    assert.ok(lines.filter((l) => l.startsWith("<   ")).length >= allowed.size);
    const failed = await client.command("no such command").catch((e: unknown) => e);
    assert.ok(failed instanceof AmiError);
    assert.deepEqual([failed.reason, failed.ami], ["ami-failed", { user: "wazo", host: "127.0.0.1", port: ami.port }]);
    assert.equal(typeof Symbol.asyncDispose, "symbol");
    await client[Symbol.asyncDispose]();
    assert.equal(ami.actions.at(-1)?.action?.toLowerCase(), "logoff");
    const refused = await createAmiClient(`ami://wazo:wrong@127.0.0.1:${ami.port}`).catch((e: unknown) => e);
    assert.ok(refused instanceof AmiError);
    assert.deepEqual([refused.reason, refused.code, refused.ami?.user], ["ami-auth", "auth-failed", "wazo"]);
  });

  test("verify --dialplan --json: an extension Asterisk has not loaded is `not-loaded`, not a missing file", async () => {
    const r = await root();
    const ami = await fake(r);
    const install = await runCli(["install", "helloworld", "--root", r, "--no-reload"]);
    assert.equal(install.code, 0, install.stderr);
    const v = await runCli(["verify", "--dialplan", "--root", r, "--json"], { env: { WAZO_TASKS_AMI_URL: ami.url() } });
    assert.equal(v.code, 1, v.stderr);
    const [drift, summary] = events(v.stdout);
    assert.deepEqual(drift, {
      v: 1,
      type: "drift",
      plugin: "helloworld",
      path: "/etc/asterisk/extensions_extra.d/helloworld.conf",
      kind: "not-loaded",
      detail: "***42@xivo-extrafeatures is not loaded in Asterisk",
      extension: "***42",
      context: "xivo-extrafeatures",
    });
    assert.equal(summary.failure.reason, "drift");
    assert.equal(summary.dialplanChecked, 1);
    const lib = await verifyPlugins({ root: r, dialplan: true, ami: ami.url() });
    assert.deepEqual(
      lib.drift.map((d) => d.kind),
      ["not-loaded"],
    );
  });

  test("uninstall of a plugin whose file an admin deleted: unchanged, no reload, no verification", async () => {
    const r = await root();
    const ami = await fake(r);
    assert.equal((await installPlugins(["helloworld"], { root: r, ami: ami.url() })).exitCode, 0);
    await unlink(path.join(r, "etc/asterisk/extensions_extra.d/helloworld.conf"));
    const reloads = ami.reloads.length;
    const seen: Event[] = [];
    const u = await uninstallPlugins(["helloworld"], { root: r, ami: ami.url(), emit: (e) => seen.push(e) });
    assert.equal(u.exitCode, 0, JSON.stringify(u.failure));
    assert.deepEqual(u.reloads, []);
    assert.equal(ami.reloads.length, reloads);
    assert.deepEqual(
      seen.filter((e) => e.type === "step").map((e) => e.type === "step" && e.status),
      ["unchanged"],
    );
    assert.equal(seen.filter((e) => e.type === "handler" || e.type === "verify").length, 0);
    assert.equal((await readFile(path.join(r, "etc/asterisk/extensions.conf"), "utf8")).length > 0, true);
  });

  test("RunSummary has durationMs and the summary event's fields", async () => {
    const r = await root();
    const s = await installPlugins(["helloworld"], { root: r, dryRun: true });
    assert.equal(typeof s.durationMs, "number");
    assert.deepEqual(s.plugins, [{ name: "helloworld", version: "0.0.1", action: "install", status: "would change" }]);
  });
});

describe("io failures through the command line", { timeout: 60_000 }, () => {
  test("a read-only file system: io, EROFS, the path and the call named, nothing changed", async (t) => {
    const tmp = await tempDir();
    const ro = path.join(tmp, "ro");
    await mkdir(ro);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "ro", "tmpfs", ro]);
    if (m.status !== 0) {
      t.skip(`cannot mount a read-only tmpfs here (${m.stderr.toString().trim() || "not root"})`);
      return cleanup(tmp);
    }
    try {
      const r = await runCli(["install", "helloworld", "--root", ro, "--json"]);
      const summary = events(r.stdout).at(-1)!;
      assert.equal(summary.type, "summary");
      assert.deepEqual([summary.failure.reason, summary.failure.code, summary.failure.operation, r.code], ["io", "EROFS", "mkdir", 1]);
      assert.equal(summary.failure.path, path.join(ro, "var"));
      assert.match(summary.failure.hint, /read-write/);
      assert.equal(r.stderr, "");
      const human = await runCli(["install", "helloworld", "--root", ro]);
      assert.match(human.stderr, /error: cannot mkdir .*\/ro\/var: read-only file system \(EROFS\)\n  hint: remount the file system read-write/);
      assert.doesNotMatch(human.stderr, /\n\s+at /);
    } finally {
      spawnSync("umount", [ro]);
      await cleanup(tmp);
    }
  });

  test("a full disk: io, ENOSPC at the destination, every change rolled back", async (t) => {
    const tmp = await tempDir();
    const full = path.join(tmp, "full");
    await mkdir(full);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=20k", "tmpfs", full]);
    if (m.status !== 0) {
      t.skip(`cannot mount a small tmpfs here (${m.stderr.toString().trim() || "not root"})`);
      return cleanup(tmp);
    }
    try {
      const before1 = await snapshot(full);
      const r = await runCli(["install", "sounds", "--root", full, "--json"]);
      const summary = events(r.stdout).at(-1)!;
      assert.deepEqual([summary.failure.reason, summary.failure.code, summary.failure.plugin, r.code], ["io", "ENOSPC", "sounds", 1]);
      assert.ok(summary.failure.path.startsWith(full), summary.failure.path);
      assert.match(summary.failure.message, /no space left on the device \(ENOSPC\); every change of this run was rolled back$/);
      assert.match(summary.failure.hint, /free some space/);
      assert.deepEqual(await snapshot(full), before1);
    } finally {
      spawnSync("umount", [full]);
      await cleanup(tmp);
    }
  });

  test("a folder the user may not write: io, EACCES, rolled back", async (t) => {
    const tmp = await tempDir();
    const r = await writeTree(path.join(tmp, "root"), PBX);
    const setpriv = spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "true"]);
    if (process.getuid?.() !== 0 || setpriv.status !== 0) {
      t.skip("needs root and setpriv to run as another user");
      return cleanup(tmp);
    }
    const before1 = await snapshot(r);
    const p = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, CLI, "install", "helloworld", "--root", r, "--json"],
      { encoding: "utf8" },
    );
    const summary = events(p.stdout).at(-1)!;
    assert.equal(summary.type, "summary", p.stderr);
    assert.deepEqual([summary.failure.reason, summary.failure.code, p.status], ["io", "EACCES", 1]);
    assert.match(summary.failure.message, /permission denied/);
    assert.deepEqual(await snapshot(r), before1);
    await cleanup(tmp);
  });
});
