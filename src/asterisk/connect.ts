/**
 * Picks the transport for a run: an injected control, AMI when configured, `asterisk -rx` when an
 * `asterisk` executable is on PATH, else nothing (skipped under --root; refused otherwise, before
 * any change).
 */
import { invalid } from "../model/diagnostic.js";
import { which } from "../util/process.js";
import { noAsterisk, rxControl, type AsteriskControl } from "./control.js";
import type { AmiSettings } from "./settings.js";

export interface ConnectOptions {
  ami?: AmiSettings;
  /** True under --root. */
  staging: boolean;
  log?: (line: string) => void;
  timeoutMs?: number;
}

export async function connectAsterisk(opts: ConnectOptions): Promise<AsteriskControl> {
  if (opts.ami) {
    const { amiControl } = await import("./ami-control.js");
    return amiControl(opts.ami, { log: opts.log, timeoutMs: opts.timeoutMs });
  }
  const exe = await which("asterisk");
  if (exe) return rxControl(exe);
  if (opts.staging) return noAsterisk("no AMI configured and no asterisk on PATH (staging root)");
  throw invalid(
    "this run needs to reload Asterisk, but no AMI is configured and no asterisk executable is on PATH",
    [],
    "set WAZO_TASKS_AMI_URL=ami://USER:SECRET@127.0.0.1:5038 or pass --ami-user/--ami-secret-file (see docs/ami.md), or pass --no-reload",
  );
}
