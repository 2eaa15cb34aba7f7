/**
 * A plugin's tasks.ts in a folder with no node_modules: `import { defineTasks } from
 * "wazo-tasks"` resolves to the wazo-tasks that loads it, as an ES module and as CommonJS.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { cleanup, makePlugin, runCli, tempDir } from "../support/rig.js";

const TASKS = `import { defineTasks } from "wazo-tasks";
export default defineTasks({ install: [{ copy: "bare.conf", to: "/etc/asterisk/extensions_extra.d/" }] });
`;

for (const kind of ["an ES module", "CommonJS"] as const) {
  test(`tasks.ts as ${kind} in a bare folder imports the running wazo-tasks`, async () => {
    // Outside the repository: no wazo-tasks to find by walking up node_modules folders.
    const tmp = await tempDir();
    const dir = await makePlugin(tmp, "bare", { "tasks.ts": TASKS, "bare.conf": "[bare]\nexten = 1,1,NoOp()\n" });
    if (kind === "an ES module") await writeFile(path.join(dir, "package.json"), '{"type":"module"}\n');
    const r = await runCli(["install", dir, "--root", path.join(tmp, "root"), "--dry-run"], { cwd: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /would change\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/bare\.conf/);
    assert.doesNotMatch(r.stderr, /Cannot find (module|package) 'wazo-tasks'/);
    await cleanup(tmp);
  });
}
