/**
 * Text as a person sees it: control characters (and the Unicode controls that reorder text)
 * escaped, so that a file name cannot forge an output line or drive the terminal. JSON output
 * keeps the exact strings.
 */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\0": "\\0" };

const escape = (c: string) =>
  NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);

/** One line of text: every control character escaped, newlines included (tabs kept). */
export function printable(s: string): string {
  return s.replace(CONTROL, escape);
}

/** Text whose own line breaks are meant (a message with its last lines): each line escaped. */
export function printableLines(s: string): string {
  return s.split("\n").map(printable).join("\n");
}
