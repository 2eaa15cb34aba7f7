#!/usr/bin/env node
/**
 * The wazo-tasks executable. `--version` is answered here, before the argument parser and the
 * commands are loaded (the only thing start-up costs matter for alone); everything else is
 * src/cli/program.ts.
 */
import { readFileSync } from "node:fs";

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version}\n`);
} else {
  await import("./program.js");
}
