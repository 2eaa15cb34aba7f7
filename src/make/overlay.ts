/**
 * Overlay capture (Linux, as root): a program runs in its own mount and PID namespaces, chrooted
 * into an overlay of this machine's root folder whose changes land in a folder of ours, never on
 * the disk. The target root (`--root`, or `/`) is a second overlay at its own path, so what the
 * program writes there is read back afterwards and installed as typed operations; anything it
 * writes elsewhere is seen in the system overlay and refused. The plugin folder is a third
 * overlay whose changes are thrown away (building in place works, the folder stays as it was);
 * `TMPDIR` is a private scratch folder; `/dev` and a fresh `/proc` are mounted in. The kernel
 * kills everything the program started when it ends (PID namespace), `setsid` or not.
 *
 * Why this shape: make needs the machine's tools (sh, install, cp), so it cannot be chrooted into
 * a test root; and DESTDIR keeps its meaning (`--root` is where the files go), while absolute
 * paths, `~/x`, `$(DESTDIR)/../x` and removals are all seen instead of trusted.
 */
import { chmod, lstat, mkdir, readdir, readFile, realpath, rm, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { findOnPath, runProcess, type ContainedPrograms, type ProcessResult, type Stream } from "../util/process.js";

export const CAPTURE_MARK = "wazo-tasks-capture: ";

/**
 * Why overlay capture cannot be used on this machine with the tools on `pathVar`, or undefined
 * when it can (found out once for each PATH). `env`: the run's environment, where
 * WAZO_TASKS_CAPTURE=staging turns it off (none: only what the machine allows is told).
 */
export function overlayUnavailable(pathVar: string | undefined, env: Readonly<Record<string, string | undefined>> = {}): Promise<string | undefined> {
  if (env.WAZO_TASKS_CAPTURE === "staging") return Promise.resolve("WAZO_TASKS_CAPTURE=staging is set");
  return machineWhy(pathVar);
}

// Memoisation of facts of this machine (kernel, user, the tools on a PATH), which do not
// change while the process runs.
const cachedWhy = new Map<string, Promise<string | undefined>>();
function machineWhy(pathVar: string | undefined): Promise<string | undefined> {
  const known = cachedWhy.get(pathVar ?? "");
  if (known) return known;
  const why = (async () => {
    if (process.platform !== "linux") return `overlay capture needs Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return "overlay capture needs root (mount namespaces)";
    for (const tool of ["unshare", "chroot", "mount"]) if (!findOnPath(tool, pathVar)) return `${tool} is not on PATH (util-linux, coreutils)`;
    const fs = await readFile("/proc/filesystems", "utf8").catch(() => "");
    if (!/\toverlay$/m.test(fs) && !(await stat("/sys/module/overlay").catch(() => undefined))) return "this kernel has no overlay file system";
    return undefined;
  })();
  cachedWhy.set(pathVar ?? "", why);
  return why;
}

export interface OverlayLayout {
  base: string;
  /** The target root, a layer read back apart (undefined: no root, every change is outside). */
  root?: string;
  /** A folder overlaid with its changes thrown away (undefined: none). */
  pluginDir?: string;
  /** Folders bound as they are: what the program writes there lands in them, allowed. */
  writable: string[];
  /** Whether `asterisk`, `systemctl` and `service` called by full path are bound over with the recorders. */
  recorders: boolean;
  /** Where the target root's changes land. */
  rootUpper: string;
  /** The root as the overlay's lower layer (an empty folder when the root does not exist yet). */
  rootLower: string;
  /** Where changes outside the root land (the root's own when the root is `/`). */
  systemUpper: string;
  /** Folders created in the system overlay as mount points (not changes). */
  mountPoints: string[];
  tools: string;
  log: string;
  scratch: string;
  /** Set by the namespace once everything is mounted (its absence means the setup failed). */
  started: string;
  removedRoot: string;
  removedSystem: string;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
// Paths that would need escaping in overlay mount options.
const unsafe = (p: string) => /[:,\\\n]/.test(p);

/** The recorders' real paths that make may call by full path (bound over in the overlay). */
const FULL_PATHS: readonly string[] = [
  "/usr/sbin/asterisk",
  "/usr/bin/asterisk",
  "/usr/bin/systemctl",
  "/bin/systemctl",
  "/usr/sbin/service",
  "/usr/bin/service",
  "/sbin/service",
];

/** Prepares the folders of one captured run; undefined with the reason when a path cannot be used. */
export function prepareOverlay(base: string, root: string, pluginDir: string): Promise<OverlayLayout | string> {
  return prepareLayout(base, { root, pluginDir, recorders: true });
}

async function prepareLayout(
  base: string,
  o: { root?: string; pluginDir?: string; writable?: string[]; recorders?: boolean },
): Promise<OverlayLayout | string> {
  const { root, pluginDir } = o;
  const writable = o.writable ?? [];
  for (const p of [base, root, pluginDir, ...writable])
    if (p !== undefined && unsafe(p)) return `the path ${JSON.stringify(p)} holds a character overlay options cannot take`;
  const L: OverlayLayout = {
    base,
    root,
    pluginDir,
    writable,
    recorders: o.recorders ?? false,
    rootUpper: root === undefined || root === "/" ? path.join(base, "s/u") : path.join(base, "r/u"),
    systemUpper: path.join(base, "s/u"),
    rootLower: root !== undefined && (await stat(root).catch(() => undefined))?.isDirectory() ? root : path.join(base, "empty"),
    mountPoints: [],
    tools: path.join(base, "tools"),
    log: path.join(base, "log"),
    scratch: path.join(base, "tmp"),
    started: path.join(base, "started"),
    removedRoot: path.join(base, "removed-r.json"),
    removedSystem: path.join(base, "removed-s.json"),
  };
  for (const d of ["s/u", "s/w", "sl", "m", "p/u", "p/w", "r/u", "r/w", "tools", "log", "tmp", "empty"])
    await mkdir(path.join(base, d), { recursive: true, mode: 0o755 });
  // Mount points in the system overlay: created in its upper folder with the modes they have
  // (so nothing is seen to change), removed again before it is read.
  for (const p of [...(pluginDir ? [pluginDir] : []), ...(root === undefined || root === "/" ? [] : [root]), ...writable, base]) {
    const chain: string[] = [];
    for (let d = p; d !== "/"; d = path.dirname(d)) chain.unshift(d);
    for (const d of chain) {
      const up = path.join(L.systemUpper, d);
      if (L.mountPoints.includes(d)) continue;
      // A root not made yet is an empty folder to make (the install creates it).
      const st = await stat(d).catch(() => undefined);
      await mkdir(up, { recursive: true });
      await chmod(up, st ? st.mode & 0o7777 : 0o755);
      L.mountPoints.push(d);
    }
  }
  return L;
}

/** The namespace's script: mounts, then the program chrooted, then the removal check. */
export async function overlayArgv(L: OverlayLayout, argv: string[], cwd: string, pathVar: string | undefined): Promise<string[]> {
  const m = path.join(L.base, "m");
  const at = (p: string) => path.join(m, p);
  const lines = [
    `fail() { echo ${q(CAPTURE_MARK)}"$*" >&2; exit 97; }`,
    `mount --bind / ${q(path.join(L.base, "sl"))} || fail "cannot bind the root folder"`,
    `mount -t overlay overlay -o ${q(`lowerdir=${path.join(L.base, "sl")},upperdir=${L.systemUpper},workdir=${path.join(L.base, "s/w")}`)} ${q(m)} || fail "cannot mount an overlay (mount -t overlay failed)"`,
  ];
  const layers = [
    ...(L.pluginDir ? [{ dir: L.pluginDir, upper: path.join(L.base, "p/u"), work: path.join(L.base, "p/w") }] : []),
    ...(L.root === undefined || L.root === "/" ? [] : [{ dir: L.root, lower: L.rootLower, upper: L.rootUpper, work: path.join(L.base, "r/w") }]),
  ].sort((a, b) => a.dir.length - b.dir.length);
  for (const l of layers)
    lines.push(
      `mount -t overlay overlay -o ${q(`lowerdir=${"lower" in l ? l.lower : l.dir},upperdir=${l.upper},workdir=${l.work}`)} ${q(at(l.dir))} || fail "cannot mount an overlay on ${l.dir}"`,
    );
  for (const d of [...L.writable].sort((a, b) => a.length - b.length)) lines.push(`mount --bind ${q(d)} ${q(at(d))} || fail "cannot bind ${d}"`);
  // Our own folder is hidden: only the scratch, the recorders and their log are seen.
  lines.push(`mount -t tmpfs -o mode=0700 tmpfs ${q(at(L.base))} || fail "cannot mount a tmpfs"`);
  for (const d of [L.scratch, L.tools, L.log]) lines.push(`mkdir -p ${q(at(d))} && mount --bind ${q(d)} ${q(at(d))} || fail "cannot bind ${d}"`);
  lines.push(`mount -o remount,bind,ro ${q(at(L.tools))} || fail "cannot make the recorders read-only"`);
  lines.push(`mount --rbind /dev ${q(at("/dev"))} || fail "cannot bind /dev"`);
  lines.push(`mount -t proc proc ${q(at("/proc"))} || fail "cannot mount /proc"`);
  const seen = new Set<string>();
  for (const p of L.recorders ? FULL_PATHS : []) {
    const st = await lstat(p).catch(() => undefined);
    if (!st) continue;
    const real = await realpath(p).catch(() => undefined);
    if (!real || seen.has(real) || !(await stat(real).catch(() => undefined))?.isFile()) continue;
    seen.add(real);
    lines.push(`mount --bind ${q(path.join(L.tools, path.basename(p)))} ${q(at(real))} || fail "cannot bind over ${real}"`);
  }
  lines.push(`: > ${q(L.started)}`);
  lines.push(`chroot ${q(m)} /bin/sh -c 'cd "$1" || exit 2; shift; exec "$@"' wazo-tasks ${q(cwd)} ${argv.map(q).join(" ")}`);
  lines.push(`rc=$?`);
  const check = (lower: string, merged: string, upper: string, out: string) =>
    `${q(process.execPath)} -e ${q(REMOVED_CHECK)} ${q(lower)} ${q(merged)} ${q(upper)} > ${q(out)} || rc=70`;
  lines.push(check(path.join(L.base, "sl"), m, L.systemUpper, L.removedSystem));
  if (L.root !== undefined && L.root !== "/") lines.push(check(L.rootLower, at(L.root), L.rootUpper, L.removedRoot));
  lines.push(`exit $rc`);
  const unshare = findOnPath("unshare", pathVar)!;
  return [unshare, "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "/bin/sh", "-c", lines.join("\n"), "wazo-tasks-capture"];
}

/**
 * Run in the namespace while the overlay is mounted: for every folder in the upper layer, the
 * lower layer's entries the merged view no longer has (whiteouts, opaque folders), as JSON.
 */
const REMOVED_CHECK = `
  const fs = require("fs"), p = require("path");
  const [lower, merged, upper] = process.argv.slice(1);
  const out = [];
  const walk = (rel) => {
    let names;
    try { names = fs.readdirSync(p.join(lower, rel)); } catch { return; }
    for (const n of names) {
      const r = p.join(rel, n);
      let u; try { u = fs.lstatSync(p.join(upper, r)); } catch {}
      let gone = false; try { fs.lstatSync(p.join(merged, r)); } catch { gone = true; }
      // Still in the lower layer after: not an entry removed by another process meanwhile.
      if (gone) try { fs.lstatSync(p.join(lower, r)); } catch { gone = false; }
      if (gone) out.push("/" + r);
      else if (u && u.isDirectory()) walk(r);
    }
  };
  walk("");
  fs.writeSync(1, JSON.stringify(out));
`;

/** Paths whose changes are not the root's: our folder, the plugin folder (thrown away), the root itself (read apart), the writable folders. */
const ours = (L: OverlayLayout, r: string) =>
  [L.base, ...(L.pluginDir ? [L.pluginDir] : []), ...(L.root === undefined || L.root === "/" ? [] : [L.root]), ...L.writable].some(
    (d) => r === d || r.startsWith(d + "/"),
  );

/** What the system overlay recorded outside the root (mount points left out). */
export async function writesOutside(L: OverlayLayout): Promise<string[]> {
  const out: string[] = [];
  const points = new Set(L.mountPoints);
  async function walk(rel: string) {
    for (const name of (await readdir(path.join(L.systemUpper, rel)).catch(() => [])).sort()) {
      const r = path.posix.join(rel, name);
      const st = await lstat(path.join(L.systemUpper, r));
      // A folder copied up because something was written under it is not a change itself.
      const was = st.isDirectory() && !points.has(r) ? await lstat(r).catch(() => undefined) : undefined;
      if (was && (!was.isDirectory() || was.mode !== st.mode || was.uid !== st.uid || was.gid !== st.gid)) out.push(r);
      if (st.isDirectory() && (points.has(r) || was)) await walk(r);
      else if (!st.isDirectory() || !was) out.push(r);
    }
  }
  await walk("/");
  const removed = JSON.parse((await readFile(L.removedSystem, "utf8").catch(() => "[]")) || "[]") as string[];
  return [...out, ...removed.filter((r) => !ours(L, r) && !out.includes(r))];
}

/** What make removed in the root (whiteouts and opaque folders), root-relative absolute paths. */
export async function removedInRoot(L: OverlayLayout): Promise<string[]> {
  if (L.root === undefined) return [];
  const file = L.root === "/" ? L.removedSystem : L.removedRoot;
  const removed = JSON.parse((await readFile(file, "utf8").catch(() => "[]")) || "[]") as string[];
  return L.root === "/" ? removed.filter((r) => !ours(L, r)) : removed;
}

/**
 * The root's upper folder made plain: whiteouts deleted (they are removals, read already), and
 * for `/` the mount points we created removed when nothing else landed in them.
 */
export async function cleanRootUpper(L: OverlayLayout): Promise<void> {
  async function walk(dir: string) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, e.name);
      if (e.isCharacterDevice() && (await lstat(abs)).rdev === 0) await rm(abs);
      else if (e.isDirectory()) await walk(abs);
    }
  }
  await walk(L.rootUpper);
  if (L.root !== "/") return;
  for (const d of [...L.mountPoints].sort((a, b) => b.length - a.length)) await rmdir(path.join(L.rootUpper, d)).catch(() => undefined);
}

export interface OverlayRun {
  result: ProcessResult;
  /** What the program wrote or removed outside the writable folders and TMPDIR (nothing of it is on the disk). */
  outside: string[];
}

/**
 * Runs `argv` in `cwd` in an overlay of this machine, with only `writable` (folders that exist)
 * and a private `TMPDIR` really written: whatever else it writes or removes lands in the system
 * overlay, is listed in `outside` and thrown away with `base` (an empty folder of ours). A string
 * when the namespace could not be set up (the program did not run). `env` is passed as given,
 * with `TMPDIR` set to the private scratch folder.
 */
export async function runInOverlay(
  base: string,
  argv: string[],
  opts: {
    cwd: string;
    env: Readonly<Record<string, string | undefined>>;
    writable: string[];
    timeoutMs?: number;
    signal?: AbortSignal;
    programs?: ContainedPrograms;
    onLine?: (stream: Stream, line: string) => void;
  },
): Promise<OverlayRun | string> {
  const L = await prepareLayout(base, { writable: opts.writable });
  if (typeof L === "string") return L;
  let setup = "";
  const result = await runProcess(await overlayArgv(L, argv, opts.cwd, opts.env.PATH), {
    cwd: opts.cwd,
    env: { ...opts.env, TMPDIR: L.scratch },
    timeoutMs: opts.timeoutMs,
    signal: opts.signal,
    contain: true,
    programs: opts.programs,
    pidNamespace: false,
    onLine: (stream, line) => {
      if (line.startsWith(CAPTURE_MARK)) setup ||= line.slice(CAPTURE_MARK.length);
      else opts.onLine?.(stream, line);
    },
  });
  if (!(await stat(L.started).catch(() => undefined)))
    return setup || `the mount namespace could not be set up (${result.error ?? `exit code ${result.exitCode}`})`;
  return { result, outside: await writesOutside(L) };
}
