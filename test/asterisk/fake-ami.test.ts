// The fake AMI server itself, byte for byte against shared/ami/asterisk-22-transcripts.md, its
// dialplan simulation, and the standalone process.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createAmiClient, parseAmiUrl } from "../../src/asterisk/ami-client.js";
import { FakeDialplan } from "../support/fake-dialplan.js";
import { type FakeAmi, type FakeAmiOptions, startFakeAmi } from "../support/fake-ami.js";
import { LOGIN_WAZO, rawAmi } from "../support/raw-ami.js";

const servers: FakeAmi[] = [];
after(() => Promise.all(servers.map((s) => s.close())));
async function fake(options: FakeAmiOptions = {}): Promise<FakeAmi> {
  const server = await startFakeAmi({ authFailureDelayMs: 100, ...options });
  servers.push(server);
  return server;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("fake AMI protocol", { timeout: 10000 }, () => {
  it("greets with exactly the 30-byte banner", async () => {
    const ami = await fake();
    const raw = await rawAmi(ami.port);
    await raw.waitFor("\r\n");
    await sleep(50);
    assert.equal(raw.received(), "Asterisk Call Manager/11.0.0\r\n");
    raw.close();
  });

  it("refuses actions before login, then logs in (bare LF) and echoes ActionIDs", async () => {
    const ami = await fake();
    const raw = await rawAmi(ami.port);
    raw.send("Action: Foobar\r\nActionID: pre-4\r\n\r\n");
    await raw.waitFor("Response: Error\r\nActionID: pre-4\r\nMessage: Permission denied\r\n\r\n");
    raw.send("Action: Login\nUsername: wazo\nSecret: wazosecret\nEvents: off\n\n");
    await raw.waitFor("Response: Success\r\nMessage: Authentication accepted\r\n\r\n");
    raw.send("action: ping\r\nACTIONID: x\r\n\r\nAction: Ping\r\nActionID: \r\n\r\nAction:Ping\nActionID:    spaced   \n\n");
    const text = await raw.waitFor(/ActionID: spaced   \r\nPing: Pong\r\nTimestamp: \d+\.\d{6}\r\n\r\n/);
    assert.match(text, /Response: Success\r\nActionID: x\r\nPing: Pong\r\n/);
    assert.match(text, /\r\n\r\nResponse: Success\r\nPing: Pong\r\nTimestamp: /, "no ActionID line for an empty one");
    raw.send("Action: Login\r\nActionID: again\r\nUsername: wazo\r\nSecret: wazosecret\r\n\r\n");
    await raw.waitFor("Response: Success\r\nActionID: again\r\nMessage: Already authenticated\r\n\r\n");
    raw.send("Action: Ping \r\nActionID: t\r\n\r\n\r\n");
    await raw.waitFor(
      "Message: Invalid/unknown command: Ping . Use Action: ListCommands to show available commands.\r\n\r\nResponse: Error\r\nMessage: Missing action in request\r\n\r\n",
    );
    raw.send("Action: Logoff\r\n\r\n");
    await raw.waitFor("Response: Goodbye\r\nMessage: Thanks for all the fish.\r\n\r\n");
    await raw.closed;
  });

  it("answers a failed login after the delay, then closes, ignoring pipelined actions", async () => {
    const ami = await fake({ authFailureDelayMs: 200 });
    const raw = await rawAmi(ami.port);
    const started = Date.now();
    raw.send("Action: Login\r\nActionID: bad-4\r\nUsername: wazo\r\nSecret: WRONG\r\n\r\nAction: Ping\r\nActionID: pipelined\r\n\r\n");
    await raw.closed;
    assert.ok(Date.now() - started >= 190);
    assert.equal(raw.received(), "Asterisk Call Manager/11.0.0\r\nResponse: Error\r\nActionID: bad-4\r\nMessage: Authentication failed\r\n\r\n");
    assert.deepEqual(ami.logins, [{ username: "wazo", ok: false }]);
  });

  it("sends FullyBooted after login and a Reload event after the Reload response", async () => {
    const ami = await fake();
    const raw = await rawAmi(ami.port);
    raw.send("Action: Login\r\nUsername: wazo\r\nSecret: wazosecret\r\n\r\n");
    await raw.waitFor("Event: SuccessfulAuth");
    assert.match(
      raw.received(),
      /Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: \d+\r\nLastReload: \d+\r\nStatus: Fully Booted\r\n\r\n/,
    );
    raw.send("Action: Reload\r\nActionID: rl-4\r\nModule: nosuch\r\n\r\n");
    await raw.waitFor(
      "Response: Error\r\nActionID: rl-4\r\nMessage: No such module\r\n\r\nEvent: Reload\r\nPrivilege: system,all\r\nModule: nosuch\r\nStatus: 2\r\n\r\n",
    );
    raw.close();
  });

  it("denies Command and Reload to a write=call user, and answers Command in 13 format", async () => {
    const ami = await fake({ commandFormat: "13-glued" });
    const raw = await rawAmi(ami.port);
    raw.send("Action: Login\r\nUsername: limited\r\nSecret: limited\r\nEvents: off\r\n\r\nAction: Reload\r\nActionID: r\r\n\r\n");
    await raw.waitFor("ActionID: r\r\nMessage: Permission denied\r\n\r\n");
    const wazo = await rawAmi(ami.port);
    wazo.send(`${LOGIN_WAZO}Action: Command\r\nActionID: c\r\nCommand: dialplan reload\r\n\r\n`);
    await wazo.waitFor("Response: Follows\r\nPrivilege: Command\r\nActionID: c\r\nDialplan reloaded.--END COMMAND--\r\n\r\n");
    assert.equal(ami.reloadCount("dialplan"), 1);
    raw.close();
    wazo.close();
  });

  it("rejects a line longer than 1024 bytes and stays usable", async () => {
    const ami = await fake();
    const raw = await rawAmi(ami.port);
    raw.send(`${LOGIN_WAZO}Action: Ping\r\nActionID: ${"A".repeat(3000)}\r\n\r\nAction: Ping\r\nActionID: still-alive\r\n\r\n`);
    await raw.waitFor("ActionID: still-alive");
    assert.match(
      raw.received(),
      /\r\n\r\nResponse: Error\r\nMessage: Failed to parse message: line too long\r\n\r\nResponse: Success\r\nActionID: still-alive/,
    );
    raw.close();
  });

  it("tells a concurrent Reload from another connection that a reload is in progress", async () => {
    const ami = await fake({ reloadDelayMs: 200 });
    const [a, b] = await Promise.all([rawAmi(ami.port), rawAmi(ami.port)]);
    a.send(`${LOGIN_WAZO}Action: Reload\r\nActionID: A-1\r\n\r\n`);
    await sleep(50);
    b.send(`${LOGIN_WAZO}Action: Reload\r\nActionID: B-1\r\n\r\n`);
    await b.waitFor("ActionID: B-1\r\nMessage: A reload is in progress\r\n");
    await a.waitFor("ActionID: A-1\r\nMessage: Module Reloaded\r\n");
    a.close();
    b.close();
  });
});

describe("fake dialplan", { timeout: 10000 }, () => {
  const root = mkdtempSync(join(tmpdir(), "fake-dialplan-"));
  const extra = join(root, "etc/asterisk/extensions_extra.d");
  after(() => rmSync(root, { recursive: true, force: true }));

  it("loads sections, templates, includes, no-section files and patterns like Asterisk", () => {
    mkdirSync(extra, { recursive: true });
    writeFileSync(
      join(extra, "01-tpl.conf"),
      "[tpl](!)\nexten = 900,1,NoOp(tpl)\n[user-ctx](tpl)\nexten => _1XX,1,Dial(PJSIP/${EXTEN}) ; comment\nsame => n,Hangup()\ninclude => other\n[other]\nexten = 555,1,Answer\n",
    );
    writeFileSync(join(extra, "02-nosection.conf"), "; lands in [other], the includer's current context\nexten = 556,1,NoOp(x)\n#include something.conf\n");
    writeFileSync(join(extra, ".hidden.conf"), "[hidden]\nexten = 1,1,NoOp()\n");
    const dialplan = new FakeDialplan({ root });
    assert.equal(dialplan.has("900", "tpl"), false, "a template is not a context");
    assert.equal(dialplan.has("900", "user-ctx"), true, "inherited from the template");
    assert.equal(dialplan.has("123", "user-ctx"), true, "pattern _1XX");
    assert.equal(dialplan.has("555", "user-ctx"), true, "through include");
    assert.equal(dialplan.has("556", "other"), true);
    assert.equal(dialplan.has("1", "hidden"), false, "glob * skips dot files");
    assert.deepEqual(dialplan.show("123@user-ctx").lines.slice(0, 3), [
      "[ Context 'user-ctx' created by 'pbx_config' ]",
      "  '_1XX' =>         1. Dial(PJSIP/${EXTEN})                       [01-tpl.conf:4]",
      "                    2. Hangup()                                   [01-tpl.conf:5]",
    ]);
    assert.deepEqual(dialplan.show("9@nowhere"), { ok: false, lines: ["There is no existence of 'nowhere' context"] });
  });

  it("stops where config.c stops, and only there", () => {
    const stops: Array<[string, boolean]> = [
      ["exten = 2,1,NoOp(no closing parenthesis: a warning, loaded", false],
      ["a line without an equal sign: a warning, ignored", false],
      ["[ctx] (+) text after the header is ignored", false],
      ["[unclosed", true],
      ["[ctx](+", true],
      ["[never-seen](+)", true],
      ["[ctx](no-such-template)", true],
      ["[ctx]( ! )", true], // options are not trimmed: a template named ' ! '
      ["\\ invalid escape", true],
    ];
    for (const [line, stopsHere] of stops) {
      rmSync(extra, { recursive: true, force: true });
      mkdirSync(extra, { recursive: true });
      writeFileSync(join(extra, "a.conf"), `[ctx]\nexten = 1,1,NoOp()\n${line}\nexten = 3,1,NoOp()\n`);
      writeFileSync(join(extra, "b.conf"), "[later]\nexten = 4,1,NoOp()\n");
      const dialplan = new FakeDialplan({ root });
      assert.equal(dialplan.has("1", "ctx"), true, line);
      assert.equal(dialplan.has("3", "ctx"), !stopsHere, line);
      assert.equal(dialplan.has("4", "later"), !stopsHere, line);
      assert.deepEqual(dialplan.lastStop, stopsHere ? { file: "a.conf", line: 3 } : undefined, line);
    }
  });

  it("keeps the old dialplan when extensions.conf itself #includes an empty folder; Wazo's nested include loads", () => {
    rmSync(extra, { recursive: true, force: true });
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, "a.conf"), "[a]\nexten = 1,1,NoOp()\n");
    writeFileSync(join(root, "etc/asterisk/extensions.conf"), "[general]\n#include extensions_extra.d/*\n");
    const dialplan = new FakeDialplan({ root });
    rmSync(join(extra, "a.conf"));
    assert.equal(dialplan.reload(), false);
    assert.equal(dialplan.has("1", "a"), true);
    writeFileSync(join(root, "etc/asterisk/extensions.conf"), "[general]\n#tryinclude extensions_extra.d/*\n");
    assert.equal(new FakeDialplan({ root }).reload(), true);
    rmSync(join(root, "etc/asterisk/extensions.conf"));
    const wazo = new FakeDialplan({ root });
    assert.equal(wazo.reload(), true, "Wazo's layout: an ERROR in the log, the rest loads");
    assert.equal(wazo.has("noop", "xivo-extrafeatures"), true);
  });
});

describe("fake AMI server process", { timeout: 15000 }, () => {
  it("writes its port, logs every action as JSON and stops on SIGTERM", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fake-ami-proc-"));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const portFile = join(dir, "port");
    const logFile = join(dir, "actions.ndjson");
    const script = join(import.meta.dirname, "../support/fake-ami-server.ts");
    const child = spawn(process.execPath, ["--import", "tsx", script, "--port-file", portFile, "--log", logFile, "--reload-delay-ms", "10"], {
      stdio: "inherit",
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    try {
      for (let i = 0; i < 200 && !existsSync(portFile); i++) await sleep(25);
      const port = Number(readFileSync(portFile, "utf8"));
      const client = await createAmiClient(parseAmiUrl(`ami://wazo:wazosecret@127.0.0.1:${port}`));
      await client.reload("dialplan");
      await client.close();
      const actions = readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, string>);
      assert.deepEqual(
        actions.map((a) => a.action.toLowerCase()),
        ["login", "events", "reload", "logoff"],
      );
      assert.equal(actions[2].module, "pbx_config");
    } finally {
      child.kill("SIGTERM");
    }
    assert.equal(await exited, 0);
  });
});
