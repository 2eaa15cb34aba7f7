import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { load } from "js-yaml";
import { TasksSchema } from "../../src/load/schema.js";
import { convertMakefile, YAML_HEADER } from "../../src/make/convert.js";
import { formatDiagnostic } from "../../src/make/parse.js";
import { fixture, tempDir } from "./support.js";

const EXTRA = "/etc/asterisk/extensions_extra.d";
const HELLO = {
  install: [{ copy: "helloworld.conf", to: `${EXTRA}/` }, { reload: "dialplan" }],
  uninstall: [{ remove: `${EXTRA}/helloworld.conf` }, { reload: "dialplan" }],
};

function converted(name: string, strict = false) {
  const r = convertMakefile(fixture(name), { strict });
  assert.ok(r.ok, JSON.stringify(!r.ok && r.diagnostics));
  return r;
}

test("the seed's helloworld converts to exactly copy + reload / remove + reload", () => {
  const r = converted("helloworld");
  assert.deepEqual(r.steps, HELLO);
  assert.deepEqual(r.warnings, []);
  assert.deepEqual(r.yaml.split("\n").slice(0, 2), YAML_HEADER);
  assert.equal(YAML_HEADER[0], "# yaml-language-server: $schema=https://unpkg.com/wazo-tasks/schema/tasks.schema.json");
  assert.equal(YAML_HEADER[1], "# Converted by wazo-tasks convert from Makefile (install/uninstall targets); review before use.");
  assert.deepEqual(load(r.yaml), HELLO);
  assert.equal(
    r.yaml,
    `${YAML_HEADER.join("\n")}

install:
  - copy: helloworld.conf
    to: ${EXTRA}/
  - reload: dialplan

uninstall:
  - remove: ${EXTRA}/helloworld.conf
  - reload: dialplan
`,
  );
  assert.deepEqual(converted("helloworld-destdir").steps, HELLO);
});

test("every valid fixture converts to YAML that loads back to the steps and validates", () => {
  for (const name of ["helloworld", "helloworld-destdir", "install-mode", "sounds", "links", "calld-conf", "pjsip", "untranslatable", "no-uninstall"]) {
    const r = converted(name);
    const doc = load(r.yaml) as Record<string, unknown>;
    assert.deepEqual(doc.install, r.steps.install, name);
    assert.deepEqual(doc.uninstall ?? [], r.steps.uninstall, name);
    assert.ok(TasksSchema.safeParse(doc).success, name);
  }
});

test("modes are quoted strings in the YAML", () => {
  const r = converted("install-mode");
  assert.match(r.yaml, /mode: "0644"/);
  assert.deepEqual(r.steps.install, [{ mkdir: EXTRA }, { copy: "acme-greeting.conf", to: `${EXTRA}/`, mode: "0644" }, { reload: "dialplan" }]);
});

test("untranslated lines become sh -c run steps with warnings naming their lines", () => {
  const r = converted("untranslatable");
  assert.deepEqual(
    r.warnings.map((w) => formatDiagnostic({ ...w, hint: undefined })),
    [
      `Makefile:9: not translated: sed -i 's/@HOST@/pbx.example.com/' $(DESTDIR)${EXTRA}/acme-host.conf`,
      `Makefile:10: not translated: for f in extra/*.conf; do cp $f $(DESTDIR)${EXTRA}/acme-$(basename $f); done`,
    ],
  );
  assert.equal(r.warnings[0].hint, "no translation for 'sed'");
  assert.deepEqual(r.steps.install, [
    { mkdir: EXTRA },
    { copy: "acme-host.conf", to: `${EXTRA}/` },
    { run: ["sh", "-c", `sed -i 's/@HOST@/pbx.example.com/' \${DESTDIR}${EXTRA}/acme-host.conf`] },
    { run: ["sh", "-c", `for f in extra/*.conf; do cp $f \${DESTDIR}${EXTRA}/acme-$(basename $f); done`] },
    { reload: "dialplan" },
  ]);
  assert.match(r.yaml, /# Makefile:9: not translated \(no translation for 'sed'\); runs through sh -c\n {2}- run:/);
});

test("strict mode refuses any untranslated line", () => {
  const r = convertMakefile(fixture("untranslatable"), { strict: true });
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.line, d.severity, d.message.slice(0, 20)]),
    [
      [9, "error", "not translated: sed "],
      [10, "error", "not translated: for "],
    ],
  );
  assert.ok(converted("helloworld", true));
});

test("a line only make can run is refused even without strict", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "Makefile"), "install:\n\tcp $(foreach f,a b,$(f).conf) /etc/acme/\n");
  const r = convertMakefile(dir);
  assert.ok(!r.ok);
  assert.match(r.diagnostics[0].message, /^cannot be converted: cp \$\(foreach/);
  assert.equal(r.diagnostics[0].hint, "uses the make function $(foreach ...)");
});

test("spaces instead of a tab: refused with line and column, nothing converted", () => {
  const r = convertMakefile(fixture("spaces"));
  assert.ok(!r.ok);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.file, d.line, d.col]),
    [
      ["Makefile", 4, 1],
      ["Makefile", 5, 1],
    ],
  );
  assert.match(r.diagnostics[0].message, /indented with spaces; recipe lines must start with a tab/);
});

test("a missing uninstall target: converted with a warning, no uninstall list", () => {
  const r = converted("no-uninstall");
  assert.deepEqual(r.steps.uninstall, []);
  assert.doesNotMatch(r.yaml, /^uninstall:/m);
  assert.match(r.warnings[0].message, /no 'uninstall' target/);
});

test("handlers go last and once; restarts too", (t) => {
  const dir = tempDir(t);
  const text = [
    "install:",
    "\tasterisk -rx 'dialplan reload'",
    "\tsystemctl restart wazo-calld",
    "\tcp a.conf $(DESTDIR)/etc/asterisk/extensions_extra.d/",
    "\tasterisk -rx 'dialplan reload'",
    "\tasterisk -rx 'core show version'",
    "",
  ].join("\n");
  writeFileSync(join(dir, "Makefile"), text);
  writeFileSync(join(dir, "a.conf"), "[a]\n");
  const r = convertMakefile(dir);
  assert.ok(r.ok);
  assert.deepEqual(r.steps.install, [
    { copy: "a.conf", to: `${EXTRA}/` },
    { asterisk: "core show version" },
    { reload: "dialplan" },
    { restart: "wazo-calld" },
  ]);
});

test("no Makefile, no install target, missing copy source", (t) => {
  const dir = tempDir(t);
  const none = convertMakefile(dir);
  assert.ok(!none.ok);
  assert.match(none.diagnostics[0].message, /no GNUmakefile, makefile or Makefile/);
  writeFileSync(join(dir, "Makefile"), "uninstall:\n\trm -f /etc/acme.conf\n");
  const noInstall = convertMakefile(dir);
  assert.ok(!noInstall.ok);
  assert.match(noInstall.diagnostics[0].message, /no 'install' target/);
  writeFileSync(join(dir, "Makefile"), "install:\n\tcp built.conf /etc/acme/\n");
  const missing = convertMakefile(dir);
  assert.ok(missing.ok);
  assert.deepEqual(
    missing.warnings.filter((w) => w.line).map((w) => [w.line, w.message]),
    [[2, "copy source 'built.conf' is not in the plugin folder"]],
  );
});
