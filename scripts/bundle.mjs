#!/usr/bin/env node
// Bundles the command line into dist/cli/main.js and chunks beside it: Node 20 has no compile
// cache, so loading ~170 small modules costs more than a few bundled ones. The common path
// (install and uninstall, through the engine) is bundled into the argument parser's chunk, so
// it loads as a handful of files; other commands and what only some plugins need (Makefiles,
// wazo/rules, zod for explaining invalid input, the AMI client) stay in chunks loaded lazily.
// The library (dist/index.js) stays as tsc wrote it. tsx (loaded only for tasks.ts),
// asterisk-manager and fs-extra stay external. esbuild comes with tsx.
import { readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

// Chunks of an earlier build (their names end in a content hash).
for (const f of readdirSync("dist/cli")) if (/-[A-Z0-9]{8}\.js$/.test(f)) rmSync(`dist/cli/${f}`);

/** Commands loaded with the parser rather than on demand: the ones whose speed matters. */
const EAGER = ["./install.js", "./uninstall.js", "./list.js", "./validate.js", "./show.js", "./reload.js", "./verify.js", "./recover.js"];

/** Turns program.js's `import("./install.js")` into a static import, so that esbuild keeps the
 * command in the parser's chunk instead of making it an entry point of its own. */
const eagerCommands = {
  name: "eager-commands",
  setup(b) {
    b.onLoad({ filter: /dist[\\/]cli[\\/]program\.js$/ }, (args) => {
      let text = readFileSync(args.path, "utf8");
      const imports = [];
      EAGER.forEach((spec, i) => {
        const call = `import("${spec}")`;
        if (!text.includes(call)) throw new Error(`bundle: ${path.relative(".", args.path)} no longer has ${call}`);
        imports.push(`import * as __eager${i} from "${spec}";`);
        text = text.split(call).join(`Promise.resolve(__eager${i})`);
      });
      return { contents: `${imports.join("\n")}\n${text}`, loader: "js", resolveDir: path.dirname(args.path) };
    });
  },
};

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

await build({
  entryPoints: ["dist/cli/main.js"],
  outdir: "dist/cli",
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  chunkNames: "[name]-[hash]",
  external: ["tsx", "tsx/*", "asterisk-manager", "fs-extra"],
  // CommonJS dependencies (commander) call require() for Node's modules.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  plugins: [eagerCommands, lazyChildProcess],
  // Less source for V8 to parse at every start; identifiers are kept, so a stack trace of an
  // internal error still names its functions.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
});
