/**
 * Re-records the dialplan corpus from the real Asterisk (see test/support/corpus.ts for the
 * verdicts) and fails when any outcome differs from test/fixtures/dialplan-corpus/outcomes.json.
 * Each file is installed alone into extensions_extra.d (beside instance.sh's example.conf) with a
 * sentinel file sorted after it; the dialplan is reloaded; what Asterisk then shows and logs is the
 * outcome; the file is removed and the dialplan reloaded back. WAZO_TASKS_RECORD=1 rewrites the
 * recording instead of comparing (review its diff before committing it).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { corpusFiles, intendedLines, OUTCOMES, readOutcomes, type Outcome } from "../support/corpus.js";
import { dialplanShow, EXTRA, logMark, logSince, putExtra, resetInstance, ROOT, rx, type Shown } from "../support/real-asterisk.js";

const SENTINEL = "zzzz-sentinel.conf";
const SENTINEL_CONF = "[corpus-sentinel]\nexten = s,1,NoOp(sentinel)\n";

/** Lines Asterisk numbers before each file: its line numbers continue across a glob's files. */
async function lineBases(): Promise<Map<string, number>> {
  const names = (await readdir(EXTRA)).filter((n) => !n.startsWith(".")).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const bases = new Map<string, number>();
  let base = 0;
  for (const name of names) {
    bases.set(name, base);
    const text = readFileSync(path.join(EXTRA, name), "latin1");
    // Seen on 22.10.1: one more than the newlines, whether or not the file ends with one.
    base += text.split("\n").length;
  }
  return bases;
}

/** WARNING and ERROR lines of the modules that read dialplan (not, say, a busy task processor's). */
const aboutDialplan = (l: string) => /\b(WARNING|ERROR)\[\d+\] (config|pbx_config|pbx)\.c:/.test(l);

const key = (p: Shown["priorities"][number]) => `${p.context}/${p.extension}/${p.priority}@${p.file}`;

function shorten(line: string): string {
  return line
    .replace(/^\[[^\]]*\] /, "")
    .replace(/\[\d+\]/, "")
    .split(ROOT + "/etc/asterisk/")
    .join("")
    .split(ROOT)
    .join("ROOT");
}

async function record(name: string, text: Buffer, baseline: Shown): Promise<Outcome & { sentinelLine?: number; expectedSentinelLine?: number }> {
  await writeFile(path.join(EXTRA, name), text);
  const bases = await lineBases();
  const mark = await logMark();
  rx("dialplan reload");
  const shown = dialplanShow();
  const logged = (await logSince(mark)).filter(aboutDialplan).map(shorten);
  await rm(path.join(EXTRA, name));
  rx("dialplan reload");

  const base = bases.get(name) ?? 0;
  const own = shown.priorities.filter((p) => p.file === name);
  const ownLines = new Set(own.map((p) => p.line - base));
  const source = text.toString("utf8");
  const intended = intendedLines(source);
  const lost = intended.dialplan.filter((l) => !ownLines.has(l));
  const newIncludes = shown.includes
    .filter((i) => !baseline.includes.some((b) => b.context === i.context && b.include === i.include))
    .map((i) => `${i.context} -> ${i.include}`);
  if (newIncludes.length < intended.includes.length) lost.push(...intended.includes.slice(newIncludes.length));
  const firstHeader = source.split("\n").findIndex((l) => /^\s*\[/.test(l)) + 1 || Infinity;
  const headers = new Set([...source.matchAll(/^\s*\[([^\]\n]*)\]/gm)].map((m) => m[1]));
  const now = new Set(shown.priorities.map(key));
  const others = [
    ...baseline.priorities.filter((p) => !now.has(key(p))).map((p) => `lost ${key(p)}`),
    ...own
      .filter((p) => !headers.has(p.context) || p.line - base < firstHeader)
      .map((p) => `line ${p.line - base} adds ${p.extension}/${p.priority} to ${p.context}, a context of another file`),
  ];
  const sentinel = shown.priorities.find((p) => p.file === SENTINEL);
  const verdict = lost.length || others.length ? "error" : logged.length ? "warning" : "clean";
  const why = others[0] ?? (lost.length ? `line ${lost[0]} did not load` : (logged[0] ?? "loaded as written"));
  const out = {
    verdict,
    why,
    loaded: own.map((p) => `${p.context}/${p.extension}/${p.priority}@${p.line - base}`),
    includes: newIncludes,
    lost: lost.sort((a, b) => a - b),
    others,
    logged,
  } satisfies Outcome;
  return sentinel ? { ...out, sentinelLine: sentinel.line, expectedSentinelLine: (bases.get(SENTINEL) ?? 0) + 2 } : out;
}

describe("the dialplan corpus on the real Asterisk", () => {
  const recorded: Record<string, Outcome> = {};
  const lineChecks: { name: string; got: number; expected: number }[] = [];
  let baseline: Shown;
  let baselineLog: string[] = [];

  before(async () => {
    await resetInstance();
    await putExtra({ [SENTINEL]: SENTINEL_CONF });
    const mark = await logMark();
    rx("dialplan reload");
    baselineLog = (await logSince(mark)).filter(aboutDialplan);
    baseline = dialplanShow();
    for (const f of corpusFiles()) {
      const { sentinelLine, expectedSentinelLine, ...outcome } = await record(f.name, readFileSync(f.file), baseline);
      recorded[f.key] = outcome;
      if (sentinelLine !== undefined) lineChecks.push({ name: f.key, got: sentinelLine, expected: expectedSentinelLine! });
    }
  });
  after(() => resetInstance());

  test("the baseline loads cleanly with the sentinel", () => {
    assert.deepEqual(baselineLog, []);
    assert.ok(baseline.priorities.some((p) => p.file === SENTINEL));
  });

  test("line numbers continue across the files of the glob, as the recorder assumes", () => {
    assert.ok(lineChecks.length > 30);
    assert.deepEqual(
      lineChecks.filter((c) => c.got !== c.expected),
      [],
      "the sentinel is not at the line the recorder computed",
    );
  });

  test("the corpus has at least 60 files", () => assert.ok(Object.keys(recorded).length >= 60, String(Object.keys(recorded).length)));

  test("every outcome is the recorded one", async () => {
    if (process.env.WAZO_TASKS_RECORD === "1") await writeFile(OUTCOMES, JSON.stringify(recorded, null, 2) + "\n");
    const previous = readOutcomes();
    const changed = Object.keys({ ...previous, ...recorded }).filter((k) => JSON.stringify(previous[k]) !== JSON.stringify(recorded[k]));
    assert.deepEqual(
      changed.map((k) => ({ file: k, recorded: previous[k], now: recorded[k] })),
      [],
      "the real Asterisk no longer gives the recorded outcome; rerun with WAZO_TASKS_RECORD=1 and review the diff",
    );
  });
});
