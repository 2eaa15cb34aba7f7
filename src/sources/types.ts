/** Where an installed plugin came from, as recorded in its manifest (`origin`). */
export interface SourceRecord {
  /** `git`: a git URL given on the command line; `market`: a market entry (itself a git source). */
  method: "git" | "market";
  /** The git URL, without credentials. */
  url: string;
  /** The ref asked for; absent: the remote's default branch. */
  ref?: string;
  /** Where the plugin sits in the repository. */
  subdirectory?: string;
  /** The commit installed. */
  commit: string;
  /** For `market`: the market's address (without credentials), the entry's name and the version picked. */
  market?: { url: string; name: string; version: string };
}

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
