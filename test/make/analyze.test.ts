import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeMakefile, type TargetAnalysis } from "../../src/make/analyze.js";
import { fixtureMakefile } from "./support.js";

function target(text: string, name = "install"): TargetAnalysis {
  const a = analyzeMakefile(text);
  assert.deepEqual(
    a.diagnostics.filter((d) => d.severity === "error"),
    [],
  );
  const t = a.targets.get(name);
  assert.ok(t, `target ${name}`);
  return t;
}

const fixtureTarget = (name: string, t = "install") => target(fixtureMakefile(name), t);
/** A one-target Makefile from recipe lines. */
const recipe = (...lines: string[]) => target(`install:\n${lines.map((l) => `\t${l}`).join("\n")}\n`);
const EXTRA = "/etc/asterisk/extensions_extra.d";

test("seed helloworld: steps, recipe lines, absolute writes without DESTDIR", () => {
  const install = fixtureTarget("helloworld");
  assert.deepEqual(install.steps, [{ copy: "helloworld.conf", to: `${EXTRA}/` }, { reload: "dialplan" }]);
  assert.deepEqual(install.recipe, [
    { line: 4, col: 2, text: `cp helloworld.conf ${EXTRA}/` },
    { line: 5, col: 2, text: "asterisk -x 'dialplan reload'" },
  ]);
  assert.ok(install.phony);
  assert.deepEqual(install.writesAbsoluteWithoutDestdir, [{ line: 4, text: `cp helloworld.conf ${EXTRA}/` }]);
  const uninstall = fixtureTarget("helloworld", "uninstall");
  assert.deepEqual(uninstall.steps, [{ remove: `${EXTRA}/helloworld.conf` }, { reload: "dialplan" }]);
  assert.deepEqual(
    uninstall.writesAbsoluteWithoutDestdir.map((w) => w.line),
    [8],
  );
});

test("DESTDIR-aware helloworld: same steps, no absolute writes", () => {
  const install = fixtureTarget("helloworld-destdir");
  assert.deepEqual(install.steps, [{ copy: "helloworld.conf", to: `${EXTRA}/` }, { reload: "dialplan" }]);
  assert.deepEqual(install.writesAbsoluteWithoutDestdir, []);
  assert.deepEqual(fixtureTarget("helloworld-destdir", "uninstall").writesAbsoluteWithoutDestdir, []);
});

test("install-mode: install -d, install -m 0644, echo dropped", () => {
  const install = fixtureTarget("install-mode");
  assert.deepEqual(install.steps, [{ mkdir: EXTRA }, { copy: "acme-greeting.conf", to: `${EXTRA}/`, mode: "0644" }, { reload: "dialplan" }]);
  assert.deepEqual(install.dropped, [{ line: 10, text: 'echo "installed acme-greeting.conf"' }]);
  assert.deepEqual(install.untranslated, []);
});

test("sounds: several files into a created folder, a folder copied with cp -r", () => {
  const sounds = "/usr/share/asterisk/sounds/en/custom";
  assert.deepEqual(fixtureTarget("sounds").steps, [
    { mkdir: sounds },
    { mkdir: EXTRA },
    { copy: "acme", to: `${sounds}/` },
    { copy: "acme-ivr.conf", to: `${EXTRA}/` },
    { copy: "acme-queues.conf", to: `${EXTRA}/` },
    { reload: "dialplan" },
  ]);
  assert.deepEqual(fixtureTarget("sounds", "uninstall").steps, [
    { remove: `${sounds}/acme` },
    { remove: `${EXTRA}/acme-ivr.conf` },
    { remove: `${EXTRA}/acme-queues.conf` },
    { reload: "dialplan" },
  ]);
});

