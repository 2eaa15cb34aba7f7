/**
 * The layer rule (docs/architecture.md, .dependency-cruiser.cjs): imports point one way and close
 * no cycle. The imports against it that exist today are listed in
 * test/fixtures/layers/known-violations.json; any other fails, and so does a listed one that is
 * gone, so the list only ever shrinks. And the process (its environment, signals, exit, stdout)
 * is read in src/cli/ only, and by the entry points named below.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { REPO } from "./support/rig.js";

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function cruise(): string[] {
  const bin = path.join(REPO, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");
  const r = spawnSync(process.execPath, [bin, "--config", ".dependency-cruiser.cjs", "--output-type", "json", "src"], {
    cwd: REPO,
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
  assert.ok(r.stdout.trim().startsWith("{"), `dependency-cruiser did not answer: ${r.stderr}`);
  const result = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  assert.ok(result.summary.totalCruised > 50, `only ${result.summary.totalCruised} modules were read: is the TypeScript parser (@swc/core) installed?`);
  return [...new Set(result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`))].sort();
}

test("imports follow the layer rule and close no new cycle", () => {
  const known = (JSON.parse(readFileSync(path.join(REPO, "test/fixtures/layers/known-violations.json"), "utf8")) as { violations: string[] }).violations;
  const found = cruise();
  const added = found.filter((v) => !known.includes(v));
  const gone = known.filter((v) => !found.includes(v));
  assert.deepEqual(added, [], "imports against the layer rule (fix the import, or move the shared type down a layer)");
  assert.deepEqual(gone, [], "these are fixed: remove them from test/fixtures/layers/known-violations.json");
});

test("the tree is formatted (npm run format writes it)", () => {
  const bin = path.join(REPO, "node_modules/prettier/bin/prettier.cjs");
  const r = spawnSync(process.execPath, [bin, "--list-different", "src", "test", "scripts", "bench", ".dependency-cruiser.cjs"], {
    cwd: REPO,
    encoding: "utf8",
  });
  assert.equal(r.stdout.trim(), "", "these files are not formatted: run npm run format");
  assert.equal(r.status, 0, r.stderr);
});

test("every switch ends in unreachable() or handles the rest in a default clause", () => {
  const files = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".ts") && e.name !== "compiled-validators.ts" ? [path.join(dir, e.name)] : [],
    );
  })(path.join(REPO, "src"));
  const open: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\bswitch \(([^)]*)\) \{/g)) {
      let depth = 1;
      let i = m.index + m[0].length;
      for (; depth && i < text.length; i++) depth += text[i] === "{" ? 1 : text[i] === "}" ? -1 : 0;
      const body = text.slice(m.index + m[0].length, i);
      if (!/\bunreachable\(/.test(body) && !/\bdefault:/.test(body))
        open.push(`${path.relative(REPO, file)}:${text.slice(0, m.index).split("\n").length}: switch (${m[1]})`);
    }
  }
  assert.deepEqual(open, [], "a switch over a union ends in `default: unreachable(x)` (src/util/unreachable.ts)");
});

/** Files below the command line that read the process themselves, and why. */
const PROCESS_ENTRY_POINTS: Record<string, string> = {
  "src/index.ts": "the library's entry points: a library call runs in this process (PATH, environment)",
  "src/host.ts": "hostOf: the process a library call runs in (environment, pid), when no host is handed down",
  "src/load/tasks-child.ts": "the tasks.ts evaluator: a process of its own, not the caller's",
};

/** Single reads of the process below the command line that are not the run's to hand down, and
 * why ("file: read"). Only ever shrinks. */
const PROCESS_READS_ALLOWED: Record<string, string> = {
  "src/util/process.ts: process.pid": "the sweep never signals the process it runs in: this process itself, not the run's host",
  "src/make/overlay.ts: process.argv": "the script in REMOVED_CHECK: run by a node of its own inside the capture's namespace, not by the run",
};

/** What a run's caller hands down: the environment, signals, exit, output, the working folder,
 * the pid, the arguments and the temporary folder (TMPDIR: src/util/temp-dir.ts). */
