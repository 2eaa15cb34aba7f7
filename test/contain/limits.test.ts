/**
 * Every file the user hands in is bounded: the configuration file, an AMI secret file and a
 * market list (on disk or over http) that is not a regular file or is too large is refused with
 * the file named, exit 2, nothing changed and nothing hung.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { after, before, describe, test } from "node:test";
import { cleanup, runCli, snapshot, tempDir, writeTree } from "../support/rig.js";

const MB = 1024 * 1024;
const both = [[], ["--json"]];
const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

describe("files read from the user are bounded", () => {
  let tmp: string;
  let n = 0;
  before(async () => (tmp = await tempDir("wt-limits-")));
  after(() => cleanup(tmp));

  /** A root whose etc/wazo-tasks/config.yml is made by `make`. */
  async function rootWithConfig(make: (file: string) => Promise<void>): Promise<string> {
    const root = await writeTree(path.join(tmp, `root-${++n}`), { "etc/keep": "x" });
    await mkdir(path.join(root, "etc/wazo-tasks"), { recursive: true });
    await make(path.join(root, "etc/wazo-tasks/config.yml"));
    return root;
  }

  const configs: [string, (file: string) => Promise<void>, RegExp][] = [
    [
      "over 1 MB",
      (f) => writeFile(f, `ami:\n  username: wazo\n  secret: s\n#${"x".repeat(MB + 10)}\n`),
      /config\.yml is 1\.0 MB; configuration files are limited to 1 MB/,
    ],
    ["a FIFO", async (f) => void execFileSync("mkfifo", [f]), /config\.yml is a FIFO \(named pipe\), not a regular file/],
    ["a folder", (f) => mkdir(f).then(() => undefined), /config\.yml is a folder, not a regular file/],
  ];
  for (const [what, make, message] of configs)
    test(`a config.yml that is ${what} is refused, file named, exit 2, nothing changed`, async () => {
      const root = await rootWithConfig(make);
      const before = await snapshot(root);
      for (const json of both) {
        const r = await runCli(["reload", "--root", root, ...json], { timeoutMs: 15_000 });
        assert.equal(r.code, 2, out(r));
        assert.match(out(r), message);
        assert.ok(out(r).includes(path.join(root, "etc/wazo-tasks/config.yml")), "the file is named with its path");
      }
      // The market address is read from the same file.
      const m = await runCli(["market", "--root", root], { timeoutMs: 15_000, env: { WAZO_TASKS_MARKET_URL: "" } });
      assert.equal(m.code, 2, out(m));
      assert.match(out(m), message);
      assert.deepEqual(await snapshot(root), before);
    });

  test("an AMI secret file that is a FIFO is refused, not read (which would hang)", async () => {
    const secret = path.join(tmp, "secret.fifo");
    execFileSync("mkfifo", [secret]);
    // Relative to config.yml's folder: outside the root, so that the snapshot does not read it.
    const root = await rootWithConfig((f) => writeFile(f, "ami:\n  username: wazo\n  secret_file: ../../../secret.fifo\n"));
    const before = await snapshot(root);
    const r = await runCli(["reload", "--root", root], { timeoutMs: 15_000 });
    assert.equal(r.code, 2, out(r));
    assert.match(out(r), /secret\.fifo is a FIFO \(named pipe\), not a regular file/);
    assert.deepEqual(await snapshot(root), before);
  });

  test("a market list on disk over 8 MB, or a FIFO, is refused with the file named", async () => {
    const big = path.join(tmp, "big-market.json");
    await writeFile(big, JSON.stringify({ items: [], pad: "x".repeat(8 * MB) }));
    const fifo = path.join(tmp, "market.fifo");
    execFileSync("mkfifo", [fifo]);
    for (const [file, message] of [
      [big, /big-market\.json is 8\.0 MB; market lists are limited to 8 MB/],
      [fifo, /market\.fifo is a FIFO \(named pipe\), not a regular file/],
    ] as const)
      for (const json of both) {
        const r = await runCli(["market", "--market", pathToFileURL(file).href, ...json], { timeoutMs: 15_000 });
        assert.equal(r.code, 2, out(r));
        assert.match(out(r), message);
      }
  });

  describe("a market over http", () => {
    let server: Server;
    let base: string;
    const huge = Buffer.alloc(9 * MB, " ");
    before(async () => {
      server = createServer((req, res) => {
        // /declared says its size; /chunked streams without a length, and would go on for 64 MB.
        if (req.url === "/declared") res.writeHead(200, { "content-type": "application/json", "content-length": String(huge.length) }).end(huge);
        else {
          res.writeHead(200, { "content-type": "application/json" });
          let sent = 0;
          const more = () => {
            while (sent < 64 * MB && !res.destroyed) {
              sent += MB;
              if (!res.write(Buffer.alloc(MB, " "))) return void res.once("drain", more);
            }
            res.end();
          };
          res.on("error", () => {});
          more();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });

    for (const [route, size] of [
      ["declared", "9.0 MB"],
      ["chunked", "more than 8 MB"],
    ])
      test(`an answer of ${size} (${route}) is refused, exit 2, the market named`, async () => {
        for (const json of both) {
          const r = await runCli(["market", "--market", `${base}/${route}`, ...json], { timeoutMs: 20_000 });
          assert.equal(r.code, 2, out(r));
          assert.ok(out(r).includes(`the market at ${base}/${route} answered ${size}; market lists are limited to 8 MB`), out(r));
        }
      });
  });
});
