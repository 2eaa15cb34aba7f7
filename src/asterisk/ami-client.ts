// Promise-based Asterisk Manager client: the operations wazo-tasks needs (CLI commands, module
// reloads, permission preflight, dialplan checks), each failing with a typed AmiError.
import { AmiConnection } from "./ami-connection.js";
import { AmiError, permissionMessage } from "./ami-errors.js";
import type { AmiResponse } from "./ami-framer.js";
import { parseAmiUrl, type AmiConfig } from "./ami-url.js";

declare global {
  interface SymbolConstructor {
    /** Explicit resource management (`await using`); declared here so that programs compiled
     * without lib "esnext.disposable" or @types/node can read the types. */
    readonly asyncDispose: unique symbol;
  }
}

// Node 20 has Symbol.asyncDispose; older runtimes get the registered symbol TypeScript uses.
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for("nodejs.asyncDispose");

export { AmiError, type AmiErrorCode, type AmiErrorReason, type AmiFailureReason, hostPort, requiredPermission } from "./ami-errors.js";
export { AmiResponse, type AmiHeader } from "./ami-framer.js";
export { type AmiConfig, DEFAULT_AMI_PORT, parseAmiUrl } from "./ami-url.js";

export interface AmiClientOptions {
  /** Receives one line per action sent (`> …`) and answer received (`< …`), Secret as `***`. */
  log?: (line: string) => void;
}

export interface AmiClient {
  /** `host:port` of the Asterisk manager, for messages. */
  readonly where: string;
  /**
   * Sends any action and resolves with the raw answer, `Response: Error` included; rejects on
   * `Permission denied` ('permission-denied'), unknown actions ('unknown-action'), timeouts and
   * closed connections.
   */
  action(fields: Record<string, string>): Promise<AmiResponse>;
  ping(): Promise<void>;
  /** Runs a CLI command; resolves with its output lines (Asterisk 13 and 14+ formats alike). */
  command(cli: string): Promise<string[]>;
  /** Reloads one module (`dialplan` means `pbx_config`), retrying while another reload runs. */
  reload(module: string): Promise<void>;
  /** The actions this AMI user may run (ListCommands lists only those). */
  listCommands(): Promise<Set<string>>;
  /** Rejects with 'permission-denied', naming the manager.conf setting, if any action is not allowed. */
  checkPermissions(actions: readonly string[]): Promise<void>;
  /** Whether the loaded dialplan routes `exten` in `context` (`dialplan show EXT@CONTEXT`). */
  dialplanHasExtension(exten: string, context: string): Promise<boolean>;
  /** Logs off and closes the connection; safe to call more than once. */
  close(): Promise<void>;
  /** `await using client = await createAmiClient(…)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** `reload('dialplan')` reloads the module that loads extensions.conf. */
const MODULE_ALIASES: Record<string, string> = { dialplan: "pbx_config" };
/** Tries for `A reload is in progress` (another client's reload), and the first pause. */
export const RELOAD_ATTEMPTS = 5;
export const RELOAD_RETRY_BASE_MS = 100;

const NOT_FOUND = "There is no existence of ";

/** Connects and logs in; rejects with an AmiError if either fails within `config.timeoutMs`.
 * `config` may be an `ami://user:secret@host:port` URL. */
export async function createAmiClient(config: AmiConfig | string, opts: AmiClientOptions = {}): Promise<AmiClient> {
  const c = typeof config === "string" ? parseAmiUrl(config) : config;
  const facts = { user: c.username, host: c.host, port: c.port };
  try {
    return new Client(await AmiConnection.open(c, opts.log), c.username, facts);
  } catch (e) {
    if (e instanceof AmiError) e.ami ??= facts;
    throw e;
  }
}

type Facts = NonNullable<AmiError["ami"]>;
const WRAPPED = ["action", "ping", "command", "reload", "listCommands", "checkPermissions", "dialplanHasExtension"] as const;

class Client implements AmiClient {
  readonly where: string;

  constructor(
    private readonly connection: AmiConnection,
    private readonly username: string,
    facts: Facts,
  ) {
    this.where = connection.where;
    // Every AmiError of this client names the user and the manager (failure.ami).
    const tag = (e: unknown) => {
      if (e instanceof AmiError) e.ami ??= facts;
      throw e;
    };
    for (const name of WRAPPED) {
      const method = (this[name] as (...args: unknown[]) => Promise<unknown>).bind(this);
      Object.defineProperty(this, name, { value: (...args: unknown[]) => method(...args).catch(tag) });
    }
  }

