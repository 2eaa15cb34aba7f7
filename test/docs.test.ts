/**
 * The documentation cannot drift: every command of README.md and docs/*.md is run, and the output
 * it shows must appear in the real output.
 *
 * What is run, per document, in order, in a fresh working folder (a stand-in for the reader's
 * checkout, with copies of plugins-examples/ and test/fixtures/):
 * - in fenced blocks, `$ wazo-tasks ...` / `$ npx wazo-tasks ...` lines (then the lines after them,
 *   up to the next `$` line or the end of the block, are output that must appear, in order, in
 *   the command's stdout or stderr; `...` lines are skipped), and `wazo-tasks ...` lines without
 *   `$` (run, output not checked);
 * - `$ export NAME=VALUE` / `$ unset NAME` (environment of the later commands; `$PWD`, `$PATH`);
 * - `$ npx tsx test/support/fake-asterisk.ts --root DIR` (a fake Asterisk AMI, started here
 *   in-process on a free port: `5038` in later commands, exports and written files becomes it);
 * - `$ npx tsx FILE.ts` (a script written from the document, run with the compiled package);
 * - `$ cat FILE` (its content must be the output shown), `$ cp -r FROM TO`;
 * - `$ git ...` (the real git in the working folder, with a fixed author, date and no user or
 *   system config, so that commit ids are the same on every run);
 * - a block whose preceding line ends with `` `PATH`: `` is that file: written into the working
 *   folder (`/home/me/wazo-tasks` in it becomes the working folder), or, if the repository has
 *   that file (plugins-examples/...), compared with it;
 * - every ```yaml block holding `install:` (or a list of steps) is validated against the schema,
 *   unless its first line is `# invalid`; every .ts/.mts file written is type-checked.
 * A command's trailing comment may say `# exit N` (default 0) and `# needs AMI` (a fake AMI for
 * that command, through WAZO_TASKS_AMI_URL). Commands without --root get one (a temp folder shown
 * as `/`), so nothing ever touches this machine; a harmless systemctl comes first on PATH.
 * Output is compared after normalising paths (the working folder and the repository become
 * /home/me/wazo-tasks), times, durations and whitespace runs.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, realpath, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { after, describe, test } from "node:test";
import { load } from "js-yaml";
import type { FakeAmi } from "./support/fake-ami.js";
import { startFakeAmi } from "./support/fake-ami.js";
import { startFakeAsterisk } from "./support/fake-asterisk.js";
import { cleanup, FIXTURE_BIN, REPO, runCli, tempDir } from "./support/rig.js";

const CHECKOUT = "/home/me/wazo-tasks";
const COMMAND_TIMEOUT = 20_000;
const ROOT_COMMANDS = new Set(["install", "uninstall", "list", "validate", "show", "reload", "convert", "verify", "recover", "upgrade", "market"]);
/** git for documents: commit ids depend only on the content. */
const DOC_GIT_ENV = {
  GIT_AUTHOR_NAME: "Doc",
  GIT_AUTHOR_EMAIL: "doc@example.org",
  GIT_COMMITTER_NAME: "Doc",
  GIT_COMMITTER_EMAIL: "doc@example.org",
  GIT_AUTHOR_DATE: "2026-01-01T00:00:00Z",
  GIT_COMMITTER_DATE: "2026-01-01T00:00:00Z",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

interface Item {
  doc: string;
  line: number;
  kind: "command" | "file" | "yaml";
  /** The command line (comment stripped) or the file path. */
  text: string;
  /** Output lines shown after a `$` command; undefined when not checked. */
  output?: string[];
  exit: number;
  needsAmi: boolean;
  /** Block content, for files and yaml. */
  body?: string;
  expectInvalid?: boolean;
}

/** Splits a document into the things to run and check, in order. */
export function extract(doc: string, text: string): Item[] {
  const lines = text.split("\n");
  const items: Item[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(```+|~~~+)\s*([\w-]*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const fence = open[2];
    const lang = open[3].toLowerCase();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end].trimStart().startsWith(fence)) end++;
    const body = lines.slice(start, end).map((l) => l.slice(Math.min(open[1].length, l.length - l.trimStart().length)));
    const caption = previousLine(lines, i);
    const file = /`([^`\s]+)`:\s*$/.exec(caption ?? "");
    if (file && !["console", "shell-session"].includes(lang)) {
      items.push({ doc, line: i + 1, kind: "file", text: file[1], body: body.join("\n") + "\n", exit: 0, needsAmi: false });
    } else if (lang === "yaml" || lang === "yml") {
      const content = body.join("\n");
      if (/^\s*(install:|- [a-z]+:)/m.test(content))
        items.push({ doc, line: i + 1, kind: "yaml", text: "", body: content, exit: 0, needsAmi: false, expectInvalid: /^# invalid/.test(body[0] ?? "") });
    } else if (["console", "sh", "shell", "bash", "shell-session", ""].includes(lang)) {
      let current: Item | undefined;
      for (const [k, raw] of body.entries()) {
        const dollar = /^\$ (.*)$/.exec(raw);
        const bare = !dollar && /^(npx )?wazo-tasks( |$)/.test(raw) ? raw : undefined;
        if (dollar || bare !== undefined) {
          const full = (dollar ? dollar[1] : bare)!;
          const comment = /\s+#\s+(.*)$/.exec(full);
          const note = comment?.[1] ?? "";
          const exit = /\bexit (\d+)/.exec(note);
          current = {
            doc,
            line: start + k + 1,
            kind: "command",
            text: comment ? full.slice(0, comment.index) : full,
            output: dollar ? [] : undefined,
            exit: exit ? Number(exit[1]) : 0,
            needsAmi: /needs AMI/i.test(note),
          };
          items.push(current);
        } else if (current?.output && raw.trim() !== "" && raw.trim() !== "...") current.output.push(raw);
        else if (!dollar && raw.trim() === "") continue;
      }
    }
    i = end;
  }
  return items;
}

function previousLine(lines: string[], i: number): string | undefined {
  for (let k = i - 1; k >= 0; k--) if (lines[k].trim() !== "") return lines[k];
  return undefined;
}

/** Shell words: single and double quotes, `$PWD`-style variables in double quotes and bare words. */
export function words(line: string, vars: Record<string, string>): string[] {
  const out: string[] = [];
  let cur = "";
  let has = false;
  const expand = (s: string) => s.replace(/\$(\w+)|\$\{(\w+)\}/g, (_m, a: string, b: string) => vars[a ?? b] ?? "");
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'") {
      const j = line.indexOf("'", i + 1);
      cur += line.slice(i + 1, j);
      i = j;
      has = true;
    } else if (c === '"') {
      const j = line.indexOf('"', i + 1);
      cur += expand(line.slice(i + 1, j));
      i = j;
      has = true;
    } else if (c === " " || c === "\t") {
      if (has) out.push(cur);
      cur = "";
      has = false;
    } else {
      let j = i;
      while (j < line.length && !" \t'\"".includes(line[j])) j++;
      cur += expand(line.slice(i, j));
      i = j - 1;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/** Normalises output (and expected lines) so that paths, times and spacing do not matter. */
function normaliser(paths: { from: string; to: string }[]) {
  return (text: string) => {
    let t = text;
    for (const { from, to } of paths) t = t.split(from).join(to);
    return t
      .split("\n")
      .map((l) =>
        l
          .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
          .replace(/ in \d+ ms\b/g, " in <n> ms")
          .replace(/"durationMs":\d+/g, '"durationMs":<n>')
          .replace(/"timings":\{[^}]*\}/g, '"timings":{<n>}')
          .replace(/\b\d+ ms\b/g, "<n> ms")
          .replace(/ActionID: [^ |]+/g, "ActionID: <id>")
          .replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:5038")
          .replace(/\s+/g, " ")
          .trim(),
      )
      .filter((l) => l !== "");
  };
}

/** Each expected line must appear in stdout or stderr, in order within each stream. */
function assertShown(expected: string[], stdout: string[], stderr: string[], where: string, raw: string): void {
  let o = 0;
  let e = 0;
  for (const line of expected) {
    const io = stdout.indexOf(line, o);
    if (io >= 0) {
      o = io + 1;
      continue;
    }
    const ie = stderr.indexOf(line, e);
    if (ie >= 0) {
      e = ie + 1;
      continue;
    }
    assert.fail(`${where}: this output line is not in the real output (in order):\n  ${line}\nreal output:\n${raw}`);
  }
}

function spawnNode(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; program?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.program ?? process.execPath, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), COMMAND_TIMEOUT);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Files of the checkout: `git ls-files`, or every file there when this is not a git checkout. */
const TRACKED = (() => {
  const r = spawnSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" });
  return r.status === 0 ? new Set(r.stdout.split("\0").filter(Boolean)) : undefined;
})();
const isTracked = (rel: string) => (TRACKED ? TRACKED.has(rel) : existsSync(path.join(REPO, rel)));

const DOCS = [
  path.join(REPO, "README.md"),
  ...(existsSync(path.join(REPO, "docs"))
    ? (await readdir(path.join(REPO, "docs")))
        .filter((f) => f.endsWith(".md"))
        .sort()
        .map((f) => path.join(REPO, "docs", f))
    : []),
];
const TSX_CLI = path.join(REPO, "node_modules/tsx/dist/cli.mjs");

describe("documentation", { timeout: 600_000, concurrency: true }, () => {
  const servers: FakeAmi[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const s of servers) await s.close();
    await cleanup(...dirs);
  });

  test("the extractor finds commands, output, files and exit codes", () => {
    const items = extract(
      "x.md",
      [
        "`a/b.yml`:",
        "",
        "```yaml",
        "install:",
        "  - reload: dialplan",
        "```",
        "```console",
        "$ wazo-tasks list --root ./r # exit 2",
        "out 1",
        "...",
        "out 2",
        "$ export A=1",
        "```",
        "```sh",
        "npx wazo-tasks install x",
        "```",
      ].join("\n"),
    );
    assert.deepEqual(
      items.map((i) => [i.kind, i.text, i.output, i.exit]),
      [
        ["file", "a/b.yml", undefined, 0],
        ["command", "wazo-tasks list --root ./r", ["out 1", "out 2"], 2],
        ["command", "export A=1", [], 0],
        ["command", "npx wazo-tasks install x", undefined, 0],
      ],
    );
    assert.deepEqual(words(`a "b $X" 'c $X' d\${X}`, { X: "1" }), ["a", "b 1", "c $X", "d1"]);
  });

  test("every example plugin's tasks.ts type-checks against the published types", { timeout: 60_000 }, async () => {
    const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
    const files = (await readdir(path.join(REPO, "plugins-examples"), { withFileTypes: true }))
      .filter((e) => e.isDirectory() && existsSync(path.join(REPO, "plugins-examples", e.name, "tasks.ts")))
      .map((e) => path.join("plugins-examples", e.name, "tasks.ts"));
    assert.ok(files.length >= 1);
    const r = await spawnNode(
      [
        tsc,
        "--ignoreConfig",
        "--noEmit",
        "--strict",
        "--skipLibCheck",
        "--module",
        "nodenext",
        "--moduleResolution",
        "nodenext",
        "--target",
        "es2022",
        "--types",
        "node",
        ...files,
      ],
      { cwd: REPO, env: process.env },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  for (const docPath of DOCS) {
    const doc = path.relative(REPO, docPath);
    test(doc, { timeout: 300_000 }, async (t) => {
      const items = extract(doc, await readFile(docPath, "utf8"));
      if (!items.length) return t.skip("nothing to run");
      const work = await tempDir("wt-docs-");
      dirs.push(work);
      // Copies, not links: paths in messages are then as a reader in a checkout sees them.
      for (const dir of ["plugins-examples", "test/fixtures"]) await cp(path.join(REPO, dir), path.join(work, dir), { recursive: true });
      await mkdir(path.join(work, "node_modules"));
      await symlink(REPO, path.join(work, "node_modules/wazo-tasks"));
      await mkdir(path.join(work, ".bin"));
      await symlink(path.join(FIXTURE_BIN, "systemctl"), path.join(work, ".bin/systemctl"));
      const hostRoot = path.join(work, ".root");
      const real = await realpath(work);
      const norm = normaliser([
        { from: `${hostRoot}/`, to: "/" },
        { from: hostRoot, to: "/" },
        { from: `${real}/.root/`, to: "/" },
        { from: real, to: CHECKOUT },
        { from: work, to: CHECKOUT },
        { from: REPO, to: CHECKOUT },
      ]);
      const env: Record<string, string> = { PATH: `${path.join(work, ".bin")}:${process.env.PATH}` };
      let fake: FakeAmi | undefined;
      /** Files written from the document: re-written with the fake's port once it starts. */
      const written: { target: string; body: string }[] = [];
      let broken: string | undefined;
      const port = (s: string) => (fake ? s.replace(/\b5038\b/g, String(fake.port)) : s);

      /** Runs one command of the document; throws when it does not do what the document says. */
      const runCommand = async (item: Item, where: string, ctx: { diagnostic(message: string): void }): Promise<void> => {
        const vars = { ...process.env, ...env, PWD: work } as Record<string, string>;
        let argv = words(port(item.text), vars);
        let redirect: string | undefined;
        const gt = argv.indexOf(">");
        if (gt >= 0) [argv, redirect] = [argv.slice(0, gt), argv[gt + 1]];
        if (argv.includes("|") || argv.includes("&&")) return ctx.diagnostic(`${where}: pipelines are not run`);
        if (argv[0] === "export") {
          for (const a of argv.slice(1)) {
            const eq = a.indexOf("=");
            env[a.slice(0, eq)] = a.slice(eq + 1);
          }
          return;
        }
        if (argv[0] === "unset") {
          for (const a of argv.slice(1)) delete env[a];
          return;
        }
        if (argv[0] === "cp" && argv[1] === "-r" && argv.length === 4) {
          await cp(path.join(work, argv[2]), path.join(work, argv[3]), { recursive: true });
          return;
        }
        if (argv[0] === "cat") {
          const text = await readFile(path.join(work, argv[1]), "utf8");
          if (item.output?.length)
            assert.deepEqual(
              norm(text),
              item.output.map((l) => norm(l)[0] ?? ""),
              `${where}: cat`,
            );
          return;
        }
        if (argv[0] === "npx") argv = argv.slice(1);
        let result: { code: number | null; stdout: string; stderr: string };
        const runEnv: NodeJS.ProcessEnv = { ...env };
        if (argv[0] === "tsx" && argv[1] === "test/support/fake-asterisk.ts") {
          const root = argv[argv.indexOf("--root") + 1];
          fake = await startFakeAsterisk({ root: path.resolve(work, root), port: 0 });
          servers.push(fake);
          for (const w of written) if (w.body.includes("5038")) await writeFile(w.target, port(w.body).split(CHECKOUT).join(work));
          return;
        }
        if (argv[0] === "git") {
          result = await spawnNode(argv.slice(1), { cwd: work, env: { ...process.env, ...runEnv, ...DOC_GIT_ENV }, program: "git" });
        } else if (argv[0] === "tsx") {
          result = await spawnNode([TSX_CLI, ...argv.slice(1)], {
            cwd: work,
            env: { ...process.env, NO_COLOR: "1", WAZO_TASKS_AMI_URL: "", WAZO_TASKS_PLUGINS_PATH: "", ...runEnv },
          });
        } else if (argv[0] === "wazo-tasks") {
          const args = argv.slice(1);
          let root = "";
          if (ROOT_COMMANDS.has(args[0]) && !args.includes("--help") && !args.includes("-h")) {
            const r = args.indexOf("--root");
            if (r < 0) args.push("--root", hostRoot);
            root = r < 0 ? hostRoot : path.resolve(work, args[r + 1]);
          }
          if (item.needsAmi) {
            const ami = await startFakeAmi({ root: root || hostRoot, authFailureDelayMs: 100 });
            servers.push(ami);
            runEnv.WAZO_TASKS_AMI_URL = ami.url();
          }
          result = await runCli(args, { cwd: work, env: runEnv, timeoutMs: COMMAND_TIMEOUT });
        } else {
          return ctx.diagnostic(`${where}: not run: ${item.text}`);
        }
        const raw = `--- stdout\n${result.stdout}--- stderr\n${result.stderr}`;
        assert.equal(result.code, item.exit, `${where}: exit code ${result.code}, the document says ${item.exit}\n${raw}`);
        if (redirect) await writeFile(path.join(work, redirect), result.stdout);
        if (item.output?.length)
          assertShown(
            item.output.flatMap((l) => norm(l)),
            norm(result.stdout),
            norm(result.stderr),
            where,
            raw,
          );
      };

      for (const item of items) {
        const where = `${doc}:${item.line}`;
        if (item.kind === "yaml") {
          const { TasksSchema, StepSchema } = await import(path.join(REPO, "dist/load/schema.js"));
          const value = load(item.body!);
          const ok = Array.isArray(value) ? value.every((s) => StepSchema.safeParse(s).success) : TasksSchema.safeParse(value).success;
          assert.equal(
            ok,
            !item.expectInvalid,
            `${where}: this yaml block should be ${item.expectInvalid ? "invalid" : "a valid descriptor (or list of steps)"}`,
          );
          continue;
        }
        if (item.kind === "file") {
          assert.ok(!path.isAbsolute(item.text) && !item.text.split("/").includes(".."), `${where}: a file block's path must be relative`);
          const inRepo = path.join(REPO, item.text);
          // Only the repository's own files are compared: a reader's demo-root/ (the Quick start's
          // first command) holds files a document writes, and they are not part of the checkout.
          if (isTracked(item.text)) {
            assert.equal(item.body!.trimEnd(), (await readFile(inRepo, "utf8")).trimEnd(), `${where}: the block differs from ${item.text}`);
          } else {
            const target = path.join(work, item.text);
            assert.ok(!(await realpath(path.dirname(target)).catch(() => work)).startsWith(REPO), `${where}: would write into the repository`);
            await mkdir(path.dirname(target), { recursive: true });
            await writeFile(target, port(item.body!).split(CHECKOUT).join(work));
            written.push({ target, body: item.body! });
          }
          continue;
        }
        await t.test(`${where}: ${item.text}`, { timeout: COMMAND_TIMEOUT + 5_000, skip: broken && `after the failure at ${broken}` }, async (sub) => {
          broken = where; // cleared on success: the later commands of a document depend on this one
          await runCommand(item, where, sub);
          broken = undefined;
        });
      }
      const scripts = written.map((w) => w.target).filter((f) => /\.m?ts$/.test(f));
      if (scripts.length)
        await t.test(`${doc}: its TypeScript files type-check against the package's types`, async () => {
          const tsc = path.join(REPO, "node_modules/typescript/bin/tsc");
          const r = await spawnNode(
            [
              tsc,
              "--ignoreConfig",
              "--noEmit",
              "--strict",
              "--skipLibCheck",
              "--module",
              "nodenext",
              "--moduleResolution",
              "nodenext",
              "--target",
              "es2022",
              "--types",
              "node",
              "--typeRoots",
              path.join(REPO, "node_modules/@types"),
              ...scripts,
            ],
            { cwd: work, env: process.env },
          );
          assert.equal(r.code, 0, r.stdout + r.stderr);
        });
    });
  }
});
