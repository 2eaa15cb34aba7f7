#!/usr/bin/env node
// Bundles the command line (dist/cli/program.js and everything it imports, statically or not)
// into one CommonJS file, dist/cli/cli.cjs, that the entry (dist/cli/main.cjs, the bin, or
// dist/cli/main.js) compiles through node:vm with
// V8's code cache (Node 20 has no module compile cache: without it every start parses and
// compiles the CLI again). Modules reached only through import() stay lazy: esbuild wraps them
// in functions run on first use, and V8 compiles a function only when it first runs, so what a
// run does not use costs it little more than reading the file.
// The library (dist/index.js) and the tsc output beside this bundle stay as tsc wrote them (main.js
// falls back to dist/cli/program.js when there is no bundle). asterisk-manager is in the bundle (a
// run that reloads Asterisk would otherwise resolve and compile it from node_modules, outside the
// code cache); fs-extra, used only to copy a wazo-plugind plugin, stays external (required from
// node_modules on that first use). esbuild comes with tsx.
import { createHash } from "node:crypto";
import { chmodSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

// Chunks of earlier builds (split ESM bundles; their names end in a content hash).
for (const f of readdirSync("dist/cli")) if (/-[A-Z0-9]{8}\.js$/.test(f)) rmSync(`dist/cli/${f}`);

/** commander requires node:child_process at load time, only for executable subcommands (which
 * this CLI has none of): loading it (with net, dgram and streams) costs every start ≈ 5 ms.
 * The require is deferred to the first use. */
const lazyChildProcess = {
  name: "lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const line = "const childProcess = require('node:child_process');";
      if (!text.includes(line)) throw new Error(`bundle: ${args.path} no longer has ${line}`);
      return { contents: text.replace(line, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"), loader: "js" };
    });
  },
};

/** zod is a third of the CLI's code and few runs need it (explaining an invalid plugin, reading
 * the state of installed plugins, convert, schema): it is a bundle of its own, required on first
 * use, so that the others do not pay to read it and to keep its functions in their code cache. */
const zodApart = {
  name: "zod-apart",
  setup(b) {
    b.onResolve({ filter: /^zod$/ }, () => ({ path: "./zod.cjs", external: true }));
  },
};

const common = {
  write: false,
  bundle: true,
  format: "cjs",
  platform: "node",
  target: "node20",
  // ASCII only (the rest escaped): main.js reads the bundles as latin1.
  charset: "ascii",
  // import() of an external module (zod.cjs) becomes a require too.
  supported: { "dynamic-import": false },
  // Less source to read; identifiers are kept, so a stack trace of an internal error still
  // names its functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
};
const [cli, zod] = await Promise.all([
  build({
    ...common,
    entryPoints: ["dist/cli/program.js"],
    outfile: "dist/cli/cli.cjs",
    external: ["fs-extra"],
    // The modules find package.json, plugins-examples/ and load/tasks-child.js relative to their
    // own URL, two levels below the package: the bundle is at that depth too.
    define: { "import.meta.url": "__bundleUrl" },
    plugins: [lazyChildProcess, zodApart],
  }),
  build({ ...common, stdin: { contents: 'export * from "zod";', resolveDir: "." }, outfile: "dist/cli/zod.cjs" }),
]);

const strict = '"use strict";';
const bundles = [cli, zod].map((r, i) => {
  const { path: file } = r.outputFiles[0];
  // Strict, as the ES modules it comes from (esbuild writes the directive only when a CommonJS
  // input has it).
  const text = r.outputFiles[0].text.startsWith(strict) ? r.outputFiles[0].text : `${strict}${r.outputFiles[0].text}`;
  // The script is compiled by node:vm, which has no loader for import(): esbuild must have
  // turned every import() into a require (it does for every literal specifier).
  const left = text.match(/[^.\w$]import\s*\(/);
  if (left) throw new Error(`bundle: ${file} still calls import() (${text.slice(left.index, left.index + 80)}…): node:vm cannot run it`);
  if (/[^\x00-\x7f]/.test(text)) throw new Error(`bundle: ${file} is not ASCII`);
  return { file, text: i === 0 ? `${strict}var __bundleUrl=require("node:url").pathToFileURL(__filename).href;${text.slice(strict.length)}` : text };
});
// main.js keys the code cache by the build (V8 itself checks only the length of the source).
const hash = createHash("sha256");
for (const b of bundles) hash.update(b.text);
const id = hash.digest("hex");
for (const b of bundles) writeFileSync(b.file, `// wazo-tasks bundle ${id}\n${b.text}`);

// The executable (package.json "bin"): dist/cli/main.js as a CommonJS file. In this
// "type": "module" package a .js entry is an ES module, and Node's ES module loader costs a
// start about 5 ms of CPU that a CommonJS entry does not. dist/cli/main.js stays, the same code.
const entry = await build({
  ...common,
  entryPoints: ["dist/cli/main.js"],
  outfile: "dist/cli/main.cjs",
  bundle: false,
  define: { "import.meta.url": "__entryUrl" },
  banner: { js: '"use strict";var __entryUrl=require("node:url").pathToFileURL(__filename).href;' },
  // The fallback without the bundle imports the tsc build, an ES module: a real import().
  supported: { "dynamic-import": true },
});
const main = entry.outputFiles[0];
writeFileSync(main.path, main.text, { mode: 0o755 });
chmodSync(main.path, 0o755);
