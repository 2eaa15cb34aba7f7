/** The instance the runner started: Asterisk 22.10.1 answers the CLI and the AMI on its port. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { rawAmi } from "../support/raw-ami.js";
import { AMI_PORT, rx } from "../support/real-asterisk.js";

test("the instance answers the CLI and its AMI port", async () => {
  assert.match(rx("core show version"), /Asterisk 22\.10\.1/);
  const ami = await rawAmi(AMI_PORT);
  try {
    assert.match(await ami.waitFor(/\r\n/, 5000), /^Asterisk Call Manager\//);
  } finally {
    ami.close();
  }
});
