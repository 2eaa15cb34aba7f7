/**
 * Commands that talk to services (asterisk -rx, systemctl, service), no-ops (echo, true) and
 * recursive make, translated to descriptor steps.
 */
import { posix } from "node:path";
import type { Step } from "../load/schema.js";
import { untranslated, type Outcome, type Translator } from "./commands.js";
import { DESTDIR_MARK } from "./paths.js";
import type { Word } from "./shell.js";

const asterisk: Translator = (args) => {
  let command: string | undefined;
  for (let k = 0; k < args.length; k++) {
    const t = args[k].text;
    if (!/^-[a-zA-Z]+$/.test(t)) return untranslated(`unsupported asterisk argument '${t}'`);
    for (let j = 1; j < t.length; j++) {
      if (t[j] === "x") {
        // getopt: what follows 'x' in the same word is its argument, else the next word.
        command = j + 1 < t.length ? t.slice(j + 1) : args[++k]?.text;
        break;
      }
      if (!"rvq".includes(t[j])) return untranslated(`unsupported asterisk option -${t[j]}`);
    }
  }
  if (command === undefined || command.trim() === "") return untranslated("asterisk without -x 'command'");
  return { kind: "steps", steps: [asteriskStep(command.trim().replace(/\s+/g, " "))], writes: [] };
};

/** `dialplan reload` and `module reload X` are reload handlers; any other command runs as is. */
export function asteriskStep(command: string): Step {
  if (command === "dialplan reload") return { reload: "dialplan" };
  const m = /^module reload ([A-Za-z0-9_.-]+)$/.exec(command);
  return m ? { reload: m[1] } : { asterisk: command };
}

const UNIT = /^[A-Za-z0-9@_.:-]+$/;
// The descriptor has one service handler, restart; a reload request is served by a restart.
const RESTART_VERBS: ReadonlySet<string> = new Set(["restart", "try-restart", "reload", "reload-or-restart", "try-reload-or-restart", "force-reload"]);
const HARMLESS_SYSTEMCTL_OPTIONS: ReadonlySet<string> = new Set(["-q", "--quiet", "--no-block", "--no-pager", "--no-ask-password"]);

const systemctl: Translator = (args) => {
  const operands: string[] = [];
  for (const w of args) {
    if (HARMLESS_SYSTEMCTL_OPTIONS.has(w.text)) continue;
    if (w.text.startsWith("-")) return untranslated(`unsupported systemctl option ${w.text}`);
    operands.push(w.text);
  }
  const [verb, ...units] = operands;
  if (!verb || !RESTART_VERBS.has(verb)) return untranslated(`systemctl ${verb ?? ""} is not a restart`.trim());
  return restarts(units);
};

/** SysV style: `service UNIT restart`. */
const service: Translator = (args) => {
  const [unit, verb, ...rest] = args.map((w) => w.text);
  if (!unit || !verb || rest.length > 0 || !RESTART_VERBS.has(verb)) return untranslated("service command other than restart/reload");
  return restarts([unit]);
};

function restarts(units: string[]): Outcome {
  if (units.length === 0) return untranslated("no unit to restart");
  const bad = units.find((u) => !UNIT.test(u));
  if (bad) return untranslated(`'${bad}' is not a systemd unit name`);
  return { kind: "steps", steps: units.map((u) => ({ restart: u })), writes: [] };
}

// Output only: nothing to do on the PBX. (Redirections were refused earlier by the shell reader.)
const noop: Translator = () => ({ kind: "noop" });

export const SERVICE_COMMANDS: Record<string, Translator> = {
  asterisk,
  systemctl,
  service,
  true: noop,
  ":": noop,
  echo: noop,
  printf: noop,
};

const MAKE_HARMLESS: ReadonlySet<string> = new Set(["-s", "--silent", "--quiet", "--no-print-directory", "-w", "--print-directory"]);

/**
 * `$(MAKE) [-C .] [-f Makefile] TARGET...` re-entering this Makefile: the targets to inline.
 * Passing DESTDIR through (`DESTDIR=$(DESTDIR)`) is fine; other variables would change the run.
 */
export function makeInvocation(args: Word[], makefile: string, destdirVar: string): Outcome {
  const targets: string[] = [];
  for (let k = 0; k < args.length; k++) {
    const t = args[k].text;
    if (t === "-C" || t.startsWith("-C") || t.startsWith("--directory=")) {
      const dir = t === "-C" ? args[++k]?.text : t.replace(/^-C|^--directory=/, "");
      if (dir === undefined || posix.normalize(dir) !== ".") return untranslated(`make in another folder (-C ${dir ?? ""})`);
    } else if (t === "-f" || t.startsWith("--file=")) {
      const file = t === "-f" ? args[++k]?.text : t.slice("--file=".length);
      if (file === undefined || posix.normalize(file) !== makefile) return untranslated(`make with another Makefile (-f ${file ?? ""})`);
    } else if (MAKE_HARMLESS.has(t)) continue;
    else if (t.startsWith("-")) return untranslated(`unsupported make option ${t}`);
    else if (t.includes("=")) {
      if (t !== `${destdirVar}=${DESTDIR_MARK}`) return untranslated(`make with a variable (${t.split("=")[0]}=...)`);
    } else targets.push(t);
  }
  return { kind: "make", targets };
}

export const MAKE_COMMANDS: ReadonlySet<string> = new Set(["make", "gmake"]);
