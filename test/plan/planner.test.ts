/**
 * The install planner on in-memory facts: no disk, every input built by hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { manifestPath } from "../../src/state/manifest.js";
import {
  EXTRA,
  NOW,
  ROOT,
  changes,
  dirFact,
  expanded,
  facts,
  file,
  fileEntry,
  fileFact,
  manifest,
  manifests,
  pbxFolders,
  plan,
  plugin,
  refusal,
  stepsOf,
  sum,
} from "./support.js";

const CONF = `${EXTRA}/hello.conf`;
const hello = (version = "1.0.0", content = "v1", mode = 0o644) =>
  expanded(
    plugin("hello", version),
    [
      { kind: "copy", label: "hello.conf", items: [file(0, CONF, content, mode)] },
      { kind: "reload", label: "dialplan" },
    ],
    {
      handlers: [{ handler: { reload: "dialplan" }, always: false }],
    },
  );
const installedHello = (content = "v1", extra = {}) => manifest("hello", [fileEntry(CONF, content)], { handlers: [{ reload: "dialplan" }], ...extra });

test("first install: the file is created, the state written, the handler notified", () => {
  const p = plan([hello()], facts(pbxFolders()));
  const hp = p.plugins[0];
  assert.equal(hp.action, "install");
  assert.equal(hp.changed, true);
  assert.deepEqual(stepsOf(hp), [
    `copy ${CONF}: write ${CONF} create`,
    "reload dialplan: ",
    `state installed state: write ${manifestPath(ROOT, "hello")} create`,
  ]);
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }]);
  assert.deepEqual(hp.manifest?.files, [fileEntry(CONF, "v1")]);
  assert.equal(hp.manifest?.installedAt, NOW);
  assert.equal(hp.manifest?.installedBy, "descriptor");
  // The state file comes last in apply order, after the plugin's files.
  assert.deepEqual(
    p.ops.map((o) => o.display),
    [CONF, manifestPath(ROOT, "hello")],
  );
});

test("unchanged reinstall: every operation is none, nothing written or notified", () => {
  const p = plan([hello()], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello()));
  const hp = p.plugins[0];
  assert.equal(hp.action, "reinstall");
  assert.equal(hp.changed, false);
  assert.deepEqual(changes(p), []);
  assert.ok(p.ops.length > 0);
  assert.ok(p.ops.every((o) => o.change === "none"));
  assert.deepEqual(p.handlers, []);
  assert.deepEqual(hp.asterisk, []);
  // No new manifest: the installed one stays as it is.
  assert.equal(hp.manifest?.installedAt, "2025-01-01T00:00:00.000Z");
  assert.ok(!hp.steps.some((s) => s.kind === "state"));
});

test("--reinstall: the same files, but the plugin counts as changed and its handlers run", () => {
  const p = plan([hello()], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello()), { reinstall: true });
  assert.equal(p.plugins[0].changed, true);
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }]);
  assert.deepEqual(changes(p), [`write ${manifestPath(ROOT, "hello")} update`]);
});

test("new content: update of the file", () => {
  const p = plan([hello("1.0.0", "v2")], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello()));
  assert.deepEqual(changes(p), [`write ${CONF} update`, `write ${manifestPath(ROOT, "hello")} update`]);
  assert.equal(p.plugins[0].action, "reinstall");
});

test("a mode change only: change mode, not update", () => {
  const p = plan([hello("1.0.0", "v1", 0o600)], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello()));
  assert.deepEqual(changes(p), [`write ${CONF} mode`, `write ${manifestPath(ROOT, "hello")} update`]);
  assert.equal(p.plugins[0].manifest?.files[0].type === "file" && p.plugins[0].manifest.files[0].mode, 0o600);
});

test("a version change without a file change: upgrade, changed, manifest rewritten, files none", () => {
  const p = plan([hello("1.1.0")], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello()));
  const hp = p.plugins[0];
  assert.equal(hp.action, "upgrade");
  assert.equal(hp.previousVersion, "1.0.0");
  assert.equal(hp.changed, true);
  assert.deepEqual(changes(p), [`write ${manifestPath(ROOT, "hello")} update`]);
  assert.equal(hp.manifest?.version, "1.1.0");
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }]);
});

test("a new commit with the same files and version: only the recorded origin changes", () => {
  const origin = { type: "git" as const, url: "https://example.com/hello.git", commit: "b".repeat(40) };
  const e = hello();
  e.plugin.origin = origin as never;
  const p = plan([e], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(installedHello("v1", { origin: { ...origin, commit: "a".repeat(40) } })));
  assert.equal(p.plugins[0].changed, false);
  assert.deepEqual(p.handlers, []);
  assert.deepEqual(changes(p), [`write ${manifestPath(ROOT, "hello")} update`]);
  assert.deepEqual(p.plugins[0].manifest?.origin, origin);
});

test("an admin-edited file is refused as an admin edit, with both versions for the diff", () => {
  const f = facts({ ...pbxFolders(), [CONF]: fileFact("edited") });
  const err = refusal(() => plan([hello("1.0.0", "v2")], f, manifests(installedHello())));
  assert.equal(err.reason, "admin-edit");
  assert.equal(err.exitCode, 2);
  assert.deepEqual(err.diagnostics, [
    {
      severity: "error",
      file: CONF,
      message: `hello: ${CONF} was changed since it was installed (an admin edit?)`,
      hint: "keep the edit by copying it into the plugin, or pass --force to overwrite it",
      diffWith: { installed: `${ROOT}${CONF}`, incoming: `/plugins/src${CONF}`, display: CONF },
    },
  ]);
  // --force overwrites it.
  const forced = plan([hello("1.0.0", "v2")], f, manifests(installedHello()), { force: true });
  assert.deepEqual(changes(forced), [`write ${CONF} update`, `write ${manifestPath(ROOT, "hello")} update`]);
});

test("an edited file that already has the incoming content is adopted, and the manifest records it", () => {
  const p = plan([hello("1.0.0", "v2")], facts({ ...pbxFolders(), [CONF]: fileFact("v2") }), manifests(installedHello()));
  assert.deepEqual(stepsOf(p.plugins[0])[0], `copy ${CONF}: write ${CONF} none`);
  // Nothing to do on the target, but the recorded checksum follows the file, so that a later
  // uninstall removes it instead of keeping it as an admin edit.
  assert.equal(p.plugins[0].changed, false);
  assert.deepEqual(p.handlers, []);
  assert.deepEqual(changes(p), [`write ${manifestPath(ROOT, "hello")} update`]);
  assert.equal(
    p.plugins[0].manifest?.files.find((x) => x.path === CONF)?.type === "file" &&
      (p.plugins[0].manifest?.files.find((x) => x.path === CONF) as { sha256: string }).sha256,
    sum("v2"),
  );
});

test("an existing file no plugin owns: refused; with --force kept first and recorded as preserved", () => {
  const f = facts({ ...pbxFolders(), [CONF]: fileFact("theirs", 0o640) });
  const err = refusal(() => plan([hello()], f));
  assert.equal(err.reason, "conflict");
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [`hello: ${CONF} already exists and is not owned by any plugin`],
  );
  const p = plan([hello()], f, new Map(), { force: true });
  const hp = p.plugins[0];
  const backup = `${ROOT}/var/lib/wazo-tasks/preserved/hello${CONF}`;
  assert.deepEqual(stepsOf(hp)[0], `preserve originals kept in the state folder: write ${backup} create`);
  assert.deepEqual(hp.manifest?.preserved, [{ path: CONF, backup: `var/lib/wazo-tasks/preserved/hello${CONF}`, mode: 0o640 }]);
  // The original is copied away before anything else is written.
  assert.equal(p.ops[0].display, backup);
  assert.equal(p.ops[0].op === "write" && p.ops[0].source, `${ROOT}${CONF}`);
});

test("an existing file with the same content is adopted without --force", () => {
  const p = plan([hello()], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }));
  assert.deepEqual(changes(p), [`write ${manifestPath(ROOT, "hello")} create`]);
});

test("a folder or FIFO where a file goes is refused", () => {
  const asDir = refusal(() => plan([hello()], facts({ ...pbxFolders(), [CONF]: dirFact() })));
  assert.deepEqual(
    asDir.diagnostics.map((d) => d.message),
    [`hello: ${CONF} exists and is not a file`],
  );
  const asFifo = refusal(() => plan([hello()], facts({ ...pbxFolders(), [CONF]: { type: "other" } })));
  assert.deepEqual(
    asFifo.diagnostics.map((d) => d.message),
    [`hello: ${CONF} is a FIFO, socket or device, not a regular file`],
  );
  const link = expanded(plugin("ln"), [{ kind: "symlink", items: [{ kind: "symlink", step: 0, target: CONF, linkTo: "x" }] }]);
  const linkOnDir = refusal(() => plan([link], facts({ ...pbxFolders(), [CONF]: dirFact() })));
  assert.deepEqual(
    linkOnDir.diagnostics.map((d) => d.message),
    [`ln: ${CONF} is a folder, not a file or link`],
  );
});

test("two plugins wanting the same path: refused, naming the other plugin", () => {
  const other = expanded(plugin("other"), [{ kind: "copy", items: [file(0, CONF, "o")] }]);
  const err = refusal(() => plan([hello(), other], facts(pbxFolders())));
  assert.equal(err.reason, "conflict");
  assert.deepEqual(
    err.diagnostics.map((d) => [d.file, d.message, d.hint]),
    [["/plugins/other/tasks.yml", `other: ${CONF} is also a target of plugin "hello" in this run`, "each path can have one owner"]],
  );
});

test("two steps of one plugin wanting the same path", () => {
  const e = expanded(plugin("twice"), [
    { kind: "copy", items: [file(0, CONF, "a")] },
    { kind: "copy", items: [file(1, CONF, "b")] },
  ]);
  const err = refusal(() => plan([e], facts(pbxFolders())));
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [`twice: ${CONF} is also a target of another step of this plugin in this run`],
  );
});

test("a path owned by another installed plugin", () => {
  const err = refusal(() => plan([hello()], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }), manifests(manifest("owner", [fileEntry(CONF, "v1")]))));
  assert.deepEqual(
    err.diagnostics.map((d) => [d.message, d.hint]),
    [[`hello: ${CONF} belongs to installed plugin "owner"`, 'uninstall "owner" first, or change the target']],
  );
});

test("removal of a file owned by another plugin is refused; of an own or absent one planned", () => {
  const other = `${EXTRA}/other.conf`;
  const remover = (target: string) => expanded(plugin("remover"), [{ kind: "remove", label: target, items: [{ kind: "remove", step: 0, target }] }]);
  const err = refusal(() => plan([remover(other)], facts({ ...pbxFolders(), [other]: fileFact("o") }), manifests(manifest("owner", [fileEntry(other, "o")]))));
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [`remover: remove: ${other} belongs to installed plugin "owner"`],
  );
  const stray = `${EXTRA}/stray.conf`;
  assert.deepEqual(changes(plan([remover(stray)], facts({ ...pbxFolders(), [stray]: fileFact("s") }))), [
    `remove ${stray} remove`,
    `write ${manifestPath(ROOT, "remover")} create`,
  ]);
  // Already gone: none.
  assert.deepEqual(stepsOf(plan([remover(stray)], facts(pbxFolders())).plugins[0])[0], `remove ${stray}: remove ${stray} none`);
});

test("removal of a folder holding other files keeps it, saying which", () => {
  const dir = "/usr/share/x";
  const e = expanded(plugin("rm"), [{ kind: "remove", label: dir, items: [{ kind: "remove", step: 0, target: dir }] }]);
  const p = plan([e], facts({ "/usr": dirFact(), "/usr/share": dirFact(), [dir]: dirFact(0o755, ["a", "b"]) }));
  const op = p.plugins[0].steps[0].ops[0];
  assert.equal(op.change, "none");
  assert.equal(op.op === "remove" && op.kept, `${dir} is not empty: kept, it holds 2 files not installed by rm (a, b)`);
});

test("a folder to create: missing parents are created once, in order, and recorded", () => {
  const a = expanded(plugin("a"), [{ kind: "copy", items: [file(0, "/usr/share/snd/a.wav", "a")] }]);
  const b = expanded(plugin("b"), [{ kind: "copy", items: [file(0, "/usr/share/snd/b.wav", "b")] }]);
  const p = plan([a, b], facts({ "/usr": dirFact(), "/usr/share": dirFact() }));
  assert.deepEqual(stepsOf(p.plugins[0])[0], "copy /usr/share/snd/a.wav: mkdir /usr/share/snd create 755, write /usr/share/snd/a.wav create");
  // The second plugin finds the folder planned already: no second mkdir, but it records it too.
  assert.deepEqual(stepsOf(p.plugins[1])[0], "copy /usr/share/snd/b.wav: write /usr/share/snd/b.wav create");
  for (const pp of p.plugins) assert.deepEqual(pp.manifest?.files[0], { path: "/usr/share/snd", type: "dir", mode: 0o755 });
  // Folders that exist and are not the plugin's are not recorded.
  assert.equal(p.plugins[0].manifest?.files.length, 2);
});

test("mkdir of an existing folder: a mode change only, not recorded as the plugin's", () => {
  const e = expanded(plugin("mk"), [{ kind: "mkdir", items: [{ kind: "dir", step: 0, target: "/var/spool/mk", mode: 0o700 }] }]);
  const p = plan([e], facts({ "/var": dirFact(), "/var/spool": dirFact(), "/var/spool/mk": dirFact(0o755) }));
  assert.deepEqual(stepsOf(p.plugins[0])[0], "mkdir step 0: mkdir /var/spool/mk mode 700");
  assert.deepEqual(p.plugins[0].manifest?.files, []);
});

test("chmod of a file the plugin writes folds into the write; of a missing file is refused", () => {
  const e = expanded(plugin("ch"), [
    { kind: "copy", items: [file(0, CONF, "v1")] },
    { kind: "chmod", items: [{ kind: "chmod", step: 1, target: CONF, mode: 0o600 }] },
  ]);
  const p = plan([e], facts({ ...pbxFolders(), [CONF]: fileFact("v1") }));
  const write = p.plugins[0].steps[0].ops[0];
  assert.equal(write.op === "write" && write.mode, 0o600);
  assert.equal(write.change, "mode");
  assert.deepEqual(p.plugins[0].steps[1].ops, []);
  assert.deepEqual(p.plugins[0].manifest?.files, [fileEntry(CONF, "v1", 0o600)]);
  const missing = expanded(plugin("ch"), [{ kind: "chmod", items: [{ kind: "chmod", step: 0, target: "/etc/nothing", mode: 0o600 }] }]);
  assert.deepEqual(
    refusal(() => plan([missing], facts(pbxFolders()))).diagnostics.map((d) => d.message),
    ["ch: chmod: /etc/nothing does not exist and is not installed by this plugin"],
  );
  // A chmod of an existing file of someone else: its own operation.
  const other = expanded(plugin("ch"), [{ kind: "chmod", items: [{ kind: "chmod", step: 0, target: CONF, mode: 0o644 }] }]);
  assert.deepEqual(stepsOf(plan([other], facts({ ...pbxFolders(), [CONF]: fileFact("x", 0o600) })).plugins[0])[0], `chmod step 0: chmod ${CONF} mode 644`);
});

test("a symbolic link: created, unchanged when it points the same way, updated otherwise", () => {
  const LINK = "/etc/asterisk/link.conf";
  const link = (to: string) => expanded(plugin("ln"), [{ kind: "symlink", items: [{ kind: "symlink", step: 0, target: LINK, linkTo: to }] }]);
  const installed = manifests(manifest("ln", [{ path: LINK, type: "symlink", target: "a" }]));
  assert.deepEqual(stepsOf(plan([link("a")], facts(pbxFolders())).plugins[0])[0], `symlink step 0: symlink ${LINK} create`);
  assert.deepEqual(changes(plan([link("a")], facts({ ...pbxFolders(), [LINK]: { type: "symlink", target: "a" } }), installed)), []);
  assert.deepEqual(changes(plan([link("b")], facts({ ...pbxFolders(), [LINK]: { type: "symlink", target: "a" } }), installed)), [
    `symlink ${LINK} update`,
    `write ${manifestPath(ROOT, "ln")} update`,
  ]);
});

test("a target reached through a link out of the root is refused", () => {
  const err = refusal(() => plan([hello()], facts(pbxFolders(), { [EXTRA]: "/elsewhere" })));
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [`hello: target ${CONF} leads outside the root through ${EXTRA} (to /elsewhere)`],
  );
});

test("a file where a folder is needed is refused", () => {
  const err = refusal(() => plan([hello()], facts({ "/etc": dirFact(), "/etc/asterisk": fileFact("x") })));
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [`hello: /etc/asterisk is a file where a folder is needed for ${CONF}`],
  );
});

test("files no longer shipped are removed; an edited one is kept with a warning", () => {
  const OLD = `${EXTRA}/old.conf`;
  const EDITED = `${EXTRA}/edited.conf`;
  const prev = installedHello("v1", { files: [fileEntry(CONF, "v1"), fileEntry(OLD, "old"), fileEntry(EDITED, "e")] });
  const f = facts({ ...pbxFolders(), [CONF]: fileFact("v1"), [OLD]: fileFact("old"), [EDITED]: fileFact("e2") });
  const hp = plan([hello()], f, manifests(prev)).plugins[0];
  assert.equal(hp.changed, true);
  assert.deepEqual(stepsOf(hp).at(-2), `remove files no longer shipped: remove ${EDITED} none, remove ${OLD} remove`);
  assert.deepEqual(hp.warnings, [`${EDITED} was changed since install: left in place and no longer tracked (--force removes edited files)`]);
  assert.deepEqual(hp.manifest?.files, [fileEntry(CONF, "v1")]);
});

test("a program run: run when the plugin changed, none when nothing else changed", () => {
  const runner = (version: string) =>
    expanded(plugin("run", version), [
      { kind: "copy", items: [file(0, CONF, "v1")] },
      { kind: "run", items: [{ kind: "run", step: 1, argv: ["/bin/true"], cwd: "/plugins/run" }] },
    ]);
  const installed = manifests(manifest("run", [fileEntry(CONF, "v1")]));
  const f = facts({ ...pbxFolders(), [CONF]: fileFact("v1") });
  const same = plan([runner("1.0.0")], f, installed).plugins[0];
  assert.equal(same.steps[1].notSimulated, true);
  assert.equal(same.steps[1].ops[0].change, "none");
  assert.equal(plan([runner("2.0.0")], f, installed).plugins[0].steps[1].ops[0].change, "update");
  // A first install with nothing but a run is a change.
  const only = expanded(plugin("only"), [{ kind: "run", items: [{ kind: "run", step: 0, argv: ["/bin/true"], cwd: "/" }] }]);
  assert.equal(plan([only], facts({})).plugins[0].changed, true);
});

test("a Makefile plugin: steps done by make, make last; an unpredictable one always runs", () => {
  const make = (convertible: boolean) =>
    expanded(plugin("mk", "1.0.0", { kind: "make", makefile: "/plugins/mk/Makefile" }), [{ kind: "copy", items: [file(0, CONF, "v1")] }], {
      run: {
        kind: "make",
        label: "make install",
        op: { op: "captured-run", dir: "/plugins/mk", target: "install", display: "make install" },
        exact: convertible,
        recipe: [{ line: 2, text: "cp x y" }],
      },
    });
  const f = facts({ ...pbxFolders(), [CONF]: fileFact("v1") });
  const installed = manifests(manifest("mk", [fileEntry(CONF, "v1")], { installedBy: "make" }));
  const exact = plan([make(true)], f, installed).plugins[0];
  assert.equal(exact.changed, false);
  assert.deepEqual(
    exact.steps.map((s) => [s.kind, s.viaMake, s.notSimulated, s.ops.map((o) => o.change)]),
    [
      ["copy", true, undefined, ["none"]],
      ["make", false, false, ["none"]],
    ],
  );
  const make0 = exact.steps[1].ops[0];
  assert.deepEqual(make0, { op: "captured-run", dir: "/plugins/mk", target: "install", destdir: ROOT, display: "make install", change: "none" });
  const guessed = plan([make(false)], f, installed).plugins[0];
  assert.equal(guessed.changed, true);
  assert.deepEqual(guessed.steps[1].recipe, [{ line: 2, text: "cp x y" }]);
  assert.equal(guessed.steps[1].notSimulated, true);
  assert.equal(guessed.manifest?.installedBy, "make");
});

test("conflicts of several plugins are all listed, in plugin and step order", () => {
  const B = `${EXTRA}/b.conf`;
  const a = expanded(plugin("a"), [
    { kind: "copy", items: [file(0, CONF, "a")] },
    { kind: "copy", items: [file(1, B, "b")] },
  ]);
  const b = expanded(plugin("b"), [
    { kind: "copy", items: [file(0, B, "x")] },
    { kind: "copy", items: [file(1, CONF, "y")] },
  ]);
  const err = refusal(() => plan([a, b], facts({ ...pbxFolders(), [CONF]: fileFact("z") })));
  assert.deepEqual(
    err.diagnostics.map((d) => d.message),
    [
      `a: ${CONF} already exists and is not owned by any plugin`,
      `b: ${B} is also a target of plugin "a" in this run`,
      `b: ${CONF} is also a target of plugin "a" in this run`,
    ],
  );
  assert.equal(err.reason, "conflict");
});

test("the plan's apply order: originals kept first, files, then every plugin's state", () => {
  const B = `${EXTRA}/b.conf`;
  const a = expanded(plugin("a"), [{ kind: "copy", items: [file(0, CONF, "a")] }]);
  const b = expanded(plugin("b"), [{ kind: "copy", items: [file(0, B, "b")] }]);
  const p = plan([a, b], facts({ ...pbxFolders(), [B]: fileFact("theirs") }), new Map(), { force: true });
  assert.deepEqual(
    p.ops.map((o) => o.display),
    [`${ROOT}/var/lib/wazo-tasks/preserved/b${B}`, CONF, B, manifestPath(ROOT, "a"), manifestPath(ROOT, "b")],
  );
  assert.equal(sum("a"), "sha-a");
});
