/**
 * Whether a path names something (stat follows links: a dangling link is nothing), as a
 * promise. Synchronous underneath: loading a plugin asks this of a few small paths, where an
 * asynchronous stat costs more than the answer.
 */
import { statSync, type Stats } from "node:fs";

function statOf(p: string): Stats | undefined {
  try {
    return statSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // ENOTDIR, EACCES, ELOOP...: nothing usable there
  }
}

export const exists = async (p: string): Promise<boolean> => statOf(p) !== undefined;

export const isDirectory = async (p: string): Promise<boolean> => statOf(p)?.isDirectory() ?? false;
