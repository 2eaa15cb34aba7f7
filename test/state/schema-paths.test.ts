/**
 * The state files' path rules are regular expressions (so the validators compiled at build time
 * check them): on every path built from the pieces that matter (`.`, `..`, empty segments, a
 * trailing '/', NUL), they accept exactly what the path rules say (normalized, no `..`, inside
 * the root or the state folder).
 */
import assert from "node:assert/strict";
import path from "node:path";
import { test } from "node:test";
import { isPlainRelative, STATE_DIR } from "../../src/state/paths.js";
import { inStatePattern, PBX_PATH, ROOT_RELATIVE } from "../../src/state/schema.js";

const PIECES = ["a", "b.c", ".", "..", "...", ".x", "", "\0", "a\0b", "x y", "é"];

/** Every path of up to `n` segments over PIECES, with and without a leading and a trailing '/'. */
function paths(n: number): string[] {
  let level = [[]] as string[][];
  const all: string[][] = [];
  for (let i = 0; i < n; i++) {
    level = level.flatMap((segs) => PIECES.map((p) => [...segs, p]));
    all.push(...level);
  }
  return all.flatMap((segs) => {
    const joined = segs.join("/");
    return [joined, `/${joined}`, `${joined}/`, `/${joined}/`];
  });
}

const isPbxPath = (p: string) => p.startsWith("/") && p !== "/" && !p.includes("\0") && path.posix.normalize(p) === p && !p.split("/").includes("..");

test("PBX_PATH and ROOT_RELATIVE accept what the path rules accept, and nothing else", () => {
  const all = paths(3);
  assert.ok(all.length > 5000, `${all.length} paths`);
  let accepted = 0;
  for (const p of all) {
    assert.equal(PBX_PATH.test(p), isPbxPath(p), `PBX_PATH on ${JSON.stringify(p)}`);
    assert.equal(ROOT_RELATIVE.test(p), isPlainRelative(p), `ROOT_RELATIVE on ${JSON.stringify(p)}`);
    if (PBX_PATH.test(p)) accepted++;
  }
  assert.ok(accepted > 100, "some paths are accepted");
});

test("a state-folder path: under var/lib/wazo-tasks/SUB/ and plain", () => {
  const re = inStatePattern("preserved");
  for (const rest of paths(2)) {
    const p = `${STATE_DIR}/preserved/${rest}`;
    assert.equal(re.test(p), isPlainRelative(p), JSON.stringify(p));
  }
  for (const p of ["var/lib/wazo-tasks/rules/x", "var/lib/wazo-tasks/preservedx/y", "/var/lib/wazo-tasks/preserved/x", "varXlib/wazo-tasks/preserved/x"])
    assert.equal(re.test(p), false, p);
});
