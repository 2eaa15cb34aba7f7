#!/usr/bin/env node
// Bundles the command line into dist/cli/main.js (chunks beside it, one per command, loaded
// lazily): Node 20 has no compile cache, so loading ~170 small modules costs more than a few
// bundled ones. The library (dist/index.js) stays as tsc wrote it. tsx (loaded only for
// tasks.ts), asterisk-manager and fs-extra stay external. esbuild comes with tsx.
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

// Chunks of an earlier build (their names end in a content hash).
for (const f of readdirSync("dist/cli")) if (/-[A-Z0-9]{8}\.js$/.test(f)) rmSync(`dist/cli/${f}`);

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
  logLevel: "warning",
});
