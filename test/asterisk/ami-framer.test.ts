import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AmiFramer, type AmiResponse } from "../../src/asterisk/ami-framer.js";
import { parseAmiUrl } from "../../src/asterisk/ami-url.js";

function frame(chunks: string[]): { messages: AmiResponse[]; greetings: string[] } {
  const messages: AmiResponse[] = [];
  const greetings: string[] = [];
  const framer = new AmiFramer(
    (m) => messages.push(m),
    (g) => greetings.push(g),
  );
  for (const chunk of chunks) framer.push(chunk);
  return { messages, greetings };
}

const COMMAND_14 =
  "Response: Success\r\nActionID: cmd-3\r\nMessage: Command output follows\r\n" +
  "Output: [ Context 'xivo-extrafeatures' created by 'pbx_config' ]\r\n" +
  "Output:   'noop' =>         1. NoOp(xivo-extrafeatures placeholder)       [extensions.conf:9]\r\n" +
  "Output: \r\nOutput: -= 1 extension (1 priority) in 1 context. =-\r\n\r\n";
const EXPECTED_LINES = [
  "[ Context 'xivo-extrafeatures' created by 'pbx_config' ]",
  "  'noop' =>         1. NoOp(xivo-extrafeatures placeholder)       [extensions.conf:9]",
  "",
  "-= 1 extension (1 priority) in 1 context. =-",
];

describe("AmiFramer", { timeout: 5000 }, () => {
  it("skips the greeting and reads headers case-insensitively, keeping CLI indentation", () => {
    const { messages, greetings } = frame(["Asterisk Call Manager/11.0.0\r\n", COMMAND_14]);
    assert.deepEqual(greetings, ["Asterisk Call Manager/11.0.0"]);
    assert.equal(messages.length, 1);
    assert.equal(messages[0].get("actionid"), "cmd-3");
    assert.equal(messages[0].get("MESSAGE"), "Command output follows");
    assert.deepEqual(messages[0].output, EXPECTED_LINES);
  });

  it("frames the same bytes identically when they arrive one byte at a time", () => {
    const whole = frame([COMMAND_14]).messages;
    const bytewise = frame([...COMMAND_14]).messages;
    assert.deepEqual(
      bytewise.map((m) => m.headers),
      whole.map((m) => m.headers),
    );
  });

  it("accepts bare LF line endings", () => {
    const { messages } = frame(["Response: Success\nActionID: lf\nPing: Pong\n\n"]);
    assert.deepEqual(messages[0].headers, [
      ["Response", "Success"],
      ["ActionID", "lf"],
      ["Ping", "Pong"],
    ]);
  });

  it("ignores the extra blank lines ListCommands ends with", () => {
    const { messages } = frame([
      "Response: Success\r\nActionID: 5\r\nPing: Keepalive command.  (Priv: <none>)\r\n\r\n\r\n",
      "Response: Success\r\nActionID: 6\r\n\r\n",
    ]);
    assert.deepEqual(
      messages.map((m) => m.actionId),
      ["5", "6"],
    );
  });

  it("reads an Asterisk 13 Follows block, blank output lines included", () => {
    const text = "Response: Follows\r\nPrivilege: Command\r\nActionID: 7\r\n" + EXPECTED_LINES.map((l) => `${l}\n`).join("") + "--END COMMAND--\r\n\r\n";
    const { messages } = frame([text, "Response: Success\r\nActionID: 8\r\n\r\n"]);
    assert.equal(messages[0].actionId, "7");
    assert.ok(messages[0].isFollows);
    assert.deepEqual(messages[0].output, EXPECTED_LINES);
    assert.equal(messages[1].actionId, "8", "the next message is not swallowed");
  });

  it("reads an Asterisk 13 Follows block whose marker is glued to the last line", () => {
    const text = "Response: Follows\r\nPrivilege: Command\r\nActionID: 9\r\nDialplan reloaded.--END COMMAND--\r\n\r\n";
    const { messages } = frame([...text, "Response: Success\r\nActionID: 10\r\n\r\n"]);
    assert.deepEqual(messages[0].output, ["Dialplan reloaded."]);
    assert.equal(messages[1].actionId, "10");
  });
});

describe("parseAmiUrl", { timeout: 5000 }, () => {
  it("reads user, secret, host and port, percent-decoded", () => {
    assert.deepEqual(parseAmiUrl("ami://wazo:s%40c%3Ar%2Ft@pbx.example:5039"), { host: "pbx.example", port: 5039, username: "wazo", secret: "s@c:r/t" });
    assert.deepEqual(parseAmiUrl("ami://a:b@[::1]"), { host: "::1", port: 5038, username: "a", secret: "b" });
  });

  it("rejects bad URLs without ever quoting the secret", () => {
    const cases: Array<[string, RegExp]> = [
      ["http://wazo:TOPSECRET@h:5038", /unsupported scheme 'http'/],
      ["ami://wazo@h:5038", /no secret/],
      ["ami://:TOPSECRET@h", /no user name/],
      ["ami://wazo:TOPSECRET@h:5038/path", /unexpected path/],
      ["ami://wazo:TOP%ZZSECRET@h", /bad percent-encoding in the secret/],
      ["ami://wazo:TOPSECRET@h:99999", /not a URL/],
      ["wazo:TOPSECRET", /unsupported scheme|not a URL/],
    ];
    for (const [url, message] of cases) {
      assert.throws(
        () => parseAmiUrl(url),
        (error: Error) => {
          assert.match(error.message, message);
          assert.match(error.message, /^Invalid AMI URL: .*\(expected ami:\/\/user:secret@host\[:port\]\)$/);
          assert.doesNotMatch(error.message, /TOP|SECRET/);
          assert.equal(error.cause, undefined);
          return true;
        },
      );
    }
  });
});
