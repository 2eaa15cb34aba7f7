// One AMI session over asterisk-manager, with what that module lacks (its flaws are listed in
// asterisk-manager.d.ts): a connect+login deadline,
// per-action timeouts, our own ActionIDs, typed errors, prompt failure on a refused login or a
// closed socket, and a close() that leaves no socket or timer behind.
//
// The module owns the connection, the login handshake and the writing of actions. We also need
// the socket itself (its errors are swallowed by the module's no-op 'error' listener, and a
// socket still connecting is leaked by disconnect()), which the module does not expose: Node's
// documented `net.client.socket` diagnostics channel hands it to us as it is created. Answers
// are read from that socket by AmiFramer (see ami-framer.ts for why).
import { randomBytes } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Socket } from "node:net";
import Manager from "asterisk-manager";
import { AmiError, hostPort, permissionMessage } from "./ami-errors.js";
import { AmiFramer, type AmiHeader, AmiResponse } from "./ami-framer.js";
import type { AmiConfig } from "./ami-url.js";

export type AmiLog = (line: string) => void;

interface Pending {
  action: string;
  resolve: (response: AmiResponse) => void;
  reject: (error: AmiError) => void;
  timer: NodeJS.Timeout;
}

interface Waiter {
  resolve: () => void;
  reject: (error: AmiError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_ACTION_TIMEOUT_MS = 10000;
const LOGOFF_TIMEOUT_MS = 500; // Asterisk answers Logoff at once unless busy with earlier actions
const MAX_LINE_BYTES = 1024; // Asterisk's input buffer, terminator included
const LOG_LINE_CHARS = 200; // longer answers are logged one header per line

/** Runs `connect` and returns the TCP socket it creates, as published by Node. */
function captureSocket(connect: () => void): Socket {
  let socket: Socket | undefined;
  const onSocket = (message: unknown) => {
    socket ??= (message as { socket: Socket }).socket;
  };
  subscribe("net.client.socket", onSocket);
  try {
    connect();
  } finally {
    unsubscribe("net.client.socket", onSocket);
  }
  if (!socket) throw new Error("asterisk-manager did not open a TCP socket");
  return socket;
}

/** Lines for the `log` option: headers joined by " | " on one line when short, else one per
 * line (a ListCommands answer has hundreds); Secret hidden, no raw CR/LF. */
export function logLines(direction: ">" | "<", headers: readonly AmiHeader[], body: readonly string[] = []): string[] {
  const parts = [...headers.map(([n, v]) => (n.toLowerCase() === "secret" ? `${n}: ***` : `${n}: ${v}`)), ...body].map((p) => p.replace(/[\r\n]/g, " "));
  const line = `${direction} ${parts.join(" | ")}`;
  if (line.length <= LOG_LINE_CHARS) return [line];
  const head = parts.slice(0, 2);
  return [`${direction} ${head.join(" | ")}`, ...parts.slice(2).map((p) => `${direction}   ${p}`)];
}

export class AmiConnection {
  readonly where: string;
  private readonly pending = new Map<string, Pending>();
  private readonly waiters = new Set<Waiter>();
  // Unique to this connection: replies to another connection's actions are never taken for ours.
  private readonly idPrefix = `wt${randomBytes(8).toString("hex")}.`;
  private nextId = 0;
  private state: "login" | "ready" | "closed" = "login";
  private socketClosed = false;
  private closing: Promise<void> | undefined;
  private onLoginAnswer: ((response: AmiResponse) => void) | undefined;

  private constructor(
    private readonly config: AmiConfig,
    private readonly manager: Manager.Instance,
    private readonly socket: Socket,
    private readonly log: AmiLog | undefined,
  ) {
    this.where = hostPort(config.host, config.port);
    const framer = new AmiFramer((message) => this.receive(message));
    socket.on("data", (chunk: string | Buffer) => framer.push(String(chunk)));
    socket.on("error", () => {}); // reported through 'close' or the login outcome
    socket.on("close", () => {
      this.socketClosed = true;
      this.shutdown(`The Asterisk manager at ${this.where} closed the connection`);
    });
  }

  /** Connects and logs in, both under `config.timeoutMs`. */
  static open(config: AmiConfig, log?: AmiLog): Promise<AmiConnection> {
    const manager = new Manager(undefined, config.host, config.username, config.secret, false);
    const socket = captureSocket(() => manager.connect(config.port, config.host));
    const connection = new AmiConnection(config, manager, socket, log);
    return connection.login().then(() => {
      // The module's login sends `Event: off`, which Asterisk ignores (the header is `Events`),
      // so a busy PBX would stream every event to us. Turn them off, without waiting.
      connection.send({ Action: "Events", EventMask: "off" }).catch(() => {});
      return connection;
    });
  }

  private login(): Promise<void> {
    const { socket, where, config } = this;
    const user = config.username;
    const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let greeted = false;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: AmiError) => {
        if (this.state !== "login") return;
        clearTimeout(timer);
        socket.off("error", onError);
        socket.off("close", onClose);
        this.onLoginAnswer = undefined;
        if (!error) {
          this.state = "ready";
          return resolve();
        }
        this.state = "closed";
        // Settle once the socket is really gone, so a failed open leaves no handle behind.
        if (this.socketClosed) return reject(error);
        socket.once("close", () => reject(error));
        socket.destroy();
      };
      const authFailed = () =>
        new AmiError(
          "auth-failed",
          `The Asterisk manager at ${where} refused the login of user '${user}' (wrong user name or secret? see /etc/asterisk/manager.conf)`,
          { action: "Login" },
        );
      const timer = setTimeout(() => {
        const what = greeted ? "answer the login" : "send its greeting (is this an AMI port?)";
        done(new AmiError("timeout", `The Asterisk manager at ${where} did not ${what} within ${timeoutMs} ms`, { action: "Login" }));
      }, timeoutMs);
      const onError = (error: NodeJS.ErrnoException) => {
        if (socket.connecting || !greeted) {
          const why = error.code === "ECONNREFUSED" ? "connection refused (is Asterisk running with AMI enabled?)" : (error.code ?? error.message);
          done(new AmiError("connection-refused", `Cannot connect to the Asterisk manager at ${where}: ${why}`, { cause: error }));
        }
      };
      const onClose = () =>
        done(new AmiError("socket-closed", `The Asterisk manager at ${where} closed the connection before answering the login`, { action: "Login" }));
      socket.on("error", onError);
      socket.on("close", onClose);
      socket.once("data", () => (greeted = true));
      // The first answer on the connection is the login's: Asterisk answers strictly in order.
      // A refusal is taken from that answer (or from the close right behind it), so it never
      // depends on the module calling back, which nothing in it guarantees.
      this.onLoginAnswer = (answer) => (answer.response.toLowerCase() === "success" ? undefined : done(authFailed()));
      socket.once("connect", () => {
        this.logAll(
          logLines(">", [
            ["Action", "Login"],
            ["Username", user],
            ["Secret", config.secret],
            ["Event", "off"],
          ]),
        );
        // Success is taken from the module's callback: that is when it marks itself
        // authenticated and starts sending our actions instead of holding them back.
        this.manager.login((error) => done(error ? authFailed() : undefined));
      });
    });
  }

  private logAll(lines: string[]): void {
    if (this.log) for (const line of lines) this.log(line);
  }

  private receive(message: AmiResponse): void {
    if (!message.get("Response")) return; // events: nobody here asked for them
    this.logAll(logLines("<", message.headers, message.body));
    if (this.state === "login") return this.onLoginAnswer?.(message);
    const id = message.actionId;
    const pending = id === undefined ? undefined : this.pending.get(id);
    if (!pending || id === undefined) return; // late answer to a timed-out action
    this.forget(id, pending);
    const text = message.message ?? "";
    if (message.response === "Error" && text === "Permission denied") {
      pending.reject(new AmiError("permission-denied", permissionMessage(this.config.username, this.where, [pending.action]), { action: pending.action }));
    } else if (message.response === "Error" && text.startsWith("Invalid/unknown command")) {
      pending.reject(
        new AmiError("unknown-action", `The Asterisk manager at ${this.where} does not know the action '${pending.action}'`, { action: pending.action }),
      );
    } else {
      pending.resolve(message);
    }
  }

  private forget(id: string, pending: Pending): void {
    clearTimeout(pending.timer);
    this.pending.delete(id);
    this.manager.removeAllListeners(id); // the module's per-ActionID listener, if it never fired
  }

  /**
   * Sends one action and resolves with Asterisk's answer, `Response: Error` included, except
   * `Permission denied` and `Invalid/unknown command`, which reject (they mean the action cannot
   * be used at all). Any ActionID in `fields` is replaced by our own.
   */
  send(fields: Record<string, string>, timeoutMs = this.config.actionTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS): Promise<AmiResponse> {
    const entries = Object.entries(fields).filter(([name]) => name.toLowerCase() !== "actionid");
    const action = entries.find(([name]) => name.toLowerCase() === "action")?.[1];
    if (!action) return Promise.reject(new TypeError("AMI action without an Action field"));
    for (const [name, value] of entries) {
      if (/[\r\n:]/.test(name) || /[\r\n]/.test(value)) {
        return Promise.reject(new TypeError(`AMI ${action}: header '${name}' contains a line break or colon`));
      }
      if (Buffer.byteLength(`${name}: ${value}\r\n`) > MAX_LINE_BYTES) {
        return Promise.reject(
          new AmiError("action-failed", `AMI ${action}: header '${name}' is longer than the ${MAX_LINE_BYTES} bytes per line Asterisk accepts`, { action }),
        );
      }
    }
    if (this.state !== "ready") {
      return Promise.reject(new AmiError("socket-closed", `The AMI connection to ${this.where} is closed; cannot send ${action}`, { action }));
    }
    const id = `${this.idPrefix}${++this.nextId}`;
    return new Promise<AmiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forget(id, pending);
        reject(new AmiError("timeout", `The Asterisk manager at ${this.where} did not answer ${action} within ${timeoutMs} ms`, { action }));
      }, timeoutMs);
      const pending: Pending = { action, resolve, reject, timer };
      this.pending.set(id, pending);
      this.logAll(logLines(">", [["Action", action], ["ActionID", id], ...entries.filter(([n]) => n.toLowerCase() !== "action")]));
      const lowered = Object.fromEntries(entries.map(([n, v]) => [n.toLowerCase(), v]));
      this.manager.action({ ...lowered, action, actionid: id }, () => {});
    });
  }

  /** Waits `ms`, unless the connection closes first (then rejects with 'socket-closed'). */
  delay(ms: number): Promise<void> {
    if (this.state !== "ready") return Promise.reject(new AmiError("socket-closed", `The AMI connection to ${this.where} is closed`));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          resolve();
        }, ms),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects everything still waiting; later sends fail at once. */
  private shutdown(why: string): void {
    if (this.state === "login") return; // the login promise reports it
    this.state = "closed";
    for (const [id, pending] of this.pending) {
      this.forget(id, pending);
      pending.reject(new AmiError("socket-closed", `${why} while waiting for the answer to ${pending.action}`, { action: pending.action }));
    }
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new AmiError("socket-closed", why));
    }
    this.waiters.clear();
  }

  /** Logs off (briefly waiting for Goodbye), then closes the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.state === "ready") {
        await this.send({ Action: "Logoff" }, Math.min(LOGOFF_TIMEOUT_MS, this.config.actionTimeoutMs ?? LOGOFF_TIMEOUT_MS)).catch(() => {});
      }
      this.shutdown(`The AMI connection to ${this.where} was closed by us`);
      this.manager.disconnect();
      if (!this.socketClosed) {
        const closed = new Promise((resolve) => this.socket.once("close", resolve));
        this.socket.destroy();
        await closed;
      }
    })();
    return this.closing;
  }
}
