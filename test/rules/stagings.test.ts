/**
 * The temporary copies a rules plugin is built in belong to the run: removed when the run ends
 * (not when the process exits), and two library runs at once each have their own, under the
 * TMPDIR of the run's host.
 */
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { InternalRunOptions } from "../../src/engine.js";
import { installPlugins } from "../../src/index.js";
import { exists } from "../support/processes.js";
import { cleanup, tempDir } from "../support/rig.js";
import { RULES_FIXTURES, rulesEnv } from "./support.js";

/** A library install of acme/hello under `root` with `env` as its host's, noting each staging copy in `copies`. */
function install(root: string, env: NodeJS.ProcessEnv, copies: string[]) {
  const opts: InternalRunOptions = {
    root,
    pluginsDirs: [RULES_FIXTURES],
    env,
    host: { env, pid: process.pid },
    emit: (e) => {
      const copy = e.type === "info" ? /running wazo\/rules package in (.+)$/.exec(e.message)?.[1] : undefined;
      if (copy) copies.push(copy);
    },
  };
  return installPlugins(["acme/hello"], opts);
}

describe("rules staging folders", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir("wt-stagings-")));
  after(() => cleanup(tmp));

  test("two library runs at once: each builds in its own copy, removed when its run ends", async () => {
    const env = rulesEnv(path.join(tmp, "calls"));
    const copies: string[] = [];
    const [a, b] = await Promise.all([install(path.join(tmp, "a"), env, copies), install(path.join(tmp, "b"), env, copies)]);
    assert.equal(a.exitCode, 0, JSON.stringify(a.failure));
    assert.equal(b.exitCode, 0, JSON.stringify(b.failure));
    assert.equal(new Set(copies).size, 2, `one copy per run: ${copies.join(", ")}`);
    for (const copy of copies) assert.equal(await exists(path.dirname(copy)), false, `${path.dirname(copy)} is removed once its run ended`);
  });

  test("the copies are made under the TMPDIR of the run's host, not of the process", async () => {
    const own = path.join(tmp, "host-tmp");
    await mkdir(own);
    const env = { ...rulesEnv(path.join(tmp, "calls-host")), TMPDIR: `${own}/` };
    const copies: string[] = [];
    const r = await install(path.join(tmp, "host-root"), env, copies);
    assert.equal(r.exitCode, 0, JSON.stringify(r.failure));
    assert.equal(copies.length, 1, copies.join(", "));
    assert.equal(path.dirname(path.dirname(copies[0])), own, `${copies[0]} is under the host's TMPDIR`);
  });
});
