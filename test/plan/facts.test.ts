/**
 * The facts of a real target tree in a temp folder, read in one pass.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { escapeOf, gatherFacts } from "../../src/plan/facts.js";

const DIR = 0o777 & ~process.umask();
const hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

function tree(): { root: string; outside: string } {
  const base = mkdtempSync(path.join(os.tmpdir(), "facts-"));
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  mkdirSync(path.join(root, "etc/asterisk/extensions_extra.d"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(root, "etc/asterisk/extensions_extra.d/a.conf"), "[a]\n");
  chmodSync(path.join(root, "etc/asterisk/extensions_extra.d/a.conf"), 0o640);
  symlinkSync("a.conf", path.join(root, "etc/asterisk/extensions_extra.d/in.conf"));
  symlinkSync(outside, path.join(root, "etc/out"));
  return { root, outside };
}

test("facts: each kind of path, its parents, where links lead; folders listed only when asked", async (t) => {
  const { root, outside } = tree();
  t.after(() => rmSync(path.dirname(root), { recursive: true, force: true }));
  const X = "/etc/asterisk/extensions_extra.d";
  const f = await gatherFacts(root, { paths: [`${X}/a.conf`, `${X}/in.conf`, `${X}/none.conf`, "/etc/out/x.conf", X], listed: [X] });
  assert.deepEqual(f.paths.get(`${X}/a.conf`), { type: "file", mode: 0o640, size: 4, sha256: hex("[a]\n") });
  assert.deepEqual(f.paths.get(`${X}/in.conf`), { type: "symlink", target: "a.conf" });
  assert.deepEqual(f.paths.get(`${X}/none.conf`), { type: "absent" });
  assert.deepEqual(f.paths.get(X), { type: "dir", mode: DIR, entries: ["a.conf", "in.conf"] });
  // Parents are read too, and not listed.
  assert.deepEqual(f.paths.get("/etc/asterisk"), { type: "dir", mode: DIR });
  assert.deepEqual(f.paths.get("/etc/out"), { type: "symlink", target: outside });
  // Only the link out of the root escapes; a link inside it does not.
  assert.deepEqual([...f.escapes], [["/etc/out", outside]]);
  assert.deepEqual(escapeOf(f, "/etc/out/x.conf"), { via: "/etc/out", to: outside });
  // A folder that is not asked to be listed has no entries.
  const plain = await gatherFacts(root, [X]);
  assert.deepEqual(plain.paths.get(X), { type: "dir", mode: DIR });
});

test("facts: checksums of small, medium and large files match their bytes", async (t) => {
  const base = mkdtempSync(path.join(os.tmpdir(), "facts-"));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const sizes = [0, 1, 65536, 65537, 300_000, (1 << 20) + 1, 3_000_000];
  const bytes = sizes.map((n, i) => Buffer.alloc(n, i + 1).fill(`${i}-`, 0, Math.min(n, 2)));
  bytes.forEach((b, i) => writeFileSync(path.join(base, `f${i}`), b));
  const f = await gatherFacts(
    base,
    sizes.map((_, i) => `/f${i}`),
  );
  bytes.forEach((b, i) => assert.deepEqual(f.paths.get(`/f${i}`), { type: "file", mode: 0o644 & ~process.umask(), size: b.length, sha256: hex(b) }, `f${i}`));
});

test("facts: the text of the files asked for by `read`, with whether they may be executed; none for a missing file or a folder", async (t) => {
  const { root } = tree();
  t.after(() => rmSync(path.dirname(root), { recursive: true, force: true }));
  mkdirSync(path.join(root, "var/kept/wazo"), { recursive: true });
  writeFileSync(path.join(root, "var/kept/wazo/rules"), "#!/bin/sh\n");
  chmodSync(path.join(root, "var/kept/wazo/rules"), 0o755);
  writeFileSync(path.join(root, "var/kept/wazo/plain"), "text\n");
  chmodSync(path.join(root, "var/kept/wazo/plain"), 0o644);
  const f = await gatherFacts(root, { paths: [], read: ["/var/kept/wazo/rules", "/var/kept/wazo/plain", "/var/kept/wazo/none", "/var/kept/wazo"] });
  assert.deepEqual(
    [...(f.texts ?? [])],
    [
      ["/var/kept/wazo/rules", { text: "#!/bin/sh\n", executable: true }],
      ["/var/kept/wazo/plain", { text: "text\n", executable: false }],
    ],
  );
});
