/**
 * The linter against what a real Asterisk 22.10.1 did with every corpus file
 * (test/fixtures/dialplan-corpus/outcomes.json, re-recorded by `npm run test:asterisk`):
 * its verdict (the worst severity it reports) must be the recorded one, and for files Asterisk
 * loaded without loss, the extensions it says the file provides must be those Asterisk loaded.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lintDialplanFile } from "../../src/dialplan/lint.js";
import type { DialplanContextInfo } from "../../src/dialplan/types.js";
import { corpusFiles, readOutcomes } from "../support/corpus.js";

const outcomes = readOutcomes();

/**
 * What the recording instance (../shared/asterisk/instance.sh) reads around a corpus file:
 * 01-wazo.conf's [xivo-extrafeatures] before it, example.conf's [pre-example] before the files
 * sorted after "example.conf", the sentinel's [corpus-sentinel] after it, and no other file.
 */
function around(name: string): DialplanContextInfo {
  const before = ["xivo-extrafeatures", ...(name > "example.conf" ? ["pre-example"] : [])];
  return { sectionsBefore: new Set(before), contexts: new Set([...before, "pre-example", "corpus-sentinel"]), includeExists: () => false };
}

describe("the linter agrees with the real Asterisk on the corpus", () => {
  test("every corpus file has a recorded outcome, and there are at least 60", () => {
    const keys = corpusFiles().map((f) => f.key);
    assert.ok(keys.length >= 60, String(keys.length));
    assert.deepEqual(keys.filter((k) => !outcomes[k]), []);
    assert.deepEqual(Object.keys(outcomes).filter((k) => !keys.includes(k)), []);
  });

  for (const f of corpusFiles()) {
    const recorded = outcomes[f.key];
    if (!recorded) continue;
    test(`${f.key}: ${recorded.verdict} (${recorded.why})`, async () => {
      const result = await lintDialplanFile(f.file, { target: `/etc/asterisk/extensions_extra.d/${f.name}`, context: around(f.name) });
      const verdict = result.diagnostics.some((d) => d.severity === "error") ? "error" : result.diagnostics.length ? "warning" : "clean";
      const said = result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`);
      assert.equal(verdict, recorded.verdict, `the linter said:\n${said.join("\n") || "nothing"}`);
      if (recorded.verdict !== "error") {
        // context/extension[/callerid]/priority@line; the linter names extensions without caller id.
        const loaded = [...new Set(recorded.loaded.map((l) => l.split("/").slice(0, 2).join("/")))].sort();
        const found = [...new Set(result.extensions.map((x) => `${x.context}/${x.extension}`))].sort();
        assert.deepEqual(found, loaded, "the extensions the linter lists are not those Asterisk loaded");
      }
    });
  }
});
