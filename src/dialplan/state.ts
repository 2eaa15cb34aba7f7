/**
 * What the parser remembers while it walks a file: the current section, the contexts and
 * extensions found so far, and what pbx_config.c keeps between lines (the last extension and
 * priority, for `same` and `n`), plus the priorities and labels already used, to catch clashes.
 */
import type { Header } from "./header.js";
import type { DialplanContext, DialplanContextInfo, DialplanDiagnostic, DialplanExtension, LogicalLine } from "./types.js";

/** pbx_config.c's lastpri before any line of a section. */
export const NO_PRIORITY = -2;
/** ast_add_extension2's priority for a hint. */
export const HINT_PRIORITY = -1;

/** [general] and [globals] hold options and variables, not dialplan: pbx_config skips them. */
const SPECIAL_SECTIONS: ReadonlySet<string> = new Set(["general", "globals"]);

/** [general] and [globals] configure the dialplan: they are not contexts. */
export const isSpecialSection = (name: string) => SPECIAL_SECTIONS.has(name.toLowerCase());

export interface Section {
  name: string;
  kind: "context" | "template" | "special";
  /** Raw extension field of the last `exten` (pbx_config's lastextension), continued by `same`. */
  lastExten: string | null;
  /** Priority of the last line added (pbx_config's lastpri); null when only known to be >= 1. */
  lastPri: number | null;
  /** Lines copied from elsewhere come first ((+) or inheritance), so a first `n` is not alone. */
  continued: boolean;
}

/** What later sections can take over from an earlier one of this file, by name. */
interface SectionStore {
  extensions: { extension: string; line: number }[];
  /** The names in `extensions`, so that big files stay linear. */
  names: Set<string>;
  last: Section;
}

export interface ParserState {
  file: string;
  /** What the other files of the dialplan define, when known. */
  context: DialplanContextInfo;
  /** `include =>` targets to check once the whole file is read. */
  pendingIncludes: { line: LogicalLine; target: string; at: number }[];
  section: Section | null;
  contexts: DialplanContext[];
  extensions: DialplanExtension[];
  diagnostics: DialplanDiagnostic[];
  listed: Set<string>;
  stores: Map<string, SectionStore>;
  /** context + '\0' + extension field -> priority -> line that took it. */
  priorities: Map<string, Map<number, number>>;
  /** context + '\0' + extension field -> label -> its priority (null when unknown). */
  labels: Map<string, Map<string, number | null>>;
}

export function newState(file: string, context: DialplanContextInfo = {}): ParserState {
  return {
    file,
    context,
    pendingIncludes: [],
    section: null,
    contexts: [],
    extensions: [],
    diagnostics: [],
    listed: new Set(),
    stores: new Map(),
    priorities: new Map(),
    labels: new Map(),
  };
}

/** Defined earlier in this file, or by a file read before it. */
export function isKnownSection(st: ParserState, name: string): boolean {
  return st.stores.has(name) || (st.context.sectionsBefore?.has(name) ?? false);
}

/**
 * Starts a section. Inherited sections defined earlier in this file lend their extensions (the
 * parser's only template expansion); (+) on one of them continues its last extension and priority.
 */
export function enterSection(st: ParserState, header: Header, line: number): void {
  const special = isSpecialSection(header.name);
  const kind = special ? "special" : header.template ? "template" : "context";
  const section: Section = {
    name: header.name,
    kind,
    lastExten: null,
    lastPri: NO_PRIORITY,
    continued: header.append || header.inherits.length > 0,
  };
  const earlier = st.stores.get(header.name);
  if (header.append && earlier) {
    section.lastExten = earlier.last.lastExten;
    section.lastPri = earlier.last.lastPri;
  }
  st.section = section;
  const store = earlier ?? { extensions: [], names: new Set<string>(), last: section };
  store.last = section;
  st.stores.set(header.name, store);
  if (!special) {
    const inherits = header.inherits.map((i) => i.name);
    st.contexts.push({ name: header.name, line, template: header.template, append: header.append, inherits });
  }
  for (const parent of header.inherits) inherit(st, section, st.stores.get(parent.name));
}

function inherit(st: ParserState, section: Section, parent: SectionStore | undefined): void {
  if (!parent) return;
  for (const e of parent.extensions) recordExtension(st, e.extension, e.line);
  // Asterisk copies the parent's lines first, so a first `same` continues its last extension.
  section.lastExten = parent.last.lastExten;
  section.lastPri = parent.last.lastPri === NO_PRIORITY ? NO_PRIORITY : null;
}

/**
 * Notes that the current section has `extension`. Templates and inherited-from sections keep it
 * for sections that inherit them; only real contexts list it in the result.
 */
export function recordExtension(st: ParserState, extension: string, line: number): void {
  const section = st.section;
  if (!section || section.kind === "special") return;
  const store = st.stores.get(section.name);
  if (store && !store.names.has(extension)) {
    store.names.add(extension);
    store.extensions.push({ extension, line });
  }
  const key = `${section.name}\0${extension}`;
  if (section.kind === "context" && !st.listed.has(key)) {
    st.listed.add(key);
    st.extensions.push({ context: section.name, extension, line });
  }
}

/** The table of `key` in `tables`, created on first use. */
export function tableOf<K, V>(tables: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let table = tables.get(key);
  if (!table) {
    table = new Map();
    tables.set(key, table);
  }
  return table;
}
