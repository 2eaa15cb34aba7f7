/**
 * Bad git sources and faults: each exits 2 naming the source, what was tried and a hint, leaves
 * the root as it was and no temporary clone anywhere; credentials never shown or stored.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { fileUrl, git, makeRepo, makeRepos } from "./support.js";

describe("git sources: bad input and faults", () => {
  let tmp: string;
  let repos: Awaited<ReturnType<typeof makeRepos>>;
  let n = 0;
  before(async () => {
    tmp = await tempDir("wt-git-bad-");
    repos = await makeRepos(path.join(tmp, "repos"));
  });
  after(() => cleanup(tmp));

  /** Runs install in a root holding one file; checks exit 2, the message, and that root and TMPDIR are as before. */
  const refused = async (args: string[], message: RegExp, extraEnv: NodeJS.ProcessEnv = {}) => {
    const dir = path.join(tmp, `bad-${++n}`);
    const root = path.join(dir, "root");
    const tmpdir = path.join(dir, "tmp");
    await writeTree(root, { "etc/asterisk/extensions.conf": "[general]\n" });
    await mkdir(tmpdir);
    const before = await snapshot(root);
    const r = await runCli(["install", ...args, "--root", root], { env: { TMPDIR: tmpdir, WAZO_VERSION: "", ...extraEnv } });
    assert.equal(r.code, 2, `${args.join(" ")}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.match(r.stderr, /hint: /, args.join(" "));
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, "no stack trace");
    assert.deepEqual(await snapshot(root), before, `${args.join(" ")}: the root is as it was (no cache left)`);
    assert.deepEqual(await readdir(tmpdir), [], "no temporary clone");
    return r;
  };

  test("unknown scheme, unreachable repository, missing ref, missing commit", async () => {
    await refused(["ftp://example.org/x.git"], /unknown scheme "ftp:\/\/" in plugin source ftp:\/\/example\.org\/x\.git/);
    const r = await refused(
      [fileUrl(path.join(tmp, "nowhere"))],
      /error: cannot fetch file:\/\/\/.*nowhere: .*(does not appear to be a git repository|not found)/i,
    );
    assert.match(r.stderr, /tried: git fetch --depth 1 file:\/\/\/.*nowhere HEAD/);
    await refused(
      [`${fileUrl(repos.hello)}#nope`],
      /cannot fetch file:\/\/\/.*hello \(ref nope\): no branch or tag "nope" in the repository[\s\S]*hint: check the name: git ls-remote/,
    );
    await refused([`${fileUrl(repos.hello)}#deadbeefdeadbeef`], /no commit "deadbeefdeadbeef" in the repository/);
    await refused(["http://127.0.0.1:1/x.git"], /cannot fetch http:\/\/127\.0\.0\.1:1\/x\.git: .*(connect|Connection)/i);
    const jr = path.join(tmp, "json-root");
    const json = await runCli(["install", `${fileUrl(repos.hello)}#nope`, "--json", "--root", jr]);
    assert.equal(json.code, 2, json.stderr);
    assert.deepEqual(await snapshot(jr), new Map(), "nothing written");
    const summary = JSON.parse(json.stdout.trim().split("\n").at(-1)!) as { type: string; failure?: { reason: string; exitCode: number; message: string } };
    assert.equal(summary.type, "summary");
    assert.deepEqual([summary.failure?.reason, summary.failure?.exitCode], ["git-failed", 2]);
    assert.match(summary.failure?.message ?? "", /no branch or tag "nope"/);
  });

  test("no plugin at the top or at --subdirectory; --subdirectory outside the repository; flags with several git plugins", async () => {
    await refused(
      [fileUrl(repos.mono)],
      /no plugin at the top of file:\/\/\/.*mono at [0-9a-f]{12}[\s\S]*hint: plugins found in: plugins\/acme-hello, plugins\/greeting; pass --subdirectory plugins\/acme-hello/,
    );
    await refused([fileUrl(repos.mono), "--subdirectory", "plugins/nope"], /no plugin in subdirectory plugins\/nope of file:\/\/\/.*mono/);
    await refused([fileUrl(repos.mono), "--subdirectory", "../x"], /--subdirectory \.\.\/x: must be a relative path inside the repository/);
    await refused(
      [fileUrl(repos.hello), fileUrl(repos.rules), "--ref", "main"],
      /--ref and --subdirectory apply to one git plugin, and 2 are given[\s\S]*hint: give each URL its own ref as URL#REF/,
    );
    await refused(["helloworld", "--ref", "main"], /--ref and --subdirectory apply to one git plugin, and none is given/);
  });

  test("refs and URLs starting with '-' never reach git", async () => {
    await refused(
      [fileUrl(repos.hello), "--ref=--upload-pack=touch /tmp/owned"],
      /refused ref "--upload-pack=touch \/tmp\/owned" for file:\/\/\/.*: it starts with '-'/,
    );
    await refused([`${fileUrl(repos.hello)}#-x`], /refused ref "-x"/);
    await refused(["git+-oProxyCommand=x@h:p"], /refused source "-oProxyCommand=x@h:p": it starts with '-'/);
  });

  test("ssh and scp-style URLs go to git's ssh transport (a stand-in ssh here), its failure reported", async () => {
    const ssh = path.join(tmp, "fake-ssh");
    const log = path.join(tmp, "ssh-args");
    await writeTree(tmp, { "fake-ssh": `#!/bin/sh\necho "$@" >> ${log}\necho "ssh: connect to host $1 port 22: Connection refused" >&2\nexit 255\n` });
    execFileSync("chmod", ["+x", ssh]);
    const env = { GIT_SSH_COMMAND: ssh };
    await refused(
      ["git@example.invalid:acme/plugin.git"],
      /cannot fetch git@example\.invalid:acme\/plugin\.git: ssh: connect to host .*Connection refused/,
      env,
    );
    await refused(
      ["git+ssh://deploy:pw@example.invalid/acme/plugin.git#v2"],
      /cannot fetch ssh:\/\/deploy@example\.invalid\/acme\/plugin\.git \(ref v2\): ssh: connect/,
      env,
    );
    const calls = await readFile(log, "utf8");
    assert.match(calls, /git@example\.invalid git-upload-pack 'acme\/plugin\.git'/);
    assert.match(calls, /deploy@example\.invalid git-upload-pack '\/acme\/plugin\.git'/);
    assert.doesNotMatch(calls, /pw/, "an ssh URL's password is not even handed to ssh");
  });

  test("git not installed: said, with a hint", async () => {
    const bin = path.join(tmp, "empty-bin");
    await mkdir(bin, { recursive: true });
    await refused([fileUrl(repos.hello)], /cannot fetch file:\/\/\/.*hello: git is not installed \(not found on PATH\)[\s\S]*hint: install git/, { PATH: bin });
  });

  test("an unknown plugin format version and a plugin outside its Wazo version range: refused, the fetched tree dropped", async () => {
    const future = path.join(tmp, "future");
    await makeRepo(future, {
      "wazo/plugin.yml": "namespace: acme\nname: future\nversion: 1.0\nplugin_format_version: 9\n",
      "wazo/rules": "#!/bin/sh\nexit 0\n",
    });
    await refused([fileUrl(future)], /plugin_format_version[\s\S]*must be a whole number from 0 to 2/);
    const old = path.join(tmp, "old");
    await makeRepo(old, { "wazo/plugin.yml": "namespace: acme\nname: old\nversion: 1.0\nmax_wazo_version: 20.01\n", "wazo/rules": "#!/bin/sh\nexit 0\n" });
    await refused([fileUrl(old), "--wazo-version", "24.01"], /acme\/old: needs Wazo 20\.01 or earlier \(max_wazo_version\), but this is Wazo 24\.01/);
  });

  test("credentials in a URL appear in no output, event, manifest, cache or error", async () => {
    // A repository served over dumb http, which takes any user and password.
    const bare = path.join(tmp, "served.git");
    execFileSync("git", ["clone", "-q", "--bare", repos.hello, bare]);
    git(bare, "update-server-info");
    const server = createServer(async (req, res) => {
      const file = path.join(bare, decodeURIComponent((req.url ?? "/").split("?")[0]).replace(/^\/served\.git/, ""));
      const body = await readFile(file).catch(() => undefined);
      if (!body || !file.startsWith(bare)) res.writeHead(404).end();
      else res.writeHead(200).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const TOKEN = "s3cr3tT0ken";
      const root = path.join(tmp, "cred-root");
      const outputs: string[] = [];
      for (const args of [
        ["install", `http://deploy:${TOKEN}@127.0.0.1:${port}/served.git`, "--json"],
        ["install", `http://${TOKEN}@127.0.0.1:${port}/served.git#v2`],
        ["install", `http://u:${TOKEN}@127.0.0.1:${port}/served.git#v2`, "--dry-run", "-v"],
        ["install", `http://u:${TOKEN}@127.0.0.1:${port}/missing.git`],
        ["install", `https://u:${TOKEN}@127.0.0.1:1/x.git`],
        ["list", "--installed", "--json"],
      ]) {
        const r = await runCli([...args, "--root", root]);
        outputs.push(r.stdout, r.stderr);
        if (!args.includes("missing") && !args[1].includes("127.0.0.1:1/") && args[0] === "install" && !args[1].includes("missing.git"))
          assert.equal(r.code, 0, r.stderr);
      }
      const all = outputs.join("\n");
      assert.match(all, new RegExp(`http://127\\.0\\.0\\.1:${port}/served\\.git`), "the URL is shown, without credentials");
      assert.ok(!all.includes(TOKEN), "the token is in no output");
      assert.match(all, /cannot fetch http:\/\/127\.0\.0\.1:\d+\/missing\.git/);
      const m = JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"), "utf8"));
      assert.equal(m.origin.url, `http://127.0.0.1:${port}/served.git`);
      for (const [file, hash] of await snapshot(root)) {
        assert.ok(!file.includes(TOKEN), file);
        if (!(await stat(path.join(root, file))).isFile()) continue;
        assert.ok(!(await readFile(path.join(root, file), "utf8")).includes(TOKEN), `${file} (${hash.slice(0, 8)}) holds the token`);
      }
    } finally {
      server.close();
    }
  });

  test("no hook runs, even one configured for every repository of the user; the cache keeps no repository", async () => {
    const home = path.join(tmp, "home");
    const marker = path.join(tmp, "hook-ran");
    await writeTree(home, {
      ".gitconfig": `[core]\n\thooksPath = ${home}/hooks\n`,
      "hooks/post-checkout": `#!/bin/sh\ntouch ${marker}\n`,
      "hooks/reference-transaction": `#!/bin/sh\ntouch ${marker}\n`,
    });
    execFileSync("chmod", ["+x", path.join(home, "hooks/post-checkout"), path.join(home, "hooks/reference-transaction")]);
    const root = path.join(tmp, "hook-root");
    const r = await runCli(["install", fileUrl(repos.hello), "--root", root], { env: { HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      await stat(marker).then(
        () => true,
        () => false,
      ),
      false,
      "a hook ran",
    );
    const cache = path.join(root, "var/lib/wazo-tasks/cache/git");
    const [key] = await readdir(cache);
    assert.deepEqual(await readdir(path.join(cache, key)), [repos.first]);
    assert.ok(!(await readdir(path.join(cache, key, repos.first))).includes(".git"));
  });
});
