/**
 * Section headers, read the way config.c's process_text_line reads them:
 * `[name]` ends at the FIRST ']'; options follow only if '(' comes right after it and end at the
 * first ')'; anything else after the header is silently ignored (and not reported: nothing is lost). Options are split on ',' and NOT
 * trimmed: "!" marks a template, "+..." appends to an existing section, anything else names a
 * section to inherit from, which must already exist, or Asterisk stops reading (and drops the rest
 * of this file and every later file of the glob).
 */
import { issue, type Issue } from "./types.js";

/** ast_category.name is char[80]: longer names are cut to 79 characters. */
const MAX_NAME = 79;

const DROPS_REST = "Asterisk stops reading here: the rest of this file and every later file in extensions_extra.d are dropped";

export interface Header {
  name: string;
  template: boolean;
  append: boolean;
  inherits: { name: string; index: number }[];
}

/**
 * Parses a line starting with '['. Always returns a best-effort header so that the lines after a
 * broken one are still checked against a context; `issues` tell what Asterisk would make of it.
 */
export function parseHeader(text: string): { header: Header; issues: Issue[] } {
  const issues: Issue[] = [];
  const close = text.indexOf("]");
  if (close < 0) {
    issues.push(issue("error", 0, text.length, "section header is not closed: missing ']'", DROPS_REST));
    const name = text.slice(1).split("(")[0];
    return { header: { name, template: false, append: false, inherits: [] }, issues };
  }
  const name = text.slice(1, close);
  issues.push(...checkName(name));
  const header: Header = { name, template: false, append: false, inherits: [] };
  const after = text.slice(close + 1);
  // Text after the header (or after its options) is ignored silently, and loses nothing.
  if (!after.startsWith("(")) return { header, issues };
  const end = text.indexOf(")", close + 1);
  if (end < 0) {
    issues.push(issue("error", close + 1, after.length, "section options are not closed: missing ')'", DROPS_REST));
    return { header, issues };
  }
  issues.push(...readOptions(header, text.slice(close + 2, end), close + 2));
  return { header, issues };
}

function checkName(name: string): Issue[] {
  if (name === "") return [issue("warning", 0, 2, "empty section name")];
  // Spaces inside the brackets are kept in the name, silently: [ a ] is the context ' a '.
  const found: Issue[] = [];
  if (name.length > MAX_NAME) {
    found.push(issue("warning", 1, name.length, `section name is longer than ${MAX_NAME} characters; Asterisk cuts it`));
  }
  return found;
}

function readOptions(header: Header, options: string, base: number): Issue[] {
  const found: Issue[] = [];
  let index = base;
  for (const option of options.split(",")) {
    if (option === "" || option.trim() !== option) {
      // Looked up verbatim as a section name (" !" or " tpl"), which cannot be found.
      found.push(
        issue(
          "error",
          index,
          Math.max(option.length, 1),
          `section option '${option}' is empty or has spaces`,
          `Asterisk looks for a template named exactly '${option}' and, not finding it, stops reading (the rest of this file and every later file in extensions_extra.d are dropped): write (!,name) without spaces`,
        ),
      );
    } else if (option === "!") {
      header.template = true;
    } else if (option.startsWith("+")) {
      header.append = true;
    } else {
      header.inherits.push({ name: option, index });
    }
    index += option.length + 1;
  }
  return found;
}
