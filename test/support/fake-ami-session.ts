// One client connection of the fake AMI server, answering like the recorded Asterisk 22
// ("Behaviour summary" of shared/ami/asterisk-22-transcripts.md): requests framed by a blank
// line (CRLF or bare LF), handled strictly in order, header names case-insensitive, first
// occurrence wins, ActionID echoed as the second line when non-empty.
import type { Socket } from "node:net";
import { isBlacklisted, runCli } from "./fake-ami-cli.js";
import type { CliHost } from "./fake-ami-cli.js";
import type { FakeAmiUser } from "./fake-ami-data.js";
import { MANAGER_ACTIONS, RELOAD_MESSAGE, RELOAD_STATUS } from "./fake-ami-data.js";

/** A received request: lower-cased header name → value (first occurrence). */
export type FakeAmiAction = Record<string, string>;

/** What a session needs from its server. */
export interface SessionHost extends CliHost {
  readonly users: Record<string, FakeAmiUser>;
  readonly authFailureDelayMs: number;
  readonly authTimeoutMs: number;
  readonly commandFormat: "14" | "13" | "13-glued";
  readonly fragmentWrites: boolean;
  record(action: FakeAmiAction): void;
  recordLogin(username: string, ok: boolean): void;
  /** Sends an event to every logged-in session with events on and that read class. */
  broadcast(readClass: string, fields: Array<[string, string]>): void;
  sleep(ms: number): Promise<void>;
}

type Fields = Array<[string, string]>;
const MAX_LINE_BYTES = 1024;
const PRE_LOGIN_ACTIONS = new Set(["login", "logoff", "challenge"]);
const AST_FALSE = new Set(["no", "false", "n", "f", "0", "off"]);
const classes = (list: string) => new Set(list.split(",").map((c) => c.trim().toLowerCase()));

