/**
 * Anything a run can meet, turned into a Failure: expected failures keep their reason; a
 * file-system error becomes `io` naming the path and the operation; anything else is a bug
 * (`internal`, exit 70), reported in one line without a stack.
 */
import { mkdir, rmdir, stat } from "node:fs/promises";
import path from "node:path";
import { EXIT_CODES, TaskFailure, type ExitCode, type Failure, type FailureFacts, type FailureReason } from "./diagnostic.js";

/** What errno codes mean to someone managing a PBX, and what to do. */
const IO_CODES: Record<string, { what: string; hint?: string }> = {
  ENOTDIR: { what: "not a folder", hint: "a part of the path is a file: check --root and the targets" },
  EISDIR: { what: "is a folder", hint: "a file was expected there" },
  EACCES: { what: "permission denied", hint: "run as a user who may write there (root on a PBX)" },
  EPERM: { what: "operation not permitted", hint: "run as a user who may write there (root on a PBX), or check the file's attributes (lsattr)" },
  EROFS: { what: "read-only file system", hint: "remount the file system read-write, or choose another --root" },
  ENOSPC: { what: "no space left on the device", hint: "free some space (df -h), then run again" },
  EDQUOT: { what: "disk quota exceeded", hint: "free some space, then run again" },
  ENOENT: { what: "no such file or folder" },
  EEXIST: { what: "already exists" },
  ENAMETOOLONG: { what: "name too long" },
  ELOOP: { what: "too many levels of symbolic links" },
  EMFILE: { what: "too many open files", hint: "raise the open files limit (ulimit -n)" },
  ENFILE: { what: "too many open files on the system" },
  EIO: { what: "input/output error", hint: "the disk may be failing: check the kernel log (dmesg)" },
  EBUSY: { what: "busy" },
  EXDEV: { what: "cross-device link" },
};

interface ErrnoLike {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
  message: string;
}

/** A Node file-system error (it has an errno `code` and a `syscall`). */
export function isErrnoError(e: unknown): e is ErrnoLike {
  const x = e as Partial<ErrnoLike>;
  return e instanceof Error && typeof x.code === "string" && /^E[A-Z]+$/.test(x.code) && typeof x.syscall === "string";
}

/** `io` failure for a file-system error: "cannot mkdir /x/var/lib/wazo-tasks: not a folder (ENOTDIR)". */
export function ioFailure(e: ErrnoLike, exitCode: ExitCode = 1): TaskFailure {
  const known = IO_CODES[e.code];
  const target = e.path ?? "";
  const message = `cannot ${e.syscall ?? "access"} ${target}${e.dest ? ` to ${e.dest}` : ""}: ${known?.what ?? e.message} (${e.code})`.replace("  ", " ");
  // A copy or rename that fails for lack of space or rights fails at its destination.
  const where = e.dest && e.code !== "ENOENT" ? e.dest : e.path;
  return new TaskFailure("io", message, [], known?.hint, { path: where, operation: e.syscall, code: e.code, exitCode });
}

interface Reasoned {
  reason: FailureReason;
  message: string;
  facts?: FailureFacts;
  ami?: FailureFacts["ami"];
}

const REASONS: ReadonlySet<string> = new Set<string>(Object.keys(EXIT_CODES));

/** AmiError and AsteriskError carry a reason of the same union, and their facts. */
function isReasoned(e: unknown): e is Reasoned & Error {
  const x = e as Partial<Reasoned>;
  return e instanceof Error && typeof x.reason === "string" && REASONS.has(x.reason);
}

/** The Failure for anything caught; `exitCode` overrides the reason's usual one. */
export function failureOf(e: unknown, exitCode?: ExitCode): Failure {
  const f = taskFailureOf(e).toFailure();
  return exitCode === undefined ? f : { ...f, exitCode };
}

/** The TaskFailure for anything caught (the same one if it already is). */
export function taskFailureOf(e: unknown): TaskFailure {
  if (e instanceof TaskFailure) return e;
  if (isReasoned(e)) return new TaskFailure(e.reason, e.message.split("\n")[0], [], undefined, { ...(e.ami ? { ami: e.ami } : {}), ...e.facts });
  if (isErrnoError(e)) return ioFailure(e);
  if (e instanceof Error && e.name === "AbortError") return new TaskFailure("aborted", "cancelled", [], undefined);
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return new TaskFailure("internal", `internal error (please report it): ${message}`, [], "report it with the command that was run and this message");
}

/** Stops a run that was aborted before it changed anything. */
export function throwIfAborted(signal: AbortSignal | undefined, what = "before any change"): void {
  if (signal?.aborted) throw new TaskFailure("aborted", `cancelled ${what}; nothing was changed`);
}

/** What the reason of an abort says about who stopped the run ("SIGINT", or the abort signal). */
export const abortedBy = (signal: AbortSignal | undefined) =>
  typeof signal?.reason === "string" && /^SIG[A-Z]+$/.test(signal.reason) ? signal.reason : "the abort signal";

/** The failure as it is emitted: diagnostics without the source text and file pair kept for printing. */
export function publicFailure(f: Failure): Failure {
  return { ...f, diagnostics: f.diagnostics.map(({ source: _s, diffWith: _d, ...d }) => d) };
}

/** The summary's `error` string: the message, and the hint on a second line. */
export function errorText(f: Failure): string {
  return f.hint ? `${f.message}\n  hint: ${f.hint}` : f.message;
}

/**
 * A recursive mkdir reports ENOENT when a folder cannot be created (on a read-only file system,
 * in a folder it may not write to): the real cause comes from creating the first missing folder
 * alone. Other errors are returned as they are.
 */
export async function refineIoError(e: unknown): Promise<unknown> {
  if (!isErrnoError(e) || e.syscall !== "mkdir" || e.code !== "ENOENT" || !e.path) return e;
  let missing = e.path;
  for (let up = path.dirname(missing); up !== missing; missing = up, up = path.dirname(up)) {
    if (
      await stat(up).then(
        () => true,
        () => false,
      )
    )
      break;
  }
  try {
    await mkdir(missing);
    await rmdir(missing).catch(() => undefined);
    return e;
  } catch (real) {
    return isErrnoError(real) ? real : e;
  }
}
