// The fake AMI server replays the answers recorded from a real Asterisk 22.10.1
// (test/fixtures/ami/real-asterisk.json, re-recorded and compared by `npm run test:asterisk`).
import assert from "node:assert/strict";
import path from "node:path";
import { readFile, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { type Recorded, runExchange } from "../support/ami-exchange.js";
import { EXCHANGE_FILES } from "../support/ami-exchanges.js";
import { startFakeAmi } from "../support/fake-ami.js";
import { FakeDialplan } from "../support/fake-dialplan.js";
import { corpusFiles, readOutcomes } from "../support/corpus.js";
import { cleanup, REPO, tempDir, writeTree } from "../support/rig.js";

const recorded = JSON.parse(await readFile(path.join(REPO, "test/fixtures/ami/real-asterisk.json"), "utf8")) as Recorded[];

describe("the fake AMI server answers as the recorded real Asterisk", () => {
  let root: string;
  before(async () => {
    root = await tempDir();
    await writeTree(root, Object.fromEntries(Object.entries(EXCHANGE_FILES).map(([name, text]) => [`etc/asterisk/extensions_extra.d/${name}`, text])));
  });
  after(() => cleanup(root));

  test("the recording has the exchanges", () => assert.ok(recorded.length >= 10));
  for (const x of recorded) {
    test(x.name, async () => {
      const fake = await startFakeAmi({ root, authFailureDelayMs: 50 });
      try {
        const { name, login, request } = x;
        assert.deepEqual(await runExchange(fake.port, login ? { name, login, request } : { name, request }, root), x);
      } finally {
        await fake.close();
      }
    });
  }
});

/**
 * What the fake loads from each corpus file, against what the real Asterisk loaded: whether the
 * files after it survive (what the rollback tests rely on), and how many priorities it loads.
 * The fake does not simulate caller-id matches, labels used as priorities, `n+N`, `\\;` or
 * template copies: those files load differently, and are listed here.
 */
const LOADS_DIFFERENTLY = new Set([
  "dialplan/broken-duplicate-priority.conf",
  "dialplan/valid-arrows-labels.conf",
  "dialplan/valid-comments.conf",
  "dialplan/valid-patterns.conf",
  "dialplan/valid-templates.conf",
  "dialplan-corpus/files/callerid-match.conf",
  "dialplan-corpus/files/priority-plus.conf",
]);

describe("the fake dialplan loads the corpus as the real Asterisk did", () => {
  const outcomes = readOutcomes();
  let root: string;
  before(async () => (root = await tempDir()));
  after(() => cleanup(root));

  for (const f of corpusFiles()) {
    test(f.key, async () => {
      const extra = "etc/asterisk/extensions_extra.d";
      await rm(`${root}/${extra}`, { recursive: true, force: true });
      await writeTree(root, { [`${extra}/example.conf`]: EXCHANGE_FILES["example.conf"], [`${extra}/zzzz-sentinel.conf`]: "[corpus-sentinel]\nexten = s,1,NoOp(sentinel)\n", [`${extra}/${f.name}`]: readFileSync(f.file) });
      const lines = new FakeDialplan({ root }).show().lines;
      const recorded = outcomes[f.key];
      const keptLater = !recorded.others.some((o) => o.includes("corpus-sentinel"));
      assert.equal(lines.some((l) => l.includes("[zzzz-sentinel.conf:")), keptLater, keptLater ? "the real Asterisk kept the file after it" : "the real Asterisk dropped the file after it");
      const own = lines.filter((l) => l.includes(`[${f.name}:`)).length;
      if (LOADS_DIFFERENTLY.has(f.key)) assert.notEqual(own, recorded.loaded.length, "the fake now loads it as Asterisk did: remove it from the list");
      else assert.equal(own, recorded.loaded.length, `the real Asterisk loaded: ${recorded.loaded.join(", ")}`);
    });
  }
});
