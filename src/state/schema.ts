/**
 * What a state file must hold to be trusted: manifests and pending.json are read back into
 * plans that delete and rewrite files, so every path in them is checked to stay inside the root
 * (a manifest entry "/../victim/data.txt" is refused, never resolved).
 */
import { z } from "zod";
import { NEEDS, StepSchema } from "../load/schema.js";
import { STATE_DIR } from "./paths.js";

/**
 * The path rules as regular expressions, so that the validators compiled at build time check
 * them too (scripts/write-validators.mjs): a segment is neither `.` nor `..` and holds no NUL; a
 * trailing '/' is kept, as path.posix.normalize keeps it. They say what isPlainRelative says
 * (test/state/schema-paths.test.ts compares them).
 */
const SEGMENT = String.raw`(?!\.\.?(?:/|$))[^/\0]+`;
const RELATIVE = String.raw`${SEGMENT}(?:/${SEGMENT})*/?`;
export const PBX_PATH = new RegExp(String.raw`^(?:/${SEGMENT})+/?$`);
export const ROOT_RELATIVE = new RegExp(`^${RELATIVE}$`);
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A path on the PBX: absolute, normalized, no `..`, not the root itself. */
export const pbxPath = z.string().regex(PBX_PATH, "must be an absolute path inside the root, without '..'");

/** A path relative to the root (backups, copies kept in the state folder). */
export const rootRelative = z.string().regex(ROOT_RELATIVE, "must be a relative path inside the root, without '..'");

/** A path relative to the root, inside the state folder's `sub` folder: a backup is never taken from elsewhere. */
export const inStatePattern = (sub: string) => new RegExp(`^${escapeRe(`${STATE_DIR}/${sub}/`)}(?:${RELATIVE})?$`);
const inState = (sub: string) => z.string().regex(inStatePattern(sub), `must be a path inside ${STATE_DIR}/${sub}/`);

const mode = z.number().int().min(0).max(0o7777);

export const HandlerSchema = z.union([
  z.strictObject({ reload: z.string().regex(/^[A-Za-z0-9_.-]+$/) }),
  z.strictObject({ restart: z.string().regex(/^[A-Za-z0-9@_.:-]+$/) }),
]);

export const ManifestEntrySchema = z.discriminatedUnion("type", [
  z.object({ path: pbxPath, type: z.literal("file"), sha256: z.string().regex(/^[0-9a-f]{64}$/), mode, size: z.number().int().min(0) }),
  z.object({ path: pbxPath, type: z.literal("dir"), mode }),
  z.object({ path: pbxPath, type: z.literal("symlink"), target: z.string().min(1) }),
]);

export const ManifestSchema = z.looseObject({
  format: z.number().int(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*)?$/, "must be a plugin name"),
  version: z.string(),
  description: z.string(),
  source: z.string(),
  installedBy: z.enum(["descriptor", "make", "rules"]),
  installedAt: z.string(),
  files: z.array(ManifestEntrySchema),
  handlers: z.array(HandlerSchema),
  verify: z.array(z.object({ extension: z.string(), context: z.string() })),
  uninstall: z.array(StepSchema),
  extensions: z.array(z.object({ context: z.string(), extension: z.string(), file: z.string() })),
  preserved: z.array(z.object({ path: pbxPath, backup: inState("preserved"), mode, link: z.string().optional() })),
  reloadPending: z.array(HandlerSchema),
  rules: z.looseObject({ copy: inState("rules") }).optional(),
  needs: z.array(z.enum(NEEDS)).optional(),
});

export const PendingSchema = z.object({ handlers: z.array(HandlerSchema) });

/** The first problem zod found, as "files.3.path: must be …". */
export function firstIssue(error: z.ZodError): string {
  const i = error.issues[0];
  const message = /received undefined$/.test(i.message) ? "missing" : i.message;
  return `${i.path.length ? `${i.path.join(".")}: ` : ""}${message}`;
}
