#!/usr/bin/env node
/**
 * The wazo-tasks executable. `--version` is answered here, before anything else is loaded (the
 * only thing start-up costs matter for alone); everything else is src/cli/program.ts.
 *
 * The build bundles program.ts and all it imports into one CommonJS file, dist/cli/cli.cjs, and
 * zod, which few runs need, into dist/cli/zod.cjs (scripts/bundle.mjs). Node 20 has no compile
 * cache for modules, so this file compiles the bundles itself, through node:vm, with V8's code
 * cache: after a successful run the code V8 compiled is saved in the user's cache folder
 * (`$XDG_CACHE_HOME/wazo-tasks/v8/`, by default `~/.cache/wazo-tasks/v8/`), keyed by the
 * bundle's content and Node's version, one file per command, and the next run reuses it
 * instead of parsing and compiling again. A missing, unreadable, unwritable, foreign or stale
 * cache only costs that saving: the bundle is then compiled from its source, as Node would.
 */
import { closeSync, constants, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const args = process.argv.slice(2);
function runBundle(): boolean {
  const file = fileURLToPath(new URL("cli.cjs", import.meta.url));
  let source: string;
  try {
    source = readBundle(file);
  } catch {
    return false;
  }
  load(file, source);
  return true;
}

/** A bundle's text: ASCII (esbuild escapes the rest), so read as latin1, faster than UTF-8. */
const readBundle = (file: string) => readFileSync(file, "latin1");

const loaded = new Map<string, unknown>();
const unsaved: { script: vm.Script; save: (s: vm.Script) => void }[] = [];

/** Runs a CommonJS bundle of dist/cli/ as Node would (its `require` loads the other bundles the same way) and returns its exports. */
function load(file: string, source: string): unknown {
  const cache = codeCache(file, source);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData: cache?.data });
  if (cache && (!cache.data || script.cachedDataRejected)) {
    if (!unsaved.length) process.once("exit", (code) => code === 0 && unsaved.forEach((u) => u.save(u.script)));
    unsaved.push({ script, save: cache.save });
  }
  const module = { exports: {} };
  loaded.set(file, module.exports);
  const nodeRequire = createRequire(file);
  const require = (id: string) => {
    if (!/^\.\/[\w-]+\.cjs$/.test(id)) return nodeRequire(id);
    const other = path.join(path.dirname(file), id);
    return loaded.has(other) ? loaded.get(other) : load(other, readBundle(other));
  };
  (script.runInThisContext() as (...a: unknown[]) => void)(module.exports, require, module, file, path.dirname(file));
  loaded.set(file, module.exports);
  return module.exports;
}

/** Files of another build older than this are removed when a new cache file is written. */
const STALE_MS = 3600_000;

/** The cache file for this bundle, Node and command: its data when there is a usable one, and how to save one. */
function codeCache(file: string, source: string): { data?: Buffer; save: (s: vm.Script) => void } | undefined {
  // The build's id: a hash of all its bundles.
  const id = /^\/\/ wazo-tasks bundle ([0-9a-f]{64})\n/.exec(source)?.[1];
  const uid = process.getuid?.();
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, ".cache") : undefined);
  if (!id || uid === undefined || !home || !path.isAbsolute(home)) return undefined;
  const dir = path.join(home, "wazo-tasks", "v8");
  const st = statSync(file);
  // The size and time too: a bundle edited by hand after the build is not taken for the built one.
  const prefix = `${id.slice(0, 16)}-`;
  const command = /^[a-z]{2,16}$/.test(args[0] ?? "") ? args[0] : "other";
  const dry = args.some((a) => a === "--dry-run" || /^-[a-zA-Z]*n[a-zA-Z]*$/.test(a)) ? "-dry" : "";
  const target = path.join(
    dir,
    `${prefix}${path.basename(file, ".cjs")}-${st.size}-${Math.trunc(st.mtimeMs)}-${process.version}-${process.arch}-${command}${dry}.bin`,
  );
  // Compiled code runs as this user: only a file of this user that nobody else can write is
  // used, and only in a folder of this user that nobody else can write.
  const ours = (s: { uid: number; mode: number }) => s.uid === uid && (s.mode & 0o022) === 0;
  let data: Buffer | undefined;
  try {
    const fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (ours(fstatSync(fd)) && ours(statSync(dir))) data = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // none yet
  }
  const save = (script: vm.Script) => {
    try {
      // One level at a time: mkdirSync's `recursive` never returns on some file systems (/proc).
      for (const d of [home, path.dirname(dir), dir])
        try {
          mkdirSync(d, { mode: 0o700 });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        }
      if (!ours(statSync(dir))) return;
      const tmp = `${target}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData(), { mode: 0o600, flag: "wx" });
      renameSync(tmp, target);
      const now = Date.now();
      for (const f of readdirSync(dir)) {
        const p = path.join(dir, f);
        if (!f.startsWith(prefix) || f.endsWith(".tmp")) if (now - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
      }
    } catch {
      // No cache this time: the next run compiles again.
    }
  };
  return { data, save };
}

if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version}\n`);
} else if (!runBundle()) {
  // Run from the sources or a tsc build without the bundle.
  void import("./program.js");
}