test("links: prerequisite target first, mkdir -p, install, ln -sf", () => {
  const install = fixtureTarget("links");
  assert.deepEqual(install.steps, [
    { mkdir: "/usr/local/share/acme-report" },
    { mkdir: "/usr/local/bin" },
    { copy: "acme-report", to: "/usr/local/share/acme-report/acme-report", mode: "0755" },
    { symlink: "/usr/local/bin/acme-report", target: "/usr/local/share/acme-report/acme-report" },
  ]);
  assert.deepEqual(install.prereqs, ["dirs"]);
  assert.deepEqual(fixtureTarget("links", "uninstall").steps, [{ remove: "/usr/local/bin/acme-report" }, { remove: "/usr/local/share/acme-report" }]);
});

test("calld-conf: install -D into conf.d and systemctl restart", () => {
  assert.deepEqual(fixtureTarget("calld-conf").steps, [
    { copy: "calld.yml", to: "/etc/wazo-calld/conf.d/50-acme.yml", mode: "0644" },
    { restart: "wazo-calld" },
  ]);
});

test("pjsip: module reload, $(MAKE) reload inlined, prefixes", () => {
  assert.deepEqual(fixtureTarget("pjsip").steps, [
    { mkdir: "/etc/asterisk/pjsip.d" },
    { copy: "acme-trunk.conf", to: "/etc/asterisk/pjsip.d/", mode: "0640" },
    { reload: "res_pjsip.so" },
  ]);
  assert.deepEqual(fixtureTarget("pjsip", "uninstall").steps, [{ remove: "/etc/asterisk/pjsip.d/acme-trunk.conf" }, { reload: "res_pjsip.so" }]);
});

test("untranslatable: sed and a for loop kept with their line and reason", () => {
  const install = fixtureTarget("untranslatable");
  assert.deepEqual(install.steps, [{ mkdir: EXTRA }, { copy: "acme-host.conf", to: `${EXTRA}/` }, { reload: "dialplan" }]);
  assert.deepEqual(
    install.untranslated.map((u) => [u.line, u.reason]),
    [
      [9, "no translation for 'sed'"],
      [10, "uses the shell construct 'for'"],
    ],
  );
  assert.equal(install.untranslated[0].text, `sed -i 's/@HOST@/pbx.example.com/' $(DESTDIR)${EXTRA}/acme-host.conf`);
  assert.deepEqual(install.untranslated[0].run, ["sh", "-c", `sed -i 's/@HOST@/pbx.example.com/' \${DESTDIR}${EXTRA}/acme-host.conf`]);
  // Items keep make's order: the sed runs after the copy it edits.
  assert.deepEqual(
    install.items.map((i) => i.kind),
    ["step", "step", "untranslated", "untranslated", "step"],
  );
});

test("no-uninstall: only an install target", () => {
  const a = analyzeMakefile(fixtureMakefile("no-uninstall"));
  assert.deepEqual([...a.targets.keys()], ["install"]);
});

test("quotes and backslashes are removed as sh does", () => {
  const t = recipe(`cp "my file.conf" '$(DESTDIR)/etc/acme/'`, "cp a\\ b.conf $(DESTDIR)/etc/acme/x.conf");
  assert.deepEqual(t.steps, [
    { copy: "my file.conf", to: "/etc/acme/" },
    { copy: "a b.conf", to: "/etc/acme/x.conf" },
  ]);
});

test("&& and ; chains split; || true ignored; cd keeps the line whole", () => {
  const t = recipe(
    "mkdir -p $(DESTDIR)/etc/acme && cp a.conf $(DESTDIR)/etc/acme; true",
    "rm $(DESTDIR)/etc/old.conf || true",
    "cd sub && cp b.conf $(DESTDIR)/etc/acme/",
  );
  assert.deepEqual(t.steps, [{ mkdir: "/etc/acme" }, { copy: "a.conf", to: "/etc/acme/" }, { remove: "/etc/old.conf" }]);
  assert.deepEqual(
    t.untranslated.map((u) => [u.line, u.text, u.reason]),
    [[4, "cd sub && cp b.conf $(DESTDIR)/etc/acme/", "changes directory (cd) for the commands after it"]],
  );
});