const PROCESS_READS = /process\.(?:env\b|on\(|once\(|exit\b|stdout\b|cwd\(|pid\b|argv\b)|\btmpdir\(/g;

/** The reads of the process in `text`, each once, in the order first seen. */
const processReads = (text: string) => [...new Set(Array.from(text.matchAll(PROCESS_READS), (m) => m[0]))];

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(rel) : e.name.endsWith(".ts") ? [rel] : [];
  });
}

test("process.env/on/once/exit/stdout/cwd/pid/argv and os.tmpdir are read in src/cli/ only", () => {
  const found = sourceFiles("src")
    .filter((f) => !f.startsWith("src/cli/") && !(f in PROCESS_ENTRY_POINTS))
    .flatMap((f) => processReads(readFileSync(path.join(REPO, f), "utf8")).map((read) => `${f}: ${read}`))
    .sort();
  onlyAllowed(
    found,
    PROCESS_READS_ALLOWED,
    "PROCESS_READS_ALLOWED",
    "these read the process below the command line: take the value from the caller (src/model/host.ts, the run's options)",
  );
  for (const f of Object.keys(PROCESS_ENTRY_POINTS))
    assert.notDeepEqual(processReads(readFileSync(path.join(REPO, f), "utf8")), [], `${f} no longer reads the process: remove it from PROCESS_ENTRY_POINTS`);
});

/** `found` holds nothing outside `allowed` (`why`), and every entry of `allowed` is still found
 * (`name`, the list in this file, only shrinks). */
function onlyAllowed(found: string[], allowed: Record<string, string>, name: string, why: string): void {
  assert.deepEqual(
    found.filter((f) => !(f in allowed)),
    [],
    why,
  );
  assert.deepEqual(
    Object.keys(allowed).filter((f) => !found.includes(f)),
    [],
    `these are gone: remove them from ${name} in test/architecture.test.ts`,
  );
}

/**
 * Module-level state that may stay, and why: processes of their own, and memoisation of facts
 * that do not change while the process runs. Everything else a run needs is made by the run
 * (src/run-context.ts) and released by its close, so concurrent library calls share nothing.
 */
const MODULE_STATE_ALLOWED: Record<string, string> = {
  "src/cli/main.ts: loaded": "the command line's process: the bundles it loaded (modules, immutable once loaded)",
  "src/cli/main.ts: unsaved": "the command line's process: code caches saved when it exits",
  "src/load/tasks-child.ts: current": "the tasks.ts evaluator, a process of its own",
  "src/load/tasks-child.ts: output": "the tasks.ts evaluator, a process of its own",
  "src/load/tasks-child.ts: partial": "the tasks.ts evaluator, a process of its own",
  "src/make/overlay.ts: cachedWhy": "memoisation: whether this machine allows overlay capture with the tools on a PATH",
};

/** Module-level `let`/`var`, and module-level containers (`new Map/Set/WeakMap/WeakSet/Array`,
 * `[...]`) not typed read-only (`ReadonlySet`, `readonly T[]`, `as const`), as `file: name`. */
function moduleState(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:export )?(?:let|var) (\w+)/gm)) out.push(`${file}: ${m[1]}`);
  for (const m of text.matchAll(/^(?:export )?const (\w+)(?::\s*((?:[^=]|=>)+?))?\s*=\s*(new (?:Map|Set|WeakMap|WeakSet|Array)\b|\[)/gm)) {
    if (m[2] && /^(readonly\b|Readonly)/.test(m[2].trim())) continue;
    let tail = "";
    if (m[3] === "[") {
      let depth = 1;
      let i = m.index + m[0].length;
      for (; depth && i < text.length; i++) depth += text[i] === "[" ? 1 : text[i] === "]" ? -1 : 0;
      tail = text.slice(i, i + 10);
    }
    // `[...].join(...)` is a string; `[...] as const` is read-only.
    if (/^( as const\b|\.join\()/.test(tail)) continue;
    out.push(`${file}: ${m[1]}`);
  }
  return out;
}

test("no module-level mutable state outside a short allow-list", () => {
  const found = sourceFiles("src")
    // Generated by scripts/write-validators.mjs: its `let`s are inside functions.
    .filter((f) => !f.endsWith("/compiled-validators.ts"))
    .flatMap((f) => moduleState(f, readFileSync(path.join(REPO, f), "utf8")))
    .sort();
  onlyAllowed(
    found,
    MODULE_STATE_ALLOWED,
    "MODULE_STATE_ALLOWED",
    "module-level state is shared by every run of the process: make it part of the run (src/run-context.ts), or type a constant read-only",
  );
});

/** Where the formats may be named: their own code, the model, and the manifest's schema (with
 * the validators scripts/write-validators.mjs compiles from it). */
const FORMAT_HOMES = ["src/formats/", "src/make/", "src/rules/", "src/model/", "src/state/schema.ts", "src/state/compiled-validators.ts"];

/** Format names outside FORMAT_HOMES that are user-facing text or data, and why. */
const FORMAT_NAMES_ALLOWED: Record<string, string> = {
  'src/plan/preview.ts: "rules"': "the --json step kind of the runs after the file changes (wazo/rules install), byte for byte",
  'src/state/repair.ts: "descriptor"': "manifest repair: the installedBy value of a manifest that lost it",
  'src/state/repair.ts: "rules"': "manifest repair: the manifest's field of that name, kept when valid",
};

/** The format names as string literals, and `.kind`/`.installedBy` compared on a plugin or a
 * manifest, as `file: what`. */
function formatNames(file: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/["'](rules|make|descriptor)["']/g)) out.add(`${file}: "${m[1]}"`);
  for (const m of text.matchAll(/\b(p|m|plugin|manifest|installed|\w+Plugin)\.(kind|installedBy)\s*[!=]==/g)) out.add(`${file}: ${m[1]}.${m[2]}`);
  return [...out];
}

test("outside the formats and the model, no code asks which format a plugin is", () => {
  const found = sourceFiles("src")
    .filter((f) => !FORMAT_HOMES.some((h) => f.startsWith(h)))
    .flatMap((f) => formatNames(f, readFileSync(path.join(REPO, f), "utf8")))
    .sort();
  onlyAllowed(
    found,
    FORMAT_NAMES_ALLOWED,
    "FORMAT_NAMES_ALLOWED",
    "the pipeline names no format: let the format's adapter (src/formats/) say it through Expanded, or the model name it neutrally",
  );
});
