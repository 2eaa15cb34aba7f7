// A fake Asterisk to try wazo-tasks' AMI features without a PBX (docs/ami.md):
//
//   npx tsx test/support/fake-asterisk.ts --root ./demo-root [--port 5038]
//
// The fake AMI server of the tests (fake-ami.ts, answering like the recorded Asterisk 22) on
// 127.0.0.1, with the dialplan read from <root>/etc/asterisk/extensions_extra.d/ at each reload,
// and the AMI users of <root>/etc/asterisk/manager.conf and manager.d/*.conf (secret, read,
// write) when there are any, else wazo/wazosecret (read = all, write = all). Stops on Ctrl-C.
// test/docs.test.ts starts it in-process through startFakeAsterisk().
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startFakeAmi, type FakeAmi, type FakeAmiUser } from "./fake-ami.js";

/** Users of manager.conf-style text: `[name]` sections with secret, read and write. */
export function parseManagerConf(text: string): Record<string, FakeAmiUser> {
  const users: Record<string, FakeAmiUser> = {};
  let current: FakeAmiUser | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/;.*$/, "").trim();
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) {
      current = section[1] === "general" ? undefined : (users[section[1]] = { secret: "", read: "", write: "" });
      continue;
    }
    const kv = /^([a-z]+)\s*=>?\s*(.*)$/i.exec(line);
    if (!current || !kv) continue;
    const key = kv[1].toLowerCase();
    if (key === "secret" || key === "read" || key === "write") current[key] = kv[2].trim();
  }
  return users;
}

/** The AMI users configured under `root` (manager.conf, then manager.d/*.conf), if any. */
export function managerUsers(root: string): Record<string, FakeAmiUser> | undefined {
  const dir = path.join(root, "etc/asterisk");
  const files = [path.join(dir, "manager.conf")];
  try {
    files.push(
      ...readdirSync(path.join(dir, "manager.d"))
        .filter((f) => f.endsWith(".conf"))
        .sort()
        .map((f) => path.join(dir, "manager.d", f)),
    );
  } catch {
    // no manager.d
  }
  let users: Record<string, FakeAmiUser> = {};
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    users = { ...users, ...parseManagerConf(text) };
  }
  return Object.keys(users).length ? users : undefined;
}

export async function startFakeAsterisk(opts: { root: string; port?: number }): Promise<FakeAmi> {
  return startFakeAmi({ root: opts.root, port: opts.port ?? 5038, users: managerUsers(opts.root), authFailureDelayMs: 200 });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { root: { type: "string" }, port: { type: "string" } } });
  if (!values.root) {
    process.stderr.write("usage: npx tsx test/support/fake-asterisk.ts --root DIR [--port 5038]\n");
    process.exit(2);
  }
  const root = path.resolve(values.root);
  const ami = await startFakeAsterisk({ root, port: values.port ? Number(values.port) : undefined }).catch((e: Error) => {
    process.stderr.write(`fake-asterisk: cannot listen on 127.0.0.1:${values.port ?? 5038}: ${e.message}\n`);
    process.exit(1);
  });
  process.stdout.write(
    `fake Asterisk AMI on 127.0.0.1:${ami.port}, users: ${Object.keys(ami.users).join(", ")}; dialplan from ${path.join(root, "etc/asterisk/extensions_extra.d")}\n`,
  );
  process.stdout.write("Ctrl-C stops it.\n");
  const stop = () => void ami.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
