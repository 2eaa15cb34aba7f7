/**
 * The Makefile format: package.yml with only a Makefile. The real `make install` runs; the
 * analysis of the Makefile gives the plan a dry run shows and the paths the journal records
 * (src/formats/make/plugin.ts, src/make/).
 */
import path from "node:path";
import { MAKEFILE_NAMES, describePackage, exists, loadPackage } from "../package.js";
import type { MakePlugin } from "../../model/plugin.js";
import type { Expanded } from "../../plan/expand.js";
import type { CaptureOptions } from "../../make/capture.js";
import type { ExpandContext, PluginFormat } from "../types.js";

/** What a make capture takes from the run. */
const captureOptions = async (ctx: ExpandContext): Promise<CaptureOptions> => ({
  root: ctx.root,
  emit: ctx.emit,
  dryRun: ctx.dryRun,
  session: await ctx.captures(),
  env: ctx.programEnv,
  path: ctx.path,
  signal: ctx.signal,
  programs: ctx.programs,
  catchSignals: ctx.catchSignals,
});

export const makeFormat: PluginFormat<MakePlugin> = {
  kind: "make",
  async detect(dir) {
    if (!(await exists(path.join(dir, "package.yml")))) return false;
    return (await Promise.all(MAKEFILE_NAMES.map((n) => exists(path.join(dir, n))))).some(Boolean);
  },
  load: loadPackage,
  describe: describePackage,
  async check() {
    return [];
  },
  async expand(plugin, ctx) {
    const { expandMakePlugin } = await import("./plugin.js");
    const staging = ctx.root !== "/";
    const { expanded, honoursDestdir } = await expandMakePlugin(plugin, "install", {
      staging,
      allowAbsolute: ctx.allowAbsolute,
      needMake: !ctx.dryRun,
      path: ctx.path,
    });
    // make install is captured (src/make/capture.ts decides how, and whether a dry run runs it).
    return (await import("../../make/capture.js")).captureMakeInstall(plugin, expanded, {
      ...(await captureOptions(ctx)),
      honoursDestdir,
      ami: ctx.amiFor?.(plugin.name),
    });
  },
  async expandUninstall(m, ctx) {
    const { findMakefile } = await import("../../make/runner.js");
    const makefile = findMakefile(m.source);
    const plugin: MakePlugin = {
      name: m.name,
      version: m.version,
      description: m.description,
      dir: m.source,
      kind: "make",
      metaFile: path.join(m.source, "package.yml"),
      makefile: makefile ?? path.join(m.source, "Makefile"),
    };
    const base: Expanded = { plugin, labels: [], kinds: [], items: [], handlers: [], asterisk: [], verify: [] };
    if (makefile) {
      // make uninstall captured in the overlay (src/make/capture.ts): its service calls run after the removal.
      const calls = await (await import("../../make/capture.js")).captureMakeUninstall(m, { ...(await captureOptions(ctx)), ami: ctx.amiFor?.(m.name) });
      if (calls) return calls.length ? (await import("../../plan/expand.js")).expandSteps(plugin, "uninstall", calls) : undefined;
    }
    // Otherwise its own `make uninstall` runs first while its folder has a Makefile.
    if (makefile)
      return {
        ...base,
        run: {
          kind: "make",
          label: "make uninstall",
          op: { op: "captured-run", dir: m.source, target: "uninstall", display: "make uninstall" },
          exact: true,
          recipe: [],
        },
      };
    return { ...base, warnings: [`its folder ${m.source} has no Makefile any more: the recorded files are removed without make uninstall`] };
  },
};
