/**
 * The package as a user gets it: `npm pack`, installed offline into a new project with strict
 * TypeScript and no @types/node, a program using planInstall, installPlugins, reloadAsterisk and
 * createAmiClient that switches exhaustively on failure.reason, compiled and run against the
 * fake AMI; and a plugin's tasks.ts type-checked in a folder that has only wazo-tasks.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { FAILURE_REASONS } from "../../src/model/diagnostic.js";
import { startFakeAmi, type FakeAmi } from "../support/fake-ami.js";
import { cleanup, REPO, tempDir, writeTree } from "../support/rig.js";

const TSC = path.join(REPO, "node_modules/typescript/bin/tsc");
const STRICT = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitReturns: true,
    skipLibCheck: false,
    // `await using` needs the disposable lib; DOM gives console without @types/node.
    lib: ["ES2022", "ESNext.Disposable", "DOM"],
    types: [],
    outDir: "out",
  },
  files: ["main.ts"],
};

/** What the program does for each reason: the switch must name them all, or it does not compile. */
const cases = FAILURE_REASONS.map((r) => `    case "${r}":`).join("\n");
const PROGRAM = `import { AmiError, createAmiClient, installPlugins, planInstall, reloadAsterisk, type Failure, type FailureReason, type RunOptions } from "wazo-tasks";

declare const process: { argv: string[]; exitCode?: number };
const [url = "", badUrl = "", root = ""] = process.argv.slice(2);

function next(reason: FailureReason): string {
  switch (reason) {
${cases}
      return reason === "ami-auth" ? "fix the secret" : reason === "invalid-input" ? "fix the input" : "see the message";
    default: {
      const unknown: never = reason;
      return unknown;
    }
  }
}
const say = (what: string, f: Failure | undefined, exitCode: number) => console.log(\`\${what}: exit \${exitCode}\${f ? \` \${f.reason}, \${next(f.reason)}\` : ""}\`);

const plan = await planInstall(["helloworld"], { root });
console.log(\`plan: \${plan.plugins.map((p) => \`\${p.name} \${p.action}\`).join(", ")}, then \${plan.handlers.length} handler(s)\`);
const installed = await installPlugins(["helloworld"], { root, ami: url });
const code: 0 | 1 | 2 | 3 | 70 | 75 = installed.exitCode;
const status: "changed" | "unchanged" | "would change" | "rolled back" | "applied, handler failed" | undefined = installed.plugins[0]?.status;
// @ts-expect-error the test-only fault injection is not a public option
const notPublic: RunOptions = { fault: { after: 1, kill: false } };
void [code, status, notPublic];
say(\`install (reloads: \${installed.reloads.join(",")})\`, installed.failure, installed.exitCode);
const reloaded = await reloadAsterisk({ ami: url, root, targets: ["dialplan"] });
say(\`reload (checked: \${reloaded.dialplanCheck?.checked ?? "-"})\`, reloaded.failure, reloaded.exitCode);
const refused = await reloadAsterisk({ ami: badUrl, root });
say("reload with a wrong secret", refused.failure, refused.exitCode);
say("install of an unknown plugin", (await installPlugins(["no-such-plugin"], { root })).failure, 2);
{
  await using client = await createAmiClient(url);
  console.log(\`***42 loaded: \${await client.dialplanHasExtension("***42", "xivo-extrafeatures")}\`);
}
try {
  await createAmiClient(badUrl);
} catch (e) {
  if (!(e instanceof AmiError)) throw e;
  console.log(\`createAmiClient: \${e.reason} (\${e.code}) for \${e.ami?.user}@\${e.ami?.host}\`);
}
`;

const TASKS = `import { defineTasks } from "wazo-tasks";

export default defineTasks({
  install: [
    { copy: "acme.conf", to: "/etc/asterisk/extensions_extra.d/" },
    { reload: "dialplan" },
  ],
});
`;

function run(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Runs without blocking this process (the fake AMI answers from here). */
function runAsync(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the packed package in a new strict TypeScript project", { timeout: 180_000 }, () => {
  let tmp: string;
  let ami: FakeAmi;
  before(async () => (tmp = await tempDir("wt-consumer-")));
  after(async () => {
    await ami?.close();
    await cleanup(tmp);
  });

  test("installs offline, compiles without @types/node, and runs against the fake AMI", async () => {
    run("npm", ["pack", "--ignore-scripts", "--pack-destination", tmp], REPO);
    const tarball = path.join(
      tmp,
      (await readdir(tmp)).find((f) => f.endsWith(".tgz"))!,
    );
    const project = path.join(tmp, "project");
    await mkdir(project);
    await writeFile(path.join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
    // From the npm cache only (`npm ci` filled it): --offline is npm's only-if-cached mode, which
    // fails (ENOTCACHED) rather than ask the registry.
    run("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], project);
    await writeFile(path.join(project, "tsconfig.json"), JSON.stringify(STRICT, null, 2));
    await writeFile(path.join(project, "main.ts"), PROGRAM);
    run(process.execPath, [TSC, "-p", "."], project);

    const root = await writeTree(path.join(tmp, "root"), { "etc/asterisk/extensions.conf": "[general]\n\n#include extensions_extra.d/*\n" });
    ami = await startFakeAmi({ root, authFailureDelayMs: 20 });
    const bad = `ami://wazo:wrong@127.0.0.1:${ami.port}`;
    const r = await runAsync([path.join(project, "out/main.js"), ami.url(), bad, root], project);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout;
    assert.equal(
      out,
      [
        "plan: helloworld install, then 1 handler(s)",
        "install (reloads: dialplan): exit 0",
        "reload (checked: 1): exit 0",
        "reload with a wrong secret: exit 1 ami-auth, fix the secret",
        "install of an unknown plugin: exit 2 invalid-input, fix the input",
        "***42 loaded: true",
        "createAmiClient: ami-auth (auth-failed) for wazo@127.0.0.1",
        "",
      ].join("\n"),
    );
    assert.equal(ami.actions.filter((a) => a.action?.toLowerCase() === "logoff").length >= 3, true, "every client logged off");

    // A plugin folder beside it, with only wazo-tasks (and TypeScript) to resolve: `tsc --noEmit tasks.ts`.
    const plugin = path.join(tmp, "plugin");
    await mkdir(plugin);
    await symlink(path.join(project, "node_modules"), path.join(plugin, "node_modules"));
    await writeFile(path.join(plugin, "tasks.ts"), TASKS);
    run(process.execPath, [TSC, "--noEmit", "--strict", "--module", "nodenext", "--types", "", "tasks.ts"], plugin);
    // A switch that forgets a reason does not compile.
    await writeFile(path.join(project, "main.ts"), PROGRAM.replace(`    case "internal":\n`, ""));
    const broken = spawnSync(process.execPath, [TSC, "-p", "."], { cwd: project, encoding: "utf8" });
    assert.notEqual(broken.status, 0);
    assert.match(broken.stdout, /Type '"internal"' is not assignable to type 'never'/);
  });
});
