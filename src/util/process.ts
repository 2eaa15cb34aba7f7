/**
 * Running a program: an argument list (never a shell string built by us), a timeout, output
 * streamed line by line and the last lines kept for the error message.
 */
import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import path from "node:path";

export interface ProcessResult {
  command: string[];
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last lines of stdout and stderr, interleaved as they came. */
  tail: string[];
  durationMs: number;
  ok: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  tailLines?: number;
}

/** The executable `name` as found on PATH, or undefined. */
export async function which(name: string, envPath = process.env.PATH ?? ""): Promise<string | undefined> {
  if (name.includes("/")) return (await access(name, constants.X_OK).then(() => true, () => false)) ? name : undefined;
  for (const dir of envPath.split(":").filter(Boolean)) {
    const p = path.join(dir, name);
    if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
  }
  return undefined;
}

export function runProcess(argv: string[], opts: RunOptions = {}): Promise<ProcessResult> {
  const started = Date.now();
  const tail: string[] = [];
  const keep = opts.tailLines ?? 20;
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {
            child.kill("SIGKILL");
          }
        }, opts.timeoutMs)
      : undefined;
    const lineReader = (stream: "stdout" | "stderr") => {
      let buf = "";
      return {
        data(chunk: Buffer) {
          buf += chunk.toString("utf8");
          let i: number;
          while ((i = buf.indexOf("\n")) >= 0) {
            emit(stream, buf.slice(0, i).replace(/\r$/, ""));
            buf = buf.slice(i + 1);
          }
        },
        end() {
          if (buf) emit(stream, buf);
          buf = "";
        },
      };
    };
    const emit = (stream: "stdout" | "stderr", line: string) => {
      tail.push(line);
      if (tail.length > keep) tail.shift();
      opts.onLine?.(stream, line);
    };
    const out = lineReader("stdout");
    const err = lineReader("stderr");
    child.stdout!.on("data", out.data);
    child.stderr!.on("data", err.data);
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (timer) clearTimeout(timer);
      out.end();
      err.end();
      resolve({ command: argv, exitCode, signal, timedOut, tail, durationMs: Date.now() - started, ok: exitCode === 0 && !timedOut });
    };
    child.on("error", (e) => {
      emit("stderr", `cannot run ${argv[0]}: ${(e as NodeJS.ErrnoException).code ?? e.message}`);
      finish(127, null);
    });
    child.on("close", finish);
  });
}

/** One line describing how a process ended, for error messages. */
export function describeExit(r: ProcessResult): string {
  if (r.timedOut) return `timed out after ${r.durationMs} ms`;
  if (r.signal) return `killed by ${r.signal}`;
  return `exit code ${r.exitCode}`;
}
