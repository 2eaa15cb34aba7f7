/**
 * The uninstall planner on in-memory facts: no disk, every input built by hand. And the rules
 * format's uninstall, planned from the text of its kept wazo/rules as the facts hand it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { rulesFormat } from "../../src/formats/rules/index.js";
import type { ExpandContext } from "../../src/formats/types.js";
import type { Expanded } from "../../src/plan/expand.js";
import type { Facts } from "../../src/plan/facts.js";
import { buildUninstallPlan } from "../../src/plan/uninstall.js";
import { manifestPath, stateDir, type Manifest } from "../../src/state/manifest.js";
import { EXTRA, ROOT, dirFact, expanded, facts, fileEntry, fileFact, manifest, pbxFolders, plugin, stepsOf } from "./support.js";

const CONF = `${EXTRA}/hello.conf`;
const SOUND = "/usr/share/asterisk/sounds/hello.wav";
const hello = (extra: Partial<Manifest> = {}) =>
  manifest("hello", [fileEntry(CONF, "v1"), fileEntry(SOUND, "wav")], {
    handlers: [{ reload: "dialplan" }],
    verify: [{ extension: "*44", context: "default" }],
    extensions: [{ context: "default", extension: "*44", file: CONF }],
    ...extra,
  });
const installed = (): Facts => facts({ ...pbxFolders(), [CONF]: fileFact("v1"), [SOUND]: fileFact("wav") });
const uninstall = (ms: Manifest[], f: Facts, extra: Record<string, Expanded> = {}, force = false) =>
  buildUninstallPlan(ms, new Map(Object.entries(extra)), f, { force });

test("uninstall: the recorded files removed last first, then the manifest; the handler notified, the extensions expected gone", () => {
  const p = uninstall([hello()], installed());
  const hp = p.plugins[0];
  assert.deepEqual(stepsOf(hp), [
    `remove installed files: remove ${SOUND} remove, remove ${CONF} remove`,
    `state installed state: remove ${manifestPath(ROOT, "hello")} remove`,
  ]);
  assert.equal(hp.action, "uninstall");
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }]);
  assert.deepEqual(hp.verify, [{ extension: "*44", context: "default", expect: "absent" }]);
  assert.deepEqual(hp.removedExtensions, [{ context: "default", extension: "*44", file: CONF }]);
  assert.deepEqual(hp.warnings, []);
  // The manifest goes after every file.
  assert.equal(p.ops.at(-1)?.display, manifestPath(ROOT, "hello"));
});

test("uninstall: an admin-edited file is kept with a warning (no verify, its extensions not counted gone); --force removes it", () => {
  const edited = facts({ ...pbxFolders(), [CONF]: fileFact("edited"), [SOUND]: fileFact("wav") });
  const hp = uninstall([hello()], edited).plugins[0];
  const kept = hp.steps[0].ops.find((o) => o.display === CONF);
  assert.equal(kept?.change, "none");
  assert.match(hp.warnings[0], /hello\.conf was changed since install: left in place/);
  assert.deepEqual(hp.verify, []);
  assert.deepEqual(hp.removedExtensions, []);
  const forced = uninstall([hello()], edited, {}, true).plugins[0];
  assert.equal(forced.steps[0].ops.find((o) => o.display === CONF)?.change, "remove");
  assert.deepEqual(forced.warnings, []);
});

test("uninstall: files an admin removed already: only the state goes, nothing is reloaded or verified", () => {
  const p = uninstall([hello()], facts(pbxFolders()));
  const hp = p.plugins[0];
  assert.ok(hp.steps[0].ops.every((o) => o.change === "none"));
  assert.deepEqual(p.handlers, []);
  assert.deepEqual(hp.verify, []);
  assert.equal(hp.steps.at(-1)?.kind, "state");
});

test("uninstall: an original kept with --force is put back from its backup, the backup and its emptied folders removed", () => {
  const backup = "var/lib/wazo-tasks/preserved/hello/1";
  const m = hello({ preserved: [{ path: CONF, backup, mode: 0o640 }] });
  const hp = uninstall([m], installed()).plugins[0];
  // The file put back is not removed first.
  assert.ok(!hp.steps[0].ops.some((o) => o.display === CONF));
  const restore = hp.steps.find((s) => s.kind === "restore");
  const real = `${ROOT}/${backup}`;
  assert.deepEqual(
    restore?.ops.map((o) => `${o.op} ${o.display} ${o.change}`),
    [`write ${CONF} update`, `remove ${real} remove`, `remove ${ROOT}/var/lib/wazo-tasks/preserved/hello remove`, `remove ${stateDir(ROOT)}/preserved remove`],
  );
  const write = restore?.ops[0];
  assert.equal(write?.op === "write" && write.source, real);
});

test("uninstall: what the format adds, in order: removal programs first and last, extra steps, the run in the plugin's place, the kept folder", () => {
  const run = { op: "run" as const, argv: ["/bin/sh", "/k/wazo/rules", "uninstall"], cwd: "/k", display: "wazo/rules uninstall", change: "update" as const };
  const kept = "/var/lib/wazo-tasks/kept/hello";
  const e = expanded(plugin("hello"), [], {
    items: [
      { kind: "remove", step: 0, target: "/etc/asterisk/old.conf" },
      { kind: "run", step: 0, argv: ["stop-it"], cwd: "/plugins/hello" },
    ] as Expanded["items"],
    run: {
      kind: "make",
      label: "make uninstall",
      op: { op: "captured-run", dir: "/plugins/hello", target: "uninstall", display: "make uninstall" },
      exact: true,
      recipe: [],
    },
    removal: {
      before: [{ kind: "rules", label: "wazo/rules uninstall", op: run }],
      after: [{ kind: "rules", label: "wazo/rules postrm", op: { ...run, display: "wazo/rules postrm" } }],
      handlers: [{ restart: "asterisk" }],
    },
    kept: { tree: kept, items: [] },
    warnings: ["said by the format"],
  });
  const f = facts({
    ...pbxFolders(),
    [CONF]: fileFact("v1"),
    [SOUND]: fileFact("wav"),
    "/etc/asterisk/old.conf": fileFact("old"),
    "/var": dirFact(),
    "/var/lib": dirFact(),
    "/var/lib/wazo-tasks": dirFact(),
    "/var/lib/wazo-tasks/kept": dirFact(0o755, ["hello"]),
    [kept]: dirFact(0o755, ["wazo"]),
    [`${kept}/wazo`]: dirFact(0o755, ["rules"]),
    [`${kept}/wazo/rules`]: fileFact("#!/bin/sh"),
  });
  const p = uninstall([hello()], f, { hello: e });
  const hp = p.plugins[0];
  assert.deepEqual(
    hp.steps.map((s) => `${s.kind} ${s.label}`),
    [
      "rules wazo/rules uninstall",
      "remove /etc/asterisk/old.conf",
      "run stop-it",
      "make make uninstall",
      "remove installed files",
      "rules wazo/rules postrm",
      "state installed state",
    ],
  );
  const own = hp.steps[3].ops[0];
  assert.deepEqual(own, { op: "captured-run", dir: "/plugins/hello", target: "uninstall", destdir: ROOT, display: "make uninstall", change: "update" });
  assert.deepEqual(
    hp.steps.at(-1)?.ops.map((o) => o.display),
    [`${ROOT}${kept}/wazo/rules`, `${ROOT}${kept}/wazo`, `${ROOT}${kept}`, `${ROOT}/var/lib/wazo-tasks/kept`, manifestPath(ROOT, "hello")],
  );
  assert.deepEqual(hp.warnings, ["said by the format"]);
  // The format's warning keeps the extensions from being expected gone.
  assert.deepEqual(hp.verify, []);
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }, { restart: "asterisk" }]);
});

test("uninstall: the removal programs' handlers are notified even when no file was left to remove", () => {
  const e = expanded(plugin("hello"), [], { removal: { before: [], after: [], handlers: [{ restart: "wazo-calld" }] } });
  const p = uninstall([hello()], facts(pbxFolders()), { hello: e });
  assert.deepEqual(p.handlers, [{ restart: "wazo-calld" }]);
});

/** A rules plugin's manifest, its kept copy of wazo/ under the state folder. */
const rulesManifest = (): Manifest =>
  manifest("acme/hello", [], {
    installedBy: "rules",
    rules: { namespace: "acme", name: "hello", formatVersion: 1, copy: "var/lib/wazo-tasks/rules/acme/hello", depends: [] },
  });
