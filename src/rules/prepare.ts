/**
 * Before anything runs: a rules plugin's `depends` are found (installed, named on the command
 * line, or in the search folders) and ordered first; its Wazo version range and Debian packages
 * are checked. Every refusal is an invalid-input error (exit 2) with the plugin.yml line.
 */
import { listAvailable, type SearchOptions } from "../load/lookup.js";
import type { LoadResult, Plugin, RulesPlugin } from "../model/plugin.js";
import { invalid, type Diagnostic } from "../model/diagnostic.js";
import type { Emit } from "../model/event.js";
import { readManifests } from "../state/manifest.js";
import { checkDebianDepends } from "./debian.js";
import type { RulesRunOptions } from "./types.js";
import { compareVersions, currentWazoVersion } from "./version.js";

export interface PrepareOptions extends SearchOptions, RulesRunOptions {
  root: string;
  force?: boolean;
  emit?: Emit;
  /** Where a dependency found nowhere else is looked up: the market (src/sources). */
  sources?: import("../sources/session.js").SourceSession;
  /** Loads a dependency's folder, whatever its format (src/formats/: loadFolder). */
  load: (dir: string) => Promise<LoadResult>;
  /** The PATH programs (dpkg-query) are looked up on: the run's. */
  programPath?: string;
}

const isRules = (p: Plugin): p is RulesPlugin => p.kind === "rules";

