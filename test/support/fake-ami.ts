// A fake Asterisk Manager Interface for tests and benchmarks: a TCP server on 127.0.0.1 that
// answers like the recorded Asterisk 22 (shared/ami/), simulates the dialplan loaded from a
// staging root, and records everything it receives.
//
//   const ami = await startFakeAmi({ root, authFailureDelayMs: 50 });
//   const client = await createAmiClient(parseAmiUrl(ami.url()));
//   ...; after(() => ami.close());
import { createServer, type Server, type Socket } from "node:net";
import { DEFAULT_MODULES, DEFAULT_USERS, type FakeAmiUser, type FakeReloadOutcome } from "./fake-ami-data.js";
import { type FakeAmiAction, FakeSession, type SessionHost } from "./fake-ami-session.js";
import { FakeDialplan, type FakeDialplanOptions } from "./fake-dialplan.js";

export type { FakeAmiUser, FakeReloadOutcome } from "./fake-ami-data.js";
export type { FakeAmiAction } from "./fake-ami-session.js";

export interface FakeAmiOptions extends FakeDialplanOptions {
  /** TCP port (default 0: any free port). */
  port?: number;
  /** manager.conf users (default: wazo/wazosecret read=all write=all, limited/limited read=system write=call). */
  users?: Record<string, FakeAmiUser>;
  /** Delay before `Authentication failed` (then close). Real Asterisk: 1000 ms. */
  authFailureDelayMs?: number;
  /** Silent close of never-authenticated connections. Real Asterisk: 30000 ms. */
  authTimeoutMs?: number;
  /** Command answers: Asterisk 14+ (`Output:` headers, default), 13 (`--END COMMAND--`), or 13 with the marker glued to the last line. */
  commandFormat?: "14" | "13" | "13-glued";
  /** Reload outcome per module (lower case, no `.so`), over the defaults; unknown names: no such module. */
  modules?: Record<string, FakeReloadOutcome>;
  /** Answer `A reload is in progress` to the first N Reloads of a module (`all` = no Module header). */
  reloadInProgress?: Record<string, number>;
  /** Time a reload takes (Reload action, `dialplan reload`); 220 ms ≈ 5,000 extensions. */
  reloadDelayMs?: number;
  /** Write every answer in 1–3 byte pieces. */
  fragmentWrites?: boolean;
  /** Accept connections but never answer: `true` = not even the greeting; `"after-greeting"` = greeting only. */
  silent?: boolean | "after-greeting";
  /** Called for every request received (the standalone server logs them). */
  onAction?: (action: FakeAmiAction) => void;
}

/** One reload that reached a module. */
export interface FakeReload {
  /** Normalised module name (`pbx_config`), or `all`. */
  module: string;
  /** `Reload` (action), `dialplan reload` or `module reload` (CLI through Command). */
  via: string;
  outcome: FakeReloadOutcome;
}

const normaliseModule = (name: string) => name.toLowerCase().replace(/\.so$/, "");

export class FakeAmi implements SessionHost {
  readonly users: Record<string, FakeAmiUser>;
  readonly authFailureDelayMs: number;
  readonly authTimeoutMs: number;
  readonly commandFormat: "14" | "13" | "13-glued";
  readonly fragmentWrites: boolean;
  readonly dialplan: FakeDialplan;
  /** Every request received, in order (header names lower-cased). */
  readonly actions: FakeAmiAction[] = [];
  readonly logins: Array<{ username: string; ok: boolean }> = [];
  readonly reloads: FakeReload[] = [];
  /** TCP connections accepted so far. */
  connections = 0;
  port = 0;

  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly sessions = new Set<FakeSession>();
  private readonly modules: Record<string, FakeReloadOutcome>;
  private readonly inProgress: Map<string, number>;
  private readonly started = Date.now();
  private lastReload = Date.now();
  private reloading = false;

