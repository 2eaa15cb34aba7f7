/** The text of `dialplan show`, as Asterisk 22 prints it, read back into priorities and includes. */
/** One priority (or hint) that `dialplan show` lists, with the file and line it names. */
export interface Loaded {
  context: string;
  extension: string;
  /** A number, or "hint". */
  priority: string;
  file: string;
  line: number;
}

export interface Shown {
  priorities: Loaded[];
  includes: { context: string; include: string }[];
  contexts: string[];
}

/** Parses the text of `dialplan show` (real or fake). */
export function parseDialplanShow(text: string): Shown {
  const out: Shown = { priorities: [], includes: [], contexts: [] };
  let context = "";
  let extension = "";
  for (const line of text.split("\n")) {
    const ctx = /^\[ Context '(.*)' created by '.*' \]$/.exec(line);
    if (ctx) {
      context = ctx[1];
      out.contexts.push(context);
      continue;
    }
    const inc = /^\s+Include =>\s+'(.*)'\s+\[/.exec(line);
    if (inc) {
      out.includes.push({ context, include: inc[1] });
      continue;
    }
    // `'EXT' =>`, `'EXT' (CID match 'CID') =>`, or `[label]` in that column, then `N.` or `hint:`.
    const pri = /^\s+(?:'(.*?)'(?: \(CID match '(.*)'\))? =>|\[[^\]]*\])?\s+(hint:|\d+\.)\s.*\[(.+):(\d+)\]\s*$/.exec(line);
    if (!pri) continue;
    if (pri[1] !== undefined) extension = pri[2] === undefined ? pri[1] : `${pri[1]}/${pri[2]}`;
    out.priorities.push({ context, extension, priority: pri[3] === "hint:" ? "hint" : pri[3].slice(0, -1), file: pri[4], line: Number(pri[5]) });
  }
  return out;
}
