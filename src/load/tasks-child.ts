/**
 * The process that evaluates tasks.ts descriptors, one at a time, for wazo-tasks (which sends
 * `{ id, file }` over IPC and gets `{ id, ok, value | message, output }` back). Plugin code runs
 * here, not in wazo-tasks: its output is captured, process.exit and crashes fail only the file
 * being evaluated, and wazo-tasks can kill it on a time limit.
 *
 * Each file is compiled with esbuild's transform (no type check: the editor does that) and the
 * result cached by content in the user's cache folder, then imported. A file that imports other
 * files, or needs its own location, is bundled with esbuild instead.
 * Deliberately imports nothing of wazo-tasks itself: start-up stays small.
 */
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface Request {
  id: number;
  file: string;
}

const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));
const send = (m: unknown) => process.send?.(m);
let current: Request | undefined;
let output: string[] = [];
let partial = "";

// Everything the module prints is the plugin's output, returned with the answer.
for (const stream of [process.stdout, process.stderr])
  stream.write = ((chunk: string | Uint8Array) => {
    const lines = (partial + (typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"))).split("\n");
    partial = lines.pop() ?? "";
    output.push(...lines);
    return true;
  }) as typeof stream.write;

class ExitCalled extends Error {}
process.exit = ((code?: number) => {
  throw new ExitCalled(`tasks.ts called process.exit(${code ?? ""})`);
}) as typeof process.exit;

function answer(m: { ok: true; value: unknown } | { ok: false; message: string; line?: number; col?: number }): void {
  if (!current) return;
  if (partial) output.push(partial);
  const reply = { id: current.id, ...m, output };
  current = undefined;
  output = [];
  partial = "";
  try {
    send(reply);
  } catch (e) {
    send({ id: reply.id, ok: false, message: `its default export cannot be read (${firstLine(e)})`, output: reply.output });
  }
}

const firstLine = (e: unknown) => (e instanceof Error ? e.message : String(e)).split("\n")[0];
const failed = (e: unknown) =>
  answer({ ok: false, message: e instanceof ExitCalled ? e.message : `${e instanceof Error ? e.name : "error"}: ${firstLine(e)}` });
process.on("uncaughtException", failed);
process.on("unhandledRejection", (e) => answer({ ok: false, message: `unhandled rejection: ${firstLine(e)}` }));
process.on("disconnect", () => process.kill(process.pid, "SIGKILL"));
send({ ready: true });

process.on("message", (m: Request) => {
  current = m;
  evaluate(m.file).then(
    // One turn of the event loop, so that a rejection nobody handles is seen first.
    (value) => setImmediate(() => answer({ ok: true, value })),
    (e: unknown) => {
      // esbuild's syntax errors carry their position.
      const first = (e as { errors?: { text: string; location?: { line: number; column: number } }[] }).errors?.[0];
      if (first?.location) answer({ ok: false, message: `syntax error: ${first.text}`, line: first.location.line, col: first.location.column + 1 });
      else failed(e);
    },
  );
});

async function evaluate(file: string): Promise<unknown> {
  const text = readFileSync(file, "utf8");
  process.chdir(path.dirname(file));
  // A file on its own is compiled once per content; one that imports others or needs its own
  // location is bundled with what it imports, each time.
  const alone = !/\bimport\.meta\b|\brequire\s*\(|\bmodule\.exports\b|\b__dirname\b|\b__filename\b|(?:from|import)\s*\(?\s*["'][^"']*\//.test(text);
  const url = alone ? await compiled(file, text) : await bundled(file);
  const mod = (await import(url)) as { default?: unknown };
  return mod.default;
}

const ownModule = (names: string | undefined) =>
  pathToFileURL(path.join(PACKAGE, names !== undefined && /^\{\s*defineTasks(\s+as\s+\w+)?\s*,?\s*\}$/.test(names) ? "dist/define.js" : "dist/index.js")).href;

/** A path only this user could have written: not a link, owned by this user, writable by nobody else.
 * The cache holds code that is run, so a file or folder another user could have put there is not used. */
function onlyOurs(p: string): boolean {
  const st = lstatSync(p);
  const uid = process.getuid?.();
  return !st.isSymbolicLink() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** The module written to the cache folder under `key`, as a URL (an existing one is reused). */
async function cached(key: string, code: () => Promise<string>): Promise<string> {
  for (const dir of cacheDirs()) {
    const out = path.join(dir, `${key}.mjs`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (!onlyOurs(path.dirname(dir)) || !onlyOurs(dir)) continue;
    } catch {
      continue; // that folder cannot be made: try the next one
    }
    try {
      if (onlyOurs(out)) return pathToFileURL(out).href;
      continue; // a file someone else could have written: not run, and this folder not used
    } catch {
      // not compiled yet
    }
    try {
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, await code(), { mode: 0o600 });
      renameSync(tmp, out);
      return pathToFileURL(out).href;
    } catch {
      // that folder cannot be written: try the next one
    }
  }
  // No cache folder can be written: import it from memory.
  return `data:text/javascript,${encodeURIComponent(await code())}`;
}

const hash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 32);

/** tasks.ts alone, compiled with esbuild's transform and cached by content. */
function compiled(file: string, text: string): Promise<string> {
  return cached(hash(`${PACKAGE}\0${text}`), async () => {
    const { transform } = await import("esbuild");
    const { code } = await transform(text, { loader: "ts", format: "esm", target: "node20", sourcefile: file, logLevel: "silent" });
    return code.replace(
      /(\bimport\s*(\{[^}]*\})?[^'"]*?from\s*)(["'])wazo-tasks\3/g,
      (_m, head: string, names?: string) => `${head}${JSON.stringify(ownModule(names))}`,
    );
  });
}

/** tasks.ts bundled with the files and packages it imports; `wazo-tasks` stays this package
 * and import.meta.url, __dirname and __filename keep naming the plugin's own file. */
async function bundled(file: string): Promise<string> {
  const { build } = await import("esbuild");
  const r = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "silent",
    define: { "import.meta.url": JSON.stringify(pathToFileURL(file).href), __dirname: JSON.stringify(path.dirname(file)), __filename: JSON.stringify(file) },
    banner: { js: "import { createRequire as __wtRequire } from 'node:module'; const require = __wtRequire(import.meta.url);" },
    plugins: [
      { name: "wazo-tasks", setup: (b) => b.onResolve({ filter: /^wazo-tasks$/ }, () => ({ path: fileURLToPath(ownModule(undefined)), external: true })) },
    ],
  });
  const code = r.outputFiles[0].text;
  return cached(hash(code), async () => code);
}

function cacheDirs(): string[] {
  const home = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return [path.join(home, "wazo-tasks", "tasks-ts"), path.join(os.tmpdir(), `wazo-tasks-${process.getuid?.() ?? "user"}`, "tasks-ts")];
}
