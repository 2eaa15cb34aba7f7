/** Helpers for tests that watch processes and the files they leave. */
import { stat } from "node:fs/promises";

export const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `file` exists (a program said it started). */
export async function waitFor(file: string, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await exists(file)) return;
  throw new Error(`${file} never appeared`);
}
