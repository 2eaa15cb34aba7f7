// `ami://user:secret@host:port` → AmiConfig. Error messages describe the problem without ever
// quoting the URL: it contains the secret.
import { AmiError } from "./ami-errors.js";

/** Where and how to reach the Asterisk Manager Interface. */
export interface AmiConfig {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Deadline for connect + login, in ms (default 5000). */
  timeoutMs?: number;
  /** Deadline for each action's answer, in ms (default 10000). */
  actionTimeoutMs?: number;
}

export const DEFAULT_AMI_PORT = 5038;

const EXPECTED = "expected ami://user:secret@host[:port]";

function fail(problem: string): never {
  throw new AmiError("invalid-url", `Invalid AMI URL: ${problem} (${EXPECTED})`);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return fail(`bad percent-encoding in the ${what}`);
  }
}

/** Parses `ami://user:secret@host[:port]` (default port 5038); user and secret are percent-decoded.
 * Throws an AmiError with reason `invalid-url` whose message never quotes the URL. */
export function parseAmiUrl(url: string): AmiConfig {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Deliberately no `cause`: Node's URL error carries the input, secret included.
    return fail("not a URL");
  }
  if (parsed.protocol !== "ami:") fail(`unsupported scheme '${parsed.protocol.replace(/:$/, "")}'`);
  if (!parsed.hostname) fail("no host");
  if (!parsed.username) fail("no user name");
  if (!parsed.password) fail("no secret");
  if ((parsed.pathname !== "" && parsed.pathname !== "/") || parsed.search || parsed.hash) {
    fail("unexpected path, query or fragment after host:port");
  }
  const port = parsed.port === "" ? DEFAULT_AMI_PORT : Number(parsed.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail("port out of range");
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    username: decode(parsed.username, "user name"),
    secret: decode(parsed.password, "secret"),
  };
}
