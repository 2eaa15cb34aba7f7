/**
 * Finding a plugin by name in the search folders (src/load/lookup.ts): the first search folder
 * that has the name wins, and within a folder the first plugin folder in name order; a
 * wazo-plugind plugin may be named without its namespace; an unknown name lists what is there.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { listAvailable, resolvePluginArg, scanOnce } from "../../src/load/lookup.js";
import { isTaskFailure } from "../../src/model/diagnostic.js";
import { cleanup, tempDir, writeTree } from "../support/rig.js";

const pkg = (name: string) => `name: ${name}\ndescription: d\nversion: "1"\n`;

describe("plugin lookup by name", () => {
  let tmp: string;
  let one: string;
  let two: string;
  before(async () => {
    tmp = await tempDir();
    one = await writeTree(path.join(tmp, "one"), {
      "b-folder/package.yml": pkg("shared"),
      "z-folder/package.yml": pkg("shared"),
      "only-one/package.yml": pkg("only-one"),
    });
    two = await writeTree(path.join(tmp, "two"), {
      "a-folder/package.yml": pkg("shared"),
      "only-two/package.yml": pkg("only-two"),
      "hello/wazo/plugin.yml": "namespace: acme\nname: hello\nversion: '1'\n",
    });
  });
  after(() => cleanup(tmp));

  const opts = () => ({ pluginsDirs: [one, two], root: path.join(tmp, "no-root"), bundled: false });

  test("the first search folder holding the name wins, then the first folder by name", async () => {
    const scan = scanOnce(opts());
    assert.equal(await resolvePluginArg("shared", opts(), scan), path.join(one, "b-folder"));
    assert.equal(await resolvePluginArg("only-two", opts(), scan), path.join(two, "only-two"));
    assert.equal(await resolvePluginArg("only-one", opts(), scan), path.join(one, "only-one"));
  });

  test("a wazo-plugind plugin by NAMESPACE/NAME or by its name alone", async () => {
    assert.equal(await resolvePluginArg("acme/hello", opts()), path.join(two, "hello"));
    assert.equal(await resolvePluginArg("hello", opts()), path.join(two, "hello"));
  });

  test("listing: one entry per name, the one a lookup finds", async () => {
    const all = await listAvailable(opts());
    assert.deepEqual(
      all.map((p) => [p.name, p.dir]),
      [
        ["shared", path.join(one, "b-folder")],
        ["only-one", path.join(one, "only-one")],
        ["acme/hello", path.join(two, "hello")],
        ["only-two", path.join(two, "only-two")],
      ],
    );
    assert.deepEqual(await scanOnce(opts()).all(), all);
  });

  test("an unknown name: the nearest name and every available one", async () => {
    const e = await resolvePluginArg("only-tow", opts()).catch((x: unknown) => x);
    assert.ok(isTaskFailure(e), String(e));
    assert.equal(e.message, 'unknown plugin "only-tow"');
    assert.match(e.hint ?? "", /^did you mean "only-two"\? searched: .*; available: shared, only-one, acme\/hello, only-two$/);
  });
});
