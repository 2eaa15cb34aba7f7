/**
 * lintDialplanFile on real files (encodings and bytes that fixtures could not keep safely),
 * formatDiagnostic's output, and extension extraction details.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { lintDialplanFile } from "../../src/dialplan/lint.js";
import { formatDiagnostic as printDiagnostic } from "../../src/report/diagnostic.js";

const formatDiagnostic = (d: DialplanDiagnostic, source: string) => printDiagnostic({ ...d, source }, process.cwd());
import { parseDialplan, type DialplanDiagnostic } from "../../src/dialplan/parse.js";

const HELLO = "[xivo-extrafeatures]\nexten = ***42,1,Playback(hello-world)\nsame = n,Return()\n";

let dir = "";
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "dialplan-lint-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lintBytes(name: string, bytes: Uint8Array | string) {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return { file, ...(await lintDialplanFile(file)) };
}

describe("lintDialplanFile", () => {
  it("reads a clean file and lists its extensions", async () => {
    const r = await lintBytes("helloworld.conf", HELLO);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.extensions, [{ context: "xivo-extrafeatures", extension: "***42", line: 2 }]);
  });

  it("reads a Latin-1 file as Asterisk does: bytes, no complaint (a real Asterisk loads it)", async () => {
    const latin1 = Buffer.from("[plugin]\nexten = 100,1,Playback(caf\xe9)\n", "latin1");
    const r = await lintBytes("latin1.conf", latin1);
    assert.deepEqual(r.diagnostics, []);
    assert.deepEqual(r.extensions, [{ context: "plugin", extension: "100", line: 2 }]);
    for (const bytes of [
      [0xc0, 0xaf],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
    ]) {
      const bad = await lintBytes("bad.conf", Buffer.from([0x5b, 0x61, 0x5d, 0x0a, 0x3b, ...bytes]));
      assert.deepEqual(bad.diagnostics, []);
    }
  });

  it("warns about a NUL byte that cuts text off a line, not about one in a comment", async () => {
    const r = await lintBytes("nul.conf", "[plugin]\nexten = 100,1,NoOp(a\0b)\n");
    const nul = r.diagnostics.find((d) => d.message.includes("NUL"));
    assert.ok(nul);
    assert.deepEqual([nul.line, nul.col, nul.severity], [2, 21, "warning"]);
    const comment = await lintBytes("nul2.conf", "[plugin]\nexten = 100,1,NoOp(a) ; a\0b\n");
    assert.deepEqual(comment.diagnostics, []);
  });

  it("ignores a UTF-8 byte-order mark, as Asterisk 22 does", async () => {
    const r = await lintBytes("bom.conf", "\uFEFF" + HELLO);
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.extensions.length, 1);
  });

  it("gives a file that is not dialplan one warning naming it, and keeps only its errors", async () => {
    const script = "#!/usr/bin/env python3\nimport sys\nx = 1\nprint(x)\n";
    const r = await lintDialplanFile((await lintBytes("interfaces.py", script)).file, { target: "/etc/asterisk/extensions_extra.d/interfaces.py" });
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}`),
      ["1:1: warning"],
    );
    assert.match(
      r.diagnostics[0].message,
      /^interfaces\.py is not a dialplan file \(it starts with '#!'\), but Asterisk reads it as one: it will ignore its lines$/,
    );
    assert.match(r.diagnostics[0].hint ?? "", /move interfaces\.py out of extensions_extra\.d/);
    const readme = await lintDialplanFile((await lintBytes("README", "Dial *64.\nexten = 1,1,NoOp()\n")).file, {
      target: "/etc/asterisk/extensions_extra.d/README",
    });
    assert.deepEqual(
      readme.diagnostics.map((d) => `${d.line}: ${d.severity}: ${d.message}`),
      [
        "1: warning: README is not a dialplan file (its name does not end in .conf), but Asterisk reads it as one: it will ignore its lines",
        "2: error: 'exten' before any [context]",
      ],
    );
  });

  it("accepts CRLF line endings (Asterisk strips the CR with the other blanks)", async () => {
    const r = await lintBytes("crlf.conf", HELLO.replace(/\n/g, "\r\n"));
    assert.deepEqual(r.diagnostics, []);
    assert.equal(r.extensions.length, 1);
  });

  it("reports a line Asterisk skips for being too long", async () => {
    const long = `exten = 200,1,NoOp(${"x".repeat(8200)})`;
    const r = await lintBytes("long.conf", `${HELLO}${long}\nexten = 201,1,NoOp()\n`);
    assert.deepEqual(
      r.diagnostics.map((d) => `${d.line}:${d.col}: ${d.severity}`),
      ["4:1: error"],
    );
    assert.deepEqual(
      r.extensions.map((e) => e.extension),
      ["***42", "201"],
    );
  });

  it("rejects a missing file", async () => {
    await assert.rejects(lintDialplanFile(path.join(dir, "missing.conf")), { code: "ENOENT" });
  });
});

describe("formatDiagnostic", () => {
  const broken = "[xivo-extrafeatures]\nexten = ***42,1,Playback(hello-world)\nsame = n,Playback(hello-world\n";

  it("shows the line and marks the bad part", () => {
    const [d] = parseDialplan(broken, "helloworld.conf").diagnostics;
    assert.equal(
      formatDiagnostic(d, broken),
      [
        "helloworld.conf:3:18: warning: unbalanced parenthesis in application call: no closing ')'",
        "  3 | same = n,Playback(hello-world",
        "    |                  ^~~~~~~~~~~~",
        "    = hint: Asterisk warns \"No closing parenthesis found?\" and takes the rest of the line as the arguments; add the missing ')'",
      ].join("\n"),
    );
  });

  it("keeps tabs before the marker so it lines up, and widens the gutter for long line numbers", () => {
    const d: DialplanDiagnostic = { file: "f.conf", line: 12, col: 3, length: 2, severity: "warning", message: "m" };
    const text = `${"\n".repeat(11)}\t\tab\n`;
    assert.equal(formatDiagnostic(d, text), ["f.conf:12:3: warning: m", "  12 | \t\tab", "     | \t\t^~"].join("\n"));
  });

  it("prints only the header line when the line is not in the text", () => {
    const d: DialplanDiagnostic = { file: "f.conf", line: 9, col: 1, severity: "error", message: "gone" };
    assert.equal(formatDiagnostic(d, "one line\n"), "f.conf:9:1: error: gone");
  });

  it("clamps a marker that runs past the end of the line", () => {
    const d: DialplanDiagnostic = { file: "f.conf", line: 1, col: 4, length: 50, severity: "error", message: "m" };
    assert.equal(formatDiagnostic(d, "abcdef").split("\n")[2], "    |    ^~~");
  });
});

describe("extension extraction", () => {
  const extensions = (text: string) => parseDialplan(text, "x.conf").extensions.map((e) => `${e.extension}@${e.context}:${e.line}`);

  it("deduplicates, keeps the first line, and counts same under the preceding exten", () => {
    const text = "[a]\nexten => 1,1,NoOp()\nsame => n,NoOp()\nexten => 2,1,NoOp()\nexten => 1,3,NoOp()\n[b]\nexten => 1,1,NoOp()\n";
    assert.deepEqual(extensions(text), ["1@a:2", "2@a:4", "1@b:7"]);
  });

  it("names an extension without its caller-id part and blanks", () => {
    assert.deepEqual(extensions("[a]\nexten => 1 00/200,1,NoOp()\n"), ["100@a:2"]);
  });

  it("leaves out lines Asterisk skips, [globals], and templates themselves", () => {
    const text = "[globals]\nX=1\n[t](!)\nexten => 9,1,NoOp()\n[a]\nexten => 1,0,NoOp()\nsame => 1,NoOp()\n";
    assert.deepEqual(extensions(text), ["1@a:7"]);
  });

  it("ignores commented-out lines, block comments included", () => {
    const text = "[a]\n;exten => 1,1,NoOp()\n;--\nexten => 2,1,NoOp()\n--;\nexten => 3,1,NoOp() ; exten => 4,1,NoOp()\n";
    assert.deepEqual(extensions(text), ["3@a:6"]);
  });

  it("does not treat a trailing backslash as a continuation", () => {
    const r = parseDialplan("[a]\nexten => 1,1,NoOp(x)\\\nexten => 2,1,NoOp()\n", "x.conf");
    assert.deepEqual(
      r.extensions.map((e) => e.extension),
      ["1", "2"],
    );
  });
});
