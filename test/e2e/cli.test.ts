/**
 * The command line as people meet it: help with examples, suggestions for typos, the JSON
 * Schema shipped and printed from the same source, and the npm package installed and run.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { Ajv } from "ajv";
import { load } from "js-yaml";
import { cleanup, EXAMPLES, HELLO_CONF, REPO, runCli, tempDir } from "../support/rig.js";

const exec = promisify(execFile);
const COMMANDS = ["install", "uninstall", "list", "show", "validate", "verify", "reload", "convert", "recover", "schema"];

async function descriptors(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory() && e.name !== "invalid") out.push(...(await descriptors(p)));
    else if (e.name === "tasks.yml") out.push(p);
  }
  return out;
}

describe("command line", () => {
  test("every command has --help with an example", async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c, "--help"]);
      assert.equal(r.code, 0, c);
      assert.match(r.stdout, new RegExp(`Usage: wazo-tasks ${c}`));
      assert.match(r.stdout, /Examples?:\n\s+wazo-tasks /, `${c} --help shows an example`);
    }
    const top = await runCli(["--help"]);
    assert.equal(top.code, 0);
    for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`\\n\\s+${c}\\b`));
    assert.match(
      top.stdout,
      /Exit codes: 0 done, 1 failed \(nothing applied, or rolled back\), 2 invalid input, 3 applied but a reload or verification failed, 70 internal error, 75 the root is locked by another run/,
    );
  });

  test("show: metadata, executor, the extensions it provides and the plan on this root", async () => {
    const tmp = await tempDir();
    const r = await runCli(["show", "helloworld", "--root", tmp]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /executor:\s+descriptor \(.*plugins-examples\/helloworld\/tasks\.yml\)/);
    assert.match(r.stdout, /extensions: \*\*\*42@xivo-extrafeatures \(\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf\)/);
    assert.match(r.stdout, /would change\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf/);
    const j = await runCli(["show", "helloworld", "--root", tmp, "--json"]);
    const first = JSON.parse(j.stdout.split("\n")[0]);
    assert.deepEqual(first.extensions, [{ context: "xivo-extrafeatures", extension: "***42", file: "/etc/asterisk/extensions_extra.d/helloworld.conf" }]);
    assert.deepEqual(await readdir(tmp), [], "show writes nothing");
    await cleanup(tmp);
  });

  test("unknown commands and options get a suggestion and exit 2", async () => {
    const cmd = await runCli(["instal", "helloworld"]);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'instal'\n\(Did you mean install\?\)/);
    const opt = await runCli(["install", "helloworld", "--dry-rnu"]);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /unknown option '--dry-rnu'\n\(Did you mean --dry-run\?\)/);
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout.trim(), JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")).version);
  });

  test("the shipped JSON Schema equals `schema` and every example validates against it", async () => {
    const shipped = await readFile(path.join(REPO, "schema/tasks.schema.json"), "utf8");
    const printed = await runCli(["schema"]);
    assert.equal(printed.code, 0);
    assert.equal(printed.stdout, shipped);
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(shipped));
    const files = await descriptors(EXAMPLES);
    assert.ok(files.length >= 3, `examples found: ${files.join(", ")}`);
    for (const f of files) {
      const text = await readFile(f, "utf8");
      assert.match(text, /^# yaml-language-server: \$schema=/, `${f} names the schema for editors`);
      assert.ok(validate(load(text)), `${f}: ${JSON.stringify(validate.errors)}`);
    }
    // And the schema rejects what the engine rejects.
    assert.equal(validate({ install: [{ copy: "a", to: "relative/" }] }), false);
    assert.equal(validate({ install: [{ copy: "../a", to: "/etc/" }] }), false);
    assert.equal(validate({ install: [{ copyy: "a" }] }), false);
  });
});

describe("the two entry files", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("dist/cli/main.js (ES module) and the bin dist/cli/main.cjs say the same, byte for byte", async () => {
    const run = (entry: string, args: string[]) =>
      exec(process.execPath, [path.join(REPO, entry), ...args], { env: { ...process.env, NO_COLOR: "1", XDG_CACHE_HOME: path.join(tmp, "cache") } }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const pkg = JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { bin: Record<string, string> };
    assert.equal(pkg.bin["wazo-tasks"], "dist/cli/main.cjs");
    for (const args of [
      ["--version"],
      ["install", "helloworld", "--root", path.join(tmp, "root"), "--dry-run"],
      ["install", "no-such-plugin", "--root", tmp],
    ]) {
      const [esm, cjs] = [await run("dist/cli/main.js", args), await run("dist/cli/main.cjs", args)];
      assert.deepEqual(esm, cjs, args.join(" "));
    }
  });
});

describe("npm package", { timeout: 300_000 }, () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));

  test("npm pack holds the compiled code, types, schema and examples only; installed globally it runs", async () => {
    // `npm test` has just built dist/; --ignore-scripts keeps `prepare` from rebuilding it while other tests run it.
    const { stdout } = await exec("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", tmp], { cwd: REPO, maxBuffer: 1 << 24 });
    const [info] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string; files: { path: string }[] }[];
    const files = info.files.map((f) => f.path);
    for (const must of [
      "package.json",
      "README.md",
      "dist/cli/main.cjs",
      "dist/cli/main.js",
      "dist/cli/cli.cjs",
      "dist/cli/zod.cjs",
      "dist/index.js",
      "dist/index.d.ts",
      "schema/tasks.schema.json",
      "plugins-examples/helloworld/tasks.yml",
    ])
      assert.ok(files.includes(must), `${must} is packed`);
    for (const f of files)
      assert.match(f, /^(package\.json|README\.md|LICENSE|dist\/.*\.(c?js|d\.ts)|schema\/.*|plugins-examples\/.*)$/, `${f} should not be packed`);
    const prefix = path.join(tmp, "prefix");
    await exec("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", path.join(tmp, info.filename)], { maxBuffer: 1 << 24 });
    const bin = path.join(prefix, "bin/wazo-tasks");
    const v = await exec(bin, ["--version"]);
    assert.match(v.stdout, /^\d+\.\d+\.\d+/);
    const root = path.join(tmp, "root");
    const r = await exec(bin, ["install", "helloworld", "--root", root], { env: { ...process.env, NO_COLOR: "1" } });
    assert.match(r.stdout, /changed\s+copy\s+\/etc\/asterisk\/extensions_extra\.d\/helloworld\.conf/);
    assert.equal(await readFile(path.join(root, "etc/asterisk/extensions_extra.d/helloworld.conf"), "utf8"), HELLO_CONF);
    assert.ok((await stat(path.join(root, "var/lib/wazo-tasks/installed/helloworld.json"))).isFile());
  });
});
