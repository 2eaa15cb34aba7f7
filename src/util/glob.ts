/**
 * A small glob for source paths inside a plugin folder (Node 20 has no fs.glob):
 * `*`, `?`, `[abc]` within a segment and `**` for any depth. Dot files match only explicitly.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";

export const hasGlob = (p: string) => /[*?[]/.test(p);

function segmentRegex(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = seg.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${seg
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Paths (relative to `base`, sorted) that match `pattern`. */
export async function glob(base: string, pattern: string): Promise<string[]> {
  const segs = pattern.split("/").filter((s) => s !== "" && s !== ".");
  const out = new Set<string>();
  async function walk(rel: string, i: number): Promise<void> {
    if (i === segs.length) {
      out.add(rel);
      return;
    }
    const seg = segs[i];
    if (seg === "**") {
      await walk(rel, i + 1);
      for (const e of await list(rel)) if (e.isDirectory() && !e.name.startsWith(".")) await walk(path.join(rel, e.name), i);
      return;
    }
    if (!hasGlob(seg)) return walk(path.join(rel, seg), i + 1).then(() => undefined);
    const re = segmentRegex(seg);
    for (const e of await list(rel)) {
      if (e.name.startsWith(".") && !seg.startsWith(".")) continue;
      if (re.test(e.name)) await walk(path.join(rel, e.name), i + 1);
    }
  }
  const list = (rel: string) => readdir(path.join(base, rel), { withFileTypes: true }).catch(() => []);
  await walk("", 0);
  // A literal tail may name nothing; keep only what exists.
  const existing: string[] = [];
  for (const rel of out) {
    const parent = await list(path.dirname(rel));
    if (parent.some((e) => e.name === path.basename(rel))) existing.push(rel);
  }
  return existing.sort();
}
