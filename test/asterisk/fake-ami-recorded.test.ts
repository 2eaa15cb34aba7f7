// The fake AMI server replays the answers recorded from a real Asterisk 22.10.1
// (test/fixtures/ami/real-asterisk.json, re-recorded and compared by `npm run test:asterisk`).
import assert from "node:assert/strict";
import path from "node:path";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { type Recorded, runExchange } from "../support/ami-exchange.js";
import { EXCHANGE_FILES } from "../support/ami-exchanges.js";
import { startFakeAmi } from "../support/fake-ami.js";
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
