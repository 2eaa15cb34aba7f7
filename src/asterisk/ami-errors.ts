// Typed failures of the AMI layer. Every message is one readable line that names what the user
// has to look at (host:port, action, module, manager.conf permission) and never the secret.

import type { FailureFacts, FailureReason } from "../model/diagnostic.js";

/** What exactly went wrong with an AMI operation: finer than the `reason`, for messages and logs. */
export type AmiErrorCode =
  /** An `ami://` URL that cannot be read. */
  | "invalid-url"
  /** The TCP connection could not be opened (refused, unknown host, unreachable). */
  | "connection-refused"
  /** No greeting/login answer before the connect deadline, or no answer to an action in time. */
  | "timeout"
  /** Asterisk answered the Login with `Authentication failed` (wrong user or secret). */
  | "auth-failed"
  /** The AMI user lacks the manager.conf write class the action needs. */
  | "permission-denied"
  /** Asterisk does not know the action (`Invalid/unknown command`). */
  | "unknown-action"
  /** The connection closed (or was closed) before the answer arrived. */
  | "socket-closed"
  /** Asterisk answered with an error: a failing CLI command, a module that could not reload… */
  | "action-failed"
  /** Reload: Asterisk has no such module loaded. */
  | "no-such-module"
  /** Reload: the module has no reload support. */
  | "reload-not-supported"
  /** Reload: the module is loaded but was never initialised. */
  | "module-not-initialized";

/** @deprecated the old name of AmiErrorCode. */
export type AmiFailureReason = AmiErrorCode;

/** The reasons an AmiError can have: the same strings as a run's Failure. */
export type AmiErrorReason = Extract<
  FailureReason,
  "invalid-url" | "ami-unreachable" | "ami-timeout" | "ami-auth" | "ami-permission" | "ami-failed" | "reload-failed"
>;

const REASON_OF: Record<AmiErrorCode, AmiErrorReason> = {
  "invalid-url": "invalid-url",
  "connection-refused": "ami-unreachable",
  "socket-closed": "ami-unreachable",
  timeout: "ami-timeout",
  "auth-failed": "ami-auth",
  "permission-denied": "ami-permission",
  "unknown-action": "ami-failed",
  "action-failed": "ami-failed",
  "no-such-module": "reload-failed",
  "reload-not-supported": "reload-failed",
  "module-not-initialized": "reload-failed",
};

export interface AmiErrorDetails {
  /** The AMI action concerned (Login, Reload, Command…). */
  action?: string;
  /** The module concerned, for reload failures. */
  module?: string;
  /** CLI output lines, for a failed Command. */
  output?: readonly string[];
  /** The underlying socket error, if any. */
  cause?: unknown;
  /** The AMI user and where the manager is. */
  ami?: FailureFacts["ami"];
  /** The reason, when not the usual one for the code (a failed Reload action is `reload-failed`). */
  reason?: AmiErrorReason;
}

export class AmiError extends Error {
  override readonly name = "AmiError";
  /** The same strings as a run's `failure.reason`. */
  readonly reason: AmiErrorReason;
  /** What exactly went wrong. */
  readonly code: AmiErrorCode;
  readonly action?: string;
  readonly module?: string;
  readonly output: readonly string[];
  /** The AMI user and where the manager is, once known. */
  ami?: FailureFacts["ami"];

  constructor(code: AmiErrorCode, message: string, details: AmiErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.reason = details.reason ?? (details.action === "Reload" && code === "action-failed" ? "reload-failed" : REASON_OF[code]);
    this.action = details.action;
    this.module = details.module;
    this.output = details.output ?? [];
    this.ami = details.ami;
  }
}

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

// The write classes of the actions we use, from Asterisk 22's ListCommands `(Priv: …)` column.
const WRITE_CLASSES: Record<string, string> = {
  reload: "`write = system` (or `config`)",
  command: "`write = command`",
  modulecheck: "`write = system`",
  showdialplan: "`write = config` (or `reporting`)",
  originate: "`write = originate`",
};

/** The manager.conf permission an action needs, as a phrase for error messages. */
export function requiredPermission(action: string): string {
  return WRITE_CLASSES[action.toLowerCase()] ?? `the write class it needs (see \`manager show command ${action}\` on the Asterisk CLI)`;
}

/** One-line message for actions the AMI user may not run. */
export function permissionMessage(user: string, where: string, actions: readonly string[]): string {
  const needs = actions.map((a) => `${a} needs ${requiredPermission(a)}`).join(", ");
  return (
    `AMI user '${user}' may not run ${actions.join(", ")} on ${where}: ${needs} ` +
    `in the [${user}] section of /etc/asterisk/manager.conf (then 'manager reload')`
  );
}
