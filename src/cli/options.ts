/** Options shared by commands, and turning them into library options and a logger. */
import path from "node:path";
import { Option, type Command } from "commander";
import type { InternalRunOptions } from "../engine.js";
import type { Emit } from "../model/event.js";

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

export function commonOptions(cmd: Command, what: { plan?: boolean; search?: boolean; ami?: boolean }): Command {
  cmd.option("--root <dir>", "staging root: every absolute target is taken under it (default /)");
  if (what.search) cmd.option("--plugins-dir <dir>", "also look for plugins in this folder (repeatable)", collect);
  if (what.plan)
    cmd
      .option("-n, --dry-run", "show what would change (with diffs) and stop; writes nothing, connects to nothing")
      .option("--no-reload", "apply files but do not reload Asterisk or restart services (recorded as pending)")
      .option("--no-lint", "do not check dialplan files before install (for a false alarm; said in the output)");
  if (what.plan || what.ami) {
    cmd
      .option("--lock-timeout <seconds>", "how long to wait for another run on the same root", "10")
      .option("--ami-host <host>", "AMI host (default 127.0.0.1)")
      .addOption(new Option("--ami-port <port>", "AMI port (default 5038)"))
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
    lockTimeoutMs: flags.lockTimeout ? Number(flags.lockTimeout) * 1000 : undefined,
    // The command line reads its environment: flags, WAZO_TASKS_AMI_URL, the config file, PATH.
    ami: "auto",
    env: process.env,
    amiFlags: { amiHost: flags.amiHost, amiPort: flags.amiPort ? Number(flags.amiPort) : undefined, amiUser: flags.amiUser, amiSecretFile: flags.amiSecretFile },
    amiLog: flags.verbose ? (line) => emit({ type: "info", message: `ami ${line}` }) : undefined,
    fault: faultFromEnv(),
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

/** Test-only fault injection: WAZO_TASKS_FAULT=N (throw after the N-th file operation) or N:kill. */
function faultFromEnv(): InternalRunOptions["fault"] {
  const v = process.env.WAZO_TASKS_FAULT;
  if (!v) return undefined;
  const [n, how] = v.split(":");
  return { after: Number(n), kill: how === "kill" };
}
