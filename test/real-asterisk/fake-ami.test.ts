/**
 * The fake AMI server of the default suite, held to the real Asterisk's answers: every exchange of
 * test/support/ami-exchanges.ts is run on both, and the normalised answers must be the same.
 * The real answers are kept in test/fixtures/ami/real-asterisk.json (replayed against the fake
 * without Asterisk by test/asterisk/fake-ami-recorded.test.ts); this test fails when the real
 * Asterisk no longer answers as recorded. WAZO_TASKS_RECORD=1 rewrites the recording.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type Recorded, runExchange } from "../support/ami-exchange.js";
import { EXCHANGE_FILES, EXCHANGES } from "../support/ami-exchanges.js";
import { startFakeAmi } from "../support/fake-ami.js";
import { REPO } from "../support/rig.js";
import { AMI_PORT, putExtra, resetInstance, ROOT, rx } from "../support/real-asterisk.js";

const RECORDING = path.join(REPO, "test/fixtures/ami/real-asterisk.json");

describe("the fake AMI server answers as the real Asterisk does", () => {
  const real: Recorded[] = [];
  before(async () => {
    await resetInstance();
    await putExtra(EXCHANGE_FILES);
    rx("dialplan reload");
    for (const x of EXCHANGES) real.push(await runExchange(AMI_PORT, x, ROOT));
  });
  after(() => resetInstance());

  test("the real answers are the recorded ones", async () => {
    if (process.env.WAZO_TASKS_RECORD === "1") await writeFile(RECORDING, JSON.stringify(real, null, 2) + "\n");
    const recorded = JSON.parse(await readFile(RECORDING, "utf8")) as Recorded[];
    assert.deepEqual(real, recorded, "the real Asterisk answers differently from the recording; rerun with WAZO_TASKS_RECORD=1 and review the diff");
  });

  for (const [i, x] of EXCHANGES.entries()) {
    test(`fake = real: ${x.name}`, async () => {
      const fake = await startFakeAmi({ root: ROOT, authFailureDelayMs: 50 });
      try {
        assert.deepEqual(await runExchange(fake.port, x, ROOT), real[i]);
      } finally {
        await fake.close();
      }
    });
  }
});
