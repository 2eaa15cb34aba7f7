/**
 * `debian_depends`: reported, and checked with `dpkg-query` when it is on PATH. Nothing is ever
 * installed. Under --root the dpkg database of the root is read (`--admindir`), when it has one;
 * a root without one is not checked (the host's packages say nothing about it).
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { runProcess, which } from "../util/process.js";

export type DebianStatus = { dep: string; state: "installed" | "missing" | "unchecked"; why?: string };

/** `a (>= 1) | b:any` → ["a", "b"]. */
export const alternatives = (dep: string) =>
  dep
    .split("|")
    .map((a) =>
      a
        .trim()
        .replace(/\s*[([].*$/, "")
        .replace(/:[a-z0-9]+$/, ""),
    )
    .filter(Boolean);

/** `envPath`: the PATH dpkg-query is looked up on. */
export async function checkDebianDepends(deps: string[], root: string, envPath: string | undefined): Promise<DebianStatus[]> {
  if (!deps.length) return [];
  const exe = await which("dpkg-query", envPath);
  if (!exe) return deps.map((dep) => ({ dep, state: "unchecked", why: "dpkg-query is not on PATH" }));
  let admindir: string | undefined;
  if (path.resolve(root) !== "/") {
    admindir = path.join(root, "var/lib/dpkg");
    if (
      !(await stat(path.join(admindir, "status")).then(
        () => true,
        () => false,
      ))
    )
      return deps.map((dep) => ({ dep, state: "unchecked", why: `the root has no dpkg database (${admindir}/status)` }));
  }
  const installed = async (pkg: string) => {
    const r = await runProcess([exe, ...(admindir ? [`--admindir=${admindir}`] : []), "-W", "-f=${Status}\\n", pkg], { timeoutMs: 30_000 });
    return r.ok && r.tail.some((l) => /\sinstalled$/.test(l.trim()) && l.trim().startsWith("install "));
  };
  const out: DebianStatus[] = [];
  for (const dep of deps) {
    let found = false;
    for (const alt of alternatives(dep)) if ((found = await installed(alt))) break;
    out.push({ dep, state: found ? "installed" : "missing" });
  }
  return out;
}
