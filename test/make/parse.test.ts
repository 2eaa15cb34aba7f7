import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { expand } from "../../src/make/expand.js";
import { formatDiagnostic, hasErrors, parseMakefile, SPACES_MESSAGE } from "../../src/make/parse.js";
import { findMakefile, makefileTargets } from "../../src/make/runner.js";
import { fixtureMakefile, tempDir } from "./support.js";

/** Value of a variable as a recipe would see it. */
function valueOf(text: string, name: string, vars?: Record<string, string>): string {
  const mk = parseMakefile(text, "Makefile", { vars });
  return expand(`$(${name})`, { vars: mk.variables, issues: [] });
}

test("variables: =, :=, ::=, ?=, += and both reference forms", () => {
  const text = [
    "A = $(B)/a", // recursive: sees B defined later
    "C := $(B)/c", // simple: B is still empty here
    "B = base",
    "D ?= first",
    "D ?= second",
    "E = one",
    "E += two",
    "F ::= ${B}-f",
    "G = $$HOME",
    "",
  ].join("\n");
  assert.equal(valueOf(text, "A"), "base/a");
  assert.equal(valueOf(text, "C"), "/c");
  assert.equal(valueOf(text, "D"), "first");
  assert.equal(valueOf(text, "E"), "one two");
  assert.equal(valueOf(text, "F"), "base-f");
  assert.equal(valueOf(text, "G"), "$HOME");
  assert.equal(valueOf(text, "UNDEFINED"), "");
});

test("variables given from outside win over the Makefile, even empty ones", () => {
  const text = "DESTDIR = /wrong\nPREFIX ?= /usr\nOUT = $(DESTDIR)$(PREFIX)/bin\n";
  assert.equal(valueOf(text, "OUT", { DESTDIR: "/tmp/root" }), "/tmp/root/usr/bin");
  assert.equal(valueOf(text, "OUT", { DESTDIR: "" }), "/usr/bin");
  assert.equal(valueOf(text, "OUT", { PREFIX: "/opt" }), "/wrong/opt/bin");
  assert.equal(valueOf("override DESTDIR = /forced\n", "DESTDIR", { DESTDIR: "/x" }), "/forced");
});

test("a self-referencing recursive variable is reported, not looped on", () => {
  const mk = parseMakefile("X = $(X) more\n");
  const issues: string[] = [];
  assert.equal(expand("$(X)", { vars: mk.variables, issues }), " more");
  assert.match(issues[0], /recursive variable 'X' references itself/);
});

test("functions: supported ones evaluate, others stay as written and are reported", () => {
  const mk = parseMakefile("FILES = a.conf b.conf\n");
  const issues: string[] = [];
  const ctx = { vars: mk.variables, issues };
  assert.equal(expand("$(addprefix /etc/,$(FILES))", ctx), "/etc/a.conf /etc/b.conf");
  assert.equal(expand("$(FILES:.conf=.bak)", ctx), "a.bak b.bak");
  assert.equal(expand("$(notdir /x/y.conf)", ctx), "y.conf");
  assert.equal(expand("$(shell ls -1)", ctx), "$(ls -1)"); // left to sh, which does the same
  assert.equal(expand("$(call f,x)", ctx), "$(call f,x)");
  assert.deepEqual(issues, ["uses the make function $(call ...)"]);
});

test("continuations in variables and in recipes; comments", () => {
  const text = [
    "FILES = a.conf \\", // 1
    "        b.conf   # the second one", // 2
    "install: # a comment after the rule", // 3
    "\tcp $(FILES) \\", // 4
    "\t   /etc/x/", // 5
    "# a comment between recipe lines does not end the rule", // 6
    "\techo done", // 7
    "",
  ].join("\n");
  const mk = parseMakefile(text);
  assert.deepEqual(mk.diagnostics, []);
  assert.equal(valueOf(text, "FILES"), "a.conf b.conf   "); // make keeps the spaces before a comment
  const recipe = mk.rules.get("install")!.recipe;
  assert.equal(recipe.length, 2);
  assert.deepEqual([recipe[0].line, recipe[0].col], [4, 2]);
  assert.equal(recipe[0].raw, "cp $(FILES) \\\n   /etc/x/");
  assert.deepEqual([recipe[1].line, recipe[1].command], [7, "echo done"]);
});

test("recipe prefixes @ - + are recorded and stripped, columns point at the command", () => {
  const mk = parseMakefile("all:\n\t@echo quiet\n\t-rm -f x\n\t+$(MAKE) sub\n\t@- true\n");
  const r = mk.rules.get("all")!.recipe;
  assert.deepEqual(
    r.map((l) => [l.command, l.silent, l.ignoreErrors, l.always, l.col]),
    [
      ["echo quiet", true, false, false, 3],
      ["rm -f x", false, true, false, 3],
      ["$(MAKE) sub", false, false, true, 3],
      ["true", true, true, false, 5],
    ],
  );
});

