/**
 * wazo/rules build and package captured (root on Linux with overlayfs): they run in an overlay of
 * the machine where only the plugin's copy, `$pkgdir` and a private TMPDIR are written; a write
 * or a removal anywhere else is refused with the paths named and never reaches the disk, and a
 * well-behaved plugin installs exactly as without the overlay.
 */
import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { overlayUnavailable } from "../../src/make/overlay.js";
import { cleanup, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";
import { copyFixture, rulesEnv } from "../rules/support.js";

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );
const PBX = { "etc/asterisk/extensions.conf": "[general]\n", "etc/admin.conf": "mine\n" };
const CONF = "[acme]\nexten = s,1,NoOp()\n";

/** A rules plugin whose build and package are `build` and `pkg` (shell lines). */
const rulesPlugin = (dir: string, name: string, build: string, pkg: string) =>
  writeTree(dir, {
    "wazo/plugin.yml": `namespace: acme\nname: ${name}\nversion: 1.0.0\nplugin_format_version: 1\n`,
    "wazo/rules": `#!/bin/sh\nset -e\ncase "$1" in\n  build)\n    ${build}\n    ;;\n  package)\n    ${pkg}\n    ;;\n  install)\n    ;;\n  uninstall)\n    ;;\nesac\n`,
    "a.conf": CONF,
  });
const PACKAGE_OWN = `install -D -m 0644 a.conf "$pkgdir/etc/asterisk/extensions_extra.d/acme.conf"`;

const why = await overlayUnavailable(process.env.PATH);
if (why) console.log(`# rules capture tests skipped: ${why}`);

describe("wazo/rules build and package captured in an overlay", { skip: why }, () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-rules-capture-")));
  after(() => cleanup(tmp));

  async function setup(name: string, build: string, pkg: string) {
    const dir = path.join(tmp, name);
    const plugin = await rulesPlugin(path.join(dir, "plugin"), name, build, pkg);
    const root = await writeTree(path.join(dir, "root"), PBX);
    return { dir, plugin, root, before: await snapshot(root), pluginBefore: await snapshot(plugin) };
  }

  test("a build writing outside its folder is refused with the path named; the file is never written", async () => {
    const outside = path.join(tmp, "outside-build");
    const target = path.join(outside, "x");
    const { plugin, root, before, pluginBefore } = await setup("build-out", `mkdir -p ${outside} && echo leaked > ${target}`, PACKAGE_OWN);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`wazo/rules build wrote or removed outside its folder and \\$pkgdir \\(${outside}\\): refused, nothing was changed`));
    assert.match(r.stderr, /wazo\/rules: error: build changes files outside its working folder and \$pkgdir/);
    assert.equal(await exists(outside), false);
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(await snapshot(plugin), pluginBefore);
  });

  test("a package removing a file outside $pkgdir is refused; the file is still there", async () => {
    const keep = await writeTree(path.join(tmp, "sentinel"), { "keep.txt": "keep me\n" });
    const sentinel = path.join(keep, "keep.txt");
    const { root, plugin, before } = await setup("pkg-rm", "true", `${PACKAGE_OWN}\n    rm -f ${sentinel}`);
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`wazo/rules package wrote or removed outside its folder and \\$pkgdir \\(${sentinel}\\): refused, nothing was changed`));
    assert.equal(await readFile(sentinel, "utf8"), "keep me\n");
    assert.deepEqual(await snapshot(root), before);
  });

  test("~/x written by package is refused and never written, in an install and in a preview", async () => {
    const { dir, plugin, root, before } = await setup("home", "true", `${PACKAGE_OWN}\n    cp a.conf ~/out6`);
    const home = await writeTree(path.join(dir, "home"), { ".profile": "\n" });
    for (const args of [[], ["--dry-run", "--preview-build"]]) {
      const r = await runCli(["install", plugin, "--root", root, ...args], { env: { HOME: home } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`wrote or removed outside its folder and \\$pkgdir \\(${path.join(home, "out6")}\\)`));
      assert.equal(await exists(path.join(home, "out6")), false);
      assert.deepEqual(await snapshot(root), before);
    }
  });

  test("build and package writing in their folder, $pkgdir and $TMPDIR are not refused", async () => {
    const { plugin, root } = await setup(
      "inside",
      `mkdir -p build && t=$(mktemp) && echo built > "$t" && cp "$t" build/a.conf && rm "$t"`,
      `install -D -m 0644 build/a.conf "$pkgdir/etc/asterisk/extensions_extra.d/acme.conf"`,
    );
    const r = await runCli(["install", plugin, "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /not captured/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/acme.conf"), "utf8"), "built\n");
  });

  // agent (package chmods its copy, stages a link) depends on calld-conf (build makes a file from a template).
  for (const fixture of ["agent", "calld-conf"])
    test(`a well-behaved rules plugin (${fixture}) installs the same bytes with and without the overlay`, async () => {
      const roots: string[] = [];
      for (const mode of ["overlay", "staging"]) {
        const dir = path.join(tmp, `same-${fixture}-${mode}`);
        const plugins = path.join(dir, "plugins");
        for (const f of ["agent", "calld-conf"]) await copyFixture(f, plugins);
        const root = await writeTree(path.join(dir, "root"), PBX);
        const env = rulesEnv(path.join(dir, "calls"), mode === "staging" ? { WAZO_TASKS_CAPTURE: "staging" } : {});
        const r = await runCli(["install", path.join(plugins, fixture), "--plugins-dir", plugins, "--root", root], { env });
        assert.equal(r.code, 0, r.stderr);
        const warnings = r.stderr.match(
          /wazo\/rules build and package are not captured in an overlay \(WAZO_TASKS_CAPTURE=staging is set\): they run as written/g,
        );
        assert.equal(warnings?.length ?? 0, mode === "staging" ? 1 : 0, r.stderr);
        roots.push(root);
      }
      const [a, b] = await Promise.all(roots.map(snapshot));
      // The manifests name when they were written and the root's id is random: everything else is byte for byte the same.
      const strip = (s: Map<string, string>) => new Map([...s].filter(([k]) => !/^var\/lib\/wazo-tasks\/(installed\/|root-id$)/.test(k)));
      assert.ok(
        [...a.keys()].some((k) => !k.startsWith("var/")),
        "files were installed",
      );
      assert.deepEqual(strip(a), strip(b));
    });
});
