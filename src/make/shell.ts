/**
 * Just enough of the POSIX shell language to read one recipe line: words with quote removal,
 * `&&` / `;` chains, redirections to /dev/null. Anything whose effect depends on run time
 * (variables, command substitution, loops, pipes) is reported as a problem, never guessed.
 */

export interface Word {
  /** After quote removal. */
  text: string;
  /** Has an unquoted *, ? or [ (a glob pattern for the shell). */
  glob: boolean;
  /** Why this word's value is only known at run time. */
  problem?: string;
}

export interface Command {
  words: Word[];
  /** Source text of this command in the line. */
  text: string;
  /** Why this command cannot be translated on its own. */
  problem?: string;
}

export interface ShellLine {
  commands: Command[];
  /** Set when the line must be kept whole (a loop, a pipe, `cd`...): the reason. */
  problem?: string;
}

export interface ShellOptions {
  /** Shell variables with a known value, e.g. { DESTDIR: marker } since make exports DESTDIR. */
  known?: Record<string, string>;
}

type Token = { kind: "word"; word: Word; start: number; end: number } | { kind: "op"; op: string; start: number; end: number };

const OPERATORS: readonly string[] = ["&&", "||", ";;", ">>", ">&", "<&", ";", "|", "&", "(", ")", ">", "<", "\n"];
const RESERVED: ReadonlySet<string> = new Set([
  "for",
  "if",
  "while",
  "until",
  "case",
  "do",
  "done",
  "then",
  "else",
  "elif",
  "fi",
  "esac",
  "{",
  "}",
  "!",
  "function",
  "select",
]);

/** Splits one recipe line (as make hands it to sh) into simple commands. */
export function splitCommands(src: string, opts: ShellOptions = {}): ShellLine {
  const lexed = tokenize(src, opts.known ?? {});
  if ("problem" in lexed) return { commands: [], problem: lexed.problem };
  return group(lexed.tokens, src);
}

function tokenize(src: string, known: Record<string, string>): { tokens: Token[] } | { problem: string } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === " " || c === "\t") i++;
    else if (c === "\\" && src[i + 1] === "\n")
      i += 2; // line continuation
    else if (c === "#") while (i < src.length && src[i] !== "\n") i++;
    else {
      const op = OPERATORS.find((o) => src.startsWith(o, i));
      if (op) {
        tokens.push({ kind: "op", op: op === "\n" ? ";" : op, start: i, end: i + op.length });
        i += op.length;
        continue;
      }
      const w = readWord(src, i, known);
      if ("problem" in w) return w;
      // `2>` : a word of digits glued to a redirection is its file descriptor, not an argument.
      if (/^\d+$/.test(src.slice(i, w.end)) && (src[w.end] === ">" || src[w.end] === "<")) {
        i = w.end;
        continue;
      }
      tokens.push({ kind: "word", word: w.word, start: i, end: w.end });
      i = w.end;
    }
  }
  return { tokens };
}

function readWord(src: string, start: number, known: Record<string, string>): { word: Word; end: number } | { problem: string } {
  const word: Word = { text: "", glob: false };
  let i = start;
  while (i < src.length && !/[\s;&|()<>]/.test(src[i])) {
    const c = src[i];
    if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) return { problem: "unterminated single quote" };
      word.text += src.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      const end = readDoubleQuoted(src, i + 1, word, known);
      if (end < 0) return { problem: "unterminated double quote" };
      i = end + 1;
    } else if (c === "\\") {
      if (src[i + 1] !== "\n") word.text += src[i + 1] ?? "";
      i += 2;
    } else if (c === "$" || c === "`") {
      i = readDollar(src, i, word, known);
    } else {
      if ("*?[".includes(c)) word.glob = true;
      if (c === "~" && i === start) word.problem = "uses '~' (home folder) expansion";
      word.text += c;
      i++;
    }
  }
  return { word, end: i };
}

/** Reads up to the closing quote (returns its index, or -1); only \ $ ` " and newline escape. */
function readDoubleQuoted(src: string, from: number, word: Word, known: Record<string, string>): number {
  let i = from;
  while (i < src.length && src[i] !== '"') {
    const c = src[i];
    if (c === "\\" && '$`"\\\n'.includes(src[i + 1] ?? "")) {
      if (src[i + 1] !== "\n") word.text += src[i + 1];
      i += 2;
    } else if (c === "$" || c === "`") {
      i = readDollar(src, i, word, known);
    } else {
      word.text += c;
      i++;
    }
  }
  return i < src.length ? i : -1;
}

