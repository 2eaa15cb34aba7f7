/**
 * Peak resident set size of a process, in MiB.
 *
 * The kernel keeps each process's RSS high-water mark (ru_maxrss, also VmHWM in
 * /proc/PID/status); nothing has to be sampled, so a short peak cannot be missed. Two readers:
 *
 * - GNU `/usr/bin/time -f %M`, which reads ru_maxrss from wait4() on the child it ran (KiB);
 *   nothing is loaded into the measured process. Used when present and sane (GNU time before 1.8
 *   reported 4× the real value on Linux: checked against the second reader on a known allocation).
 * - `node --import bench/lib/rss-hook.mjs`: the process writes `process.resourceUsage().maxRSS`
 *   (getrusage(RUSAGE_SELF)) at exit. Always taken, as a cross-check.
 *
 * Node cannot read a child's rusage itself (child_process gives no rusage), hence these two.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runChecked, type Command } from "./proc.js";

const TIME = "/usr/bin/time";
const HOOK = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), "rss-hook.mjs")).href;

export interface Rss {
  /** The figure reported, MiB. */
  mib: number;
  /** Which reader gave it. */
  method: string;
  /** ru_maxrss seen by /usr/bin/time (MiB), if used. */
  timeMib?: number;
  /** ru_maxrss read by the process itself at exit (MiB). */
  selfMib?: number;
}

let timeUsable: boolean | undefined;

/** Runs a node command (`argv[0]` = node) once and returns its peak RSS. */
export async function peakRss(cmd: Command, tmp: string, what: string): Promise<Rss> {
  if (path.basename(cmd.argv[0]) !== path.basename(process.execPath)) throw new Error("peakRss: expects a node command");
  timeUsable ??= await checkTime(tmp);
  const selfFile = path.join(tmp, "rss-self.txt");
  const timeFile = path.join(tmp, "rss-time.txt");
  rmSync(selfFile, { force: true });
  rmSync(timeFile, { force: true });
  const nodeArgv = [cmd.argv[0], "--import", HOOK, ...cmd.argv.slice(1)];
  const argv = timeUsable ? [TIME, "-f", "%M", "-o", timeFile, ...nodeArgv] : nodeArgv;
  await runChecked({ ...cmd, argv, env: { ...cmd.env, BENCH_RSS_FILE: selfFile } }, what);
  const selfMib = Number(readFileSync(selfFile, "utf8")) / 1024;
  if (!timeUsable) return { mib: selfMib, method: "process.resourceUsage().maxRSS at exit (node --import hook)", selfMib };
  const timeMib = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop()) / 1024;
  return { mib: timeMib, method: "/usr/bin/time -f %M (wait4 ru_maxrss)", timeMib, selfMib };
}

/** /usr/bin/time is there, supports -f/-o, and agrees with getrusage on a 100 MiB allocation. */
async function checkTime(tmp: string): Promise<boolean> {
  if (!existsSync(TIME)) return false;
  const selfFile = path.join(tmp, "rss-cal-self.txt");
  const timeFile = path.join(tmp, "rss-cal-time.txt");
  try {
    await runChecked(
      {
        argv: [TIME, "-f", "%M", "-o", timeFile, process.execPath, "--import", HOOK, "-e", "Buffer.alloc(100 * 1024 * 1024, 1)"],
        env: { ...process.env, BENCH_RSS_FILE: selfFile },
      },
      "calibrating /usr/bin/time",
    );
    const t = Number(readFileSync(timeFile, "utf8").trim().split("\n").pop());
    const s = Number(readFileSync(selfFile, "utf8"));
    return Number.isFinite(t) && s > 100 * 1024 && Math.abs(t - s) / s < 0.1;
  } catch {
    return false;
  }
}
