/**
 * Git sources with the real git: local repositories reached by file:// URLs and by path,
 * branches, tags, commits, subdirectories, the three plugin formats, the recorded source.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, utimes } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, HELLO_CONF, makePlugin, runCli, snapshot, tempDir } from "../support/rig.js";
import { actions, rulesEnv } from "../rules/support.js";
import { fileUrl, makeRepos } from "./support.js";

const HELLO = "etc/asterisk/extensions_extra.d/helloworld.conf";
const manifest = async (root: string, name: string) =>
  JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed", `${name.replace("/", "+")}.json`), "utf8"));

describe("git sources", () => {
  let tmp: string;
  let repos: Awaited<ReturnType<typeof makeRepos>>;
  let n = 0;
  /** A fresh root, a calls file for the stand-ins, and a private TMPDIR to see what a run leaves there. */
  const place = async () => {
    const dir = path.join(tmp, `run-${++n}`);
    const tmpdir = path.join(dir, "tmp");
    await mkdir(tmpdir, { recursive: true });
    return {
      root: path.join(dir, "root"),
      calls: path.join(dir, "calls"),
      tmpdir,
      env: (extra = {}) => rulesEnv(path.join(dir, "calls"), { TMPDIR: tmpdir, ...extra }),
    };
  };
  before(async () => {
    tmp = await tempDir("wt-git-");
    repos = await makeRepos(path.join(tmp, "repos"));
  });
  after(() => cleanup(tmp));

  test("a file:// URL: installed, its source recorded, listed and shown; again: unchanged, nothing run; --reinstall runs it", async () => {
    const { root, calls, env } = await place();
    const url = fileUrl(repos.hello);
    const r = await runCli(["install", url, "--root", root], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`fetched ${url} at ${repos.first.slice(0, 12)}`));
    assert.match(r.stdout, /helloworld 1\.0\.0 \(install, descriptor\)/);
    assert.equal(await readFile(path.join(root, HELLO), "utf8"), HELLO_CONF);
    const m = await manifest(root, "helloworld");
    assert.deepEqual(m.origin, { method: "git", url, commit: repos.first });
    // The cache holds the plain tree: no repository, so no hooks and no git config to honour.
    const cached = path.join(root, "var/lib/wazo-tasks/cache/git");
    const [key] = await readdir(cached);
    assert.deepEqual(await readdir(path.join(cached, key)), [repos.first]);
    assert.deepEqual((await readdir(path.join(cached, key, repos.first))).sort(), ["helloworld.conf", "package.yml", "tasks.yml"]);

    const list = await runCli(["list", "--installed", "--root", root]);
    assert.match(list.stdout, new RegExp(`helloworld\\s+1\\.0\\.0[^\\n]*\\n  from git ${url} at ${repos.first.slice(0, 12)}`));
    const json = events((await runCli(["list", "--installed", "--root", root, "--json"])).stdout);
    assert.deepEqual(json[0].plugins[0].origin, { method: "git", url, commit: repos.first });
    const show = await runCli(["show", url, "--root", root], { env: env() });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`source:     git ${url} at ${repos.first.slice(0, 12)}`));
    assert.match(show.stdout, /installed:  1\.0\.0 from git/);

    const before = await snapshot(root);
    const callsBefore = await actions(calls);
    const again = await runCli(["install", url, "--root", root, "--json"], { env: env() });
    assert.equal(again.code, 0, again.stderr);
    const ev = events(again.stdout);
    assert.ok(ev.some((e) => e.type === "step" && e.kind === "source" && e.status === "unchanged"));
    assert.equal(ev.at(-1)!.changed, 0);
    assert.deepEqual(ev.at(-1)!.plugins, [{ name: "helloworld", version: "1.0.0", action: "reinstall", status: "unchanged" }]);
    assert.deepEqual(await snapshot(root), before, "nothing written, not even the manifest");
    assert.deepEqual(await actions(calls), callsBefore, "no reload");

    // What a fetch killed half way (kill -9) left: removed by the next fetch of that URL.
    const stale = path.join(cached, key, ".fetch-killed");
    await mkdir(path.join(stale, "git"), { recursive: true });
    const old = new Date(Date.now() - 3_600_000);
    await utimes(stale, old, old);
    const re = await runCli(["install", url, "--root", root, "--reinstall"], { env: env() });
    assert.equal(re.code, 0, re.stderr);
    assert.match(re.stdout, /changed=0 unchanged=1/);
    assert.match(re.stdout, /changed\s+reload\s+dialplan/);
    assert.equal((await actions(calls)).length, callsBefore.length + 1, "--reinstall reloads again");
    assert.ok(!/unchanged\s+source/.test(re.stdout));
    assert.deepEqual(await readdir(path.join(cached, key)), [repos.first]);
  });

  test("a dry run fetches, says so, and leaves the root and the temporary folder as they were", async () => {
    const { root, tmpdir, env } = await place();
    await mkdir(path.join(root, "etc"), { recursive: true });
    const before = await snapshot(root);
    const r = await runCli(["install", `${fileUrl(repos.hello)}#v2`, "--root", root, "--dry-run"], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`fetched ${fileUrl(repos.hello)} \\(ref v2\\) at ${repos.v2.slice(0, 12)} \\(dry run: into a temporary folder\\)`));
    assert.match(r.stdout, /helloworld 2\.0\.0 \(install, descriptor\)\n\s+would change\s+copy/);
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await readdir(tmpdir), []);
  });

  test("refs: a branch with --ref, a tag as URL#REF, a full and a short commit id, a folder path with #REF or --ref", async () => {
    const cases: [string[], string, string][] = [
      [[fileUrl(repos.hello), "--ref", "v2"], "2.0.0", repos.v2],
      [[`git+${fileUrl(repos.hello)}#v1.0`], "1.0.0", repos.first],
      [[`${fileUrl(repos.hello)}#${repos.v2}`], "2.0.0", repos.v2],
      [[`${fileUrl(repos.hello)}#${repos.first.slice(0, 10)}`], "1.0.0", repos.first],
      [[`${repos.hello}#v2`], "2.0.0", repos.v2],
      [[repos.hello, "--ref", "v1.0"], "1.0.0", repos.first],
    ];
    for (const [args, version, commit] of cases) {
      const { root, env } = await place();
      const r = await runCli(["install", ...args, "--root", root], { env: env() });
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      const m = await manifest(root, "helloworld");
      assert.equal(m.version, version, args.join(" "));
      assert.equal(m.origin.commit, commit, args.join(" "));
      assert.equal(m.origin.url, fileUrl(repos.hello));
    }
  });

  test("--subdirectory: a wazo-plugind plugin and a Makefile plugin from one repository, each in one run with other plugins", async () => {
    const { root, calls, env } = await place();
    const local = await makePlugin(path.join(tmp, "local"), "local-one", {
      "tasks.yml": "install:\n  - copy: one.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n",
      "one.conf": "[one]\n",
    });
    const r = await runCli(["install", fileUrl(repos.mono), "--subdirectory", "plugins/acme-hello", local, "--root", root], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /acme\/hello 24\.00 \(install, rules\)/);
    assert.match(r.stdout, /local-one 1\.0\.0 \(install, descriptor\)/);
    assert.deepEqual(await actions(calls), ["asterisk -rx dialplan reload"], "one reload for both");
    const m = await manifest(root, "acme/hello");
    assert.deepEqual(m.origin, { method: "git", url: fileUrl(repos.mono), subdirectory: "plugins/acme-hello", commit: repos.monoCommit });

    const make = await place();
    // Several git plugins: each URL carries its own ref.
    const mk = await runCli(["install", `${fileUrl(repos.mono)}`, "--subdirectory", "plugins/greeting/", "--root", make.root], { env: make.env() });
    assert.equal(mk.code, 0, mk.stderr);
    const two = await runCli(["install", `${fileUrl(repos.hello)}#v2`, `${fileUrl(repos.rules)}#main`, "--root", make.root], { env: make.env() });
    assert.equal(two.code, 0, two.stderr);
    assert.equal((await manifest(make.root, "helloworld")).origin.ref, "v2");
    assert.equal(mk.code, 0, mk.stderr);
    assert.match(await readFile(path.join(make.root, "etc/asterisk/extensions_extra.d/acme-greeting.conf"), "utf8"), /\S/);
    assert.equal((await manifest(make.root, "acme-greeting-make")).origin.subdirectory, "plugins/greeting");
    const un = await runCli(["uninstall", "acme-greeting-make", "--root", make.root], { env: make.env() });
    assert.equal(un.code, 0, un.stderr);
    // make uninstall ran in the cached tree, which then went: nothing installed comes from it.
    const cache = path.join(make.root, "var/lib/wazo-tasks/cache/git");
    const keys = await readdir(cache);
    assert.equal(
      keys.some((k) => k.startsWith("repos-mono-")),
      false,
      keys.join(", "),
    );
    assert.ok(
      keys.some((k) => k.startsWith("repos-hello-")),
      "the trees of plugins still installed stay",
    );
  });

  test("validate fetches a git source into a temporary folder and names its files by URL and commit", async () => {
    const { tmpdir, env } = await place();
    const ok = await runCli(["validate", `${fileUrl(repos.hello)}#v2`], { env: env() });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, new RegExp(`ok\\s+${fileUrl(repos.hello)}#v2 \\(helloworld 2\\.0\\.0, descriptor\\)`));
    const bad = await runCli(["validate", fileUrl(repos.mono)], { env: env() });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no plugin at the top of file:\/\/\/.*mono/);
    assert.deepEqual(await readdir(tmpdir), []);
  });

  test("a rules plugin at the top of a repository reached by path with --ref", async () => {
    const { root, env } = await place();
    const r = await runCli(["install", repos.rules, "--ref", "main", "--root", root], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await manifest(root, "acme/hello")).origin.commit, repos.rulesCommit);
    const un = await runCli(["uninstall", "acme/hello", "--root", root], { env: env() });
    assert.equal(un.code, 0, un.stderr);
  });
});