  action(fields: Record<string, string>): Promise<AmiResponse> {
    return this.connection.send(fields);
  }

  async ping(): Promise<void> {
    const answer = await this.action({ Action: "Ping" });
    if (answer.response !== "Success") throw this.failed("Ping", answer.message);
  }

  async command(cli: string): Promise<string[]> {
    const answer = await this.action({ Action: "Command", Command: cli });
    const output = answer.output;
    // Asterisk ≤13 (`Follows`) cannot report a failing command; 14+ says `Error`.
    if (answer.isFollows || answer.response === "Success") return output;
    if (answer.message === "Command output follows") {
      const first = output.find((line) => line.trim() !== "") ?? "no output";
      throw new AmiError("action-failed", `CLI command '${cli}' failed on ${this.where}: ${first}`, { action: "Command", output });
    }
    throw new AmiError("action-failed", `Asterisk on ${this.where} refused CLI command '${cli}': ${answer.message ?? "no reason given"}`, {
      action: "Command",
      output,
    });
  }

  async reload(module: string): Promise<void> {
    if (module === "") throw new TypeError("reload() needs a module name");
    const target = MODULE_ALIASES[module] ?? module;
    const named = target === module ? `module '${target}'` : `'${module}' (module ${target})`;
    for (let attempt = 1; ; attempt++) {
      const answer = await this.action({ Action: "Reload", Module: target });
      if (answer.response === "Success") return;
      const said = answer.message ?? "no reason given";
      const fail = (reason: AmiError["code"], why: string) =>
        new AmiError(reason, `Cannot reload ${named} on ${this.where}: ${why}`, { action: "Reload", module: target });
      switch (said) {
        case "No such module":
          throw fail("no-such-module", "Asterisk has no such module loaded (not installed, or noload in modules.conf)");
        case "Module does not support reload":
          throw fail("reload-not-supported", "the module does not support reload");
        case "Module not initialized":
          throw fail("module-not-initialized", "the module is loaded but not initialized (see the Asterisk log)");
        case "A reload is in progress":
          if (attempt < RELOAD_ATTEMPTS) {
            await this.connection.delay(RELOAD_RETRY_BASE_MS * 2 ** (attempt - 1));
            continue;
          }
          throw fail("action-failed", `another reload was still in progress after ${RELOAD_ATTEMPTS} attempts`);
        default: {
          const config = target === "pbx_config" ? " (extensions.conf and its includes)" : "";
          throw fail("action-failed", `the module failed to load its configuration${config}: Asterisk said '${said}'; see /var/log/asterisk/messages.log`);
        }
      }
    }
  }

  async listCommands(): Promise<Set<string>> {
    const answer = await this.action({ Action: "ListCommands" });
    if (answer.response !== "Success") throw this.failed("ListCommands", answer.message);
    const names = answer.headers.map(([name]) => name).filter((name) => !/^(response|actionid)$/i.test(name) && name !== "");
    return new Set(names);
  }

  async checkPermissions(actions: readonly string[]): Promise<void> {
    const allowed = new Set([...(await this.listCommands())].map((name) => name.toLowerCase()));
    const missing = actions.filter((action) => !allowed.has(action.toLowerCase()));
    if (missing.length > 0) {
      throw new AmiError("permission-denied", permissionMessage(this.username, this.where, missing), { action: missing[0] });
    }
  }

  async dialplanHasExtension(exten: string, context: string): Promise<boolean> {
    if (!/^[^\s@]+$/.test(exten) || !/^[^\s@]+$/.test(context)) {
      throw new TypeError(`dialplanHasExtension: invalid extension or context '${exten}@${context}'`);
    }
    const cli = `dialplan show ${exten}@${context}`;
    let output: readonly string[];
    try {
      output = await this.command(cli);
    } catch (error) {
      // Asterisk 14+ answers `Response: Error` for "not found": an answer, not a failure.
      if (!(error instanceof AmiError) || error.code !== "action-failed" || !error.output.some((l) => l.startsWith(NOT_FOUND))) throw error;
      return false;
    }
    if (output.some((line) => line.startsWith(NOT_FOUND))) return false; // Asterisk ≤13
    if (output.some((line) => /^\[ (Included c|C)ontext '/.test(line))) return true;
    throw new AmiError("action-failed", `Unexpected answer to '${cli}' on ${this.where}: ${output[0] ?? "no output"}`, { action: "Command", output });
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private failed(action: string, message: string | undefined): AmiError {
    return new AmiError("action-failed", `Asterisk on ${this.where} answered ${action} with an error: ${message ?? "no reason given"}`, { action });
  }
}