export async function prepareRules(given: Plugin[], opts: PrepareOptions): Promise<Plugin[]> {
  const emit = opts.emit ?? (() => {});
  const errors: Diagnostic[] = [];
  const manifests = await readManifests(opts.root);
  const byName = new Map(given.map((p) => [p.name, p]));
  let available: Awaited<ReturnType<typeof listAvailable>> | undefined;

  // Dependencies, found breadth-first; each found one may bring its own.
  const edges = new Map<string, { dep: string; index: number }[]>();
  // Who needs whom, for messages: `a/top needs a/one needs a/two`.
  const neededBy = new Map<string, string>();
  const chain = (name: string): string => (neededBy.has(name) ? `${chain(neededBy.get(name)!)} needs ${name}` : name);
  const todo = [...given];
  while (todo.length) {
    const p = todo.shift()!;
    if (!isRules(p)) continue;
    const list: { dep: string; index: number }[] = [];
    edges.set(p.name, list);
    for (const [index, d] of p.rules.meta.depends.entries()) {
      const dep = `${d.namespace}/${d.name}`;
      const at = (message: string, hint?: string) => errors.push(p.rules.locate.diagnostic(["depends", index], `${p.name}: ${message}`, { hint }));
      const enough = (version: string) => !d.version || compareVersions(version, d.version) >= 0;
      const wanted = d.version ? ` ${d.version} or later` : "";
      const inRun = byName.get(dep);
      if (inRun) {
        if (!enough(inRun.version)) at(`depends on ${dep}${wanted}, but ${inRun.dir} has version ${inRun.version}`);
        list.push({ dep, index });
        continue;
      }
      const installed = manifests.get(dep);
      if (installed && enough(installed.version)) continue;
      available ??= await listAvailable({ ...opts, root: opts.root });
      let found: { dir: string; origin?: import("../sources/types.js").SourceRecord } | undefined = available.find((a) => a.name === dep);
      let marketSays: string | undefined;
      let noMarket: string | undefined;
      if (!found && opts.sources) {
        const { fromMarket, isMarketUnreadable } = await import("../sources/resolve.js");
        const r = await fromMarket(dep, opts.sources, { atLeast: d.version }).catch((e: Error) =>
          isMarketUnreadable(e) ? { unreadable: e.message } : e.message,
        );
        if (typeof r === "string") marketSays = r.startsWith(`${dep}: `) ? r.slice(dep.length + 2) : r;
        else if ("unreadable" in r) noMarket = r.unreadable;
        else found = { dir: r.dir, origin: r.source };
      }
      if (!found && marketSays) {
        errors.push(
          p.rules.locate.diagnostic(["depends", index], `${chain(p.name)} needs ${dep}${wanted}: ${marketSays}`, {
            hint: `neither installed nor in the search folders; put the ${dep} plugin in a search folder (--plugins-dir) or install it first`,
          }),
        );
        continue;
      }
      if (!found) {
        at(
          installed
            ? `depends on ${dep}${wanted}; version ${installed.version} is installed and no later one is in the search folders`
            : `depends on ${dep}, which is neither installed nor found in the search folders`,
          `put the ${dep} plugin in a search folder (--plugins-dir, WAZO_TASKS_PLUGINS_PATH) or install it first${noMarket ? `; the market was not searched: ${noMarket}` : ""}`,
        );
        continue;
      }
      const loaded = await opts.load(found.dir);
      if (!loaded.ok) {
        errors.push(...loaded.diagnostics);
        continue;
      }
      if (!enough(loaded.plugin.version)) {
        at(`depends on ${dep}${wanted}, but ${found.dir} has version ${loaded.plugin.version}`);
        continue;
      }
      if (found.origin) loaded.plugin.origin = found.origin;
      byName.set(dep, loaded.plugin);
      neededBy.set(dep, p.name);
      todo.push(loaded.plugin);
      list.push({ dep, index });
      emit({
        type: "info",
        message: `${chain(p.name)} needs ${dep}: installing ${loaded.plugin.version} from ${found.origin ? `the market (${found.origin.url})` : found.dir} first`,
      });
    }
  }
  if (errors.length) throw invalid("missing dependencies: nothing was changed", errors);

  // Dependencies first, in the order given otherwise; a cycle is refused with the cycle shown.
  const ordered: Plugin[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, stack: string[]) => {
    if (state.get(name) === "done") return;
    state.set(name, "visiting");
    for (const e of edges.get(name) ?? []) {
      if (state.get(e.dep) === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(e.dep)), name, e.dep].filter((x, i, a) => i === 0 || x !== a[i - 1]);
        // Only rules plugins have depends, so only they are on a cycle.
        const p = byName.get(name) as RulesPlugin;
        throw invalid(`dependency cycle: ${cycle.join(" -> ")}`, [
          p.rules.locate.diagnostic(["depends", e.index], `${name}: dependency cycle: ${cycle.join(" -> ")}`, { hint: "remove one of these depends" }),
        ]);
      }
      visit(e.dep, [...stack, name]);
    }
    state.set(name, "done");
    ordered.push(byName.get(name)!);
  };
  for (const p of given) visit(p.name, []);

  // Warnings from plugin.yml and wazo/rules (unknown keys...).
  for (const p of ordered) for (const d of isRules(p) ? p.rules.warnings : []) emit({ type: "diagnostic", diagnostic: d });

  // Wazo version range.
  const rulesPlugins = ordered.filter(isRules);
  const ranged = rulesPlugins.filter((p) => p.rules.meta.minWazoVersion || p.rules.meta.maxWazoVersion);
  const current = ranged.length ? await currentWazoVersion(opts.root, opts.wazoVersion, opts.env?.WAZO_VERSION) : undefined;
  for (const p of ranged) {
    const m = p.rules.meta;
    if (!current) {
      emit({
        type: "warning",
        plugin: p.name,
        message: `needs Wazo ${[m.minWazoVersion && `>= ${m.minWazoVersion}`, m.maxWazoVersion && `<= ${m.maxWazoVersion}`].filter(Boolean).join(" and ")}, but the Wazo version is unknown: not checked (pass --wazo-version, set WAZO_VERSION, or write it in <root>/usr/share/wazo/WAZO-VERSION)`,
      });
      continue;
    }
    const problems: [string, string][] = [];
    if (m.minWazoVersion && compareVersions(current.version, m.minWazoVersion) < 0)
      problems.push([
        "min_wazo_version",
        `needs Wazo ${m.minWazoVersion} or later (min_wazo_version), but this is Wazo ${current.version} (from ${current.from})`,
      ]);
    if (m.maxWazoVersion && compareVersions(current.version, m.maxWazoVersion) > 0)
      problems.push([
        "max_wazo_version",
        `needs Wazo ${m.maxWazoVersion} or earlier (max_wazo_version), but this is Wazo ${current.version} (from ${current.from})`,
      ]);
    for (const [key, message] of problems) {
      if (opts.force) emit({ type: "warning", plugin: p.name, message: `${message}; installing anyway (--force)` });
      else
        errors.push(
          p.rules.locate.diagnostic([key], `${p.name}: ${message}`, {
            hint: "install a version of the plugin made for this Wazo, or pass --force to install it anyway",
          }),
        );
    }
  }

  // Debian packages: reported, checked when dpkg-query is there; missing is a warning, or an error with --strict.
  for (const p of rulesPlugins) {
    const deps = p.rules.meta.debianDepends;
    const statuses = await checkDebianDepends(deps, opts.root, opts.programPath);
    statuses.forEach((s, i) => {
      if (s.state === "installed") emit({ type: "info", message: `${p.name}: debian_depends ${s.dep}: installed` });
      else if (s.state === "unchecked") emit({ type: "warning", plugin: p.name, message: `debian_depends ${s.dep}: not checked (${s.why})` });
      else {
        const d = p.rules.locate.diagnostic(["debian_depends", i], `${p.name}: Debian package ${s.dep} is not installed (debian_depends)`, {
          hint: opts.strict
            ? `install it first (apt install ${s.dep.split("|")[0].trim().split(/\s/)[0]}), or install without --strict to only warn`
            : `wazo-tasks installs no Debian package: apt install ${s.dep.split("|")[0].trim().split(/\s/)[0]}`,
        });
        if (opts.strict) errors.push(d);
        else emit({ type: "diagnostic", diagnostic: { ...d, severity: "warning" } });
      }
    });
  }
  if (errors.length) throw invalid(`refused before any change`, errors);
  return ordered;
}
