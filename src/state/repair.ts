/**
 * `verify --repair`: a corrupt manifest is rebuilt from what it still says and what is on the
 * disk, or, when nothing can be saved, set aside in `<state>/corrupt/`. A corrupt pending.json
 * keeps its valid handlers. No installed file is touched: a plugin whose manifest was set aside
 * leaves its files in place, unowned (a later install asks for --force and keeps them).
 */
import { mkdir, readFile, rename } from "node:fs/promises";
import path from "node:path";
import { factOf } from "../plan/facts.js";
import { replaceStateFile } from "./durable.js";
import {
  MANIFEST_FORMAT,
  serializeManifest,
  stateDir,
  stateKey,
  writePending,
  type CorruptState,
  type Handler,
  type Manifest,
  type ManifestEntry,
} from "./manifest.js";
import { HandlerSchema, ManifestEntrySchema, ManifestSchema, pbxPath } from "./schema.js";

export interface RepairAction {
  file: string;
  action: "rebuilt" | "set aside";
  detail: string;
}

type Loose = Record<string, unknown>;

const asObject = (v: unknown): Loose | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Loose) : undefined);

export async function repairManifest(root: string, c: CorruptState): Promise<RepairAction> {
  const json = asObject(
    await readFile(c.file, "utf8")
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => undefined),
  );
  const rebuilt = json && (await rebuild(root, json, path.basename(c.file)));
  if (rebuilt) {
    await replaceStateFile(c.file, serializeManifest(rebuilt.manifest));
    return {
      file: c.file,
      action: "rebuilt",
      detail: `${rebuilt.manifest.files.length} path(s) kept from the disk${rebuilt.dropped ? `, ${rebuilt.dropped} invalid or missing one(s) dropped` : ""}`,
    };
  }
  return setAside(root, c.file, "nothing could be rebuilt from it: the files it listed stay on disk, unowned");
}

async function setAside(root: string, file: string, detail: string): Promise<RepairAction> {
  const to = path.join(stateDir(root), "corrupt", `${path.basename(file)}.${new Date().toISOString()}`);
  await mkdir(path.dirname(to), { recursive: true });
  await rename(file, to);
  return { file, action: "set aside", detail: `${detail}; moved to ${to}` };
}

/** A valid manifest from a damaged one: its valid entries still on disk, checksums re-read where missing. */
async function rebuild(root: string, json: Loose, fileName: string): Promise<{ manifest: Manifest; dropped: number } | undefined> {
  const name = typeof json.name === "string" ? json.name : undefined;
  if (!name || `${stateKey(name)}.json` !== fileName || !Array.isArray(json.files)) return undefined;
  const files: ManifestEntry[] = [];
  let dropped = 0;
  for (const raw of json.files as unknown[]) {
    const entry = await entryFromDisk(root, raw);
    if (entry) files.push(entry);
    else dropped++;
  }
  const pick = <K extends keyof typeof ManifestSchema.shape & keyof Manifest>(key: K, fallback: Manifest[K]): Manifest[K] => {
    const field = ManifestSchema.shape[key];
    const r = field.safeParse(json[key]);
    return r.success ? (r.data as Manifest[K]) : fallback;
  };
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    name,
    version: pick("version", "unknown"),
    description: pick("description", ""),
    source: pick("source", ""),
    installedBy: pick("installedBy", "descriptor"),
    installedAt: pick("installedAt", new Date().toISOString()),
    files,
    handlers: pick("handlers", []),
    verify: pick("verify", []),
    uninstall: pick("uninstall", []),
    extensions: pick("extensions", []),
    preserved: pick("preserved", []),
    reloadPending: pick("reloadPending", []),
    ...(json.rules !== undefined && ManifestSchema.shape.rules.safeParse(json.rules).success ? { rules: json.rules as Manifest["rules"] } : {}),
    ...(asObject(json.origin) ? { origin: json.origin as Manifest["origin"] } : {}),
  };
  return ManifestSchema.safeParse(manifest).success ? { manifest, dropped } : undefined;
}

async function entryFromDisk(root: string, raw: unknown): Promise<ManifestEntry | undefined> {
  const e = asObject(raw);
  if (!e || !pbxPath.safeParse(e.path).success) return undefined;
  const p = e.path as string;
  const fact = await factOf(path.join(root, p));
  if (fact.type === "absent" || fact.type === "other") return undefined;
  const ok = ManifestEntrySchema.safeParse(e);
  if (ok.success && ok.data.type === fact.type) return ok.data;
  // Damaged entry for something that is there: recorded as it is now.
  if (fact.type === "file") return { path: p, type: "file", sha256: fact.sha256, mode: fact.mode, size: fact.size };
  if (fact.type === "dir") return { path: p, type: "dir", mode: fact.mode };
  return { path: p, type: "symlink", target: fact.target };
}

/** A corrupt pending.json: its valid handlers are kept, the file is set aside when none are. */
export async function repairPending(root: string, c: CorruptState): Promise<RepairAction> {
  const json = asObject(
    await readFile(c.file, "utf8")
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => undefined),
  );
  const handlers = Array.isArray(json?.handlers) ? (json.handlers as unknown[]).filter((h): h is Handler => HandlerSchema.safeParse(h).success) : [];
  if (!handlers.length) return setAside(root, c.file, "no pending reload could be read from it (run `wazo-tasks reload` to be sure)");
  await writePending(root, handlers);
  return { file: c.file, action: "rebuilt", detail: `${handlers.length} pending handler(s) kept` };
}
