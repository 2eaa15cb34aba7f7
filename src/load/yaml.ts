/**
 * YAML with positions. js-yaml 5's `parseEvents` gives every scalar and collection its source
 * offset; walking the events with a path stack yields a map from a value's path (`install.2.to`)
 * to its offset, so a schema error found on the plain value can be printed as file:line:col.
 */
import { constructFromEvents, EVENT_ID, getScalarValue, parseEvents, SCALAR_STYLE, type Event } from "js-yaml";
import { positionOf, type Diagnostic } from "../model/diagnostic.js";

export type YamlPath = readonly (string | number)[];

export interface YamlDocument {
  file: string;
  text: string;
  value: unknown;
  /** Offset of the value at `path`, or of its key when `key` is true; falls back to the nearest parent. */
  offsetOf(path: YamlPath, key?: boolean): number;
  /** The source text of the scalar at `path` (how it was written, e.g. `1.0`). */
  raw(path: YamlPath): string;
  /** A diagnostic pointing at the value (or key) at `path`. */
  diagnostic(path: YamlPath, message: string, opts?: { key?: boolean; hint?: string }): Diagnostic;
}

interface Frame {
  kind: "map" | "seq";
  path: string[];
  index: number;
  key: string | undefined;
}

const keyOf = (path: YamlPath) => path.join("\u0000");

/** Parses one YAML document; a syntax error comes back as a diagnostic with its position. */
export function parseYaml(text: string, file: string): { ok: true; doc: YamlDocument } | { ok: false; diagnostic: Diagnostic } {
  let events: Event[];
  let value: unknown;
  try {
    events = parseEvents(text, { filename: file });
    const docs = constructFromEvents(events, { source: text, filename: file, maxAliases: 100 });
    value = docs.length === 0 ? null : docs[0];
    if (docs.length > 1) {
      return { ok: false, diagnostic: { severity: "error", file, message: "more than one YAML document; keep one", source: text } };
    }
  } catch (e) {
    return { ok: false, diagnostic: yamlErrorDiagnostic(e, text, file) };
  }
  const values = new Map<string, number>();
  const keys = new Map<string, number>();
  indexEvents(events, text, values, keys);
  const offsetOf = (path: YamlPath, key = false): number => {
    for (let n = path.length; n >= 0; n--) {
      const k = keyOf(path.slice(0, n));
      const found = key && n === path.length ? keys.get(k) : (values.get(k) ?? keys.get(k));
      if (found !== undefined) return found;
    }
    return 0;
  };
  const doc: YamlDocument = {
    file,
    text,
    value,
    offsetOf,
    raw(path) {
      const offset = offsetOf(path);
      return text.slice(offset, offset + tokenLength(text, offset));
    },
    diagnostic(path, message, opts = {}) {
      const offset = offsetOf(path, opts.key);
      const { line, col } = positionOf(text, offset);
      return { severity: "error", file, line, col, length: tokenLength(text, offset), message, hint: opts.hint, source: text };
    },
  };
  return { ok: true, doc };
}

function indexEvents(events: Event[], text: string, values: Map<string, number>, keys: Map<string, number>): void {
  const stack: Frame[] = [];
  // Returns the path of the value an event stands for, recording a map key when it is one.
  const place = (offset: number, isScalar: boolean, scalarText: string): string[] | undefined => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    if (top.kind === "seq") return [...top.path, String(top.index++)];
    if (top.key === undefined) {
      if (!isScalar) return undefined; // complex keys are not addressable
      top.key = scalarText;
      keys.set(keyOf([...top.path, scalarText]), offset);
      return undefined;
    }
    const path = [...top.path, top.key];
    top.key = undefined;
    return path;
  };
  // Where the last positioned token ended: an empty value (`reload:` and nothing) has no offset
  // of its own, so it is placed right after its key.
  let lastEnd = 0;
  for (const ev of events) {
    switch (ev.type) {
      case EVENT_ID.MAPPING:
      case EVENT_ID.SEQUENCE: {
        const path = place(ev.start, false, "") ?? [];
        values.set(keyOf(path), ev.start);
        stack.push({ kind: ev.type === EVENT_ID.MAPPING ? "map" : "seq", path, index: 0, key: undefined });
        break;
      }
      case EVENT_ID.SCALAR: {
        // Point at the opening quote of a quoted scalar, where the user's eye goes.
        const quoted = ev.style === SCALAR_STYLE.SINGLE_QUOTED || ev.style === SCALAR_STYLE.DOUBLE_QUOTED;
        const marked = Math.max(ev.tagStart, ev.anchorStart);
        const start = ev.valueStart >= 0 ? ev.valueStart - (quoted ? 1 : 0) : marked >= 0 ? marked : lastEnd + (text[lastEnd] === ":" ? 1 : 0);
        if (ev.valueEnd >= 0) lastEnd = ev.valueEnd + (quoted ? 1 : 0);
        const path = place(start, true, getScalarValue(text, ev));
        if (path) values.set(keyOf(path), start);
        break;
      }
      case EVENT_ID.ALIAS: {
        const path = place(ev.anchorStart, false, "");
        if (path) values.set(keyOf(path), ev.anchorStart);
        break;
      }
      case EVENT_ID.POP:
        stack.pop();
        break;
      case EVENT_ID.DOCUMENT:
        break;
      default:
        break; // js-yaml's other events (the stream's) carry no value of ours
    }
  }
}

function tokenLength(text: string, offset: number): number {
  let end = offset;
  while (end < text.length && text[end] !== "\n" && text[end] !== "\r") end++;
  const token = text
    .slice(offset, end)
    .replace(/\s+#.*$/, "")
    .trimEnd();
  return Math.max(1, token.length);
}

function yamlErrorDiagnostic(e: unknown, text: string, file: string): Diagnostic {
  const err = e as { reason?: string; mark?: { line?: number; column?: number }; message?: string };
  if (err && typeof err.reason === "string" && err.mark) {
    return {
      severity: "error",
      file,
      line: (err.mark.line ?? 0) + 1,
      col: (err.mark.column ?? 0) + 1,
      message: `YAML syntax error: ${err.reason}`,
      source: text,
    };
  }
  return { severity: "error", file, message: `cannot parse YAML: ${err?.message ?? String(e)}`, source: text };
}
