/**
 * Runs parseDialplan over every snippet of test/fixtures/dialplan/ and compares with its .expect
 * sidecar (format in that folder's README.md).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { parseDialplan, type DialplanParseResult } from "../../src/dialplan/parse.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/dialplan/", import.meta.url));

interface Expected {
  noDiagnostics: boolean;
  diagnostics: { prefix: string; text: string }[];
  contexts: string[];
  extensions: string[];
}

function readExpected(name: string): Expected {
  const expected: Expected = { noDiagnostics: false, diagnostics: [], contexts: [], extensions: [] };
  for (const raw of readFileSync(FIXTURES + name, "utf8").split("\n")) {
    const line = raw.trimEnd();
    if (line === "" || line.startsWith("#")) continue;
    if (line === "no diagnostics") expected.noDiagnostics = true;
    else if (line.startsWith("context: ")) expected.contexts.push(line);
    else if (line.startsWith("extension: ")) expected.extensions.push(line);
    else {
      const m = /^(\d+:\d+: (?:error|warning): )(.*)$/.exec(line);
      assert.ok(m, `${name}: cannot read expectation '${line}'`);
      expected.diagnostics.push({ prefix: m[1], text: m[2] });
    }
  }
  return expected;
}

function contextLines(result: DialplanParseResult): string[] {
  return result.contexts.map((c) => {
    const flags = [c.template ? " template" : "", c.append ? " append" : "", c.inherits.length ? ` inherits=${c.inherits.join(",")}` : ""];
    return `context: ${c.name} ${c.line}${flags.join("")}`;
  });
}

function extensionLines(result: DialplanParseResult): string[] {
  return result.extensions.map((e) => `extension: ${e.extension}@${e.context} ${e.line}`);
}

const confs = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".conf"))
  .sort();

describe("dialplan corpus", () => {
  it("has at least 25 snippets, each with an .expect file", () => {
    assert.ok(confs.length >= 25, `only ${confs.length} snippets`);
    const expects = new Set(readdirSync(FIXTURES).filter((f) => f.endsWith(".expect")));
    for (const conf of confs) assert.ok(expects.has(conf.replace(/\.conf$/, ".expect")), `${conf} has no .expect`);
  });

  for (const conf of confs) {
    it(conf, () => {
      const expected = readExpected(conf.replace(/\.conf$/, ".expect"));
      const result = parseDialplan(readFileSync(FIXTURES + conf, "utf8"), conf);
      const actual = result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`);
      if (expected.noDiagnostics) assert.deepEqual(actual, []);
      assert.equal(actual.length, expected.diagnostics.length, `diagnostics:\n${actual.join("\n")}`);
      expected.diagnostics.forEach((want, i) => {
        assert.ok(
          actual[i].startsWith(want.prefix) && actual[i].includes(want.text),
          `diagnostic ${i + 1}: got '${actual[i]}', want '${want.prefix}${want.text}'`,
        );
      });
      assert.deepEqual(contextLines(result), expected.contexts);
      assert.deepEqual(extensionLines(result), expected.extensions);
      for (const d of result.diagnostics) assert.equal(d.file, conf);
    });
  }
});
