/**
 * The fake AMI server (test/support/fake-ami-server.ts) as a process of its own, for both sides
 * of a row: wazo-tasks reaches it through WAZO_TASKS_AMI_URL, `make install` through the
 * stand-in `asterisk` executable of test/fixtures/bin (FAKE_AMI_PORT).
 *
 * The server reads the dialplan from `--root`, given here as a symbolic link that each run
 * points at its own fresh root before it starts (untimed), so that a reload really loads the
 * files that run installed, whichever side ran. Every action received is one JSON line in the
 * log; the reloads a run caused are counted from the lines it added.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { rename, rm, symlink } from "node:fs/promises";
import path from "node:path";

export interface FakeAmiProcess {
  port: number;
  url: string;
  logFile: string;
  /** Points the server's root (a symbolic link) at `dir`; the next reload reads from there. */
  pointAt(dir: string): Promise<void>;
  /** Reloads logged since the last call (or since start). */
  takeReloads(): Reloads;
  stop(): Promise<void>;
}

export interface Reloads {
  /** `Action: Reload` (wazo-tasks) and `Action: Command` with `dialplan reload` / `module reload` (asterisk -x). */
  total: number;
  actions: number;
}

/** Whether one logged request is a reload, whatever the transport. */
export function isReload(action: Record<string, string>): boolean {
  const name = (action.action ?? "").toLowerCase();
  if (name === "reload") return true;
  if (name === "command") return /^\s*(dialplan\s+reload|module\s+reload|reload|core\s+reload)\b/i.test(action.command ?? "");
  return false;
}

export async function startFakeAmi(repo: string, dir: string, opts: { reloadDelayMs?: number; name: string }): Promise<FakeAmiProcess> {
  const portFile = path.join(dir, `${opts.name}.port`);
  const logFile = path.join(dir, `${opts.name}.log`);
  const rootLink = path.join(dir, `${opts.name}.root`);
  await symlink(dir, rootLink);
  const args = ["--import", "tsx", path.join(repo, "test/support/fake-ami-server.ts"), "--port-file", portFile, "--root", rootLink, "--log", logFile];
  if (opts.reloadDelayMs) args.push("--reload-delay-ms", String(opts.reloadDelayMs));
  const child: ChildProcess = spawn(process.execPath, args, { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (!port) {
    if (child.exitCode !== null) throw new Error(`fake AMI server ${opts.name} exited: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new Error(`fake AMI server ${opts.name} did not write ${portFile} within 20 s: ${stderr}`);
    }
    try {
      port = Number(readFileSync(portFile, "utf8"));
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  let offset = 0;
  const fileSize = () => {
    try {
      return statSync(logFile).size;
    } catch {
      return 0;
    }
  };
  return {
    port,
    url: `ami://wazo:wazosecret@127.0.0.1:${port}`,
    logFile,
    async pointAt(target) {
      const tmp = `${rootLink}.tmp`;
      await rm(tmp, { force: true });
      await symlink(target, tmp);
      await rename(tmp, rootLink);
    },
    takeReloads() {
      const size = fileSize();
      if (size === offset) return { total: 0, actions: 0 };
      // The server appends synchronously before answering, so a finished run's lines are all there.
      const text = readFileSync(logFile).subarray(offset, size).toString("utf8");
      offset = size;
      const actions = text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, string>);
      return { total: actions.filter(isReload).length, actions: actions.length };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    },
  };
}
