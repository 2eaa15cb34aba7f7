/**
 * First stage: from the file text to the lines Asterisk's config reader (main/config.c,
 * config_text_file_load) actually interprets. It reproduces how that reader handles comments,
 * because its quirks decide which text is read at all:
 * - a line is what fgets returns: it ends at '\n' only; there is no line continuation;
 * - a line that does not fit its 8192-byte buffer is skipped whole;
 * - a leading UTF-8 byte-order mark is ignored (seen on 22.10.1);
 * - `\;` is a literal `;` (the backslash is dropped); any other `;` starts a comment;
 * - `;--` (not followed by a third '-') opens a block comment, which nests; `--;` closes one.
 *   The text before and after a block comment on one line is joined; a block comment spanning
 *   lines ends the line before it and starts a new one after it;
 * - the depth of block comments is one counter that Asterisk never resets between the files of an
 *   `#include` glob, so an unclosed `;--` hides every later file too, and a stray `--;` drives it
 *   negative, which hides the following lines.
 */
import type { DialplanDiagnostic, Issue, LogicalLine } from "./types.js";

/** fgets into char[8192]: a line of 8190 bytes plus its newline fills the buffer and is skipped. */
const MAX_LINE_BYTES = 8190;

interface CommentState {
  depth: number;
  /** Where the block comments still open were opened, outermost first. */
  open: { line: number; col: number }[];
}

interface Scanned {
  text: string;
  pieces: { at: number; col: number }[];
  commentCol?: number;
}

/** A file's text as the reader sees it: Asterisk reads bytes, so a Latin-1 file loads as well as a UTF-8 one. */
export function decodeDialplan(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return new TextDecoder("latin1").decode(bytes);
  }
}

export function splitLogicalLines(text: string, file: string): { lines: LogicalLine[]; diagnostics: DialplanDiagnostic[] } {
  const diagnostics: DialplanDiagnostic[] = [];
  const error = (line: number, col: number, length: number, message: string, hint: string) =>
    diagnostics.push({ file, line, col, length, severity: "error", message, hint });
  const state: CommentState = { depth: 0, open: [] };
  const lines: LogicalLine[] = [];
  withoutBom(text)
    .split("\n")
    .forEach((physical, index) => {
      const logical = logicalLine(physical, index + 1, state, error);
      if (logical) lines.push(logical);
    });
  if (state.depth > 0) {
    const first = state.open[0];
    error(first.line, first.col, 3, "block comment ';--' is never closed with '--;'", "Asterisk ignores the rest of this file and every file loaded after it");
  }
  return { lines, diagnostics };
}

/** Asterisk 22 reads a file that starts with a UTF-8 byte-order mark as if it had none. */
const withoutBom = (text: string) => (text.startsWith("\uFEFF") ? " " + text.slice(1) : text);

type ErrorAt = (line: number, col: number, length: number, message: string, hint: string) => void;

/** One physical line as the reader interprets it; undefined when nothing of it is read. */
function logicalLine(physical: string, line: number, state: CommentState, error: ErrorAt): LogicalLine | undefined {
  // C strings end at NUL: Asterisk never sees the rest of such a line (lint.ts reports NULs).
  const raw = physical.split("\0")[0];
  if (Buffer.byteLength(raw, "utf8") >= MAX_LINE_BYTES) {
    error(
      line,
      1,
      raw.length,
      `line is too long (${Buffer.byteLength(raw, "utf8")} bytes)`,
      `Asterisk skips lines of ${MAX_LINE_BYTES} bytes or more; split it`,
    );
    return undefined;
  }
  const scanned = scanLine(raw, line, state, error);
  const logical = scanned && trimLine(line, scanned);
  return logical && logical.text !== "" ? logical : undefined;
}

/**
 * The logical lines that start with `[` (section headers) or `#` (directives): the same lines,
 * in the same order, as `splitLogicalLines(text).lines` filtered so, without building the others.
 * Without block comments in the file every line starts outside a comment, so a line's logical text
 * starts with `[` or `#` only when the line itself does (after blanks): only those are scanned.
 */
