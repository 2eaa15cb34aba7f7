/**
 * Checks that parentheses, `${...}` and `$[...]` pair up in an application field.
 *
 * Asterisk itself is lax: pbx_config.c takes the arguments from the first '(' to the last ')' and
 * only warns when there is no ')'. But an unpaired bracket almost always means lost text (often a
 * `;` that started a comment), and the variable parser then reads past the intended end.
 * Inside double quotes parentheses do not count, as in ast_app_separate_args; `\` escapes the next
 * character. If a quote is left open, the quotes were probably literal text, so the field is
 * checked again ignoring them rather than blaming a parenthesis the quote hid.
 */
import { issue, type Issue } from "./types.js";

interface Opener {
  close: ")" | "}" | "]";
  index: number;
}

const OPENER_NAMES: Record<Opener["close"], string> = { ")": "parenthesis", "}": "'${'", "]": "'$['" };

export function checkBalance(text: string): Issue | null {
  const result = scan(text, true);
  return result === "open-quote" ? (scan(text, false) as Issue | null) : result;
}

function scan(text: string, quotes: boolean): Issue | null | "open-quote" {
  const stack: Opener[] = [];
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === "\\") {
      i++;
    } else if (c === '"' && quotes) {
      inQuote = !inQuote;
    } else if (c === "$" && (text[i + 1] === "{" || text[i + 1] === "[")) {
      stack.push({ close: text[i + 1] === "{" ? "}" : "]", index: i });
      i++;
    } else if (c === "(" && !inQuote) {
      stack.push({ close: ")", index: i });
    } else if (c === "[" && top?.close === "]") {
      stack.push({ close: "]", index: i });
    } else if (c === ")" && !inQuote) {
      if (top === undefined) return strayClose(i);
      if (top.close !== ")") return unclosed(text, top);
      stack.pop();
    } else if ((c === "}" || c === "]") && top?.close === c) {
      stack.pop();
    }
  }
  if (inQuote) return "open-quote";
  const innermost = stack[stack.length - 1];
  return innermost === undefined ? null : unclosed(text, innermost);
}

function unclosed(text: string, opener: Opener): Issue {
  const what = OPENER_NAMES[opener.close];
  const message =
    opener.close === ")"
      ? "unbalanced parenthesis in application call"
      : `unbalanced ${what} in application call: no matching '${opener.close}'`;
  return issue("error", opener.index, text.length - opener.index, message, `add the missing '${opener.close}'`);
}

function strayClose(index: number): Issue {
  return issue(
    "error",
    index,
    1,
    "unbalanced parenthesis in application call: ')' without a matching '('",
    "remove it, or escape it as '\\)'",
  );
}