/** Reads a `$...` or backtick expansion at i; returns the index after it. */
function readDollar(src: string, i: number, word: Word, known: Record<string, string>): number {
  if (src[i] === "`") {
    const close = src.indexOf("`", i + 1);
    word.problem ??= "uses command substitution (`...`)";
    const end = close < 0 ? src.length : close + 1;
    word.text += src.slice(i, end);
    return end;
  }
  const m = /^\$(?:\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*)|([0-9@*#?$!-])|(\())?/.exec(src.slice(i));
  const name = m?.[1] ?? m?.[2] ?? m?.[3];
  if (m?.[4]) {
    const end = closingParen(src, i + 2);
    word.problem ??= "uses command substitution $(...)";
    word.text += src.slice(i, end);
    return end;
  }
  if (name === undefined) {
    word.text += "$"; // a lone '$' is literal in sh
    return i + 1;
  }
  if (name in known) word.text += known[name];
  else {
    word.problem ??= `uses the shell variable $${name}`;
    word.text += m![0];
  }
  return i + m![0].length;
}

function closingParen(src: string, from: number): number {
  let depth = 1;
  for (let k = from; k < src.length; k++) {
    if (src[k] === "(") depth++;
    else if (src[k] === ")" && --depth === 0) return k + 1;
  }
  return src.length;
}

function group(tokens: Token[], src: string): ShellLine {
  const commands: Command[] = [];
  let cur: Token[] = [];
  let lineProblem: string | undefined;
  const flush = () => {
    if (cur.length > 0) commands.push(toCommand(cur, src));
    cur = [];
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k];
    if (t.kind === "word") cur.push(t);
    else if (t.op === "&&" || t.op === ";") flush();
    else if (t.op === "||" && isTrueCommand(tokens, k + 1)) {
      // `cmd || true` only ignores cmd's failure: keep cmd, drop the `|| true`.
      flush();
      k++;
    } else if (/^[<>]/.test(t.op)) {
      const target = tokens[k + 1];
      k++;
      const harmless = target?.kind === "word" && (target.word.text === "/dev/null" || (t.op.endsWith("&") && /^(\d+|-)$/.test(target.word.text)));
      if (!harmless) cur.push({ kind: "op", op: "redirect", start: t.start, end: target?.end ?? t.end });
    } else lineProblem ??= OP_PROBLEMS[t.op] ?? `uses the shell operator '${t.op}'`;
  }
  flush();
  return { commands, problem: lineProblem ?? lineLevelProblem(commands) };
}

const OP_PROBLEMS: Record<string, string> = {
  "||": "uses '||' (runs a command only when another fails)",
  "|": "uses a pipe",
  "&": "runs a command in the background",
  "(": "uses a subshell",
  ")": "uses a subshell",
  ";;": "uses a case statement",
};

function isTrueCommand(tokens: Token[], k: number): boolean {
  const t = tokens[k];
  const after = tokens[k + 1];
  return (
    t?.kind === "word" &&
    (t.word.text === "true" || t.word.text === ":") &&
    (after === undefined || (after.kind === "op" && (after.op === ";" || after.op === "&&")))
  );
}

function toCommand(tokens: Token[], src: string): Command {
  const words = tokens.flatMap((t) => (t.kind === "word" ? [t.word] : []));
  const text = src.slice(tokens[0].start, tokens[tokens.length - 1].end).replace(/\\\n\s*/g, " ");
  const redirect = tokens.find((t) => t.kind === "op");
  const problem = redirect ? `redirects to a file: ${src.slice(redirect.start, redirect.end)}` : words.find((w) => w.problem)?.problem;
  return { words, text, ...(problem ? { problem } : {}) };
}

/** Constructs that change how the rest of the line runs: the line must stay whole. */
function lineLevelProblem(commands: Command[]): string | undefined {
  for (const c of commands) {
    const first = c.words[0]?.text ?? "";
    if (RESERVED.has(first)) return `uses the shell construct '${first}'`;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(first)) return "sets a shell variable";
    if (first === "cd") return "changes directory (cd) for the commands after it";
    if (first === "exit" || first === "export" || first === "set") return `uses the shell builtin '${first}'`;
  }
  return undefined;
}
