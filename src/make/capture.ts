/**
 * `make install` captured: make runs into an empty staging DESTDIR, with `asterisk`,
 * `systemctl` and `service` on PATH replaced by recorders. The staged tree becomes typed items
 * (the same path as wazo/rules packages: src/rules/stage.ts), so the planner and the executor
 * install it as any plugin's files — journaled, checked for conflicts and admin edits, undone on
 * failure — and the recorded service calls become handlers run once the files are in place.
 * Nothing make does reaches the root: a recipe deleting `$(DESTDIR)/` deletes the staging folder.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AmiConfig } from "../asterisk/ami-url.js";
import type { MakePlugin } from "../model/plugin.js";
import type { Step } from "../load/schema.js";
import { invalid, TaskFailure } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import { expandSteps, type Expanded } from "../plan/expand.js";
import { stagedItems } from "../rules/stage.js";
import { killChildren } from "../util/process.js";
import { runMake } from "./runner.js";
import { SERVICE_COMMANDS } from "./services.js";

const RECORDED = ["asterisk", "systemctl", "service"];
const SEP = "\x1f";
// Records its name and arguments (unit-separated) on one line of $MAKE_CAPTURE_LOG.
const RECORDER = `#!/bin/sh\n{ printf '%s' "\${0##*/}"; for a in "$@"; do printf '\\037%s' "$a"; done; printf '\\n'; } >> "$MAKE_CAPTURE_LOG"\n`;

const temps = new Set<string>();
let hooked = false;
async function tempFolder(prefix: string): Promise<string> {
  if (!hooked) {
    process.once("exit", () => temps.forEach((t) => rmSync(t, { recursive: true, force: true })));
    hooked = true;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  temps.add(dir);
  return dir;
}

/** Runs `make install` of `plugin` into a staging folder; what it staged and asked for, as items. */
export async function captureMakeInstall(
  plugin: MakePlugin,
  predicted: Expanded,
  opts: { root: string; emit?: Emit; timeoutMs?: number; ami?: AmiConfig },
): Promise<Expanded> {
  const base = await tempFolder("wazo-tasks-make-");
  const stage = path.join(base, "stage");
  await mkdir(stage, { mode: 0o755 });
  await mirrorFolders(stage, opts.root, predicted);
  const tools = await tempFolder("wazo-tasks-make-tools-");
  for (const name of RECORDED) {
    await writeFile(path.join(tools, name), RECORDER);
    await chmod(path.join(tools, name), 0o755);
  }
  const log = path.join(tools, "calls");
  await writeFile(log, "");
  opts.emit?.({ type: "info", message: `${plugin.name}: running make install into the staging folder ${stage}` });
  const env = { ...process.env, PATH: `${tools}:${process.env.PATH ?? ""}`, MAKE_CAPTURE_LOG: log };
  // SIGINT/SIGTERM stop make at once; nothing has been changed yet.
  const signal: { name?: string } = {};
  const onSignal = (name: string) => {
    signal.name ??= name;
    killChildren("SIGTERM");
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  const r = await runMake(plugin.dir, "install", {
    destdir: stage,
    env,
    ami: opts.ami,
    timeoutMs: opts.timeoutMs ?? 10 * 60_000,
    onLine: (stream, line) => opts.emit?.({ type: "output", plugin: plugin.name, stream, line }),
  }).finally(() => process.off("SIGINT", onSignal).off("SIGTERM", onSignal));
  const command = { command: "make install" };
  if (signal.name)
    throw new TaskFailure(
      "aborted",
      `${plugin.name}: make install interrupted by ${signal.name}; nothing was changed (make ran into a staging folder)`,
      [],
      undefined,
      { ...command, plugin: plugin.name },
    );
  if (r.notFound) throw new TaskFailure("make-failed", r.message, [], undefined, { ...command, plugin: plugin.name });
  if (!r.ok) {
    const how = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : (r.error ?? `exit code ${r.exitCode}`);
    throw new TaskFailure(
      "make-failed",
      `${plugin.name}: make install failed (${how})${r.lines.length ? `; last lines:\n    ${r.lines.slice(-5).join("\n    ")}` : ""}\n  nothing was changed (make ran into a staging folder)`,
      [],
      undefined,
      { ...command, plugin: plugin.name, exitStatus: r.exitCode, ...(r.signal ? { signal: r.signal } : {}) },
    );
  }
  // `$(DESTDIR)/../x` lands beside the staging folder: outside the root, refused.
  const outside = (await readdir(base)).filter((n) => n !== "stage");
  if (outside.length)
    throw invalid(`${plugin.name}: make install wrote outside DESTDIR (${outside.map((n) => `$(DESTDIR)/../${n}`).join(", ")}): refused, nothing was changed`, [
      { severity: "error", file: plugin.makefile, message: `writes outside $(DESTDIR): ${outside.join(", ")}`, hint: "install every file under $(DESTDIR)" },
    ]);
  const staged = await stagedItems(plugin, stage);
  const steps = recordedSteps(await readFile(log, "utf8"));
  const calls = await expandSteps(plugin, "install", steps);
  const offset = staged.labels.length;
  return {
    plugin,
    labels: [...staged.labels, ...calls.labels],
    kinds: [...staged.kinds, ...calls.kinds],
    items: [...staged.items, ...calls.items.map((i) => ({ ...i, step: i.step + offset }))],
    handlers: calls.handlers,
    asterisk: calls.asterisk,
    verify: [],
  };
}

/**
 * Recipes copy into folders a PBX already has (`cp x.conf $(DESTDIR)/etc/asterisk/`): the
 * folders above the paths the analysis predicts are created in the staging folder when the
 * root has them, with the root's modes (so they plan as unchanged).
 */
async function mirrorFolders(stage: string, root: string, predicted: Expanded): Promise<void> {
  const dirs = new Set<string>();
  for (const item of predicted.items) {
    if (!("target" in item)) continue;
    for (let d = path.posix.dirname(item.target); d !== "/" && !dirs.has(d); d = path.posix.dirname(d)) dirs.add(d);
  }
  for (const d of [...dirs].sort()) {
    const st = await stat(path.join(root, d)).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    await mkdir(path.join(stage, d), { recursive: true });
    await chmod(path.join(stage, d), st.mode & 0o7777);
  }
}

/** The recorded service calls as steps: reloads and restarts become handlers; any other call
 * runs as written, after the files are installed. */
function recordedSteps(log: string): Step[] {
  const steps: Step[] = [];
  for (const line of log.split("\n").filter(Boolean)) {
    const [name, ...args] = line.split(SEP);
    const out = SERVICE_COMMANDS[name]?.(
      args.map((text) => ({ text, glob: false })),
      { knownDirs: new Set() },
    );
    if (out?.kind === "steps") steps.push(...out.steps);
    else if (out?.kind !== "noop") steps.push({ run: [name, ...args] } as Step);
  }
  return steps;
}
