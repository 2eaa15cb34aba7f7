/**
 * Files a plugin keeps in the state folder (a rules plugin's copy of wazo/), planned from
 * in-memory facts alone: created, unchanged, updated, stale ones removed, all removed at uninstall.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Desired, Expanded, KeptFiles } from "../../src/plan/expand.js";
import { buildUninstallPlan } from "../../src/plan/uninstall.js";
import { manifestPath } from "../../src/state/manifest.js";
import { ROOT, changes, dirFact, expanded, facts, file, fileEntry, fileFact, manifest, manifests, pbxFolders, plan, plugin, stepsOf, sum } from "./support.js";

const CONF = "/etc/asterisk/extensions_extra.d/hello.conf";
const STATE = "/var/lib/wazo-tasks";
const COPY = `${STATE}/rules/acme+hello`;
const TREE = `${COPY}/wazo`;
const real = (p: string) => `${ROOT}${p}`;

const keptFile = (target: string, content: string, mode = 0o755): KeptFiles["items"][number] => ({
  kind: "file",
  step: 0,
  source: `/tmp/staging${target}`,
  target,
  mode,
  sourceMode: mode,
  sha256: sum(content),
  size: content.length,
});

/** The kept copy as the build made it: wazo/, wazo/plugin.yml, wazo/rules. */
const kept = (rules = "rules v1"): KeptFiles => ({
  tree: TREE,
  items: [{ kind: "dir", step: 0, target: TREE, mode: 0o755 }, keptFile(`${TREE}/plugin.yml`, "meta", 0o644), keptFile(`${TREE}/rules`, rules)],
});

const hello = (rules?: string): Expanded =>
  expanded(plugin("acme/hello", "1.0.0", { kind: "rules" } as never), [{ kind: "rules", label: "package", items: [file(0, CONF, "v1") as Desired] }], {
    kept: kept(rules),
  });

const installed = () => manifest("acme/hello", [fileEntry(CONF, "v1")], { installedBy: "rules" });

/** The target after an install: the plugin's file and the kept copy, `rules` as given. */
const target = (rules = "rules v1", extra: Record<string, ReturnType<typeof fileFact>> = {}) =>
  facts({
    ...pbxFolders(),
    [CONF]: fileFact("v1"),
    "/var": dirFact(),
    "/var/lib": dirFact(),
    [STATE]: dirFact(),
    [`${STATE}/rules`]: dirFact(0o755, ["acme+hello"]),
    [COPY]: dirFact(0o755, ["wazo"]),
    [TREE]: dirFact(0o755, ["plugin.yml", "rules", ...Object.keys(extra)].sort()),
    [`${TREE}/plugin.yml`]: fileFact("meta"),
    [`${TREE}/rules`]: fileFact(rules, 0o755),
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [`${TREE}/${k}`, v])),
  });

test("a first install creates the kept copy in the state step, before the manifest", () => {
  const p = plan([hello()], facts(pbxFolders()));
  const state = p.plugins[0].steps.find((s) => s.kind === "state")!;
  assert.deepEqual(
    state.ops.map((o) => `${o.op} ${o.display} ${o.change}`),
    [
      `mkdir ${real(TREE)} create`,
      `write ${real(TREE)}/plugin.yml create`,
      `write ${real(TREE)}/rules create`,
      `write ${manifestPath(ROOT, "acme/hello")} create`,
    ],
  );
  // The kept copy is state: not recorded among the plugin's files.
  assert.deepEqual(
    p.plugins[0].manifest?.files.map((f) => f.path),
    ["/etc/asterisk/extensions_extra.d/hello.conf"],
  );
});

test("an unchanged reinstall plans the kept copy as unchanged: no operation", () => {
  const p = plan([hello()], target(), manifests(installed()));
  assert.deepEqual(changes(p), []);
  assert.equal(p.plugins[0].changed, false);
  assert.deepEqual(
    stepsOf(p.plugins[0]).at(-1),
    `state installed state: mkdir ${real(TREE)} none 755, write ${real(TREE)}/plugin.yml none, write ${real(TREE)}/rules none`,
  );
});

test("a changed wazo/rules updates the kept copy, and only it", () => {
  const p = plan([hello("rules v2")], target("rules v1"), manifests(installed()));
  assert.deepEqual(changes(p), [`write ${real(TREE)}/rules update`]);
  const op = p.ops.find((o) => o.display === `${real(TREE)}/rules`);
  assert.equal(op?.op === "write" && op.sha256, sum("rules v2"));
});

test("a mode change of a kept file is an update; what the target's copy has more is removed first", () => {
  const modes = plan([hello()], facts({ ...Object.fromEntries(target().paths), [`${TREE}/rules`]: fileFact("rules v1", 0o644) }), manifests(installed()));
  assert.deepEqual(changes(modes), [`write ${real(TREE)}/rules update`]);
  const stale = plan([hello()], target("rules v1", { "old.sh": fileFact("x") }), manifests(installed()));
  assert.deepEqual(changes(stale), [`remove ${real(TREE)}/old.sh remove`]);
  assert.equal(stale.plugins[0].steps.at(-1)!.ops[0].display, `${real(TREE)}/old.sh`);
});

test("uninstall removes the kept copy, then its folder up to the state folder, before the manifest", () => {
  const m = installed();
  const extra: Expanded = {
    ...expanded(plugin("acme/hello"), []),
    kept: { tree: COPY, items: [] },
    removal: {
      before: [
        { kind: "rules", label: "wazo/rules uninstall", op: { op: "run", argv: ["x"], cwd: real(COPY), display: "wazo/rules uninstall", change: "update" } },
      ],
      after: [{ kind: "rules", label: "wazo/rules postrm", op: { op: "run", argv: ["y"], cwd: real(COPY), display: "wazo/rules postrm", change: "update" } }],
      handlers: [{ reload: "dialplan" }],
    },
  };
  const p = buildUninstallPlan([m], new Map([[m.name, extra]]), target(), {});
  assert.deepEqual(stepsOf(p.plugins[0]), [
    "rules wazo/rules uninstall: run wazo/rules uninstall update",
    `remove installed files: remove ${CONF} remove`,
    "rules wazo/rules postrm: run wazo/rules postrm update",
    `state installed state: remove ${real(TREE)}/plugin.yml remove, remove ${real(TREE)}/rules remove, remove ${real(TREE)} remove, remove ${real(COPY)} remove, remove ${real(STATE)}/rules remove, remove ${manifestPath(ROOT, "acme/hello")} remove`,
  ]);
  assert.deepEqual(p.handlers, [{ reload: "dialplan" }]);
});
