/**
 * How a run talks to Asterisk and to systemd, behind small interfaces so that the executor is the
 * same whatever the transport: AMI (preferred), `asterisk -rx`, or none (reported as skipped).
 */
import { FAILURE_REASONS, type FailureFacts, type FailureReason } from "../model/diagnostic.js";
import { describeExit, runProcess, which } from "../util/process.js";

/** The reasons of the first release (and AMI error codes), as failure reasons. */
const OLD_REASONS: Record<string, FailureReason> = {
  unreachable: "ami-unreachable",
  "connection-refused": "ami-unreachable",
  "socket-closed": "ami-unreachable",
  timeout: "ami-timeout",
  "auth-failed": "ami-auth",
  "permission-denied": "ami-permission",
  "unknown-command": "ami-failed",
  "unknown-action": "ami-failed",
  "action-failed": "ami-failed",
};

/** A failure talking to Asterisk or systemd, with a one-line message (never containing a secret). */
export class AsteriskError extends Error {
  readonly reason: FailureReason;

  constructor(
    message: string,
    reason: FailureReason | (string & {}) = "reload-failed",
    readonly facts: FailureFacts = {},
  ) {
    super(message);
    this.name = "AsteriskError";
    this.reason = (FAILURE_REASONS as readonly string[]).includes(reason) ? (reason as FailureReason) : (OLD_REASONS[reason] ?? "reload-failed");
  }
}

export interface AsteriskControl {
  /** `ami` | `rx` | `none`: said in output so users know what was used. */
  readonly transport: "ami" | "rx" | "none";
  /** Why `none` was chosen, for the skipped lines. */
  readonly note?: string;
  /** Reloads `dialplan` (pbx_config) or a module. */
  reload(module: string): Promise<void>;
  /** Runs an Asterisk CLI command and returns its output lines. */
  command(cli: string): Promise<string[]>;
  /** Whether an extension is loaded; undefined when this transport cannot tell. */
  hasExtension(extension: string, context: string): Promise<boolean | undefined>;
  /** Checks, before any change, that the transport works and may run these AMI actions. */
  preflight?(actions: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceControl {
  readonly available: boolean;
  restart(unit: string): Promise<void>;
}

/** `asterisk -rx`: its exit code says nothing, so the output is judged. */
export function rxControl(executable: string, timeoutMs = 30_000): AsteriskControl {
  const run = async (cli: string) => {
    const r = await runProcess([executable, "-rx", cli], { timeoutMs });
    const text = r.tail.join("\n");
    if (!r.ok || /Unable to connect to remote asterisk/i.test(text))
      throw new AsteriskError(`asterisk -rx '${cli}' failed: ${r.tail.find((l) => l.trim()) ?? describeExit(r)}`, "ami-unreachable", {
        command: `asterisk -rx '${cli}'`,
        exitStatus: r.exitCode,
      });
    if (/^No such command/im.test(text)) throw new AsteriskError(`asterisk -rx '${cli}': ${r.tail[0]}`, "ami-failed", { command: `asterisk -rx '${cli}'` });
    return r.tail;
  };
  return {
    transport: "rx",
    async reload(module) {
      const lines = await run(module === "dialplan" ? "dialplan reload" : `module reload ${module}`);
      const bad = lines.find((l) => /No such module|does not support reload|not initialized|not loaded/i.test(l));
      if (bad) throw new AsteriskError(`reload ${module}: ${bad.trim()}`, "reload-failed");
    },
    command: run,
    async hasExtension(extension, context) {
      const r = await runProcess([executable, "-rx", `dialplan show ${extension}@${context}`], { timeoutMs });
      const text = r.tail.join("\n");
      if (/Unable to connect/i.test(text)) return undefined;
      return !/There is no existence of/i.test(text) && /=>/.test(text);
    },
    async close() {},
  };
}

/** No Asterisk to talk to (a staging root): every action is reported as skipped. */
export function noAsterisk(note: string): AsteriskControl {
  return {
    transport: "none",
    note,
    async reload() {},
    async command() {
      return [];
    },
    async hasExtension() {
      return undefined;
    },
    async close() {},
  };
}

/** `envPath`: the PATH systemctl is looked up on. */
export async function systemctlControl(envPath: string | undefined, timeoutMs = 120_000): Promise<ServiceControl> {
  const exe = await which("systemctl", envPath);
  return {
    available: exe !== undefined,
    async restart(unit) {
      if (!exe) throw new AsteriskError("systemctl not found on PATH", "reload-failed", { command: `systemctl restart ${unit}` });
      const r = await runProcess([exe, "restart", unit], { timeoutMs });
      if (!r.ok)
        throw new AsteriskError(`systemctl restart ${unit}: ${describeExit(r)}${r.tail.length ? `: ${r.tail[r.tail.length - 1]}` : ""}`, "reload-failed", {
          command: `systemctl restart ${unit}`,
          exitStatus: r.exitCode,
        });
    },
  };
}
