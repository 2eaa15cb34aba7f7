/** Telling git sources from names and folders; credentials out of what is shown; market versions. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseVersion } from "../../src/sources/market.js";
import { cacheKey } from "../../src/sources/git.js";
import { looksLikeUrl, parseGitArg, scrub, stripCredentials } from "../../src/sources/url.js";
import { isTaskFailure } from "../../src/model/diagnostic.js";

test("git URLs in every accepted spelling; names and folders are not URLs", () => {
  for (const u of [
    "https://github.com/o/r.git",
    "http://h/r",
    "ssh://git@h:22/r.git",
    "git://h/r",
    "file:///srv/r",
    "git@github.com:o/r.git",
    "git+https://h/r",
    "git+ssh://git@h/r",
    "git+git@h:o/r",
  ])
    assert.ok(looksLikeUrl(u), u);
  for (const a of ["helloworld", "acme/hello", "./plugins/x", "/srv/plugins/x", "acme/hello@1.0", "C:dir"]) assert.ok(!looksLikeUrl(a), a);
  assert.deepEqual(parseGitArg("git+https://h/r.git#v2"), { url: "https://h/r.git", display: "https://h/r.git", ref: "v2" });
  assert.deepEqual(parseGitArg("git@h:o/r.git"), { url: "git@h:o/r.git", display: "git@h:o/r.git", ref: undefined });
});

test("refused: unknown schemes, leading '-', refs git could misread", () => {
  const refused = (arg: string, re: RegExp) =>
    assert.throws(
      () => parseGitArg(arg),
      (e) => isTaskFailure(e) && re.test(e.message) && e.reason === "invalid-input",
      arg,
    );
  refused("ftp://h/r", /unknown scheme "ftp:\/\/"/);
  refused("ext::sh -c touch% /tmp/x", /not a git URL/);
  refused("git+-uhttps://h/r", /starts with '-'/);
  refused("https://h/r#-b", /refused ref "-b"/);
  refused("https://h/r#a..b", /invalid ref "a\.\.b"/);
  refused("https://h/r#a b", /invalid ref/);
});

test("credentials: removed from shown URLs and from git's messages", () => {
  assert.equal(stripCredentials("https://user:tok@h/r.git"), "https://h/r.git");
  assert.equal(stripCredentials("https://tok@h/r.git"), "https://h/r.git");
  assert.equal(stripCredentials("ssh://git:pw@h/r.git"), "ssh://git@h/r.git");
  assert.equal(stripCredentials("git@h:o/r.git"), "git@h:o/r.git");
  assert.equal(stripCredentials("https://u:p@ss@h/r@x"), "https://h/r@x", "an unencoded @ in the password");
  assert.equal(parseGitArg("https://u:p%40ss@h/r").display, "https://h/r");
  const msg = scrub("fatal: unable to access 'https://u:p@ss@h/r/': p@ss failed, also p%40ss", "https://u:p%40ss@h/r");
  assert.ok(!msg.includes("p%40ss") && !msg.includes("p@ss"), msg);
  assert.notEqual(cacheKey("https://h/a/r.git"), cacheKey("https://h/b/r.git"));
  assert.match(cacheKey("https://h/a/r.git"), /^a-r-[0-9a-f]{12}$/);
});

test("market versions: the newest for this Wazo, an exact one, at least one", () => {
  const item = {
    namespace: "acme",
    name: "x",
    versions: [
      { method: "git", version: "1.9", options: {}, max_wazo_version: "23.99" },
      { method: "git", version: "1.10", options: {}, min_wazo_version: "24.01" },
      { method: "git", version: "2.0", options: {}, min_wazo_version: "25.01" },
    ],
  };
  const pick = (wazo?: string, wanted?: string, atLeast?: string) => {
    const v = chooseVersion(item, wazo, wanted, atLeast);
    return typeof v === "string" ? v : v.version;
  };
  assert.equal(pick("24.05"), "1.10", "1.10 is newer than 1.9");
  assert.equal(pick("23.10"), "1.9");
  assert.equal(pick(undefined), "2.0");
  assert.equal(pick("24.05", "1.9"), "acme/x 1.9 is for Wazo <= 23.99, and this is Wazo 24.05");
  assert.equal(pick("24.05", "3.0"), "no version 3.0 of acme/x in the market (it has 2.0, 1.10, 1.9)");
  assert.match(pick("23.10", undefined, "1.10"), /no version of acme\/x 1\.10 or later in the market is for Wazo 23\.10: 2\.0 \(Wazo >= 25\.01\)/);
});

test("the market address: --market, then only with an environment WAZO_TASKS_MARKET_URL and the config file", async () => {
  const { mkdtemp, mkdir, writeFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { marketUrl } = await import("../../src/sources/market.js");
  const root = await mkdtemp(join(tmpdir(), "wt-market-url-"));
  try {
    await mkdir(join(root, "etc/wazo-tasks"), { recursive: true });
    await writeFile(join(root, "etc/wazo-tasks/config.yml"), "market:\n  url: file:///srv/from-config.json\n");
    assert.deepEqual(await marketUrl("file:///flag.json", {}, root), { url: "file:///flag.json", from: "--market" });
    assert.equal((await marketUrl(undefined, { WAZO_TASKS_MARKET_URL: "file:///env.json" }, root)).url, "file:///env.json");
    assert.equal((await marketUrl(undefined, {}, root)).url, "file:///srv/from-config.json");
    // A library call that did not pass its environment: neither the variable nor the config file.
    assert.equal((await marketUrl(undefined, undefined, root)).from, "the default");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