export class FakeSession {
  private user: { name: string; read: Set<string>; write: Set<string> } | undefined;
  private events = true;
  private partial = "";
  private lines: string[] = [];
  private tooLong = false;
  private readonly queue: Array<{ lines: string[]; tooLong: boolean }> = [];
  private busy = false;
  private done = false; // after Logoff or a failed Login: input is ignored
  private writing: Promise<void> = Promise.resolve();
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: Socket,
    private readonly host: SessionHost,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.receive(chunk));
    socket.on("error", () => {});
    socket.on("close", () => clearTimeout(this.authTimer));
    // Asterisk closes never-authenticated connections silently after authtimeout (30 s).
    this.authTimer = setTimeout(() => this.user || this.end(), host.authTimeoutMs).unref();
    this.write("Asterisk Call Manager/11.0.0\r\n");
  }

  private receive(chunk: string): void {
    const parts = (this.partial + chunk).split("\n"); // a bare \r is not a terminator
    this.partial = parts.pop() ?? "";
    for (const part of parts) {
      if (Buffer.byteLength(part) + 1 > MAX_LINE_BYTES) this.tooLong = true;
      const line = part.endsWith("\r") ? part.slice(0, -1) : part;
      if (line !== "") {
        this.lines.push(line);
        continue;
      }
      this.queue.push({ lines: this.lines, tooLong: this.tooLong });
      this.lines = [];
      this.tooLong = false;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    while (this.queue.length > 0 && !this.done) await this.handle(this.queue.shift()!);
    this.busy = false;
  }

  private async handle(request: { lines: string[]; tooLong: boolean }): Promise<void> {
    if (request.tooLong) return this.respond(undefined, "Error", [["Message", "Failed to parse message: line too long"]]);
    const action: FakeAmiAction = {};
    for (const line of request.lines) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const name = line.slice(0, colon).toLowerCase();
      action[name] ??= line.slice(colon + 1).replace(/^[ \t]+/, "");
    }
    this.host.record(action);
    const id = action.actionid || undefined;
    const name = action.action ?? "";
    const lower = name.toLowerCase();
    if (name === "") return this.respond(id, "Error", [["Message", "Missing action in request"]]);
    if (!this.user && !PRE_LOGIN_ACTIONS.has(lower)) return this.respond(id, "Error", [["Message", "Permission denied"]]);
    const known = MANAGER_ACTIONS.find(([n]) => n.toLowerCase() === lower);
    if (!known) {
      return this.respond(id, "Error", [["Message", `Invalid/unknown command: ${name}. Use Action: ListCommands to show available commands.`]]);
    }
    if (this.user && !this.mayRun(known[2])) return this.respond(id, "Error", [["Message", "Permission denied"]]);
    switch (lower) {
      case "login":
        return this.login(id, action);
      case "logoff":
        this.respond(id, "Goodbye", [["Message", "Thanks for all the fish."]]);
        return this.end();
      case "challenge":
        return this.respond(id, "Success", [["Challenge", String(100000000 + Math.floor(Math.random() * 899999999))]]);
      case "ping":
        return this.respond(id, "Success", [
          ["Ping", "Pong"],
          ["Timestamp", (Date.now() / 1000).toFixed(6)],
        ]);
      case "events": {
        const mask = (action.eventmask ?? "").trim().toLowerCase();
        this.events = !AST_FALSE.has(mask);
        return this.respond(id, "Success", [["Events", this.events ? "On" : "Off"]]);
      }
      case "listcommands": {
        const allowed = MANAGER_ACTIONS.filter(([, , priv]) => this.mayRun(priv));
        const fields: Fields = allowed.map(([n, description, priv]) => [n, `${description}  (Priv: ${priv})`]);
        this.respond(id, "Success", fields);
        return this.write("\r\n"); // Asterisk really ends this one with an extra blank line
      }
      case "command":
        return this.command(id, action.command ?? "");
      case "reload": {
        const module = action.module || undefined;
        const outcome = await this.host.reloadModule(module, "Reload");
        this.respond(id, outcome === "ok" ? "Success" : "Error", [["Message", RELOAD_MESSAGE[outcome]]]);
        // After the response, to every session reading `system` (this one included).
        return this.host.broadcast("system", [
          ["Event", "Reload"],
          ["Privilege", "system,all"],
          ["Module", module ?? "All"],
          ["Status", String(RELOAD_STATUS[outcome])],
        ]);
      }
      default:
        return this.respond(id, "Error", [["Message", `Fake AMI: action ${known[0]} is not simulated`]]);
    }
  }

  /** `(Priv: …)` classes of an action against the user's write classes. */
  private mayRun(priv: string): boolean {
    if (priv === "<none>") return true;
    const write = this.user?.write ?? new Set();
    return write.has("all") || priv.split(",").some((c) => c !== "all" && write.has(c));
  }

  private async login(id: string | undefined, action: FakeAmiAction): Promise<void> {
    if (this.user) return this.respond(id, "Success", [["Message", "Already authenticated"]]);
    const username = action.username ?? "";
    const user = Object.hasOwn(this.host.users, username) ? this.host.users[username] : undefined;
    if (!user || action.secret !== user.secret) {
      this.host.recordLogin(username, false);
      this.done = true; // whatever else the client sent is never answered
      await this.host.sleep(this.host.authFailureDelayMs);
      this.respond(id, "Error", [["Message", "Authentication failed"]]);
      return this.end();
    }
    this.user = { name: username, read: classes(user.read), write: classes(user.write) };
    // `Events: off` is honoured; asterisk-manager's `Event: off` is not (Asterisk ignores it).
    this.events = !AST_FALSE.has((action.events ?? "on").trim().toLowerCase());
    this.host.recordLogin(username, true);
    this.respond(id, "Success", [["Message", "Authentication accepted"]]);
    this.event("system", [
      ["Event", "FullyBooted"],
      ["Privilege", "system,all"],
      ["Uptime", String(this.host.uptimeSeconds())],
      ["LastReload", String(this.host.lastReloadSeconds())],
      ["Status", "Fully Booted"],
    ]);
    const address = this.socket.remoteAddress ?? "127.0.0.1";
    this.host.broadcast("security", [
      ["Event", "SuccessfulAuth"],
      ["Privilege", "security,all"],
      ["Severity", "Informational"],
      ["Service", "AMI"],
      ["EventVersion", "1"],
      ["AccountID", username],
      ["RemoteAddress", `IPV4/TCP/${address}/${this.socket.remotePort ?? 0}`],
      ["UsingPassword", "0"],
    ]);
  }

  private async command(id: string | undefined, command: string): Promise<void> {
    if (command.trim() === "") return this.respond(id, "Error", [["Message", "No command provided"]]);
    if (isBlacklisted(command)) return this.respond(id, "Error", [["Message", "Command blacklisted"]]);
    const result = await runCli(command, this.host);
    if (this.host.commandFormat === "14") {
      const output: Fields = result.lines.map((line) => ["Output", line]);
      return this.respond(id, result.ok ? "Success" : "Error", [["Message", "Command output follows"], ...output]);
    }
    // Asterisk ≤13: raw CLI text (LF endings) then the marker, glued to the last line when the
    // output did not end with a newline. Failures are not reported.
    const text = this.host.commandFormat === "13" ? result.lines.map((l) => `${l}\n`).join("") : result.lines.join("\n");
    this.write(`Response: Follows\r\nPrivilege: Command\r\n${id ? `ActionID: ${id}\r\n` : ""}${text}--END COMMAND--\r\n\r\n`);
  }

  /** Sends an event to this session if it reads `readClass` and has events on. */
  event(readClass: string, fields: Fields): void {
    if (!this.user || !this.events || !(this.user.read.has("all") || this.user.read.has(readClass))) return;
    this.write(fields.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n");
  }

  private respond(id: string | undefined, response: string, fields: Fields): void {
    const all: Fields = [["Response", response], ...(id ? [["ActionID", id] as [string, string]] : []), ...fields];
    this.write(all.map(([n, v]) => `${n}: ${v}\r\n`).join("") + "\r\n");
  }

  private write(text: string): void {
    if (!this.host.fragmentWrites) {
      if (!this.socket.destroyed) this.socket.write(text);
      return;
    }
    // 1, 2, 3, 1, 2, 3… bytes per write with an event-loop turn in between, so the client
    // gets many tiny reads (a UTF-8 character may be split too).
    const bytes = Buffer.from(text);
    this.writing = this.writing.then(async () => {
      for (let i = 0, n = 1; i < bytes.length && !this.socket.destroyed; i += n, n = (n % 3) + 1) {
        this.socket.write(bytes.subarray(i, i + n));
        await new Promise((resolve) => setImmediate(resolve));
      }
    });
  }

  /** Closes our side after everything written so far (FIN, like Asterisk). */
  end(): void {
    this.done = true;
    this.writing = this.writing.then(() => void this.socket.end());
  }
}