test("rules: .PHONY, several targets, prerequisites, inline recipe, default target", () => {
  const mk = parseMakefile(".PHONY: install uninstall\nall install: build | dirs\nbuild: ; echo building\ndirs:\n\tmkdir -p out\n.PHONY: dirs\n");
  assert.deepEqual([...mk.phony], ["install", "uninstall", "dirs"]);
  assert.deepEqual(mk.targets, ["all", "install", "build", "dirs"]);
  assert.equal(mk.defaultTarget, "all");
  assert.deepEqual(mk.rules.get("install")!.prereqs, ["build"]);
  assert.deepEqual(mk.rules.get("install")!.orderOnly, ["dirs"]);
  const inline = mk.rules.get("build")!.recipe[0];
  assert.deepEqual([inline.command, inline.line, inline.col], ["echo building", 3, 10]);
});

test("a second recipe for a target replaces the first, with a warning", () => {
  const mk = parseMakefile("x:\n\techo one\nx:\n\techo two\n");
  assert.deepEqual(
    mk.rules.get("x")!.recipe.map((r) => r.command),
    ["echo two"],
  );
  assert.equal(mk.diagnostics[0].severity, "warning");
  assert.match(mk.diagnostics[0].message, /overriding recipe for target 'x'/);
});

test("conditionals select lines, nested and with else", () => {
  const text = [
    "ifdef WITH_SOUNDS",
    "EXTRA = sounds",
    "else ifeq ($(MODE),full)",
    "EXTRA = full",
    "else",
    "EXTRA = none",
    "endif",
    "ifneq '$(EXTRA)' 'none'",
    "install:",
    "\techo $(EXTRA)",
    "endif",
    "",
  ].join("\n");
  assert.equal(valueOf(text, "EXTRA"), "none");
  assert.equal(valueOf(text, "EXTRA", { MODE: "full" }), "full");
  assert.equal(valueOf(text, "EXTRA", { WITH_SOUNDS: "1", MODE: "full" }), "sounds");
  assert.deepEqual(parseMakefile(text).targets, []);
  assert.deepEqual(parseMakefile(text, "Makefile", { vars: { MODE: "full" } }).targets, ["install"]);
  assert.match(parseMakefile("ifdef X\n").diagnostics[0].message, /missing 'endif'/);
});

test("a recipe indented with spaces is an error with its line and column", () => {
  const mk = parseMakefile(fixtureMakefile("spaces"));
  assert.ok(hasErrors(mk.diagnostics));
  assert.deepEqual(
    mk.diagnostics.map((d) => [d.line, d.col, d.message]),
    [
      [4, 1, SPACES_MESSAGE],
      [5, 1, SPACES_MESSAGE],
    ],
  );
  assert.equal(formatDiagnostic(mk.diagnostics[0]), `Makefile:4: ${SPACES_MESSAGE} (GNU make stops here with "missing separator")`);
  assert.match(SPACES_MESSAGE, /indented with spaces; recipe lines must start with a tab/);
});

test("other layout errors: missing separator, recipe before any target", () => {
  assert.match(parseMakefile("just some words\n").diagnostics[0].message, /missing separator/);
  assert.match(parseMakefile("\tcp a b\n").diagnostics[0].message, /recipe commences before first target/);
  // Indented assignments and conditionals after a rule are fine, as in make.
  assert.deepEqual(parseMakefile("install:\n\ttrue\n  X = 1\n").diagnostics, []);
});

test("makefileTargets lists explicit targets; findMakefile follows GNU make's order", (t) => {
  assert.deepEqual(makefileTargets(fixtureMakefile("pjsip")), ["install", "uninstall", "reload"]);
  const dir = tempDir(t);
  assert.equal(findMakefile(dir), null);
  writeFileSync(join(dir, "Makefile"), "all:\n");
  assert.equal(findMakefile(dir), join(dir, "Makefile"));
  writeFileSync(join(dir, "makefile"), "all:\n");
  assert.equal(findMakefile(dir), join(dir, "makefile"));
  writeFileSync(join(dir, "GNUmakefile"), "all:\n");
  assert.equal(findMakefile(dir), join(dir, "GNUmakefile"));
  mkdirSync(join(dir, "sub", "Makefile"), { recursive: true }); // a folder named Makefile is not one
  assert.equal(findMakefile(join(dir, "sub")), null);
});