  constructor(private readonly options: FakeAmiOptions = {}) {
    this.users = options.users ?? DEFAULT_USERS;
    this.authFailureDelayMs = options.authFailureDelayMs ?? 1000;
    this.authTimeoutMs = options.authTimeoutMs ?? 30000;
    this.commandFormat = options.commandFormat ?? "14";
    this.fragmentWrites = options.fragmentWrites ?? false;
    this.modules = { ...DEFAULT_MODULES, ...options.modules };
    this.inProgress = new Map(Object.entries(options.reloadInProgress ?? {}).map(([m, n]) => [normaliseModule(m), n]));
    this.dialplan = new FakeDialplan(options);
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port ?? 0, "127.0.0.1", () => {
        this.port = (this.server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    this.connections++;
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    socket.on("error", () => {});
    if (this.options.silent === true) return;
    if (this.options.silent === "after-greeting") return void socket.write("Asterisk Call Manager/11.0.0\r\n");
    const session = new FakeSession(socket, this);
    this.sessions.add(session);
    socket.on("close", () => this.sessions.delete(session));
  }

  /** `ami://user:secret@127.0.0.1:port` for a configured user. */
  url(user = "wazo"): string {
    const account = this.users[user];
    if (!account) throw new Error(`fake AMI: no user '${user}'`);
    return `ami://${encodeURIComponent(user)}:${encodeURIComponent(account.secret)}@127.0.0.1:${this.port}`;
  }

  /** Reloads that reached `module` (name as in Reload; `dialplan` = pbx_config), reload-all included. */
  reloadCount(module?: string): number {
    const wanted = module === undefined ? undefined : normaliseModule(module === "dialplan" ? "pbx_config" : module);
    return this.reloads.filter((r) => wanted === undefined || r.module === wanted || r.module === "all").length;
  }

  /** Drops every client connection at once (like an Asterisk crash); the server keeps listening. */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Stops listening and closes every connection. */
  close(): Promise<void> {
    this.dropConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  // ---- SessionHost ----

  record(action: FakeAmiAction): void {
    this.actions.push(action);
    this.options.onAction?.(action);
  }

  recordLogin(username: string, ok: boolean): void {
    this.logins.push({ username, ok });
  }

  broadcast(readClass: string, fields: Array<[string, string]>): void {
    for (const session of this.sessions) session.event(readClass, fields);
  }

  sleep(ms: number): Promise<void> {
    // Unref'd: a pending fake delay must never keep a test process alive.
    return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  async reloadModule(module: string | undefined, via: string): Promise<FakeReloadOutcome | "in-progress"> {
    const key = module === undefined ? "all" : normaliseModule(module); // trailing blanks break the match
    const forced = this.inProgress.get(key) ?? 0;
    if (forced > 0) {
      this.inProgress.set(key, forced - 1);
      return "in-progress";
    }
    // Server-wide, like Asterisk's reload lock: only another connection can hit it.
    if (this.reloading) return "in-progress";
    const declared = key === "all" ? "ok" : (this.modules[key] ?? "no-such-module");
    if (declared !== "ok" && declared !== "error") return declared;
    this.reloading = true;
    try {
      await this.sleep(this.options.reloadDelayMs ?? 0);
    } finally {
      this.reloading = false;
    }
    let outcome = declared;
    if (outcome === "ok" && (key === "pbx_config" || key === "all")) {
      // Reload-all reports success even when pbx_config fails (transcript 7b).
      if (!this.dialplan.reload() && key === "pbx_config") outcome = "error";
    }
    this.reloads.push({ module: key, via, outcome });
    this.lastReload = Date.now();
    return outcome;
  }

  async dialplanReload(): Promise<void> {
    await this.sleep(this.options.reloadDelayMs ?? 0);
    const ok = this.dialplan.reload(); // a failure is invisible: "Dialplan reloaded." anyway
    this.reloads.push({ module: "pbx_config", via: "dialplan reload", outcome: ok ? "ok" : "error" });
  }

  uptimeSeconds(): number {
    return Math.floor((Date.now() - this.started) / 1000);
  }

  lastReloadSeconds(): number {
    return Math.floor((Date.now() - this.lastReload) / 1000);
  }
}

/** Starts a fake AMI server on 127.0.0.1 (port 0 unless given); close it in `after()`. */
export async function startFakeAmi(options: FakeAmiOptions = {}): Promise<FakeAmi> {
  const ami = new FakeAmi(options);
  await ami.listen();
  return ami;
}
