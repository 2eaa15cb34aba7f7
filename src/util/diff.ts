/** A unified diff of two texts (LCS by dynamic programming; fine for config-sized files). */

const MAX_CELLS = 4_000_000;

export function unifiedDiff(before: string, after: string, fromName: string, toName: string, context = 3): string | undefined {
  if (before === after) return undefined;
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length * b.length > MAX_CELLS) return `--- ${fromName}\n+++ ${toName}\n(files too large to diff: ${a.length} and ${b.length} lines)\n`;
  const ops = lcsOps(a, b);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i].t === " ") {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    // Extend while changes are within 2*context lines of each other.
    for (let j = i; j < ops.length; j++) {
      if (ops[j].t !== " ") end = j;
      else if (j - end > 2 * context) break;
    }
    end = Math.min(ops.length - 1, end + context);
    const slice = ops.slice(start, end + 1);
    const aStart = slice[0].ai + 1;
    const bStart = slice[0].bi + 1;
    const aLen = slice.filter((o) => o.t !== "+").length;
    const bLen = slice.filter((o) => o.t !== "-").length;
    hunks.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of slice) hunks.push(`${o.t}${o.line}`);
    i = end + 1;
    start = i;
  }
  return `--- ${fromName}\n+++ ${toName}\n${hunks.join("\n")}\n`;
}

function splitLines(s: string): string[] {
  const lines = s.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

type DiffOp = { t: " " | "-" | "+"; line: string; ai: number; bi: number };

function lcsOps(a: string[], b: string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const dp = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const out: DiffOp[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) out.push({ t: " ", line: a[i], ai: i++, bi: j++ });
    else if (i < n && (j === m || dp[i + 1][j] >= dp[i][j + 1])) out.push({ t: "-", line: a[i], ai: i++, bi: j });
    else out.push({ t: "+", line: b[j], ai: i, bi: j++ });
  }
  return out;
}

/** Whether a buffer looks like text (no NUL in its first 8 KiB). */
export const isText = (buf: Uint8Array) => !buf.subarray(0, 8192).includes(0);
