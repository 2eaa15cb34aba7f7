/**
 * The journal of an open transaction, on disk: `<state>/txn/journal.json` and its backups in
 * `<state>/txn/backup/`. It records the root it belongs to (the id in `root-id`) and only paths
 * relative to that root, so a journal copied from another root is refused and a root moved
 * after a crash (`mv A B`) is still recovered in its new place. Every path read back is checked
 * to stay inside the root before it is used.
 */
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { invalid } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import { stateDir } from "./paths.js";
import { isPlainRelative, readRootId } from "./root-id.js";

/** The journal's schema, built on the first read of a journal (after an interrupted run): zod is
 * loaded only then, not by every run. */
async function journalSchema() {
  const [{ z }, { rootRelative }] = await Promise.all([import("zod"), import("./schema.js")]);
  const mode = z.number().int().min(0).max(0o7777);
  const backupName = z.string().regex(/^backup\/\d+$/, "must be a backup of this journal");
  const PriorSchema = z.discriminatedUnion("type", [
    z.object({ type: z.literal("absent") }),
    z.object({ type: z.literal("file"), mode, backup: backupName }),
    z.object({ type: z.literal("dir"), mode }),
    z.object({ type: z.literal("symlink"), target: z.string().min(1) }),
  ]);
  return z.object({
    format: z.literal(2),
    /** The id of the root it belongs to (`<state>/root-id`). */
    rootId: z.string().min(1),
    /** Where the root was when the run started (shown when it has moved since). */
    root: z.string(),
    pid: z.number().int(),
    startedAt: z.string(),
    command: z.string(),
    /** Paths relative to the root, in the order they were first touched. */
    entries: z.array(z.object({ path: rootRelative, prior: PriorSchema })),
  });
}

export type Journal = z.infer<Awaited<ReturnType<typeof journalSchema>>>;
export type Prior = Journal["entries"][number]["prior"];
export type JournalEntry = Journal["entries"][number];

export const txnDir = (root: string) => path.join(stateDir(root), "txn");
export const journalFile = (root: string) => path.join(txnDir(root), "journal.json");

const hintFor = (root: string) => {
  const where = root === "/" ? "" : ` --root ${root}`;
  return `\`wazo-tasks recover --discard${where}\` sets the journal and its backups aside (it lists the paths it does not put back); nothing else on the root is changed`;
};

/** The journal format of the previous version: absolute paths, no root id. Converted when every path is inside the root. */
function fromFormat1(root: string, v: { entries?: { path?: unknown; prior?: { type?: unknown; backup?: unknown } }[] } & Record<string, unknown>): unknown {
  const rel = (p: unknown, base: string) =>
    typeof p === "string" && path.isAbsolute(p) && p.startsWith(base + path.sep) ? path.relative(base, p) : "/invalid/";
  return {
    ...v,
    format: 2,
    root,
    entries: (v.entries ?? []).map((e) => ({
      path: rel(e.path, root),
      prior: e.prior?.type === "file" ? { ...e.prior, backup: rel(e.prior.backup, txnDir(root)) } : e.prior,
    })),
  };
}

/** The journal left by an interrupted run, checked; undefined when there is none. */
export async function readJournal(root: string, emit?: Emit): Promise<Journal | undefined> {
  const file = journalFile(root);
  const text = await readFile(file, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" || e.code === "ENOTDIR" ? undefined : e));
  if (text === undefined) {
    // A txn folder without a journal: the run stopped before its first change.
    await rm(txnDir(root), { recursive: true, force: true }).catch(() => undefined);
    return undefined;
  }
  if (text instanceof Error) throw invalid(`cannot read the journal ${file}: ${text.code ?? text.message}`, [], hintFor(root));
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw invalid(`corrupt journal ${file}: ${text.trim() ? `not valid JSON (${(e as Error).message})` : "empty file"}`, [], hintFor(root));
  }
  const id = await readRootId(root);
  if (json?.format === 1) json = { ...(fromFormat1(root, json) as Record<string, unknown>), rootId: id?.id ?? "" };
  const parsed = (await journalSchema()).safeParse(json);
  if (!parsed.success) throw invalid(`corrupt journal ${file}: ${(await import("./schema.js")).firstIssue(parsed.error)}`, [], hintFor(root));
  const journal = parsed.data;
  if (!id || id.id !== journal.rootId)
    throw invalid(`the journal ${file} belongs to another root (${journal.root}), not to ${root}: it was not used`, [], hintFor(root));
  if (journal.root !== root)
    emit?.({ type: "warning", plugin: "", message: `the root moved from ${journal.root} since the interrupted run: its journal is applied to ${root}` });
  return journal;
}

/** Where a journal entry's path is on this machine (checked: inside the root). */
export function entryPath(root: string, rel: string): string {
  if (!isPlainRelative(rel)) throw invalid(`refusing a journal path outside the root: ${rel}`);
  return path.join(root, rel);
}

/**
 * `recover --discard`: the interrupted run's journal and backups are moved, not deleted, to
 * `<state>/discarded/<time>/`, so no original is lost. Returns what was not put back.
 */
export async function discardJournal(root: string): Promise<{ to: string; paths: string[]; command?: string; readable: boolean } | undefined> {
  const dir = txnDir(root);
  const text = await readFile(journalFile(root), "utf8").catch(() => undefined);
  const exists = await readFile(journalFile(root)).then(
    () => true,
    (e: NodeJS.ErrnoException) => e.code !== "ENOENT",
  );
  if (!exists) return undefined;
  let paths: string[] = [];
  let command: string | undefined;
  let readable = false;
  try {
    const v = JSON.parse(text ?? "") as { entries?: { path?: unknown }[]; command?: unknown };
    paths = (v.entries ?? []).map((e) => String(e.path));
    command = typeof v.command === "string" ? v.command : undefined;
    readable = true;
  } catch {
    // Unreadable: nothing can be listed; the folder kept says what there was.
  }
  const to = path.join(stateDir(root), "discarded", new Date().toISOString());
  await mkdir(path.dirname(to), { recursive: true });
  await rename(dir, to);
  return { to, paths, command, readable };
}
