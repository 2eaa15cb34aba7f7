/** Finding plugin code's processes from outside: it may run in a PID namespace, where the pids
 * it sees are not this machine's, so a process is known by a token on its command line. */
import { readdirSync, readFileSync } from "node:fs";

/** Processes (not zombies: an unreaped zombie has stopped for good) whose command line holds `token`. */
export function running(token: string): string[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(token) && !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, "utf8"));
      } catch {
        return false;
      }
    });
}
