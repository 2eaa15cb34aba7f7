// Loaded with `node --import` into a measured process: at exit, writes the process's own peak
// resident set size (getrusage(RUSAGE_SELF).ru_maxrss, in KiB on Linux) to $BENCH_RSS_FILE.
// A cross-check of /usr/bin/time's figure, and the measure when /usr/bin/time is missing.
import { writeFileSync } from "node:fs";

const out = process.env.BENCH_RSS_FILE;
if (out) process.on("exit", () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
