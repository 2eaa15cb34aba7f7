/** Helpers for the Makefile tests: fixtures, temp folders, stand-in asterisk/systemctl. */
import { chmodSync, cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { Step } from "../../src/load/schema.js";

export const FIXTURES = fileURLToPath(new URL("../fixtures/make/", import.meta.url));

export function fixture(name: string): string {
  return join(FIXTURES, name);
}

export function fixtureMakefile(name: string): string {
  return readFileSync(join(fixture(name), "Makefile"), "utf8");
}

/** A fresh temp folder, removed after the test. */
export function tempDir(t: { after: (fn: () => void) => void }, prefix = "wazo-make-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Copies a fixture plugin into a temp folder so make runs never touch the repository. */
export function copyFixture(name: string, into: string): string {
  const dest = join(into, name);
  cpSync(fixture(name), dest, { recursive: true });
  return dest;
}

export interface StandIns {
  bin: string;
  /** Recorded calls, each as [program, ...args]. */
  calls(): string[][];
  /** Environment with the stand-ins first on PATH. */
  env: NodeJS.ProcessEnv;
}

/** asterisk and systemctl stand-ins that append their argv (tab-separated) to a file. */
export function standIns(dir: string): StandIns {
  const bin = join(dir, "bin");
  const log = join(dir, "calls.log");
  mkdirSync(bin, { recursive: true });
  writeFileSync(log, "");
  for (const name of ["asterisk", "systemctl"]) {
    const script = `#!/bin/sh\n{ printf '%s' '${name}'; for a in "$@"; do printf '\\t%s' "$a"; done; printf '\\n'; } >> '${log}'\n`;
    writeFileSync(join(bin, name), script);
    chmodSync(join(bin, name), 0o755);
  }
  return {
    bin,
    calls: () =>
      readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")),
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
  };
}

/** Files and symlinks under root (folders left out), as absolute PBX paths ("/etc/..."). */
export function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (lstatSync(path).isDirectory()) walk(path);
      else out.push(`/${relative(root, path)}`);
    }
  };
  walk(root);
  return out.sort();
}

/** The files and symlinks the translated steps create, to compare with what make created. */
export function pathsCreatedBySteps(steps: Step[], pluginDir: string): string[] {
  const out: string[] = [];
  for (const step of steps) {
    if ("symlink" in step) out.push(step.symlink);
    if (!("copy" in step)) continue;
    const dest = step.to.endsWith("/") ? join(step.to, basename(step.copy)) : step.to;
    const src = join(pluginDir, step.copy);
    if (lstatSync(src).isDirectory()) out.push(...listTree(src).map((p) => join(dest, p)));
    else out.push(dest);
  }
  return out.sort();
}
