/**
 * `import { defineTasks } from "wazo-tasks"` in a plugin's tasks.ts resolves to the running
 * wazo-tasks, also in a folder with no node_modules: the plugin is typed against the tool that
 * loads it. Kept apart from how tasks.ts is evaluated: `selfEntry()` is the file to alias the
 * specifier to (a bundler's `alias`), `resolveSelf()` the resolve hook for Node's loader.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const SELF = "wazo-tasks";

let entry: string | undefined;

/** The package's library entry (dist/index.js), found from this file whether bundled or not. */
export function selfEntry(from: string = fileURLToPath(import.meta.url)): string {
  if (entry) return entry;
  for (let dir = path.dirname(from); ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === SELF) return (entry = path.join(dir, "dist", "index.js"));
    if (path.dirname(dir) === dir) throw new Error(`cannot find the ${SELF} package above ${from}`);
  }
}

type Resolve = (specifier: string, context: { parentURL?: string }, next: Resolve) => Promise<{ url: string; shortCircuit?: boolean; format?: string }> | { url: string; shortCircuit?: boolean };

/** Node resolve hook: the bare `wazo-tasks` specifier (and `wazo-tasks/...` is left alone). */
export function resolveSelf(url: string): Resolve {
  return (specifier, context, next) => (specifier === SELF ? { url, shortCircuit: true } : next(specifier, context, next));
}

let registered = false;

/** Makes `wazo-tasks` resolve to this package in modules loaded from now on (ESM and CommonJS). */
export async function registerSelfResolution(): Promise<void> {
  if (registered) return;
  registered = true;
  const file = selfEntry();
  const url = pathToFileURL(file).href;
  const mod = await import("node:module");
  // ESM imports: a loader hook (its own module, as module.register needs).
  mod.register(pathToFileURL(path.join(path.dirname(file), "load", "self-resolve-hook.js")).href, { data: { url } });
  // require() of a tasks.ts compiled as CommonJS (no "type": "module" around it).
  const M = mod.Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  M._resolveFilename = function (request, ...rest) {
    return request === SELF ? file : original.call(this, request, ...rest);
  };
}