test("a chain with one untranslatable command keeps the others", () => {
  const t = recipe("cp a.conf $(DESTDIR)/etc/acme/ && chown asterisk $(DESTDIR)/etc/acme/a.conf");
  assert.deepEqual(t.steps, [{ copy: "a.conf", to: "/etc/acme/" }]);
  assert.deepEqual(
    t.untranslated.map((u) => u.text),
    ["chown asterisk $(DESTDIR)/etc/acme/a.conf"],
  );
});

test("cp variants: globs, -a, trailing-slash-less conf.d folder, file target", () => {
  const t = recipe(
    "cp *.conf $(DESTDIR)/etc/asterisk/extensions_extra.d",
    "cp -a sounds $(DESTDIR)/usr/share/asterisk/sounds/acme",
    "cp -f ./one.yml $(DESTDIR)/etc/wazo-dird/conf.d",
    "cp two.yml $(DESTDIR)/etc/wazo-dird/two.yml",
  );
  assert.deepEqual(t.steps, [
    { copy: "*.conf", to: `${EXTRA}/` },
    { copy: "sounds", to: "/usr/share/asterisk/sounds/acme" },
    { copy: "one.yml", to: "/etc/wazo-dird/conf.d/" },
    { copy: "two.yml", to: "/etc/wazo-dird/two.yml" },
  ]);
});

test("install: default mode 0755, -t, -o/-g ignored with a warning, symbolic mode refused", () => {
  const t = recipe(
    "install tool $(DESTDIR)/usr/bin/",
    "install -m644 -t $(DESTDIR)/etc/acme a.conf b.conf",
    "install -o asterisk -g asterisk -m 0640 c.conf $(DESTDIR)/etc/acme/",
    "install -m u+x d $(DESTDIR)/usr/bin/d",
  );
  assert.deepEqual(t.steps, [
    { copy: "tool", to: "/usr/bin/", mode: "0755" },
    { copy: "a.conf", to: "/etc/acme/", mode: "0644" },
    { copy: "b.conf", to: "/etc/acme/", mode: "0644" },
    { copy: "c.conf", to: "/etc/acme/", mode: "0640" },
  ]);
  assert.deepEqual(
    t.warnings.map((w) => [w.line, w.severity]),
    [[4, "warning"]],
  );
  assert.match(t.warnings[0].message, /-o\/-g\) ignored/);
  assert.deepEqual(
    t.untranslated.map((u) => u.reason),
    ["symbolic mode 'u+x' (only octal modes translate)"],
  );
});

test("chmod numeric translates, symbolic and recursive do not", () => {
  const t = recipe("chmod 755 $(DESTDIR)/usr/bin/tool", "chmod u+x $(DESTDIR)/usr/bin/tool", "chmod -R 0644 $(DESTDIR)/etc/acme");
  assert.deepEqual(t.steps, [{ chmod: "/usr/bin/tool", mode: "0755" }]);
  assert.deepEqual(
    t.untranslated.map((u) => u.line),
    [3, 4],
  );
});

test("asterisk and systemctl commands", () => {
  const t = recipe(
    "asterisk -rx 'core reload'",
    '/usr/sbin/asterisk -r -x "module reload app_queue.so"',
    "asterisk -rx 'dialplan   reload' >/dev/null 2>&1",
    "systemctl reload wazo-dird",
    "systemctl --no-block restart wazo-calld wazo-confd",
    "systemctl daemon-reload",
    "asterisk -r",
  );
  assert.deepEqual(t.steps, [
    { asterisk: "core reload" },
    { reload: "app_queue.so" },
    { reload: "dialplan" },
    { restart: "wazo-dird" },
    { restart: "wazo-calld" },
    { restart: "wazo-confd" },
  ]);
  assert.deepEqual(
    t.untranslated.map((u) => u.reason),
    ["systemctl daemon-reload is not a restart", "asterisk without -x 'command'"],
  );
});

