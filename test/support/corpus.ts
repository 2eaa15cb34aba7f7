/**
 * The dialplan corpus: every snippet of test/fixtures/dialplan/ and every file of
 * test/fixtures/dialplan-corpus/files/, with the outcome a real Asterisk 22.10.1 gave each one
 * (test/fixtures/dialplan-corpus/outcomes.json, recorded by test/real-asterisk/corpus.test.ts).
 *
 * The verdict is decided by harm, from what Asterisk loaded and logged, never from the linter:
 * - error: Asterisk lost dialplan that a line of the file clearly meant to define (an exten,
 *   same or include line that did not load), or dialplan of another file (the sentinel file
 *   sorted after it, the files before it, or their contexts changed by this file's lines, such
 *   as lines before its first [context], which land in the including file's context);
 * - warning: nothing intended was lost, but Asterisk logged that it ignored or changed something;
 * - clean: anything else.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { REPO } from "./rig.js";

export const CORPUS_DIRS = [path.join(REPO, "test/fixtures/dialplan"), path.join(REPO, "test/fixtures/dialplan-corpus/files")];
export const OUTCOMES = path.join(REPO, "test/fixtures/dialplan-corpus/outcomes.json");

export type Verdict = "error" | "warning" | "clean";

export interface Outcome {
  verdict: Verdict;
  /** Why, in a few words (the first lost line, the other file hurt, the first log line). */
  why: string;
  /** What Asterisk loaded from the file: `context/extension/priority@line`. */
  loaded: string[];
  /** Includes that Asterisk added to contexts: `context -> included`. */
  includes: string[];
  /** Lines (1-based) meant as exten/same/include that Asterisk did not load. */
  lost: number[];
  /** Dialplan of other files that this file removed or changed. */
  others: string[];
  /** What Asterisk logged while loading it (WARNING and ERROR lines, paths shortened). */
  logged: string[];
}

export interface CorpusFile {
  /** Key in outcomes.json: the path relative to test/fixtures/. */
  key: string;
  /** The file name it is installed as in extensions_extra.d. */
  name: string;
  file: string;
}

export function corpusFiles(): CorpusFile[] {
  return CORPUS_DIRS.flatMap((dir) =>
    readdirSync(dir)
      .filter((n) => dir.endsWith("files") || n.endsWith(".conf"))
      .sort()
      .map((name) => ({ key: path.relative(path.join(REPO, "test/fixtures"), path.join(dir, name)), name, file: path.join(dir, name) })),
  );
}

export function readOutcomes(): Record<string, Outcome> {
  return JSON.parse(readFileSync(OUTCOMES, "utf8")) as Record<string, Outcome>;
}

/**
 * The lines of a file that clearly mean to define dialplan: exten, same and include lines outside
 * comments (`;` to the end of the line, `;-- ... --;` blocks) and outside [general]/[globals]
 * and template `(!)` sections. Deliberately simple and independent of the linter: it is the author's intent.
 */
export function intendedLines(text: string): { dialplan: number[]; includes: number[] } {
  const out = { dialplan: [] as number[], includes: [] as number[] };
  let inBlock = false;
  let special = false;
  text.split("\n").forEach((raw, i) => {
    let line = raw;
    if (inBlock) {
      const end = line.indexOf("--;");
      if (end < 0) return;
      inBlock = false;
      line = line.slice(end + 3);
    }
    line = line.replace(/;--.*?--;/g, "");
    const open = line.indexOf(";--");
    if (open >= 0) {
      inBlock = true;
      line = line.slice(0, open);
    }
    line = line.replace(/(^|[^\\]);.*$/, "$1").trim();
    const header = /^\[([^\]]*)\]/.exec(line);
    // A template's lines are meant for the contexts that inherit it, not as dialplan of their own.
    if (header) special = /^(general|globals)$/i.test(header[1]) || /^\[[^\]]*\]\([^)]*!/.test(line);
    else if (!special && /^(exten|same)\s*=/i.test(line)) out.dialplan.push(i + 1);
    else if (!special && /^include\s*=/i.test(line)) out.includes.push(i + 1);
  });
  return out;
}
