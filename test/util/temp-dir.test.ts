import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { tempDirOf } from "../../src/util/temp-dir.js";

/** What Node's os.tmpdir() answers in a process started with exactly `env`. */
const nodeTmpdir = (env: Record<string, string>) =>
  execFileSync(process.execPath, ["-p", "require('node:os').tmpdir()"], { env, encoding: "utf8" }).replace(/\n$/, "");

const CASES: Record<string, string>[] = [
  {},
  { TMPDIR: "/var/tmp" },
  { TMPDIR: "/var/tmp/" },
  { TMPDIR: "/var/tmp//" },
  { TMPDIR: "/" },
  { TMPDIR: "//" },
  { TMPDIR: "relative/dir/" },
  { TMPDIR: "", TMP: "/from/tmp/" },
  { TMP: "/from/tmp", TEMP: "/from/temp" },
  { TEMP: "/from/temp/" },
  { TMPDIR: "", TMP: "", TEMP: "" },
  { TMPDIR: "/first", TMP: "/second", TEMP: "/third" },
];

test("tempDirOf answers what os.tmpdir() answers in a process with that environment", () => {
  for (const env of CASES) assert.equal(tempDirOf(env), nodeTmpdir(env), JSON.stringify(env));
});

test("tempDirOf: TMPDIR unset is /tmp, a trailing slash is removed", () => {
  assert.equal(tempDirOf({}), "/tmp");
  assert.equal(tempDirOf({ TMPDIR: "/var/tmp/" }), "/var/tmp");
  assert.equal(tempDirOf({ TMPDIR: "/" }), "/");
});
