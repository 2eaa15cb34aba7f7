/**
 * Telling a git source from a plugin name or folder, and keeping credentials out of everything
 * shown or stored. Accepted: https://, http://, ssh://, git://, file://, scp-style
 * `user@host:path`, each optionally with a `git+` prefix (pip's spelling), and `URL#REF`.
 */
import { invalid } from "../model/diagnostic.js";

export const GIT_SCHEMES = ["https", "http", "ssh", "git", "file"] as const;

/** A git source as given: the URL git is called with (credentials kept), its ref if any. */
export interface GitArg {
  /** The URL handed to git (may hold credentials: never print it, use `display`). */
  url: string;
  /** The URL without credentials: for output, events, manifests, cache keys. */
  display: string;
  /** From `URL#REF`. */
  ref?: string;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** `user@host:path` (scp-style) — a `host:path` without a user is too easily a typo'd folder. */
const SCP = /^[A-Za-z0-9._~-]+@[A-Za-z0-9.-]+:(?!\/\/)\S+$/;

/** True when `arg` is spelt as a URL (any scheme) or an scp-style address. */
export function looksLikeUrl(arg: string): boolean {
  return arg.startsWith("git+") || SCHEME.test(arg) || SCP.test(arg);
}

/** Parses a git URL argument; throws an invalid-input failure for an unknown scheme or a leading '-'. */
export function parseGitArg(arg: string): GitArg {
  const [raw, ...rest] = arg.split("#");
  const ref = rest.length ? rest.join("#") : undefined;
  const url = raw.replace(/^git\+/, "");
  const display = stripCredentials(url);
  if (url.startsWith("-"))
    throw invalid(`refused source "${display}": it starts with '-'`, [], "a URL or ref starting with '-' would be read by git as an option");
  const scheme = SCHEME.exec(url)?.[1].toLowerCase();
  if (scheme !== undefined && !(GIT_SCHEMES as readonly string[]).includes(scheme))
    throw invalid(
      `unknown scheme "${scheme}://" in plugin source ${display}`,
      [],
      `a git source is ${GIT_SCHEMES.map((s) => `${s}://`).join(", ")}, or user@host:path (optionally with a git+ prefix)`,
    );
  if (scheme === undefined && !SCP.test(url))
    throw invalid(`not a git URL: ${display}`, [], "give https://HOST/PATH.git, ssh://..., file:///PATH or user@host:path");
  if (ref !== undefined) checkRef(ref, display);
  // Only http(s) can use a password from the URL; ssh would get it in its command line.
  return { url: scheme === "http" || scheme === "https" ? url : display, display, ref: ref || undefined };
}

/** Refuses refs git would read as options, or that are not ref or commit names at all. */
export function checkRef(ref: string, where: string): void {
  if (ref.startsWith("-"))
    throw invalid(`refused ref "${ref}" for ${where}: it starts with '-'`, [], "a ref starting with '-' would be read by git as an option");
  if (!ref || /[\s~^:?*[\\\x00-\x1f]|\.\.|@\{/.test(ref)) throw invalid(`invalid ref "${ref}" for ${where}`, [], "give a branch, a tag or a commit id");
}

/**
 * The URL without a password; for http(s) without the user either (a user there is often a
 * token: https://TOKEN@host/). ssh and scp-style keep the user name, which is no secret.
 */
export function stripCredentials(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)@(.*)$/i.exec(url);
  if (!m) return url;
  const scheme = m[1].toLowerCase();
  if (scheme.startsWith("http") || scheme.startsWith("git+http")) return m[1] + m[3];
  const user = m[2].split(":")[0];
  return `${m[1]}${user}@${m[3]}`;
}

/**
 * Removes the secret parts of `url` wherever they appear in `text` (git's own messages): the
 * password, and for http(s) a user name long enough to be a token; as written and decoded.
 */
export function scrub(text: string, url: string): string {
  let out = text;
  const m = /^(?:git\+)?([a-z][a-z0-9+.-]*):\/\/([^/]*)@/i.exec(url);
  if (m) {
    const [user, ...pass] = m[2].split(":");
    const secrets = [pass.join(":"), /^https?$/i.test(m[1]) && user.length >= 6 ? user : ""].filter(Boolean);
    const forms = secrets.flatMap((s) => [s, safeDecode(s)]).sort((a, b) => b.length - a.length);
    for (const s of forms) out = out.split(s).join("***");
  }
  return out.replace(/(https?:\/\/)[^/\s']*@/gi, "$1");
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
