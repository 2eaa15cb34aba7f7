/** Reading wazo/rules and wazo/plugin.yml, and comparing versions (no process run). */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseYaml } from "../../src/load/yaml.js";
import { validateRulesMeta } from "../../src/rules/meta.js";
import { caseBranches, handlersOnly, hasTarget, rulesArgv, targetsOf, type RulesScript } from "../../src/rules/script.js";
import { compareVersions } from "../../src/rules/version.js";
import { alternatives } from "../../src/rules/debian.js";

const script = (text: string, executable = true): RulesScript => {
  const first = text.split("\n")[0];
  return {
    file: "/p/wazo/rules",
    text,
    executable,
    shebang: first.startsWith("#!")
      ? first
          .slice(2)
          .trim()
          .split(/\s+(.*)/)
          .filter(Boolean)
      : undefined,
    branches: caseBranches(text),
  };
};

describe("wazo/rules: the case statement", () => {
  test("branches of a typical rules file, with comments, blank lines and a fallback", () => {
    const s = script(`#!/bin/bash
# build) is not a branch here
set -e
case "$1" in
    build)
        python3 setup.py bdist   # a comment with ;; inside
        ;;

    package)
        cp -R etc \${pkgdir}/
        ;;
    install)
        asterisk -x 'dialplan reload'
    ;;
    *)
        echo "$0 called with unknown argument '$1'" >&2
        exit 1
    ;;
esac
`);
    assert.deepEqual(
      s.branches?.map((b) => [b.patterns, b.line]),
      [
        [["build"], 5],
        [["package"], 9],
        [["install"], 12],
        [["*"], 15],
      ],
    );
    assert.deepEqual(targetsOf(s), ["build", "package", "install"]);
    assert.equal(hasTarget(s, "postrm"), false, "only the fallback would run: absent");
  });

  test("one-line branches, alternatives, quoted patterns, a nested case and a last branch without ;;", () => {
    const s = script(`#!/bin/sh
case $1 in
  build) ;; package) cp a "$pkgdir/a" ;;
  "install"|configure)
    case "$2" in x) echo x ;; esac
    systemctl restart wazo-calld
    ;;
  uninstall) true
esac`);
    assert.deepEqual(
      s.branches?.map((b) => b.patterns),
      [["build"], ["package"], ["install", "configure"], ["uninstall"]],
    );
    assert.equal(hasTarget(s, "build"), false, "an empty branch is nothing to do");
    assert.equal(s.branches?.[1].body, 'cp a "$pkgdir/a"');
    assert.match(s.branches![2].body, /esac\n\s*systemctl restart wazo-calld$/);
    assert.equal(hasTarget(s, "uninstall"), true);
  });

  test("a file that is not a case statement: every target is called", () => {
    const s = script('#!/usr/bin/env python3\nimport sys\nif sys.argv[1] == "package":\n    pass\n');
    assert.equal(s.branches, undefined);
    assert.deepEqual(targetsOf(s), ["build", "package", "install", "uninstall", "postrm"]);
    assert.equal(handlersOnly(s, "install"), undefined);
  });

  test("a target that only reloads or restarts becomes handlers; anything else runs as written", () => {
    const rules = (install: string) => script(`#!/bin/sh\ncase "$1" in\n  install)\n    ${install}\n    ;;\nesac\n`);
    assert.deepEqual(handlersOnly(rules("asterisk -x 'dialplan reload'"), "install"), [{ reload: "dialplan" }]);
    assert.deepEqual(handlersOnly(rules('/usr/sbin/asterisk -rx "dialplan reload" > /dev/null'), "install"), [{ reload: "dialplan" }]);
    assert.deepEqual(handlersOnly(rules("echo reloading\n    asterisk -rx 'module reload res_pjsip.so'"), "install"), [{ reload: "res_pjsip.so" }]);
    assert.deepEqual(handlersOnly(rules("systemctl restart wazo-calld && asterisk -x 'dialplan reload'"), "install"), [
      { restart: "wazo-calld" },
      { reload: "dialplan" },
    ]);
    for (const other of [
      "systemctl reload nginx",
      "systemctl enable x",
      "asterisk -x 'core show version'",
      "chown wazo /etc/x",
      'asterisk -x "dialplan reload" || true; rm -f /tmp/x',
      "if true; then asterisk -x 'dialplan reload'; fi",
      "set -e; asterisk -x 'dialplan reload'",
    ])
      assert.equal(handlersOnly(rules(other), "install"), undefined, other);
  });

  test("the argv runs the file through its own #! line", () => {
    assert.deepEqual(rulesArgv(script("#!/bin/sh\n"), "/c/wazo/rules", "build"), ["/c/wazo/rules", "build"]);
    assert.deepEqual(rulesArgv(script("#!/bin/bash -e\n", false), "/c/wazo/rules", "build"), ["/bin/bash", "-e", "/c/wazo/rules", "build"]);
    assert.deepEqual(rulesArgv(script("#!/usr/bin/env python3\n", false), "/c/wazo/rules", "package"), ["/usr/bin/env", "python3", "/c/wazo/rules", "package"]);
    assert.deepEqual(rulesArgv(script("echo no shebang\n"), "/c/wazo/rules", "install"), ["/bin/sh", "/c/wazo/rules", "install"]);
  });
});

