/**
 * Running one command as a timed process, and the interleaved A/B loop every row uses.
 *
 * A run is timed from just before `spawn` to the child's `exit` event (whole-process wall time,
 * start-up included); output is captured (pipes, not a terminal, for both sides alike) and kept
 * only to explain a failure.
 */
import { spawn } from "node:child_process";

export interface Command {
  /** Executable and arguments (never a shell string unless argv[0] is sh). */
  argv: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Exit codes accepted as success (default: 0 only). */
  okCodes?: number[];
}

export interface Timed {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const KEEP_BYTES = 64 * 1024;
const keepTail = (text: string) => (text.length > KEEP_BYTES ? text.slice(-KEEP_BYTES) : text);

/** Runs `cmd` once and returns its wall time in milliseconds. */
export function runTimed(cmd: Command, timeoutMs = 120_000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    let stdout = "";
    let stderr = "";
    let ms = 0;
    let code: number | null = null;
    let signal: NodeJS.Signals | null = null;
    const started = process.hrtime.bigint();
    const child = spawn(cmd.argv[0], cmd.argv.slice(1), { env: cmd.env ?? process.env, cwd: cmd.cwd, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout = keepTail(stdout + d)));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = keepTail(stderr + d)));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd.argv.join(" ")}: ${e.message}`));
    });
    child.on("exit", (c, s) => {
      ms = Number(process.hrtime.bigint() - started) / 1e6;
      code = c;
      signal = s;
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolve({ ms, code, signal, stdout, stderr });
    });
  });
}

/** Runs `cmd`, failing loudly (with its output) on an unexpected exit. */
export async function runChecked(cmd: Command, what: string): Promise<Timed> {
  const r = await runTimed(cmd);
  if (r.code === null || !(cmd.okCodes ?? [0]).includes(r.code)) {
    throw new Error(
      `${what}: \`${cmd.argv.join(" ")}\` exited with ${r.code ?? r.signal}\n--- stdout (tail)\n${r.stdout.slice(-3000)}\n--- stderr (tail)\n${r.stderr.slice(-3000)}`,
    );
  }
  return r;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One side of a row: untimed preparation, the timed command, untimed checks afterwards. */
export interface Side<C = unknown> {
  label: string;
  /** Untimed: fresh folders, pointing the fake server at the right root… Returns a context. */
  prepare?: () => Promise<C>;
  command: (ctx: C) => Command;
  /** Untimed: checks the result (reload counts, files present), cleans up. */
  after?: (ctx: C, r: Timed, measured: boolean) => Promise<void>;
}

export interface SideResult {
  label: string;
  /** Timed runs, warm-up excluded, in run order. */
  ms: number[];
  median: number;
  min: number;
  max: number;
}

/**
 * Runs the sides interleaved (A B A B …): `warmup` rounds that are not counted, then `runs`
 * counted rounds. Returns one result per side.
 */
export async function interleave(
  sides: Side<any>[],
  opts: { warmup: number; runs: number; what: string; progress?: (line: string) => void },
): Promise<SideResult[]> {
  const samples: number[][] = sides.map(() => []);
  for (let round = 0; round < opts.warmup + opts.runs; round++) {
    const measured = round >= opts.warmup;
    const last: number[] = [];
    for (const [i, side] of sides.entries()) {
      const ctx = side.prepare ? await side.prepare() : undefined;
      const r = await runChecked(side.command(ctx), `${opts.what} / ${side.label}`);
      if (side.after) await side.after(ctx, r, measured);
      if (measured) samples[i].push(r.ms);
      last.push(r.ms);
    }
    opts.progress?.(
      `${opts.what}: ${measured ? `run ${round - opts.warmup + 1}/${opts.runs}` : "warm-up"} ${last.map((ms, i) => `${"AB"[i] ?? i}=${ms.toFixed(0)} ms`).join(" ")}`,
    );
  }
  return sides.map((s, i) => ({ label: s.label, ms: samples[i], median: median(samples[i]), min: Math.min(...samples[i]), max: Math.max(...samples[i]) }));
}
