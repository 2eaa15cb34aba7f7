/**
 * The market: served by Node's http on 127.0.0.1 and read from disk (file://); versions picked by
 * the Wazo version; dependencies through the market, recursively, in one transaction.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, events, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { entry, fileUrl, git, makeRepo, rulesPlugin, rulesRepo, serveMarket, type MarketServer } from "./support.js";

const manifest = async (root: string, name: string) =>
  JSON.parse(await readFile(path.join(root, "var/lib/wazo-tasks/installed", `${name.replace("/", "+")}.json`), "utf8"));

describe("the market", () => {
  let tmp: string;
  let market: MarketServer;
  let marketFile: string;
  let items: ReturnType<typeof entry>[];
  let n = 0;
  const root = () => path.join(tmp, `root-${++n}`);

  before(async () => {
    tmp = await tempDir("wt-market-");
    const repos = path.join(tmp, "repos");
    // acme/hello: 1.0 on branch v1 (Wazo up to 23.99), 24.00 on main (Wazo 24.00 and later).
    const hello = path.join(repos, "hello");
    await makeRepo(hello, rulesPlugin("acme", "hello", "24.00"));
    git(hello, "checkout", "-q", "-b", "v1");
    await writeTree(hello, rulesPlugin("acme", "hello", "1.0"));
    git(hello, "commit", "-q", "-am", "1.0");
    git(hello, "checkout", "-q", "main");
    items = [
      entry("acme", "hello", [
        { version: "1.0", url: fileUrl(hello), ref: "v1", max: "23.99" },
        { version: "24.00", url: fileUrl(hello), ref: "main", min: "24.00" },
      ]),
      entry("dependency", "top", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "top", "1.0", ["dependency/one"]) }]),
      entry("dependency", "one", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "one", "1.0", ["dependency/two"]) }]),
      entry("dependency", "two", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "two", "1.0") }]),
      entry("dependency", "broken", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "broken", "1.0", ["dependency/missing-one"]) }]),
      entry("dependency", "missing-one", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "missing-one", "1.0", ["dependency/not-found"]) }]),
      entry("dependency", "unreachable", [{ version: "1.0", url: await rulesRepo(repos, "dependency", "unreachable", "1.0", ["dependency/gone"]) }]),
      entry("dependency", "gone", [{ version: "1.0", url: fileUrl(path.join(tmp, "no-such-repo")) }]),
      entry("cycle", "a", [{ version: "1.0", url: await rulesRepo(repos, "cycle", "a", "1.0", ["cycle/b"]) }]),
      entry("cycle", "b", [{ version: "1.0", url: await rulesRepo(repos, "cycle", "b", "1.0", ["cycle/a"]) }]),
      entry("odd", "archive", [{ version: "1.0", url: "https://example.org/x.tar.gz", method: "archive" }]),
    ];
    market = await serveMarket({ items });
    marketFile = path.join(tmp, "market.json");
    await writeFile(marketFile, JSON.stringify({ items }));
  });
  after(async () => {
    await market.close();
    await cleanup(tmp);
  });

  test("market lists the plugins with the version each would install on this Wazo, and what is installed", async () => {
    const r0 = root();
    const inst = await runCli(["install", "acme/hello", "--market", market.url, "--wazo-version", "23.10", "--root", r0]);
    assert.equal(inst.code, 0, inst.stderr);
    const r = await runCli(["market", "hello", "--market", market.url, "--wazo-version", "24.01", "--root", r0]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`market ${market.url.replace(/\./g, "\\.")}, for Wazo 24\\.01 \\(from --wazo-version\\)`));
    assert.match(r.stdout, /acme\/hello\s+24\.00\s+installed 1\.0\s+acme\/hello for tests/);
    assert.doesNotMatch(r.stdout, /dependency\//, "filtered by the text");
    const j = events((await runCli(["market", "--json", "--market", `file://${marketFile}`, "--wazo-version", "23.10", "--root", r0])).stdout)[0];
    assert.equal(j.type, "market");
    assert.equal(j.wazoVersion, "23.10");
    const hello = j.plugins.find((p: { name: string }) => p.name === "acme/hello");
    assert.equal(hello.wouldInstall, "1.0");
    assert.equal(hello.installed, "1.0");
    assert.equal(j.plugins.length, items.length);
  });

  test("install NAMESPACE/NAME: the newest version for this Wazo, from its git source, recorded; the market read once", async () => {
    const r0 = root();
    const hits = market.hits();
    const r = await runCli(["install", "acme/hello", "--root", r0, "--wazo-version", "24.01"], { env: { WAZO_TASKS_MARKET_URL: market.url } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /acme\/hello 24\.00 \(install, rules\)/);
    assert.equal(market.hits() - hits, 1);
    const m = await manifest(r0, "acme/hello");
    assert.equal(m.origin.method, "market");
    assert.deepEqual(m.origin.market, { url: market.url, name: "acme/hello", version: "24.00" });
    assert.equal(m.origin.ref, "main");
    assert.match(await readFile(path.join(r0, "etc/asterisk/extensions_extra.d/acme-hello.conf"), "utf8"), /24\.00/);
    // A pinned version, from a file:// market given in the config file.
    const r1 = root();
    await writeTree(r1, { "etc/wazo-tasks/config.yml": `market:\n  url: file://${marketFile}\n`, "usr/share/wazo/WAZO-VERSION": "23.10\n" });
    const noEnv = { env: { WAZO_TASKS_MARKET_URL: "" } };
    const p = await runCli(["install", "acme/hello@1.0", "--root", r1], noEnv);
    assert.equal(p.code, 0, p.stderr);
    assert.equal((await manifest(r1, "acme/hello")).version, "1.0");
    const out = await runCli(["install", "acme/hello@24.00", "--root", r1, "--dry-run"], noEnv);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /acme\/hello 24\.00 is for Wazo >= 24\.00, and this is Wazo 23\.10/);
  });

  test("dependencies: found in the market recursively and installed first in one run; an installed one is not reinstalled", async () => {
    const r0 = root();
    const hits = market.hits();
    const r = await runCli(["install", "dependency/top", "--market", market.url, "--root", r0, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(market.hits() - hits, 1, "fetched once per run");
    const ev = events(r.stdout);
    assert.deepEqual(
      ev.filter((e) => e.type === "plugin").map((e) => e.name),
      ["dependency/two", "dependency/one", "dependency/top"],
    );
    assert.equal((await manifest(r0, "dependency/two")).origin.method, "market");

    const r1 = root();
    assert.equal((await runCli(["install", "dependency/two", "--market", market.url, "--root", r1])).code, 0);
    const two = await readFile(path.join(r1, "var/lib/wazo-tasks/installed/dependency+two.json"), "utf8");
    const again = await runCli(["install", "dependency/top", "--market", market.url, "--root", r1, "--json"]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      events(again.stdout)
        .filter((e) => e.type === "plugin")
        .map((e) => e.name),
      ["dependency/one", "dependency/top"],
    );
    assert.equal(await readFile(path.join(r1, "var/lib/wazo-tasks/installed/dependency+two.json"), "utf8"), two);
  });

  /** exit 2, the message, the root unchanged. */
  const refused = async (args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) => {
    const r0 = root();
    await writeTree(r0, { "etc/asterisk/extensions.conf": "[general]\n" });
    const before = await snapshot(r0);
    const tmpdir = path.join(tmp, `tmp-${n}`);
    await mkdir(tmpdir);
    const r = await runCli(["install", ...args, "--root", r0], { env: { TMPDIR: tmpdir, ...env } });
    assert.equal(r.code, 2, `${args.join(" ")}\n${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /hint: /);
    assert.deepEqual(await snapshot(r0), before, args.join(" "));
    return r;
  };

  test("a missing or failing dependency, or a cycle: nothing changes, the chain is named", async () => {
    await refused(
      ["dependency/broken", "--market", market.url],
      /dependency\/broken needs dependency\/missing-one needs dependency\/not-found: not in the market/,
    );
    await refused(["dependency/unreachable", "--market", market.url], /dependency\/unreachable needs dependency\/gone: cannot fetch file:\/\/\/.*no-such-repo/);
    await refused(["cycle/a", "--market", market.url], /dependency cycle: cycle\/a -> cycle\/b -> cycle\/a/);
  });

  test("a market that cannot be read, answers something else, or lists an unknown method", async () => {
    const closed = await serveMarket({ items: [] });
    await closed.close();
    await refused(
      ["acme/hello@1.0", "--market", closed.url],
      /cannot read the market at http:\/\/127\.0\.0\.1:\d+\/0\.1\/plugins: ECONNREFUSED[\s\S]*tried: GET/,
    );
    await refused(["acme/hello@1.0", "--market", `file://${path.join(tmp, "none.json")}`], /cannot read the market at file:\/\/\/.*none\.json: ENOENT/);
    const jr = root();
    const json = await runCli(["install", "acme/hello@1.0", "--market", `file://${path.join(tmp, "none.json")}`, "--json", "--root", jr]);
    assert.equal(json.code, 2, json.stderr);
    assert.deepEqual(await snapshot(jr), new Map(), "nothing written");
    const summary = events(json.stdout).at(-1) as { type: string; failure?: { reason: string; exitCode: number } };
    assert.equal(summary.type, "summary");
    assert.deepEqual([summary.failure?.reason, summary.failure?.exitCode], ["market-failed", 2]);
    const html = await serveMarket("<html>maintenance</html>");
    const wrong = await serveMarket({ plugins: [] });
    const status = await serveMarket({ items: [] }, 503);
    try {
      await refused(["acme/hello@1.0", "--market", html.url], /the market at http:\/\/127\.0\.0\.1:\d+\/0\.1\/plugins did not answer JSON/);
      await refused(["acme/hello@1.0", "--market", wrong.url], /answered something other than a market list: items: /);
      await refused(["acme/hello@1.0", "--market", status.url], /cannot read the market at .*: HTTP 503/);
    } finally {
      await Promise.all([html.close(), wrong.close(), status.close()]);
    }
    await refused(["odd/archive", "--market", market.url], /market entry odd\/archive 1\.0 \(.*\): install method "archive" is not one wazo-tasks knows/);
    const r = await refused(["acme/nothere", "--market", market.url], /unknown plugin "acme\/nothere": not in the search folders, nor in the market at http/);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/);
    const m = await runCli(["market", "--market", wrong.url]);
    assert.equal(m.code, 2);
  });
});
