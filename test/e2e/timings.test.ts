/**
 * The summary's per-phase timings: every phase present as whole milliseconds, phases a run does
 * not reach at 0, and `-v` printing them. (Figures themselves belong to `npm run bench`.)
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { installPlugins } from "../../dist/index.js";
import { cleanup, EXAMPLES, events, runCli, snapshot, tempDir } from "../support/rig.js";

const PHASES = ["load", "plan", "lock", "apply", "reload", "dialplanCheck"];

describe("timings", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  const summaryOf = (stdout: string) => events(stdout).find((e) => e.type === "summary")!;

  test("an install's JSON summary carries the time of each phase", async () => {
    const root = path.join(tmp, "json");
    const r = await runCli(["install", "helloworld", "--root", root, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.deepEqual(Object.keys(s.timings), PHASES);
    for (const p of PHASES) assert.ok(Number.isInteger(s.timings[p]) && s.timings[p] >= 0, `${p}: ${s.timings[p]}`);
    const sum = PHASES.reduce((n, p) => n + s.timings[p], 0);
    assert.ok(sum <= s.durationMs + PHASES.length, `phases (${sum} ms) fit in the run (${s.durationMs} ms)`);
  });

  test("the library's summary carries the same timings as the event", async () => {
    const root = path.join(tmp, "library");
    const seen: Record<string, unknown>[] = [];
    const summary = await installPlugins([path.join(EXAMPLES, "helloworld")], { root, emit: (e) => seen.push(e as Record<string, unknown>) });
    assert.equal(summary.exitCode, 0);
    assert.deepEqual(Object.keys(summary.timings ?? {}), PHASES);
    assert.deepEqual(seen.find((e) => e.type === "summary")?.timings, summary.timings);
  });

  test("a dry run spends nothing in lock, apply, reload or the dialplan check", async () => {
    const root = path.join(tmp, "dry");
    const r = await runCli(["install", "helloworld", "--root", root, "--dry-run", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const s = summaryOf(r.stdout);
    assert.deepEqual(
      { lock: s.timings.lock, apply: s.timings.apply, reload: s.timings.reload, dialplanCheck: s.timings.dialplanCheck },
      { lock: 0, apply: 0, reload: 0, dialplanCheck: 0 },
    );
    assert.deepEqual(await snapshot(root), new Map());
  });

  test("invalid input: the summary still has timings, and -v prints them on one line", async () => {
    const root = path.join(tmp, "bad");
    const r = await runCli(["install", "plugins-examples/invalid/unknown-step", "--root", root, "--json"]);
    assert.equal(r.code, 2);
    assert.deepEqual(Object.keys(summaryOf(r.stdout).timings), PHASES);
    const v = await runCli(["install", "helloworld", "--root", root, "-v"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^changed=1 .* in \d+ ms\ntimings: load \d+ ms, plan \d+ ms, lock \d+ ms, apply \d+ ms, reload \d+ ms, dialplan check \d+ ms$/m);
    const quiet = await runCli(["install", "helloworld", "--root", root]);
    assert.doesNotMatch(quiet.stdout, /timings:/);
  });
});
