/**
 * A state file's JSON checked against its schema (src/state/schema.ts): first by the validator
 * compiled from that schema at build time (scripts/write-validators.mjs), and by zod only to
 * explain a file the compiled one rejects. Loading zod would otherwise cost a reinstall of
 * unchanged plugins more than all its other work.
 */
import type { Manifest } from "../model/manifest.js";
import type { Handler } from "../model/plugin.js";
import * as compiled from "./compiled-validators.js";

interface StateFiles {
  manifest: Manifest;
  pending: { handlers: Handler[] };
}

const SCHEMA = { manifest: "ManifestSchema", pending: "PendingSchema" } as const;

export async function checkState<K extends keyof StateFiles>(
  kind: K,
  json: unknown,
): Promise<{ ok: true; value: StateFiles[K] } | { ok: false; problem: string }> {
  if ((compiled[kind] as (v: unknown) => boolean)(json)) return { ok: true, value: json as StateFiles[K] };
  const schema = await import("./schema.js");
  const parsed = schema[SCHEMA[kind]].safeParse(json);
  // Should the two ever disagree, zod, the source of both, decides.
  if (parsed.success) return { ok: true, value: parsed.data as StateFiles[K] };
  return { ok: false, problem: schema.firstIssue(parsed.error) };
}
