/** `upgrade`: installed git and market plugins fetched again; what moved is installed, the rest unchanged. */
import assert from "node:assert/strict";
import { readdir, readFile, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, HELLO_CONF, runCli, snapshot, tempDir } from "../support/rig.js";
import { actions, rulesEnv } from "../rules/support.js";
import { commitAll, entry, fileUrl, makeRepos, moveMain } from "./support.js";

const HELLO = "etc/asterisk/extensions_extra.d/helloworld.conf";
const manifest = async (root: string, name: string) =>
  JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed", `${name.replace("/", "+")}.json`), "utf8"));

describe("upgrade", () => {
  let tmp: string;
  let repos: Awaited<ReturnType<typeof makeRepos>>;
  before(async () => {
    tmp = await tempDir("wt-upgrade-");
    repos = await makeRepos(path.join(tmp, "repos"));
  });
  after(() => cleanup(tmp));

  test("a branch that moved: previewed, then installed; again: unchanged; then uninstalled", async () => {
    const root = path.join(tmp, "root");
    const calls = path.join(tmp, "calls");
    const env = rulesEnv(calls);
    assert.equal((await runCli(["install", fileUrl(repos.hello), "--root", root, "--ref", "main"], { env })).code, 0);
    assert.equal((await runCli(["install", fileUrl(repos.mono), "--subdirectory", "plugins/acme-hello", "--root", root], { env })).code, 0);

    const none = await runCli(["upgrade", "--root", root], { env });
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stdout, /unchanged\s+source\s+git file:\/\/\/.*hello \(ref main\) at/);
    assert.match(none.stdout, /changed=0/);

    const moved = await moveMain(repos.hello, "1.1.0", HELLO_CONF + "; 1.1\n");
    const before = await snapshot(root);
    const dry = await runCli(["upgrade", "helloworld", "--root", root, "--dry-run"], { env });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`fetched ${fileUrl(repos.hello)} \\(ref main\\) at ${moved.slice(0, 12)} \\(dry run`));
    assert.match(dry.stdout, /helloworld 1\.1\.0 \(upgrade from 1\.0\.0, descriptor\)\n\s+would change\s+copy/);
    assert.deepEqual(await snapshot(root), before, "a dry run changes nothing");

    const callsBefore = (await actions(calls)).length;
    const up = await runCli(["upgrade", "--root", root, "--json"], { env });
    assert.equal(up.code, 0, up.stderr);
    const summary = events(up.stdout).at(-1)!;
    assert.deepEqual(summary.plugins.map((p: { name: string; status: string }) => `${p.name} ${p.status}`).sort(), [
      "acme/hello unchanged",
      "helloworld changed",
    ]);
    assert.equal(await readFile(path.join(root, HELLO), "utf8"), HELLO_CONF + "; 1.1\n");
    assert.equal((await manifest(root, "helloworld")).origin.commit, moved);
    assert.equal((await actions(calls)).length, callsBefore + 1, "one reload");

    // The tree of the commit installed before stays in the cache for a while, then goes.
    const cache = path.join(root, "var/lib/wazo-tasks/cache/git");
    const key = (await readdir(cache)).find((k) => k.startsWith("repos-hello-"))!;
    assert.deepEqual((await readdir(path.join(cache, key))).sort(), [repos.first, moved].sort());
    const old = new Date(Date.now() - 2 * 3_600_000);
    await utimes(path.join(cache, key, repos.first), old, old);
    const again = await runCli(["upgrade", "helloworld", "--root", root], { env });
    assert.match(again.stdout, /unchanged\s+source/);
    assert.deepEqual(await readdir(path.join(cache, key)), [moved]);
    // A commit that changes no file of the plugin: the new commit is recorded, nothing else runs.
    await writeFile(path.join(repos.hello, "README"), "notes\n");
    const readme = await commitAll(repos.hello, "readme");
    const callsNow = (await actions(calls)).length;
    const quiet = await runCli(["upgrade", "helloworld", "--root", root, "--json"], { env });
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.deepEqual(events(quiet.stdout).at(-1)!.plugins, [{ name: "helloworld", version: "1.1.0", action: "reinstall", status: "unchanged" }]);
    assert.equal((await manifest(root, "helloworld")).origin.commit, readme);
    assert.equal((await actions(calls)).length, callsNow, "no reload");

    const un = await runCli(["uninstall", "helloworld", "acme/hello", "--root", root], { env });
    assert.equal(un.code, 0, un.stderr);
    assert.equal((await runCli(["upgrade", "--root", root])).stdout, `nothing to upgrade: no plugin in ${root} was installed from git or the market\n`);
  });

  test("a market plugin upgrades to the market's newest version; a folder plugin is refused", async () => {
    const root = path.join(tmp, "market-root");
    const file = path.join(tmp, "market.json");
    const url = fileUrl(repos.hello);
    await writeFile(file, JSON.stringify({ items: [entry("acme", "hw", [{ version: "1.0.0", url, ref: "v1.0" }])] }));
    const env = { WAZO_TASKS_MARKET_URL: `file://${file}` };
    // The market names it acme/hw; the plugin in it is named helloworld, and installed under that name.
    assert.equal((await runCli(["install", "acme/hw", "--root", root], { env })).code, 0);
    await writeFile(
      file,
      JSON.stringify({
        items: [
          entry("acme", "hw", [
            { version: "1.0.0", url, ref: "v1.0" },
            { version: "2.0.0", url, ref: "v2" },
          ]),
        ],
      }),
    );
    const m = await manifest(root, "helloworld");
    assert.equal(m.origin.market.version, "1.0.0");
    const up = await runCli(["upgrade", "helloworld", "--root", root], { env });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /helloworld 2\.0\.0 \(upgrade from 1\.0\.0, descriptor\)/);
    assert.deepEqual((await manifest(root, "helloworld")).origin.market, { url: `file://${file}`, name: "acme/hw", version: "2.0.0" });

    const folder = path.join(tmp, "folder-root");
    assert.equal((await runCli(["install", "helloworld", "--root", folder])).code, 0);
    const snap = await snapshot(folder);
    const r = await runCli(["upgrade", "helloworld", "--root", folder]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /helloworld was installed from the folder .*helloworld, not from git or the market: there is nothing to fetch\n\s+hint: install it again from its folder/,
    );
    assert.deepEqual(await snapshot(folder), snap);
    const missing = await runCli(["upgrade", "nope", "--root", folder]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /plugin "nope" is not installed/);
  });
});
