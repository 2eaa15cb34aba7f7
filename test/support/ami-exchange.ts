/**
 * Raw AMI exchanges, to compare the fake server with a real Asterisk byte for byte (once the
 * parts that differ by nature are normalised) and to replay recorded transcripts.
 */
import { rawAmi } from "./raw-ami.js";

export interface Exchange {
  /** What the exchange shows, for messages. */
  name: string;
  /** The AMI user that logs in first (none: the request is sent before any login). */
  login?: { username: string; secret: string };
  /** Request headers, in order (ActionID is added). */
  request: [string, string][];
}

export interface Recorded extends Exchange {
  /** The answer to the login, normalised. */
  loginAnswer?: string;
  /** The answer to the request, normalised; "(closed)" when the server closed the connection. */
  answer: string;
}

const block = (headers: [string, string][]) => headers.map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";

/** Parts that differ between servers or runs: the greeting's version, ActionIDs, paths, times. */
export function normalise(text: string, root?: string): string {
  let out = text.replace(/^ActionID: .*\r\n/gm, "").replace(/^Timestamp: .*\r\n/gm, "Timestamp: (time)\r\n");
  if (root) out = out.split(root).join("ROOT");
  return out;
}

/** Runs one exchange on the AMI at `port`; resolves with the normalised answers. */
export async function runExchange(port: number, x: Exchange, root?: string): Promise<Recorded> {
  const ami = await rawAmi(port);
  try {
    await ami.waitFor("\r\n", 5000);
    let seen = ami.received().indexOf("\r\n") + 2;
    const next = async (timeoutMs: number): Promise<string> => {
      const got = await Promise.race([
        ami.waitFor(new RegExp(`^[\\s\\S]{${seen}}[\\s\\S]*?\\r\\n\\r\\n`), timeoutMs).then(() => "answer" as const),
        ami.closed.then(() => "closed" as const),
      ]);
      const all = ami.received();
      const end = all.indexOf("\r\n\r\n", seen);
      if (got === "closed" && end < 0) return "(closed)";
      const answer = all.slice(seen, end + 4);
      seen = end + 4;
      return answer;
    };
    const out: Recorded = { ...x, answer: "" };
    if (x.login) {
      ami.send(
        block([
          ["Action", "Login"],
          ["Username", x.login.username],
          ["Secret", x.login.secret],
          ["Events", "off"],
          ["ActionID", "login"],
        ]),
      );
      out.loginAnswer = normalise(await next(5000), root);
      if (out.loginAnswer.includes("Error")) return out;
    }
    ami.send(block([...x.request, ["ActionID", "x1"]]));
    out.answer = normalise(await next(15000), root);
    return out;
  } finally {
    ami.close();
  }
}