test("$(MAKE) / make into known targets is inlined; unknown targets are not", () => {
  const text =
    "install:\n\t$(MAKE) -C . files\n\tmake -s reload\n\t$(MAKE) nope\nfiles:\n\tcp a.conf $(DESTDIR)/etc/acme/\nreload:\n\tasterisk -rx 'dialplan reload'\n";
  const t = target(text);
  assert.deepEqual(t.steps, [{ copy: "a.conf", to: "/etc/acme/" }, { reload: "dialplan" }]);
  assert.deepEqual(
    t.untranslated.map((u) => [u.line, u.reason]),
    [[4, "make target 'nope' is not in the Makefile"]],
  );
  const loop = target("install:\n\t$(MAKE) install\n");
  assert.deepEqual(
    loop.untranslated.map((u) => u.reason),
    ["recursive make loop on 'install'"],
  );
});

test("shell variables, command substitution, redirections are not guessed", () => {
  const t = recipe(
    "cp a $$HOME/x",
    "cp a $$(pwd)/x",
    "echo hi > $(DESTDIR)/etc/motd",
    "cp a.conf $$DESTDIR/etc/acme/",
    "-cp $(shell ls) $(DESTDIR)/x/",
    "cp $(foreach f,a b,$(f).conf) /x/",
  );
  assert.deepEqual(t.steps, [{ copy: "a.conf", to: "/etc/acme/" }]);
  assert.deepEqual(
    t.untranslated.map((u) => [u.reason, u.runnable]),
    [
      ["uses the shell variable $HOME", true],
      ["uses command substitution $(...)", true],
      ["redirects to a file: > $(DESTDIR)/etc/motd", true],
      ["uses command substitution $(...)", true],
      ["uses the make function $(foreach ...)", false],
    ],
  );
  // $(shell ...) becomes sh's own $(...); a '-' line keeps ignoring failures under sh -c.
  assert.deepEqual(t.untranslated[3].run, ["sh", "-c", "cp $(ls) ${DESTDIR}/x/ || true"]);
});

test("$(wildcard ...) becomes the same shell glob", () => {
  const t = recipe("cp $(wildcard *.conf) $(DESTDIR)/etc/acme/");
  assert.deepEqual(t.steps, [{ copy: "*.conf", to: "/etc/acme/" }]);
});

test("unknown commands are untranslated, whatever their name", () => {
  const t = recipe("constructor x", "toString", "sed -n p a.conf");
  assert.deepEqual(
    t.untranslated.map((u) => u.reason),
    ["no translation for 'constructor'", "no translation for 'toString'", "no translation for 'sed'"],
  );
});

test("echo, true and : are dropped", () => {
  const t = recipe("@echo Installing", ":", "true");
  assert.deepEqual(t.steps, []);
  assert.deepEqual(t.untranslated, []);
  assert.deepEqual(
    t.dropped.map((d) => d.text),
    ["echo Installing", ":", "true"],
  );
});

test("absolute writes without DESTDIR are flagged for untranslated commands too", () => {
  const t = recipe("sed -i 's/a/b/' /etc/asterisk/x.conf", "sed -i 's/a/b/' $(DESTDIR)/etc/asterisk/x.conf", "mkdir -p /var/lib/acme");
  assert.deepEqual(
    t.writesAbsoluteWithoutDestdir.map((w) => w.line),
    [2, 4],
  );
});

test("a custom DESTDIR variable name", () => {
  const a = analyzeMakefile("install:\n\tcp a.conf $(ROOT)/etc/acme/\n", "Makefile", { destdirVar: "ROOT" });
  const t = a.targets.get("install")!;
  assert.deepEqual(t.steps, [{ copy: "a.conf", to: "/etc/acme/" }]);
  assert.deepEqual(t.writesAbsoluteWithoutDestdir, []);
});
