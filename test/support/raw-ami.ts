// A byte-level AMI client for tests that check the fake server against the transcripts.
import { connect, type Socket } from "node:net";

export interface RawAmi {
  /** Everything received so far, as text. */
  readonly received: () => string;
  send(text: string): void;
  /** Resolves once `received()` contains `text` (or matches it), rejects after `timeoutMs`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves when the server has closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

export function rawAmi(port: number): Promise<RawAmi> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let received = "";
    const waiters = new Set<() => void>();
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      received += chunk;
      for (const check of waiters) check();
    });
    const closed = new Promise<void>((done) => socket.on("close", () => done()));
    socket.once("error", reject);
    socket.once("connect", () =>
      resolve({
        received: () => received,
        send: (text) => void socket.write(text),
        waitFor: (text, timeoutMs = 2000) =>
          new Promise((found, fail) => {
            const check = () => {
              if (typeof text === "string" ? received.includes(text) : text.test(received)) {
                waiters.delete(check);
                clearTimeout(timer);
                found(received);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out waiting for ${String(text)}; got ${JSON.stringify(received)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          }),
        closed,
        close: () => void socket.destroy(),
      }),
    );
  });
}

export const LOGIN_WAZO = "Action: Login\r\nUsername: wazo\r\nSecret: wazosecret\r\nEvents: off\r\n\r\n";
