/**
 * The process a library call runs in, when its caller hands none down. The command line hands
 * its own down (src/cli/signals.ts, in its internal options); a library call runs in this
 * process. The one place below the command line that reads `process` for a run's environment
 * and pid.
 */
import type { Host } from "./model/host.js";

/** `opts.host`, else this process's environment and pid. */
export const hostOf = (opts: object): Host => (opts as { host?: Host }).host ?? { env: process.env, pid: process.pid };
