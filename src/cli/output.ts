/** The logger a command writes through, chosen from the flags and the terminal. */
import { humanLogger, jsonLogger, type Logger } from "../report/loggers.js";
import type { CommonFlags } from "./options.js";

export function loggerFor(flags: CommonFlags): Logger {
  if (flags.json) return jsonLogger(process.stdout);
  const tty = process.stdout.isTTY === true;
  const color = tty && flags.color !== false && !("NO_COLOR" in process.env);
  return humanLogger({
    out: process.stdout,
    err: process.stderr,
    color,
    quiet: flags.quiet,
    verbose: flags.verbose,
    progress: process.stderr.isTTY === true && !flags.quiet,
    cwd: process.cwd(),
  });
}
