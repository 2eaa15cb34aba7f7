// Child process for the "no dangling handles" test: runs one AMI client scenario against the
// given URL, prints the process's active resources as JSON right after the client is done,
// then does nothing more: the parent checks that the process exits on its own, promptly.
//
//   node --import tsx test/support/ami-exit-probe.ts <ami-url> <ok|failed-login|timeout>
import { createAmiClient, parseAmiUrl } from "../../src/asterisk/ami-client.js";

const [url, scenario] = process.argv.slice(2);
const config = { ...parseAmiUrl(url), timeoutMs: 300 };
if (scenario === "ok") {
  const client = await createAmiClient(config);
  await client.ping();
  void client.ping().catch(() => {}); // still pending when close() starts
  await client.close();
} else {
  await createAmiClient(config).then(
    () => process.exit(2), // the scenario must fail
    () => {},
  );
}
process.stdout.write(`${JSON.stringify(process.getActiveResourcesInfo())}\n`);
