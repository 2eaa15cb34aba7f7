// The connection layer against the fake AMI server: login outcomes, deadlines, closed
// sockets, fragmented answers, ActionIDs, and the secret kept out of errors and logs.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, it } from "node:test";
import { AmiError, type AmiFailureReason, createAmiClient, parseAmiUrl } from "../../src/asterisk/ami-client.js";
import { type FakeAmi, type FakeAmiOptions, startFakeAmi } from "../support/fake-ami.js";

const SECRET = "Zq9-very-secret-Xk";
const USERS = {
  wazo: { secret: SECRET, read: "all", write: "all" },
  limited: { secret: "limited", read: "system", write: "call" },
};
const servers: FakeAmi[] = [];
after(() => Promise.all(servers.map((s) => s.close())));

async function fake(options: FakeAmiOptions = {}): Promise<FakeAmi> {
  const server = await startFakeAmi({ users: USERS, authFailureDelayMs: 100, ...options });
  servers.push(server);
  return server;
}

/** Asserts the promise rejects with an AmiError of that reason; returns it. */
async function rejectsWith(promise: Promise<unknown>, reason: AmiFailureReason, message?: RegExp): Promise<AmiError> {
  const error = await promise.then(
    () => assert.fail(`expected a '${reason}' failure`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof AmiError, `not an AmiError: ${String(error)}`);
  assert.equal(error.code, reason, error.message);
  assert.doesNotMatch(error.message, /\n/, "one line");
  assert.ok(!error.message.includes(SECRET), "no secret in the message");
  if (message) assert.match(error.message, message);
  return error;
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("AMI connection", { timeout: 10000 }, () => {
  it("logs in, pings and logs off", async () => {
    const ami = await fake();
    const client = await createAmiClient(parseAmiUrl(ami.url()));
    await client.ping();
    await client.close();
    await client.close(); // twice is fine
    assert.deepEqual(ami.logins, [{ username: "wazo", ok: true }]);
    assert.deepEqual(
      ami.actions.map((a) => a.action.toLowerCase()),
      ["login", "events", "ping", "logoff"],
    );
    assert.equal(ami.actions[1].eventmask, "off", "events turned off: asterisk-manager's `Event: off` does nothing");
    await rejectsWith(client.ping(), "socket-closed", /closed; cannot send Ping/);
  });

  it("rejects a wrong secret with 'auth-failed' as soon as Asterisk answers", async () => {
    const ami = await fake({ authFailureDelayMs: 300 });
    const started = Date.now();
    const config = { ...parseAmiUrl(ami.url()), secret: "wrong", timeoutMs: 4000 };
    await rejectsWith(createAmiClient(config), "auth-failed", /refused the login of user 'wazo'/);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 1500, `answered after ${elapsed} ms`);
  });

  it("reports a refused connection", async () => {
    const port = await unusedPort();
    await rejectsWith(
      createAmiClient({ host: "127.0.0.1", port, username: "wazo", secret: SECRET }),
      "connection-refused",
      new RegExp(`127\\.0\\.0\\.1:${port}: connection refused`),
    );
  });

  it("times out on a server that never answers, with or without a greeting", async () => {
    for (const silent of [true, "after-greeting"] as const) {
      const ami = await fake({ silent });
      const started = Date.now();
      const error = await rejectsWith(createAmiClient({ ...parseAmiUrl(ami.url()), timeoutMs: 300 }), "timeout", /within 300 ms/);
      assert.match(error.message, silent === true ? /greeting/ : /answer the login/);
      assert.ok(Date.now() - started < 1500);
    }
  });

  it("rejects unknown actions and permission-denied actions with typed errors", async (t) => {
    const ami = await fake();
    const limited = await createAmiClient(parseAmiUrl(ami.url("limited")));
    t.after(() => limited.close());
    await rejectsWith(limited.action({ Action: "Foobar" }), "unknown-action", /does not know the action 'Foobar'/);
    const denied = await rejectsWith(limited.action({ Action: "Command", Command: "core show version" }), "permission-denied");
    assert.match(denied.message, /AMI user 'limited' may not run Command on 127\.0\.0\.1:\d+: Command needs `write = command`/);
    await limited.ping(); // Ping needs no permission, and the connection stays usable
  });

  it("rejects every pending action when the connection drops", async () => {
    const ami = await fake({ reloadDelayMs: 5000 });
    const client = await createAmiClient(parseAmiUrl(ami.url()));
    const pending = [client.reload("pbx_config"), client.ping(), client.command("core show version")];
    await new Promise((resolve) => setTimeout(resolve, 50));
    ami.dropConnections();
    for (const action of pending) await rejectsWith(action, "socket-closed", /closed the connection while waiting for the answer to (Reload|Ping|Command)/);
    await client.close();
  });

  it("times out a single action and keeps the connection usable", async (t) => {
    const ami = await fake({ reloadDelayMs: 400 });
    const client = await createAmiClient({ ...parseAmiUrl(ami.url()), actionTimeoutMs: 150 });
    t.after(() => client.close());
    await rejectsWith(client.reload("pbx_config"), "timeout", /did not answer Reload within 150 ms/);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the late answer is ignored
    await client.ping();
  });

  it("reads answers written one to three bytes at a time", async (t) => {
    const ami = await fake({ fragmentWrites: true });
    const client = await createAmiClient(parseAmiUrl(ami.url()));
    t.after(() => client.close());
    assert.deepEqual(await client.command("core show uptime seconds").then((l) => l.length), 2);
    assert.equal(await client.dialplanHasExtension("noop", "xivo-extrafeatures"), true);
  });

  it("uses a distinct ActionID for each of many concurrent actions", async (t) => {
    const ami = await fake();
    const client = await createAmiClient(parseAmiUrl(ami.url()));
    t.after(() => client.close());
    const answers = await Promise.all(Array.from({ length: 300 }, () => client.action({ Action: "Ping" })));
    const ids = answers.map((a) => a.actionId);
    assert.equal(new Set(ids).size, 300);
    const sent = ami.actions.filter((a) => a.action === "Ping").map((a) => a.actionid);
    assert.deepEqual(new Set(sent), new Set(ids));
  });

  it("refuses header values that would inject lines", async (t) => {
    const ami = await fake();
    const client = await createAmiClient(parseAmiUrl(ami.url()));
    t.after(() => client.close());
    await assert.rejects(client.command("core show version\r\n\r\nAction: Logoff"), TypeError);
    await rejectsWith(client.command(`dialplan show ${"x".repeat(1100)}`), "action-failed", /longer than the 1024 bytes/);
  });

  it("never puts the secret in log lines or error messages", async () => {
    const ami = await fake();
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const client = await createAmiClient(parseAmiUrl(ami.url()), { log });
    await client.ping();
    await client.close();
    await rejectsWith(createAmiClient({ ...parseAmiUrl(ami.url()), username: "nobody" }, { log }), "auth-failed");
    assert.ok(
      lines.some((l) => l === "> Action: Login | Username: wazo | Secret: *** | Event: off"),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => /^< Response: Success \| ActionID: \S+ \| Ping: Pong/.test(l)));
    for (const line of lines) assert.ok(!line.includes(SECRET) && !line.includes("\n"), line);
  });
});
