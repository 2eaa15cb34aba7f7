// The fake AMI server as a process of its own, for tests and benchmarks that run the CLI in
// another process:
//
//   node --import tsx test/support/fake-ami-server.ts --port-file F [--port P] [--root R]
//        [--reload-delay-ms N] [--log F2] [--command-format 14|13|13-glued]
//        [--auth-failure-delay-ms N]
//
// Writes its port to F once listening (atomically: temp file + rename, so a poller never reads
// half a number), appends every request received to F2 as one JSON line (header names
// lower-cased), and stops on SIGTERM/SIGINT. Users: wazo/wazosecret (all) and limited/limited.
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startFakeAmi } from "./fake-ami.js";

const { values } = parseArgs({
  options: {
    "port-file": { type: "string" },
    port: { type: "string" },
    root: { type: "string" },
    "reload-delay-ms": { type: "string" },
    log: { type: "string" },
    "command-format": { type: "string" },
    "auth-failure-delay-ms": { type: "string" },
  },
});

const number = (text: string | undefined, name: string): number | undefined => {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`fake-ami-server: --${name} must be a whole number`);
  return value;
};

const format = values["command-format"];
if (format !== undefined && format !== "14" && format !== "13" && format !== "13-glued") {
  throw new Error("fake-ami-server: --command-format must be 14, 13 or 13-glued");
}
const portFile = values["port-file"];
if (!portFile) throw new Error("fake-ami-server: --port-file is required");
const log = values.log;

const ami = await startFakeAmi({
  port: number(values.port, "port"),
  root: values.root,
  reloadDelayMs: number(values["reload-delay-ms"], "reload-delay-ms"),
  authFailureDelayMs: number(values["auth-failure-delay-ms"], "auth-failure-delay-ms"),
  commandFormat: format,
  // Synchronous appends keep the lines whole and in order, and on disk before the answer.
  onAction: log ? (action) => appendFileSync(log, `${JSON.stringify(action)}\n`) : undefined,
});

writeFileSync(`${portFile}.tmp`, String(ami.port));
renameSync(`${portFile}.tmp`, portFile);

const stop = () => void ami.close().then(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
