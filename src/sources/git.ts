/**
 * Fetching a plugin tree with the real git: into a fresh temporary folder under the cache, a
 * bare repository, a shallow fetch of the one ref (a full fetch only when a commit id cannot be
 * fetched alone), the tree checked out, the repository dropped, the tree renamed into
 * `<cache>/<key>/<commit>`. The cache then holds plain trees: no git config, no hooks.
 * git runs with an argument array (never a shell), without the system config, without
 * prompts, with hooks pointed at /dev/null and only the URL's own protocol allowed.
 */
import { mkdir, mkdtemp, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import type { SourceEnv } from "./types.js";
import { TaskFailure } from "../model/diagnostic.js";
import { findOnPath, runProcess } from "../util/process.js";
import { sha256 } from "../util/hash.js";
import { checkRef, scrub, type GitArg } from "./url.js";

export interface FetchRequest extends GitArg {
  /** Ref asked for (branch, tag, commit); undefined: the remote's default branch. */
  ref?: string;
  /** Where the plugin sits in the repository. */
  subdirectory?: string;
}

export interface Fetched {
  /** The checked-out tree (whole repository). */
  tree: string;
  commit: string;
  /** True when this call created the tree (not found in the cache). */
  fresh: boolean;
}

const FETCH_TIMEOUT_MS = 300_000;
const FULL_SHA = /^[0-9a-f]{40}$/i;
const SHORT_SHA = /^[0-9a-f]{7,39}$/i;

/** GIT_* variables kept: how to reach a server (ssh command, CA, proxy, askpass), the user's config file. */
const KEPT_GIT_VARS: ReadonlySet<string> = new Set([
  "GIT_SSH",
  "GIT_SSH_COMMAND",
  "GIT_SSH_VARIANT",
  "GIT_ASKPASS",
  "GIT_SSL_CAINFO",
  "GIT_SSL_CAPATH",
  "GIT_PROXY_COMMAND",
  "GIT_CONFIG_GLOBAL",
  "GIT_HTTP_USER_AGENT",
]);

/** The environment git runs in: no system config, no prompt, no inherited repository or `-c` settings. */
export function gitEnv(base: SourceEnv): SourceEnv {
  const env: SourceEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith("GIT_") || KEPT_GIT_VARS.has(k)) env[k] = v;
  return { ...env, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", GIT_PROTOCOL_FROM_USER: "0", LC_ALL: "C" };
}

/** `-c` options given to every git call: hooks, fsmonitor and submodules off, one protocol allowed. */
function safety(url: string): string[] {
  const scheme = /^([a-z]+):\/\//i.exec(url)?.[1].toLowerCase() ?? "ssh";
  // An http server may redirect to https: both are allowed for an http URL.
  const allowed = scheme === "http" ? ["http", "https"] : [scheme];
  return [
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
    "-c",
    "fetch.recurseSubmodules=false",
    "-c",
    "protocol.allow=never",
    ...allowed.flatMap((p) => ["-c", `protocol.${p}.allow=always`]),
    "-c",
    "advice.detachedHead=false",
  ];
}

/** The cache folder of one URL: readable and unique (the URL without credentials, hashed). */
export function cacheKey(display: string, subdirectory?: string): string {
  const slug = display
    .replace(/^[a-z+]+:\/\//i, "")
    .replace(/\.git$/, "")
    .split(/[/:@]/)
    .filter(Boolean)
    .slice(-2)
    .join("-")
    .replace(/[^A-Za-z0-9._-]/g, "_")
    .slice(0, 60);
  return `${slug || "repo"}-${sha256(Buffer.from(`${display}\n${subdirectory ?? ""}`)).slice(0, 12)}`;
}

const isDir = (p: string) =>
  stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );

/** Fetches `req` into `cacheDir` (created if needed) with git found on `env`'s PATH; throws a
 * git-failed failure (exit 2) naming the source. */
export async function fetchGit(req: FetchRequest, cacheDir: string, env: SourceEnv): Promise<Fetched> {
  if (req.ref !== undefined) checkRef(req.ref, req.display);
  const git = findOnPath("git", env.PATH);
  if (!git)
    throw new TaskFailure(
      "git-failed",
      `cannot fetch ${req.display}: git is not installed (not found on PATH)`,
      [],
      "install git (apt install git), or clone the repository yourself and give its folder",
    );
  const keyDir = path.join(cacheDir, cacheKey(req.display, req.subdirectory));
  if (req.ref && FULL_SHA.test(req.ref) && (await isDir(path.join(keyDir, req.ref.toLowerCase()))))
    return { tree: path.join(keyDir, req.ref.toLowerCase()), commit: req.ref.toLowerCase(), fresh: false };
  await mkdir(keyDir, { recursive: true });
  await removeStaleFetches(keyDir);
  const tmp = await mkdtemp(path.join(keyDir, ".fetch-"));
  try {
    const run = gitRunner(git, req, tmp, env);
    await run(["init", "-q", "--bare", path.join(tmp, "git")], "prepare a repository");
    const commit = await fetchRef(run, req);
    await mkdir(path.join(tmp, "tree"));
    await run(["--work-tree", path.join(tmp, "tree"), "checkout", "-q", "-f", commit, "--", "."], `check out ${commit}`);
    const tree = path.join(keyDir, commit);
    await rename(path.join(tmp, "tree"), tree).catch(async (e: NodeJS.ErrnoException) => {
      // Already in the cache (fetched by an earlier or a concurrent run): the same tree.
      if (e.code !== "ENOTEMPTY" && e.code !== "EEXIST") throw e;
    });
    return { tree, commit, fresh: true };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    await rmdir(keyDir).catch(() => {}); // left only when empty: other commits stay cached
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Temporary folders of fetches killed half way (kill -9, power loss): gone once clearly abandoned. */
async function removeStaleFetches(keyDir: string): Promise<void> {
  for (const name of await readdir(keyDir).catch(() => [] as string[])) {
    if (!name.startsWith(".fetch-")) continue;
    const age = await stat(path.join(keyDir, name)).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    if (age > FETCH_TIMEOUT_MS * 2) await rm(path.join(keyDir, name), { recursive: true, force: true });
  }
}

type Run = (args: string[], what: string, opts?: { quiet?: boolean }) => Promise<{ ok: boolean; out: string[]; err: string }>;

function gitRunner(git: string, req: FetchRequest, tmp: string, env: SourceEnv): Run {
  return async (args, what, opts = {}) => {
    const out: string[] = [];
    const gitDir = args[0] === "init" ? [] : ["--git-dir", path.join(tmp, "git")];
    const r = await runProcess([git, ...safety(req.url), ...gitDir, ...args], {
      env: gitEnv(env),
      timeoutMs: FETCH_TIMEOUT_MS,
      onLine: (s, l) => s === "stdout" && out.push(l),
    });
    const err = scrub(r.tail.filter((l) => !out.includes(l)).join("\n"), req.url).trim();
    if (!r.ok && !opts.quiet)
      throw gitFailure(req, what, r.timedOut ? `git timed out after ${FETCH_TIMEOUT_MS / 1000} s` : err || r.error || `git exited with ${r.exitCode}`);
    return { ok: r.ok, out, err };
  };
}

/** Fetches the ref shallowly when git allows it; returns the commit id. */
async function fetchRef(run: Run, req: FetchRequest): Promise<string> {
  const ref = req.ref ?? "HEAD";
  let shallow = await run(["fetch", "-q", "--depth", "1", "--no-tags", "--", req.url, ref], `fetch --depth 1 ${req.display} ${ref}`, { quiet: true });
  // A server that cannot send a shallow history (dumb http): the whole history of the ref.
  if (!shallow.ok && /shallow/i.test(shallow.err))
    shallow = await run(["fetch", "-q", "--no-tags", "--", req.url, ref], `fetch ${req.display} ${ref}`, { quiet: true });
  if (shallow.ok) return revParse(run, "FETCH_HEAD");
  const missing = /couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(shallow.err);
  if (!missing || !(FULL_SHA.test(ref) || SHORT_SHA.test(ref))) {
    if (missing)
      throw gitFailure(
        req,
        `fetch --depth 1 ${req.display} ${ref}`,
        `no branch or tag "${ref}" in the repository`,
        `check the name: git ls-remote ${req.display}`,
      );
    throw gitFailure(
      req,
      `fetch --depth 1 ${req.display} ${ref}`,
      shallow.err,
      "check the URL, the network and your access to the repository (ssh key, credential helper)",
    );
  }
  // A commit id the server will not send alone: fetch everything, then look it up.
  await run(
    ["fetch", "-q", "--no-tags", "--", req.url, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
    `fetch ${req.display} (all branches and tags)`,
  );
  const found = await run(["rev-parse", "--verify", "-q", `${ref}^{commit}`], `look up ${ref}`, { quiet: true });
  if (!found.ok || !found.out[0])
    throw gitFailure(
      req,
      `fetch ${req.display} (all branches and tags), then rev-parse ${ref}`,
      `no commit "${ref}" in the repository`,
      `check the commit id: git ls-remote ${req.display}, or git log in a clone`,
    );
  return found.out[0].trim();
}

async function revParse(run: Run, what: string): Promise<string> {
  const r = await run(["rev-parse", "--verify", `${what}^{commit}`], `read the fetched commit`);
  return r.out[0].trim();
}

function gitFailure(req: FetchRequest, what: string, why: string, hint?: string): TaskFailure {
  const first = why
    .split("\n")
    .map((l) => l.replace(/^(fatal|error): /, "").trim())
    .filter(Boolean);
  return new TaskFailure(
    "git-failed",
    `cannot fetch ${req.display}${req.ref ? ` (ref ${req.ref})` : ""}: ${first.slice(0, 3).join("; ") || "git failed"}`,
    [],
    `${hint ?? "check the URL and the ref"} (tried: git ${what})`,
  );
}