const KEPT = "/var/lib/wazo-tasks/rules/acme/hello/wazo/rules";
const SCRIPT = "#!/bin/sh\ncase $1 in\n  uninstall) rm -f /etc/x ;;\n  postrm) echo gone ;;\nesac\n";
// The root does not exist: everything the format plans from comes from the facts.
const ctx = (f?: Facts): ExpandContext =>
  ({ root: "/nonexistent-root", dryRun: true, programEnv: {}, stagings: async () => undefined, captures: async () => undefined, facts: f }) as never;

test("rules uninstall: the kept wazo/rules is read through the facts, and planned from its text", async () => {
  assert.deepEqual(rulesFormat.uninstallReads?.(rulesManifest()), [KEPT]);
  const f: Facts = { ...facts({}), texts: new Map([[KEPT, { text: SCRIPT, executable: true }]]) };
  const e = await rulesFormat.expandUninstall(rulesManifest(), ctx(f));
  assert.deepEqual(
    e?.removal?.before.map((s) => [s.label, s.op.argv]),
    [["wazo/rules uninstall", [`/nonexistent-root${KEPT}`, "uninstall"]]],
  );
  assert.deepEqual(
    e?.removal?.after.map((s) => s.label),
    ["wazo/rules postrm"],
  );
  assert.deepEqual(e?.warnings, []);
  // Not executable: run through its #! line.
  const g: Facts = { ...facts({}), texts: new Map([[KEPT, { text: SCRIPT, executable: false }]]) };
  assert.deepEqual((await rulesFormat.expandUninstall(rulesManifest(), ctx(g)))?.removal?.before[0].op.argv, [
    "/bin/sh",
    `/nonexistent-root${KEPT}`,
    "uninstall",
  ]);
});

test("rules uninstall: no text in the facts (the kept copy is gone): nothing run, a warning says so", async () => {
  const e = await rulesFormat.expandUninstall(rulesManifest(), ctx(facts({})));
  assert.deepEqual(e?.removal?.before, []);
  assert.deepEqual(e?.removal?.after, []);
  assert.match(e?.warnings?.[0] ?? "", /the copy of wazo\/ kept at install .* is gone/);
});