describe("wazo/plugin.yml", () => {
  const meta = (text: string) => {
    const parsed = parseYaml(text, "/p/wazo/plugin.yml");
    assert.ok(parsed.ok);
    return validateRulesMeta(parsed.doc);
  };

  test("versions are read as written: 24.00 stays 24.00, 23.10 is not 23.1", () => {
    const r = meta(
      "\n\nnamespace: acme\nname: x\nversion: 24.00\nmin_wazo_version: 23.10  # comment\nmax_wazo_version: 25\ndepends: [{namespace: acme, name: y, version: 1.10}]\nplugin_format_version: 1\n",
    );
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.meta?.version, "24.00");
    assert.equal(r.meta?.minWazoVersion, "23.10");
    assert.equal(r.meta?.maxWazoVersion, "25");
    assert.deepEqual(r.meta?.depends, [{ namespace: "acme", name: "y", version: "1.10" }]);
    assert.equal(r.meta?.pluginFormatVersion, 1);
  });

  test("defaults, empty optional keys, accepted informational keys, unknown keys as warnings", () => {
    const r = meta(
      "namespace: acme\nname: x\nversion: 0.0.1\ndepends:\ndebian_depends:\nauthor: me\ntags: [a]\nhomepage: https://x\nasterisk:\n  reload: dialplan\n",
    );
    assert.equal(r.meta?.pluginFormatVersion, 0);
    assert.deepEqual(r.meta?.depends, []);
    assert.deepEqual(r.meta?.debianDepends, []);
    assert.deepEqual(
      r.diagnostics.map((d) => [d.severity, d.line, d.message]),
      [["warning", 9, 'unknown key "asterisk": accepted and ignored']],
    );
  });
});

describe("versions and Debian dependencies", () => {
  test("compared piece by piece, numbers as numbers", () => {
    const lt = (a: string, b: string) => assert.ok(compareVersions(a, b) < 0 && compareVersions(b, a) > 0, `${a} < ${b}`);
    lt("23.9", "23.10");
    lt("23.2", "23.10");
    lt("24.01", "24.01.1");
    lt("24.rc1", "24.1");
    lt("1.0.2", "1.0.10");
    assert.equal(compareVersions("24.00", "24.0"), 0);
    assert.equal(compareVersions("24.01", "24.1"), 0);
  });

  test("alternatives and version constraints of a Debian dependency", () => {
    assert.deepEqual(alternatives("libfoo1 (>= 2) | libfoo2:any"), ["libfoo1", "libfoo2"]);
    assert.deepEqual(alternatives("python3"), ["python3"]);
  });
});
