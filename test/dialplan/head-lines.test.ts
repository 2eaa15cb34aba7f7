/**
 * The include chain reads only the section headers and directives of each file Asterisk reads
 * (src/dialplan/lines.ts headerAndDirectiveLines): they must be exactly the lines the full
 * reader gives that start with `[` or `#`, with the same text and columns, on the real-world
 * corpus and on the comment and line traps the reader knows.
 */
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { readDialplanChain } from "../../src/dialplan/chain.js";
import { decodeDialplan, headerAndDirectiveLines, splitLogicalLines } from "../../src/dialplan/lines.js";
import { parseDialplan } from "../../src/dialplan/parse.js";
import { cleanup, tempDir } from "../support/rig.js";

const CORPUS = path.join(import.meta.dirname, "../fixtures/dialplan-corpus/files");
const heads = (text: string) => splitLogicalLines(text, "f.conf").lines.filter((l) => l.text.startsWith("[") || l.text.startsWith("#"));

const TRAPS: Record<string, string> = {
  "blanks and controls before the header": " \t\r[a]\r\n\x01#include x.conf\n",
  "a comment after the header": "[a] ; the a context\n#include b.conf ; and b\n",
  "an escaped semicolon": "[a\\;b]\nexten = 1,1,NoOp(\\;)\n",
  "a header behind a comment": "; [not-a-context]\n;#include nothing\n",
  "a NUL before and after the bracket": "\0[hidden]\n[shown]\0[cut]\n",
  "a byte-order mark": "\uFEFF[bom]\nexten = 1,1,NoOp()\n",
  "a line Asterisk skips for its length": `[${"x".repeat(8200)}]\n[after]\n`,
  "a block comment hiding a header": "[a]\n;-- a comment\n[hidden]\n--;\n[b]\n",
  "a stray block-comment close": "[a]\n--;\n[hidden]\n;--\n[c]\n",
  "three dashes do not open a block comment": "[a]\n;--- note\n[b]\n",
  "no newline at the end": "[a]\nexten = 1,1,NoOp()\n[b]",
  "CR line ends": "[a]\r\n#include x.conf\r\n[b]\r\n",
  "an unclosed header": "[a\nexten = 1,1,NoOp()\n",
  "a large plain file": Array.from({ length: 3000 }, (_, i) => `[c${i}]\nexten = ${i},1,NoOp(x)\n same = n,Hangup()`).join("\n"),
};

/** The sections the chain records for `text` read as a root's extensions.conf. */
async function chainSections(tmp: string, text: string): Promise<string[]> {
  const root = path.join(tmp, String(Math.random()).slice(2));
  mkdirSync(path.join(root, "etc/asterisk"), { recursive: true });
  writeFileSync(path.join(root, "etc/asterisk/extensions.conf"), text);
  return (await readDialplanChain(root)).files[0]!.sections;
}

describe("the chain's header and directive lines", () => {
  let tmp: string;
  before(async () => (tmp = await tempDir()));
  after(() => cleanup(tmp));
  const files = readdirSync(CORPUS).sort();
  test("the corpus holds files to compare", () => assert.ok(files.length >= 40, `${files.length} corpus files`));

  for (const name of files) {
    test(`corpus ${name}: the same lines and sections as the full reader`, async () => {
      const text = decodeDialplan(readFileSync(path.join(CORPUS, name)));
      assert.deepEqual(headerAndDirectiveLines(text, "f.conf"), heads(text));
      assert.deepEqual(
        await chainSections(tmp, text),
        parseDialplan(text, "f.conf").contexts.map((c) => c.name),
      );
    });
  }

  for (const [what, text] of Object.entries(TRAPS)) {
    test(`${what}: the same lines and sections as the full reader`, async () => {
      assert.deepEqual(headerAndDirectiveLines(text, "f.conf"), heads(text));
      assert.deepEqual(
        await chainSections(tmp, text),
        parseDialplan(text, "f.conf").contexts.map((c) => c.name),
      );
    });
  }
});
