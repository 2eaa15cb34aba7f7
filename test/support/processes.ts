/** Helpers for tests that watch processes and the files they leave. */
import { readFileSync } from "node:fs";
import { stat } from "node:fs/promises";

export const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A process that exists and is not a zombie (an unreaped zombie has stopped for good). */
export const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

/** Waits until `file` exists (a program said it started). */
export async function waitFor(file: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await exists(file)) return;
  throw new Error(`${file} never appeared`);
}