export function headerAndDirectiveLines(text: string, file: string): LogicalLine[] {
  const heads = (l: LogicalLine) => l.text.startsWith("[") || l.text.startsWith("#");
  if (text.includes(";--") || text.includes("--;")) return splitLogicalLines(text, file).lines.filter(heads);
  const body = withoutBom(text);
  const state: CommentState = { depth: 0, open: [] };
  const ignore: ErrorAt = () => {};
  const out: LogicalLine[] = [];
  let line = 0;
  for (let start = 0; start <= body.length;) {
    line++;
    const nl = body.indexOf("\n", start);
    const end = nl < 0 ? body.length : nl;
    let i = start;
    while (i < end && body.charCodeAt(i) < 33) i++;
    const c = body.charCodeAt(i);
    if (i < end && (c === 91 || c === 35)) {
      const logical = logicalLine(body.slice(start, end), line, state, ignore);
      if (logical && heads(logical)) out.push(logical);
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return out;
}

/**
 * Removes comments from one line the way config_text_file_load does. Returns null when the line
 * starts inside a block comment that does not end on it. `live` says whether characters at the
 * scan position still belong to the text that will be read.
 */
function scanLine(
  raw: string,
  line: number,
  state: CommentState,
  error: (line: number, col: number, length: number, message: string, hint: string) => void,
): Scanned | null {
  const out: Scanned = { text: "", pieces: [] };
  let processing = state.depth === 0;
  let live = processing;
  const keep = (from: number, to: number) => {
    if (!live || to <= from) return;
    out.pieces.push({ at: out.text.length, col: from + 1 });
    out.text += raw.slice(from, to);
  };
  let i = 0;
  for (;;) {
    const p = raw.indexOf(";", i);
    if (p < 0) {
      keep(i, raw.length);
      break;
    }
    if (p > i && raw[p - 1] === "\\") {
      keep(i, p - 1);
      keep(p, p + 1);
      i = p + 1;
    } else if (raw[p + 1] === "-" && raw[p + 2] === "-" && raw[p + 3] !== "-") {
      keep(i, p);
      live = false;
      state.depth++;
      state.open.push({ line, col: p + 1 });
      i = p + 3;
    } else if (p >= i + 2 && raw[p - 1] === "-" && raw[p - 2] === "-") {
      keep(i, p + 1);
      if (state.depth === 0) {
        error(
          line,
          p - 1,
          3,
          "'--;' closes a block comment that is not open",
          "Asterisk's comment depth goes negative: it ignores the following lines up to the next ';--' and then reads block comments as dialplan",
        );
      }
      state.depth--;
      state.open.pop();
      i = p + 1;
      if (state.depth === 0) {
        // Back out of the comment: the rest of the line is read (joined to any text before it).
        processing = true;
        live = true;
      }
    } else if (state.depth === 0) {
      keep(i, p);
      out.commentCol = p + 1;
      break;
    } else {
      keep(i, p + 1);
      i = p + 1;
    }
  }
  return processing ? out : null;
}

/** ast_strip: drops leading and trailing characters below 33 (blanks, tabs, CR, controls). */
function trimLine(line: number, s: Scanned): LogicalLine {
  let start = 0;
  let end = s.text.length;
  while (start < end && s.text.charCodeAt(start) < 33) start++;
  while (end > start && s.text.charCodeAt(end - 1) < 33) end--;
  const pieces: LogicalLine["pieces"] = [];
  for (const [k, p] of s.pieces.entries()) {
    const next = s.pieces[k + 1]?.at ?? s.text.length;
    if (next <= start || p.at >= end) continue;
    const skip = Math.max(start - p.at, 0);
    pieces.push({ at: p.at + skip - start, col: p.col + skip });
  }
  const logical: LogicalLine = { line, text: s.text.slice(start, end), pieces };
  if (s.commentCol !== undefined) logical.commentCol = s.commentCol;
  return logical;
}

/** The 1-based column in the file of `l.text[index]`. */
export function colOf(l: LogicalLine, index: number): number | undefined {
  if (index < 0 || index >= l.text.length) return undefined;
  let col: number | undefined;
  for (const p of l.pieces) {
    if (p.at > index) break;
    col = p.col + (index - p.at);
  }
  return col;
}

/** Turns an issue found at `base + issue.index` of a logical line into a file diagnostic. */
export function locate(file: string, l: LogicalLine, base: number, found: Issue): DialplanDiagnostic {
  const last = Math.max(l.text.length - 1, 0);
  const start = Math.min(Math.max(base + found.index, 0), last);
  const end = Math.min(Math.max(start + Math.max(found.length, 1) - 1, start), last);
  const col = colOf(l, start) ?? 1;
  const length = (colOf(l, end) ?? col) - col + 1;
  const d: DialplanDiagnostic = { file, line: l.line, col, length, severity: found.severity, message: found.message };
  if (found.hint !== undefined) d.hint = found.hint;
  return d;
}
