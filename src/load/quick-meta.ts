/**
 * Reads a plugin's name without the YAML parser, for listing many folders quickly. A name that
 * cannot be read this way falls back to the folder name; `validate` gives the real diagnostics.
 */
import path from "node:path";
import { readRegularFileSync } from "../util/read-limited.js";

/** A small file's text; undefined when it is missing or not a regular file. */
function textOf(file: string): string | undefined {
  try {
    return readRegularFileSync(file).toString("utf8");
  } catch {
    return undefined;
  }
}

export async function readPackageName(dir: string): Promise<string | undefined> {
  const text = textOf(path.join(dir, "package.yml"));
  if (text === undefined) return readRulesName(dir);
  const m = /^name:[ \t]*["']?([a-z0-9][a-z0-9-]*)["']?[ \t]*(?:#.*)?$/m.exec(text);
  return m ? m[1] : path.basename(dir);
}

/** A wazo-plugind plugin (wazo/plugin.yml) is named NAMESPACE/NAME. */
async function readRulesName(dir: string): Promise<string | undefined> {
  const text = textOf(path.join(dir, "wazo", "plugin.yml"));
  if (text === undefined) return undefined;
  const key = (k: string, re: string) => new RegExp(`^${k}:[ \\t]*["']?(${re})["']?[ \\t]*(?:#.*)?$`, "m").exec(text)?.[1];
  const ns = key("namespace", "[a-z0-9]+");
  const name = key("name", "[a-z0-9-]+");
  return ns && name ? `${ns}/${name}` : path.basename(dir);
}
