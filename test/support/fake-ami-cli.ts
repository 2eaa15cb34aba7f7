// The Asterisk CLI commands the fake AMI server understands (through `Action: Command`), with
// the texts of a real Asterisk 22 (shared/ami/asterisk-22-transcripts.md, sections 6 and 14).
import type { FakeReloadOutcome } from "./fake-ami-data.js";
import { VERSION_LINE } from "./fake-ami-data.js";
import type { FakeDialplan } from "./fake-dialplan.js";

/** Result of a CLI command: `ok: false` becomes `Response: Error` over AMI. */
export interface CliResult {
  ok: boolean;
  lines: string[];
}

/** What the CLI needs from the server. */
export interface CliHost {
  readonly dialplan: FakeDialplan;
  /** `dialplan reload`: pbx_config's own reload, no reload lock, no Reload event. */
  dialplanReload(): Promise<void>;
  /** Through the module loader (reload lock, outcomes): Module as sent, undefined for all. */
  reloadModule(module: string | undefined, via: string): Promise<FakeReloadOutcome | "in-progress">;
  uptimeSeconds(): number;
  lastReloadSeconds(): number;
}

const DIALPLAN_RELOAD_USAGE = [
  "Usage: dialplan reload",
  "       Reload extensions.conf without reloading any other",
  "       modules.  This command does not delete global variables",
  "       unless clearglobalvars is set to yes in extensions.conf",
];

// main/cli.c handle_reload(): one line per module.
function moduleReloadLine(name: string, outcome: FakeReloadOutcome | "in-progress"): string {
  switch (outcome) {
    case "ok":
      return `Module '${name}' reloaded successfully.`;
    case "no-such-module":
      return `No such module '${name}'`;
    case "not-supported":
      return `The module '${name}' does not support reloads`;
    case "error":
      return `The module '${name}' reported a reload failure`;
    case "in-progress":
      return "A module reload request is already in progress; please be patient";
    case "not-initialized":
      return `The module '${name}' was not properly initialized. Before reloading the module, you must run "module load ${name}" and fix whatever is preventing the module from being initialized.`;
  }
}

/** `module load|unload`, `restart gracefully`: refused by the Command action itself. */
export function isBlacklisted(command: string): boolean {
  const firstTwo = command.trim().split(/\s+/).slice(0, 2).join(" ").toLowerCase();
  return ["module load", "module unload", "restart gracefully"].includes(firstTwo);
}

export async function runCli(command: string, host: CliHost): Promise<CliResult> {
  const words = command.trim().split(/\s+/);
  const text = words.join(" ");
  const [a, b, c] = words.map((w) => w.toLowerCase());
  if (a === "dialplan" && b === "reload") {
    if (words.length > 2) return { ok: false, lines: DIALPLAN_RELOAD_USAGE };
    await host.dialplanReload();
    return { ok: true, lines: ["Dialplan reloaded."] };
  }
  if (a === "dialplan" && b === "show" && words.length <= 3) {
    const shown = host.dialplan.show(words[2]);
    return shown.ok ? shown : { ok: false, lines: [...shown.lines, `Command '${text}' failed.`] };
  }
  if (a === "core" && b === "show" && c === "version" && words.length === 3) {
    return { ok: true, lines: [VERSION_LINE] };
  }
  if (a === "core" && b === "show" && c === "uptime") {
    return { ok: true, lines: [`System uptime: ${host.uptimeSeconds()}`, `Last reload: ${host.lastReloadSeconds()}`] };
  }
  if (a === "module" && b === "reload") {
    const lines: string[] = [];
    for (const name of words.slice(2)) lines.push(moduleReloadLine(name, await host.reloadModule(name, "module reload")));
    return { ok: true, lines }; // even "No such module" is a Success here (dialplan-facts.md)
  }
  return { ok: false, lines: [`No such command '${text}' (type 'core show help ${text}' for other possible commands)`] };
}
