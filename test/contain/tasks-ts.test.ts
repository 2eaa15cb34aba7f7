/**
 * tasks.ts runs in a child process with a time limit: what it prints is the plugin's output
 * (never mixed into --json), and process.exit, a crash, an unhandled rejection or an endless loop
 * fail that plugin alone, with a clear message, while the other plugins are still reported.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { cleanup, events, makePlugin, REPO, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const CONF = "[xivo-extrafeatures]\nexten = ***71,1,NoOp()\n";
const good = (parent: string) =>
  makePlugin(parent, "good", { "good.conf": CONF, "tasks.yml": "install:\n  - copy: good.conf\n    to: /etc/asterisk/extensions_extra.d/\n" });
const withTs = (parent: string, name: string, body: string) =>
  makePlugin(parent, name, {
    "x.conf": CONF,
    "tasks.ts": `${body}\nexport default { install: [{ copy: "x.conf", to: "/etc/asterisk/extensions_extra.d/${name}.conf" }] };\n`,
  });

describe("tasks.ts in a child process", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  const cases: [string, string, RegExp][] = [
    ["exits", "process.exit(0);", /tasks\.ts called process\.exit\(0\)/],
    ["crashes", 'setTimeout(() => { throw new Error("crashed later"); }, 0);\nawait new Promise((r) => setTimeout(r, 50));', /Error: crashed later/],
    ["rejects", 'Promise.reject(new Error("nobody caught me"));', /unhandled rejection: nobody caught me/],
    ["loops", "while (true) {}", /did not finish loading within 1 s/],
  ];
  for (const [name, body, message] of cases)
    test(`a tasks.ts that ${name} fails alone; the other plugin is still reported and nothing changes`, async () => {
      const dir = path.join(tmp, name);
      const [bad, ok] = [await withTs(dir, name, body), await good(dir)];
      const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
      const before = await snapshot(root);
      const env = name === "loops" ? { WAZO_TASKS_TS_TIMEOUT_MS: "1000" } : {};
      const v = await runCli(["validate", bad, ok, "--root", root], { env });
      assert.equal(v.code, 2, v.stdout + v.stderr);
      assert.match(v.stdout + v.stderr, message);
      assert.match(v.stdout + v.stderr, new RegExp(`${name}/tasks\\.ts`), "the file is named");
      assert.match(v.stdout + v.stderr, /good/, "the other plugin is reported");
      assert.doesNotMatch(v.stdout + v.stderr, /\n\s+at |tasks_default|var __/, "no stack trace, no compiled module");
      const i = await runCli(["install", bad, ok, "--root", root, "--json"], { env });
      assert.equal(i.code, 2, i.stdout + i.stderr);
      const ev = events(i.stdout);
      assert.ok(
        ev.some((e) => e.type === "diagnostic" && message.test(e.diagnostic.message)),
        i.stdout,
      );
      assert.deepEqual(await snapshot(root), before);
    });

  test("what tasks.ts prints is the plugin's output, never raw text in --json", async () => {
    const dir = path.join(tmp, "prints");
    const p = await withTs(dir, "prints", 'console.log("hello from tasks.ts"); console.error("on stderr");');
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const r = await runCli(["install", p, "--root", root, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const ev = events(r.stdout); // throws on a line that is not JSON
    assert.deepEqual(
      ev.filter((e) => e.type === "output").map((e) => [e.plugin, e.line]),
      [
        ["prints", "hello from tasks.ts"],
        ["prints", "on stderr"],
      ],
    );
    const human = await runCli(["install", p, "--root", root, "-v"]);
    assert.match(human.stdout + human.stderr, /prints \| hello from tasks\.ts/);
  });

  test("a syntax error is reported at its line; imports of wazo-tasks and of local files work", async () => {
    const dir = path.join(tmp, "syntax");
    const bad = await makePlugin(dir, "broken", { "tasks.ts": "export default {\n  install: [\n    { copy: 'x.conf' to: '/etc/x' },\n  ],\n};\n" });
    const r = await runCli(["validate", bad]);
    assert.equal(r.code, 2);
    assert.match(r.stdout + r.stderr, /broken\/tasks\.ts:3:\d+: error: cannot load tasks\.ts: .*Expected/);
    const typed = await makePlugin(dir, "typed", {
      "x.conf": CONF,
      "steps.ts": 'export const steps = [{ copy: "x.conf", to: "/etc/asterisk/extensions_extra.d/typed.conf" }] as const;\n',
      "tasks.ts":
        'import { defineTasks, type Tasks } from "wazo-tasks";\nimport { steps } from "./steps.ts";\nconst t: Tasks = { install: [...steps] };\nexport default defineTasks(t);\n',
    });
    const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
    const ok = await runCli(["install", typed, "--root", root]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await snapshot(root)).has("etc/asterisk/extensions_extra.d/typed.conf"), true);
  });
});

describe("the compiled tasks.ts cache runs only what this user wrote", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  // A planted module under the key the cache would use for this tasks.ts: run, it leaves a mark.
  const plant = async (cache: string, text: string, mark: string) => {
    const key = createHash("sha256").update(`${REPO}/\0${text}`).digest("hex").slice(0, 32);
    const dir = path.join(cache, "wazo-tasks", "tasks-ts");
    await mkdir(dir, { recursive: true });
    await writeFile(
      path.join(dir, `${key}.mjs`),
      `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(mark)}, "ran"); export default { install: [] };\n`,
    );
    return { dir, file: path.join(dir, `${key}.mjs`) };
  };

  for (const [what, loosen] of [
    ["a cache folder others can write", (p: { dir: string; file: string }) => chmod(p.dir, 0o777)],
    ["a cached file others can write", (p: { dir: string; file: string }) => chmod(p.file, 0o666)],
  ] as const)
    test(`${what} is not used: the plugin's own tasks.ts is compiled and run`, async () => {
      const dir = path.join(tmp, what.replace(/ /g, "-"));
      const p = await withTs(dir, "planted", "");
      const text = await readFile(path.join(p, "tasks.ts"), "utf8");
      const cache = path.join(dir, "cache");
      const mark = path.join(dir, "planted-ran");
      await loosen(await plant(cache, text, mark));
      const root = await writeTree(path.join(dir, "root"), { "etc/asterisk/extensions.conf": "[general]\n" });
      const r = await runCli(["install", p, "--root", root, "--dry-run"], { env: { XDG_CACHE_HOME: cache } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /planted\.conf/, "the plugin's own install list is planned");
      await assert.rejects(readFile(mark), "the planted module never ran");
    });
});
