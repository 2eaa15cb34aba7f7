/**
 * Types shared by the dialplan parser modules (see parse.ts for what the parser knows).
 */

export type Severity = "error" | "warning";

/**
 * A problem at a place in a dialplan file. `line` and `col` are 1-based; `col` counts UTF-16 code
 * units (characters, for text outside the astral planes); `length` is how many to underline.
 * Structurally a `Diagnostic` of src/model/diagnostic.ts, so it can be reported the same way.
 */
export interface DialplanDiagnostic {
  file: string;
  line: number;
  col: number;
  length?: number;
  severity: Severity;
  message: string;
  hint?: string;
}

/**
 * What the rest of the dialplan holds, when the caller knows it (from the files Asterisk reads
 * around this one). Without it, the parser judges the file alone.
 */
export interface DialplanContextInfo {
  /** Sections (contexts and templates) that the files read before this one define. */
  sectionsBefore?: ReadonlySet<string>;
  /** Every context of the whole dialplan, to check the targets of `include =>`. */
  contexts?: ReadonlySet<string>;
  /** Whether an `#include` argument, as written, names an existing file. */
  includeExists?: (argument: string) => boolean;
}

/** One `[section]` header that defines or extends a context (or a template). */
export interface DialplanContext {
  name: string;
  line: number;
  /** `(!)`: a template. Asterisk builds no context from it; other sections copy its lines. */
  template: boolean;
  /** `(+)`: adds lines to the section of the same name read before (maybe in another file). */
  append: boolean;
  /** Sections named in the options, whose lines Asterisk copies in before this section's own. */
  inherits: string[];
}

/** An extension that the file puts in a context; `line` is the first line that adds it. */
export interface DialplanExtension {
  context: string;
  extension: string;
  line: number;
}

export interface DialplanParseResult {
  contexts: DialplanContext[];
  extensions: DialplanExtension[];
  diagnostics: DialplanDiagnostic[];
}

/**
 * A line as Asterisk's config reader hands it on: comments removed, blanks trimmed.
 * The text is pieces of the file's line joined: `pieces[k]` says that `text[at]` onwards (up to
 * the next piece) is at 1-based column `col` of the file, so problems found in the cleaned text can
 * be reported where they are in the file (`colOf` in lines.ts).
 */
export interface LogicalLine {
  line: number;
  text: string;
  pieces: { at: number; col: number }[];
  /** Column of the `;` that cut the rest of the line off as a comment, if one did. */
  commentCol?: number;
}

/** A problem in a piece of a line, located by index into that piece. */
export interface Issue {
  index: number;
  length: number;
  severity: Severity;
  message: string;
  hint?: string;
}

/** Shorthand for building issues. */
export function issue(severity: Severity, index: number, length: number, message: string, hint?: string): Issue {
  return hint === undefined ? { index, length, severity, message } : { index, length, severity, message, hint };
}
