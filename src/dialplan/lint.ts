/**
 * Lints one dialplan file on disk (report/diagnostic.ts prints the diagnostics).
 * The only impure function here is lintDialplanFile's read; everything else is pure.
 */
import { readFile } from "node:fs/promises";
import { positionOf } from "../model/diagnostic.js";
import { parseDialplan } from "./parse.js";
import type { DialplanDiagnostic, DialplanExtension } from "./types.js";

export interface DialplanLintResult {
  diagnostics: DialplanDiagnostic[];
  extensions: DialplanExtension[];
}

/**
 * Reads `path` as UTF-8 and parses it; `path` is also the file name shown in diagnostics.
 * A file that is not valid UTF-8 gets one error and no extensions (its text cannot be trusted);
 * NUL bytes are an error too, since Asterisk stops reading a line at the first one.
 * Rejects only when the file cannot be read.
 */
export async function lintDialplanFile(path: string): Promise<DialplanLintResult> {
  const bytes = await readFile(path);
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, so that the parser can report it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return { diagnostics: [invalidUtf8(path, bytes)], extensions: [] };
  }
  const parsed = parseDialplan(text, path);
  const nul = nulDiagnostic(path, text);
  const diagnostics = nul ? [nul, ...parsed.diagnostics] : parsed.diagnostics;
  return { diagnostics, extensions: parsed.extensions };
}

function invalidUtf8(file: string, bytes: Uint8Array): DialplanDiagnostic {
  const offset = Math.max(firstInvalidByte(bytes), 0);
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  const line = bytes.subarray(0, offset).filter((b) => b === 0x0a).length + 1;
  // The bytes before the first invalid one are valid UTF-8, so they decode to the column.
  const col = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
  const byte = bytes[offset]?.toString(16).padStart(2, "0") ?? "??";
  return byteError(file, line, col, `file is not valid UTF-8 (byte 0x${byte})`, "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)");
}

/** An error about one byte of the file. */
function byteError(file: string, line: number, col: number, message: string, hint: string): DialplanDiagnostic {
  return { file, line, col, length: 1, severity: "error", message, hint };
}

/** Offset of the first byte that does not start a well-formed UTF-8 sequence, or -1. */
function firstInvalidByte(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const x = b[i];
    const extra = x < 0x80 ? 0 : x >= 0xc2 && x <= 0xdf ? 1 : x >= 0xe0 && x <= 0xef ? 2 : x >= 0xf0 && x <= 0xf4 ? 3 : -1;
    if (extra < 0) return i;
    // The second byte's range also rules out overlong forms, surrogates and code points > U+10FFFF.
    const low = x === 0xe0 ? 0xa0 : x === 0xf0 ? 0x90 : 0x80;
    const high = x === 0xed ? 0x9f : x === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= extra; k++) {
      const c = b[i + k];
      if (c === undefined || c < (k === 1 ? low : 0x80) || c > (k === 1 ? high : 0xbf)) return i;
    }
    i += extra + 1;
  }
  return -1;
}

function nulDiagnostic(file: string, text: string): DialplanDiagnostic | null {
  const at = text.indexOf("\0");
  if (at < 0) return null;
  const { line, col } = positionOf(text, at);
  return byteError(file, line, col, "file contains a NUL byte", "Asterisk stops reading a line at a NUL byte; the file is probably binary or mis-encoded (UTF-16?)");
}
