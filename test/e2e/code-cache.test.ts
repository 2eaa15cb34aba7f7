/**
 * The CLI's V8 code cache (src/cli/main.ts): saved after a successful run in
 * $XDG_CACHE_HOME/wazo-tasks/v8/, reused by the next, and never a reason for a run to differ,
 * fail or hang: the output is byte for byte the same with a cache, without one, with a corrupt
 * one, or with a cache folder that cannot be used.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { runCli, tempDir } from "../support/rig.js";

let tmp: string;
before(async () => {
  tmp = await tempDir("wt-code-cache-");
});
after(() => rm(tmp, { recursive: true, force: true }));

const dryRun = (cache: string, root = path.join(tmp, "root")) =>
  runCli(["install", "helloworld", "--root", root, "--dry-run"], { env: { XDG_CACHE_HOME: cache }, timeoutMs: 60_000 });
const cacheFiles = async (cache: string) => (await readdir(path.join(cache, "wazo-tasks/v8")).catch(() => [] as string[])).sort();

test("a run saves its compiled code; the next one uses it and prints the same bytes as a run without a cache", async () => {
  const cache = path.join(tmp, "cache-a");
  const none = path.join(tmp, "not-a-folder");
  await writeFile(none, "");
  const without = await dryRun(none);
  assert.equal(without.code, 0, without.stderr);
  const first = await dryRun(cache);
  const files = await cacheFiles(cache);
  assert.equal(files.length, 1, `one cache file for the CLI bundle: ${files.join(", ")}`);
  assert.match(files[0], /-cli-.*-install-dry\.bin$/);
  assert.equal((await stat(path.join(cache, "wazo-tasks/v8"))).mode & 0o777, 0o700);
  const file = path.join(cache, "wazo-tasks/v8", files[0]);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const saved = await readFile(file);
  const second = await dryRun(cache);
  for (const r of [first, second]) assert.deepEqual(r, without);
  // Used, not written again.
  assert.deepEqual(await readFile(file), saved);
  assert.deepEqual(await cacheFiles(cache), files);
});

test("a corrupt cache file is replaced, and the run is as without it", async () => {
  const cache = path.join(tmp, "cache-b");
  const good = await dryRun(cache);
  const [name] = await cacheFiles(cache);
  const file = path.join(cache, "wazo-tasks/v8", name);
  await writeFile(file, "not V8 code", { mode: 0o600 });
  const r = await dryRun(cache);
  assert.deepEqual(r, good);
  assert.notEqual(await readFile(file, "utf8"), "not V8 code");
});

test("a cache folder others can write is neither read nor written", async () => {
  const cache = path.join(tmp, "cache-c");
  await mkdir(path.join(cache, "wazo-tasks/v8"), { recursive: true });
  await chmod(path.join(cache, "wazo-tasks/v8"), 0o777);
  const r = await dryRun(cache);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await cacheFiles(cache), []);
});

test("a failed run saves nothing; a cache folder that cannot be made does not stop or hang a run", async () => {
  const cache = path.join(tmp, "cache-d");
  const bad = await runCli(["install", "no-such-plugin", "--root", path.join(tmp, "root")], { env: { XDG_CACHE_HOME: cache } });
  assert.equal(bad.code, 2, bad.stderr);
  assert.deepEqual(await cacheFiles(cache), []);
  // mkdir's `recursive` never returns under /proc: the cache folder is made one level at a time.
  const r = await dryRun("/proc/wazo-tasks-no-such-folder");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /would change=1/);
});
