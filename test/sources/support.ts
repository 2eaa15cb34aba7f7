/** Local git repositories made with the real git, and a market served by Node's http on 127.0.0.1. */
import { execFileSync } from "node:child_process";
import { cp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { EXAMPLES, HELLO_CONF, writeTree } from "../support/rig.js";
import { fixture } from "../rules/support.js";

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@example.org",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@example.org",
  GIT_CONFIG_NOSYSTEM: "1",
};

export function git(dir: string, ...args: string[]): string {
  return execFileSync("git", ["-C", dir, ...args], { env: GIT_ENV, encoding: "utf8" }).trim();
}

/** A repository at `dir` with `files` committed on branch main; returns the commit. */
export async function makeRepo(dir: string, files: Record<string, string | Buffer>): Promise<string> {
  await writeTree(dir, files);
  execFileSync("git", ["init", "-q", "-b", "main", dir], { env: GIT_ENV });
  return commitAll(dir, "first");
}

export async function commitAll(dir: string, message: string): Promise<string> {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}

export const fileUrl = (dir: string) => pathToFileURL(dir).href;

export const helloMeta = (version: string) => `name: helloworld\ndescription: greets\nversion: "${version}"\n`;
export const HELLO_TASKS = "install:\n  - copy: helloworld.conf\n    to: /etc/asterisk/extensions_extra.d/\n  - reload: dialplan\n";

/**
 * The repositories of the tests, under `base`:
 * - `hello`: a descriptor plugin at the top; tag v1.0 on the first commit; branch v2 (version
 *   2.0.0, another dialplan line); main moves on with `moveMain`.
 * - `mono`: a wazo-plugind plugin in plugins/acme-hello, a Makefile plugin in plugins/greeting.
 * - `rules`: the wazo-plugind dialplan fixture at the top.
 */
export async function makeRepos(base: string) {
  const hello = path.join(base, "hello");
  const first = await makeRepo(hello, { "package.yml": helloMeta("1.0.0"), "tasks.yml": HELLO_TASKS, "helloworld.conf": HELLO_CONF });
  git(hello, "tag", "v1.0");
  git(hello, "checkout", "-q", "-b", "v2");
  await writeTree(hello, { "package.yml": helloMeta("2.0.0"), "helloworld.conf": HELLO_CONF + "same = n,Hangup()\n" });
  const v2 = await commitAll(hello, "v2");
  git(hello, "checkout", "-q", "main");

  const mono = path.join(base, "mono");
  await cp(fixture("dialplan"), path.join(mono, "plugins/acme-hello"), { recursive: true });
  await cp(path.join(EXAMPLES, "acme-greeting-make"), path.join(mono, "plugins/greeting"), { recursive: true });
  await writeFile(path.join(mono, "README.md"), "plugins\n");
  const monoCommit = await makeRepo(mono, {});

  const rules = path.join(base, "rules");
  await cp(fixture("dialplan"), rules, { recursive: true });
  const rulesCommit = await makeRepo(rules, {});
  return { hello, first, v2, mono, monoCommit, rules, rulesCommit };
}

/** Moves `main` of the hello repository: a new commit with `version` (and the same files otherwise). */
export async function moveMain(hello: string, version: string, conf = HELLO_CONF): Promise<string> {
  await writeTree(hello, { "package.yml": helloMeta(version), "helloworld.conf": conf });
  return commitAll(hello, `version ${version}`);
}

/** A market entry in wazo-plugind's format, installing from a git URL. */
export function entry(
  namespace: string,
  name: string,
  versions: { version: string; url: string; ref?: string; min?: string; max?: string; method?: string; subdirectory?: string }[],
) {
  return {
    namespace,
    name,
    display_name: name,
    description: `${namespace}/${name} for tests`,
    versions: versions.map((v) => ({
      method: v.method ?? "git",
      version: v.version,
      options: { url: v.url, ...(v.ref ? { ref: v.ref } : {}), ...(v.subdirectory ? { subdirectory: v.subdirectory } : {}) },
      min_wazo_version: v.min ?? null,
      max_wazo_version: v.max ?? null,
    })),
  };
}

export interface MarketServer {
  url: string;
  /** How many times the list was asked for. */
  hits: () => number;
  close: () => Promise<void>;
}

/** Serves `body` (JSON, or any text) at /0.1/plugins with `status`. */
export async function serveMarket(body: unknown, status = 200): Promise<MarketServer> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    if (req.url !== "/0.1/plugins") {
      res.writeHead(404).end("not found");
      return;
    }
    hits++;
    res.writeHead(status, { "content-type": "application/json" }).end(typeof body === "string" ? body : JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/0.1/plugins`, hits: () => hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A wazo-plugind plugin (wazo/plugin.yml + wazo/rules) shipping one dialplan file named after it. */
export function rulesPlugin(namespace: string, name: string, version: string, depends: string[] = [], extra = ""): Record<string, string> {
  const deps = depends.length ? `depends:\n${depends.map((d) => `  - namespace: ${d.split("/")[0]}\n    name: ${d.split("/")[1]}\n`).join("")}` : "";
  return {
    "wazo/plugin.yml": `namespace: ${namespace}\nname: ${name}\nversion: "${version}"\nplugin_format_version: 1\n${deps}${extra}`,
    "wazo/rules": `#!/bin/sh\nset -e\ncase "$1" in\n  package)\n    mkdir -p "$pkgdir/etc/asterisk/extensions_extra.d"\n    cp plugin.conf "$pkgdir/etc/asterisk/extensions_extra.d/${namespace}-${name}.conf"\n    ;;\n  install|uninstall|postrm|build) ;;\nesac\n`,
    "plugin.conf": `; ${namespace}/${name} ${version}\n`,
  };
}

/** A repository holding rulesPlugin(...); returns its file:// URL. */
export async function rulesRepo(base: string, namespace: string, name: string, version: string, depends: string[] = []): Promise<string> {
  const dir = path.join(base, `${namespace}-${name}`);
  await makeRepo(dir, rulesPlugin(namespace, name, version, depends));
  execFileSync("chmod", ["+x", path.join(dir, "wazo/rules")]);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", "mode");
  return fileUrl(dir);
}
