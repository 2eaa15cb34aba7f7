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
import { parseDialplanShow } from "../support/dialplan-show.js";
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
 * files after it survive (what the rollback tests rely on), and every priority it loads from the
 * file (context, extension, priority and line).
 */
describe("the fake dialplan loads the corpus as the real Asterisk did", () => {
  const outcomes = readOutcomes();
  let root: string;
  before(async () => (root = await tempDir()));
  after(() => cleanup(root));

  for (const f of corpusFiles()) {
    test(f.key, async () => {
      const extra = "etc/asterisk/extensions_extra.d";
      await rm(`${root}/${extra}`, { recursive: true, force: true });
      const example = EXCHANGE_FILES["example.conf"];
      await writeTree(root, {
        [`${extra}/example.conf`]: example,
        [`${extra}/zzzz-sentinel.conf`]: "[corpus-sentinel]\nexten = s,1,NoOp(sentinel)\n",
        [`${extra}/${f.name}`]: readFileSync(f.file),
      });
      const shown = parseDialplanShow(new FakeDialplan({ root }).show().lines.join("\n"));
      const recorded = outcomes[f.key];
      const keptLater = !recorded.others.some((o) => o.includes("corpus-sentinel"));
      assert.equal(
        shown.priorities.some((p) => p.file === "zzzz-sentinel.conf"),
        keptLater,
        keptLater ? "the real Asterisk kept the file after it" : "the real Asterisk dropped the file after it",
      );
      // Line numbers count on from the files read before (example.conf, when it sorts first).
      const base = f.name > "example.conf" ? example.split("\n").length : 0;
      const own = shown.priorities.filter((p) => p.file === f.name).map((p) => `${p.context}/${p.extension}/${p.priority}@${p.line - base}`);
      assert.deepEqual(own.sort(), [...recorded.loaded].sort());
    });
  }
});
