/**
 * File-system errors as failures a user can act on: which operation, on which path, why, and
 * what to do — never a stack trace. Node's own messages ("ENOSPC: no space left on device,
 * write") name the system call, not what the run was doing.
 */
import { TaskFailure, isTaskFailure, type FailureReason, type LegacyReason } from "../model/diagnostic.js";

const CAUSES: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EPERM: "operation not permitted (an immutable file, chattr +i?)",
  EACCES: "permission denied",
  ENOTDIR: "a path on the way is not a folder",
  EISDIR: "is a folder",
  ENAMETOOLONG: "file name too long",
  ENOENT: "no such file or folder",
  EEXIST: "already exists",
  ENOTEMPTY: "folder not empty",
  EIO: "input/output error",
  EBUSY: "busy (a mount point?)",
  EXDEV: "on another file system",
  ELOOP: "too many levels of symbolic links",
  EMFILE: "too many open files",
};

export const HINTS: Record<string, string> = {
  ENOSPC: "free some space, then run the command again",
  EDQUOT: "free some space, then run the command again",
  EROFS: "remount the file system read-write",
  EPERM: "check the file's attributes (lsattr) and the permissions",
  EACCES: "run as a user that can write there (root on a PBX)",
  ENOTDIR: "a file stands where a folder is needed: move it away",
  EISDIR: "a folder stands where a file is needed: move it away",
  ENAMETOOLONG: "use a shorter file name",
};

export const errnoOf = (e: unknown): string | undefined => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
};

/** The cause in words, with the path Node names, if any: "no space left on the device (ENOSPC)". */
export function causeOf(e: unknown): string {
  const code = errnoOf(e);
  if (!code) return (e as Error)?.message?.split("\n")[0] ?? String(e);
  return `${CAUSES[code] ?? (e as Error).message.replace(/^E[A-Z0-9]+: /, "").split(",")[0]} (${code})`;
}

/** A file-system error as a TaskFailure (another TaskFailure passes through). */
export function ioFailure(e: unknown, operation: string, hint?: string, reason: FailureReason | LegacyReason = "io"): TaskFailure {
  if (isTaskFailure(e)) return e;
  const p = (e as NodeJS.ErrnoException).path;
  const code = errnoOf(e);
  return new TaskFailure(reason, `cannot ${operation}${p ? ` ${p}` : ""}: ${causeOf(e)}`, [], hint ?? (code ? HINTS[code] : undefined));
}
