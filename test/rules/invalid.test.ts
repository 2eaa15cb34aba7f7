/**
 * Bad wazo-plugind plugins: each case exits 2, names the file and line, prints no stack trace,
 * and leaves the root (and the plugin folders) exactly as they were — also with --dry-run.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanup, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { rulesEnv, RULES_FIXTURES } from "./support.js";

const RULES = '#!/bin/sh\ncase "$1" in\n  package) mkdir -p "$pkgdir/etc/bad" && cp bad.conf "$pkgdir/etc/bad/" ;;\nesac\n';
const META = "namespace: acme\nname: bad\nversion: 1.0\n";

interface Case {
  name: string;
  yml: string;
  /** Without wazo/rules. */
  noRules?: boolean;
  /** Other plugins in a search folder given with --plugins-dir: folder → plugin.yml. */
  others?: Record<string, string>;
  /** Named on the command line after the plugin (folders of `others`). */
  alsoInstall?: string[];
  /** Files in the root before the run. */
  root?: Record<string, string>;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  expect: RegExp;
  /** False when only install can tell (search folders, Wazo version, dpkg, other plugins). */
  validate?: boolean;
  /** Only known once package ran: the dry run needs --preview-build. */
  staged?: boolean;
}

const CASES: Case[] = [
  { name: "missing namespace", yml: "name: bad\nversion: 1.0\n", expect: /wazo\/plugin\.yml:1:1: error: missing required key "namespace"/ },
  {
    name: "namespace with a dash",
    yml: "namespace: my-ns\nname: bad\nversion: 1\n",
    expect: /wazo\/plugin\.yml:1:12: error: "namespace" must be lower-case letters and digits only \(no '-'\)/,
  },
  {
    name: "name with capitals",
    yml: "namespace: acme\nname: Bad\nversion: 1\n",
    expect: /wazo\/plugin\.yml:2:7: error: "name" must be lower-case letters, digits and '-'/,
  },
  { name: "missing version", yml: "\n\nnamespace: acme\nname: bad\n", expect: /wazo\/plugin\.yml:3:1: error: missing required key "version"/ },
  {
    name: "version as a list",
    yml: "namespace: acme\nname: bad\nversion: [1, 2]\n",
    expect: /wazo\/plugin\.yml:3:10: error: "version" must be a version, such as 1\.0\.2/,
  },
  {
    name: "plugin_format_version out of range",
    yml: META + "plugin_format_version: 3\n",
    expect: /wazo\/plugin\.yml:4:24: error: "plugin_format_version" must be a whole number from 0 to 2/,
  },
  {
    name: "depends not a list",
    yml: META + "depends: acme/other\n",
    expect: /wazo\/plugin\.yml:4:10: error: "depends" must be array, not string "acme\/other"/,
  },
  { name: "a dependency without a name", yml: META + "depends:\n  - namespace: acme\n", expect: /wazo\/plugin\.yml:5:5: error: missing required key "name"/ },
  { name: "YAML syntax error", yml: "namespace: acme\nname: [bad\nversion: 1\n", expect: /wazo\/plugin\.yml:\d+:\d+: error: YAML syntax error/ },
  {
    name: "plugin.yml is a list",
    yml: "- namespace: acme\n",
    expect: /wazo\/plugin\.yml:1:1: error: wazo\/plugin\.yml must be a mapping with namespace, name and version, not a list/,
  },
  { name: "no wazo/rules", yml: META, noRules: true, expect: /wazo\/plugin\.yml:1:1: error: no wazo\/rules next to wazo\/plugin\.yml/ },
  {
    name: "a dependency found nowhere",
    yml: META + "depends:\n  - namespace: acme\n    name: nowhere\n",
    expect:
      /bad\/wazo\/plugin\.yml:5:5: error: acme\/bad: depends on acme\/nowhere, which is neither installed nor found in the search folders\n[\s\S]*hint: put the acme\/nowhere plugin in a search folder/,
    validate: false,
  },
  {
    name: "a dependency older than wanted",
    yml: META + "depends:\n  - namespace: acme\n    name: calld-conf\n    version: 2.0\n",
    args: ["--plugins-dir", RULES_FIXTURES],
    expect: /bad\/wazo\/plugin\.yml:5:5: error: acme\/bad: depends on acme\/calld-conf 2\.0 or later, but .*calld-conf has version 1\.2\.0/,
    validate: false,
  },
  {
    name: "a dependency cycle",
    yml: META + "depends:\n  - namespace: acme\n    name: cyc\n",
    others: { cyc: "namespace: acme\nname: cyc\nversion: 1\ndepends:\n  - {namespace: acme, name: bad}\n" },
    expect: /cyc\/wazo\/plugin\.yml:5:5: error: acme\/cyc: dependency cycle: acme\/bad -> acme\/cyc -> acme\/bad/,
    validate: false,
  },
  {
    name: "min_wazo_version, compared as a version (24.9 < 24.10)",
    yml: META + "min_wazo_version: 24.10\n",
    args: ["--wazo-version", "24.9"],
    expect:
      /wazo\/plugin\.yml:4:19: error: acme\/bad: needs Wazo 24\.10 or later \(min_wazo_version\), but this is Wazo 24\.9 \(from --wazo-version\)\n[\s\S]*hint: install a version of the plugin made for this Wazo, or pass --force/,
    validate: false,
  },
  {
    name: "min_wazo_version against WAZO_VERSION (23.2 < 23.10)",
    yml: META + 'min_wazo_version: "23.10"\n',
    env: { WAZO_VERSION: "23.2" },
    expect: /wazo\/plugin\.yml:4:19: error: acme\/bad: needs Wazo 23\.10 or later \(min_wazo_version\), but this is Wazo 23\.2 \(from WAZO_VERSION\)/,
    validate: false,
  },
  {
    name: "max_wazo_version against the root's WAZO-VERSION file",
    yml: META + "max_wazo_version: 24.16\n",
    root: { "usr/share/wazo/WAZO-VERSION": "25.03\n" },
    expect:
      /wazo\/plugin\.yml:4:19: error: acme\/bad: needs Wazo 24\.16 or earlier \(max_wazo_version\), but this is Wazo 25\.03 \(from .*root\/usr\/share\/wazo\/WAZO-VERSION\)/,
    validate: false,
  },
  {
    name: "a Debian package missing, with --strict",
    yml: META + "debian_depends:\n  - python3\n  - libfoo1 (>= 2) | libfoo2\n",
    root: { "var/lib/dpkg/status": "" },
    args: ["--strict"],
    expect:
      /wazo\/plugin\.yml:6:5: error: acme\/bad: Debian package libfoo1 \(>= 2\) \| libfoo2 is not installed \(debian_depends\)\n[\s\S]*hint: install it first \(apt install libfoo1\)/,
    validate: false,
  },
  {
    name: "two plugins staging the same file",
    yml: META,
    others: { twin: "namespace: acme\nname: twin\nversion: 1\n" },
    alsoInstall: ["twin"],
    staged: true,
    expect: /twin\/wazo\/rules:3:3: error: acme\/twin: \/etc\/bad\/bad\.conf is also a target of plugin "acme\/bad" in this run/,
    validate: false,
  },
];

