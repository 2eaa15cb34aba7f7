import type { SourceRecord } from "../model/plugin.js";

export type { SourceRecord };

/** One line for people: `git URL (ref REF) at COMMIT` or `market NAME VERSION: git URL ... at COMMIT`. */
export function describeSource(s: SourceRecord): string {
  const git = `${s.url}${s.ref ? ` (ref ${s.ref})` : ""}${s.subdirectory ? ` subdirectory ${s.subdirectory}` : ""} at ${s.commit.slice(0, 12)}`;
  return s.method === "market" ? `market ${s.market?.name ?? "?"} ${s.market?.version ?? ""} from ${s.market?.url ?? "?"}: git ${git}` : `git ${git}`;
}

/** Same repository, same place in it, same commit: installing it again changes nothing. */
export function sameSource(a: SourceRecord | undefined, b: SourceRecord | undefined): boolean {
  return !!a && !!b && a.url === b.url && a.commit === b.commit && (a.subdirectory ?? "") === (b.subdirectory ?? "");
}

/** Environment variables, as programs pass them (no Node types needed by library users). */
export type SourceEnv = Record<string, string | undefined>;
