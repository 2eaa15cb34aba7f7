/**
 * The linter against what a real Asterisk 22.10.1 did with every corpus file
 * (test/fixtures/dialplan-corpus/outcomes.json, re-recorded by `npm run test:asterisk`):
 * its verdict (the worst severity it reports) must be the recorded one, its errors must be on the
 * lines Asterisk lost (or after one that stops Asterisk's reader), and for files Asterisk loaded
 * without loss, the extensions it says the file provides must be those Asterisk loaded.
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
    assert.deepEqual(
      keys.filter((k) => !outcomes[k]),
      [],
    );
    assert.deepEqual(
      Object.keys(outcomes).filter((k) => !keys.includes(k)),
      [],
    );
  });

  for (const f of corpusFiles()) {
    const recorded = outcomes[f.key];
    if (!recorded) continue;
    test(`${f.key}: ${recorded.verdict} (${recorded.why})`, async () => {
      const result = await lintDialplanFile(f.file, { target: `/etc/asterisk/extensions_extra.d/${f.name}`, context: around(f.name) });
      const verdict = result.diagnostics.some((d) => d.severity === "error") ? "error" : result.diagnostics.length ? "warning" : "clean";
      const said = result.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}: ${d.message}`);
      assert.equal(verdict, recorded.verdict, `the linter said:\n${said.join("\n") || "nothing"}`);
      // Line by line: what Asterisk lost has an error on its line, or after an error that stops
      // Asterisk's reader above it; and every error is on such a line.
      const errors = result.diagnostics.filter((d) => d.severity === "error");
      const stop = Math.min(...errors.filter((d) => /rest of this file|following lines/.test(d.hint ?? "")).map((d) => d.line));
      const harmed = new Set([...recorded.lost, ...recorded.others.flatMap((o) => /^line (\d+) /.exec(o)?.slice(1).map(Number) ?? [])]);
      assert.deepEqual(
        [...harmed].filter((l) => l < stop && !errors.some((e) => e.line === l)),
        [],
        `lines lost without an error; the linter said:\n${said.join("\n")}`,
      );
      assert.deepEqual(
        errors.filter((e) => e.line < stop && !harmed.has(e.line)).map((e) => `${e.line}: ${e.message}`),
        [],
        "errors on lines Asterisk loaded",
      );
      if (recorded.verdict !== "error") {
        // context/extension[/callerid]/priority@line; the linter names extensions without caller id.
        const loaded = [...new Set(recorded.loaded.map((l) => l.split("/").slice(0, 2).join("/")))].sort();
        const found = [...new Set(result.extensions.map((x) => `${x.context}/${x.extension}`))].sort();
        assert.deepEqual(found, loaded, "the extensions the linter lists are not those Asterisk loaded");
      }
    });
  }
});