describe("invalid wazo-plugind plugins: exit 2, file:line, root unchanged", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-rules-bad-")));
  after(() => cleanup(tmp));

  CASES.forEach((c, i) => {
    test(c.name, async () => {
      const dir = path.join(tmp, `case${i}`);
      const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n", ...c.root });
      const plugin = await writeTree(path.join(dir, "bad"), { "wazo/plugin.yml": c.yml, ...(c.noRules ? {} : { "wazo/rules": RULES }), "bad.conf": "x = 1\n" });
      const search = path.join(dir, "search");
      for (const [folder, yml] of Object.entries(c.others ?? {}))
        await writeTree(path.join(search, folder), { "wazo/plugin.yml": yml, "wazo/rules": RULES, "bad.conf": "x = 1\n" });
      const extra = [...(c.others ? ["--plugins-dir", search] : []), ...(c.args ?? [])];
      const env = rulesEnv(path.join(tmp, `calls${i}`), { FAKE_DPKG_INSTALLED: "python3", ...c.env });
      const before = await snapshot(dir);
      const targets = [plugin, ...(c.alsoInstall ?? []).map((f) => path.join(search, f))];
      for (const dry of [[], ["--dry-run", ...(c.staged ? ["--preview-build"] : [])]]) {
        const args = ["install", ...targets, "--root", root, ...extra, ...dry];
        const r = await runCli(args, { env });
        assert.equal(r.code, 2, `exit code for ${args.join(" ")}\n${r.stderr}`);
        assert.match(r.stderr, c.expect);
        assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+\)?\n/, "no stack trace");
        assert.deepEqual(await snapshot(dir), before, "nothing changed");
      }
      if (c.validate !== false) {
        const v = await runCli(["validate", plugin], { env });
        assert.equal(v.code, 2, v.stderr);
        assert.match(v.stderr, c.expect);
      }
    });
  });

  test("an unknown NAMESPACE/NAME, and a NAME two namespaces have", async () => {
    const dir = path.join(tmp, "names");
    const root = path.join(dir, "root");
    const search = path.join(dir, "search");
    await writeTree(path.join(search, "one"), { "wazo/plugin.yml": "namespace: one\nname: same\nversion: 1\n", "wazo/rules": RULES });
    await writeTree(path.join(search, "two"), { "wazo/plugin.yml": "namespace: two\nname: same\nversion: 1\n", "wazo/rules": RULES });
    const env = rulesEnv(path.join(dir, "calls"));
    const unknown = await runCli(["install", "acme/helo", "--plugins-dir", RULES_FIXTURES, "--root", root], { env });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown plugin "acme\/helo"[\s\S]*did you mean "acme\/hello"\?/);
    const both = await runCli(["install", "same", "--plugins-dir", search, "--root", root], { env });
    assert.equal(both.code, 2);
    assert.match(both.stderr, /"same" names several plugins: one\/same, two\/same[\s\S]*hint: give NAMESPACE\/NAME/);
    const one = await runCli(["install", "two/same", "--plugins-dir", search, "--root", root, "--dry-run"], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /two\/same 1 \(install, rules\)/);
  });

  test("warnings are not errors: a missing Debian package without --strict, and --force past the Wazo version", async () => {
    const dir = path.join(tmp, "warnings");
    const root = await writeTree(path.join(dir, "root"), { "var/lib/dpkg/status": "" });
    const plugin = await writeTree(path.join(dir, "bad"), {
      "wazo/plugin.yml": META + "max_wazo_version: 23.10\ndebian_depends:\n  - libfoo1\n  - python3\nextra_key: 1\n",
      "wazo/rules": RULES,
      "bad.conf": "x = 1\n",
    });
    const calls = path.join(dir, "calls");
    const r = await runCli(["install", plugin, "--root", root, "--wazo-version", "24.01", "--force"], { env: rulesEnv(calls) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /wazo\/plugin\.yml:8:1: warning: unknown key "extra_key": accepted and ignored/);
    assert.match(
      r.stderr,
      /warning: acme\/bad: needs Wazo 23\.10 or earlier \(max_wazo_version\), but this is Wazo 24\.01 \(from --wazo-version\); installing anyway \(--force\)/,
    );
    assert.match(r.stderr, /wazo\/plugin\.yml:6:5: warning: acme\/bad: Debian package libfoo1 is not installed \(debian_depends\)/);
    assert.doesNotMatch(r.stderr, /python3 is not installed/);
    assert.match(r.stdout, /changed\s+copy\s+\/etc\/bad\/bad\.conf/);
  });
});
