/** Options shared by commands, and turning them into library options and a logger. */
import path from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { InternalRunOptions } from "../engine.js";
import type { Emit } from "../model/event.js";
import { hostProcess } from "./signals.js";

export interface CommonFlags {
  root?: string;
  pluginsDir?: string[];
  dryRun?: boolean;
  json?: boolean;
  noReload?: boolean;
  reload?: boolean;
  lint?: boolean;
  force?: boolean;
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  lockTimeout?: string;
  amiHost?: string;
  amiPort?: string;
  amiUser?: string;
  amiSecretFile?: string;
  installed?: boolean;
  pending?: boolean;
  dialplan?: boolean;
  allowAbsolute?: boolean;
  previewBuild?: boolean;
  wazoVersion?: string;
  strict?: boolean;
  ref?: string;
  subdirectory?: string;
  market?: string;
  reinstall?: boolean;
  [k: string]: unknown;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `--lock-timeout`: seconds, a finite number >= 0 (commander names the option and exits 2). */
export function parseSeconds(v: string): string {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError("expected a number of seconds >= 0, such as 10 or 0.5.");
  return v;
}

/** `--ami-port`: a TCP port, 1 to 65535. */
export function parsePort(v: string): string {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a TCP port, 1 to 65535.");
  return v;
}

/** Adds `--lock-timeout` (every command that takes the root's lock). */
export const lockOption = (cmd: Command) =>
  cmd.addOption(new Option("--lock-timeout <seconds>", "how long to wait for another run on the same root").default("10").argParser(parseSeconds));

export function commonOptions(cmd: Command, what: { plan?: boolean; search?: boolean; ami?: boolean; lock?: boolean }): Command {
  cmd.option("--root <dir>", "staging root: every absolute target is taken under it (default /)");
  if (what.search) cmd.option("--plugins-dir <dir>", "also look for plugins in this folder (repeatable)", collect);
  if (what.plan)
    cmd
      .option("-n, --dry-run", "show what would change (with diffs) and stop; writes nothing, connects to nothing")
      .option("--no-reload", "apply files but do not reload Asterisk or restart services (recorded as pending)")
      .option("--no-lint", "do not check dialplan files before install (for a false alarm; said in the output)");
  if (what.plan || what.ami || what.lock) lockOption(cmd);
  if (what.plan || what.ami) {
    cmd
      .option("--ami-host <host>", "AMI host (default 127.0.0.1)")
      .addOption(new Option("--ami-port <port>", "AMI port (default 5038)").argParser(parsePort))
      .option("--ami-user <user>", "AMI user (see docs/ami.md)")
      .option("--ami-secret-file <file>", "file holding the AMI secret");
  }
  return cmd
    .option("--json", "newline-delimited JSON events on stdout (docs/json-output.md)")
    .option("-q, --quiet", "errors only")
    .option("-v, --verbose", "resolved paths, AMI actions (secrets masked), timings");
}

/** Library options from flags (AMI settings resolved separately, they need the root). */
export function runOptions(flags: CommonFlags, emit: Emit): InternalRunOptions {
  return {
    root: flags.root ? path.resolve(flags.root) : undefined,
    pluginsDirs: flags.pluginsDir,
    envPath: process.env.WAZO_TASKS_PLUGINS_PATH,
    dryRun: flags.dryRun === true,
    force: flags.force === true,
    noReload: flags.reload === false,
    noLint: flags.lint === false,
    lockTimeoutMs: lockTimeoutMs(flags),
    // The command line reads its environment: flags, WAZO_TASKS_AMI_URL, the config file, PATH.
    ami: "auto",
    env: process.env,
    amiFlags: {
      amiHost: flags.amiHost,
      amiPort: flags.amiPort ? Number(flags.amiPort) : undefined,
      amiUser: flags.amiUser,
      amiSecretFile: flags.amiSecretFile,
    },
    amiLog: flags.verbose ? (line) => emit({ type: "info", message: `ami ${line}` }) : undefined,
    fault: faultFromEnv(),
    ...hostProcess(),
    previewBuild: flags.previewBuild === true,
    wazoVersion: flags.wazoVersion,
    strict: flags.strict === true,
    ref: flags.ref,
    subdirectory: flags.subdirectory,
    market: flags.market,
    reinstall: flags.reinstall === true,
    emit,
  };
}

/** The lock timeout the flags ask for, in ms (validated by parseSeconds). */
export const lockTimeoutMs = (flags: CommonFlags): number | undefined => (flags.lockTimeout ? Number(flags.lockTimeout) * 1000 : undefined);

/**
 * Test-only fault injection, read only when set: WAZO_TASKS_FAULT=N (throw after the N-th file
 * operation), N:kill (SIGKILL then), N:errno=ENOSPC (the N-th operation fails with that error);
 * `,rollback=M:errno=EIO` also fails the rollback's M-th restore.
 */
function faultFromEnv(): InternalRunOptions["fault"] {
  const v = process.env.WAZO_TASKS_FAULT;
  if (!v) return undefined;
  const [main, extra] = v.split(",");
  const [n, how] = main.split(":");
  const fault: NonNullable<InternalRunOptions["fault"]> = {
    after: Number(n),
    kill: how === "kill",
    die: () => process.kill(process.pid, "SIGKILL"),
    errno: how?.startsWith("errno=") ? how.slice(6) : undefined,
  };
  const rb = /^rollback=(\d+):errno=(E[A-Z]+)$/.exec(extra ?? "");
  if (rb) Object.assign(fault, { rollbackAfter: Number(rb[1]), rollbackErrno: rb[2] });
  return fault;
}
