/**
 * The wazo-plugind format: `wazo/plugin.yml` + `wazo/rules`, when there is no package.yml
 * (src/formats/rules/plugin.ts, src/rules/).
 */
import { exists } from "../../util/exists.js";
import path from "node:path";
import type { RulesPlugin } from "../../model/plugin.js";
import type { PluginFormat } from "../types.js";

/** The kept copy's wazo/rules, on the PBX: uninstall runs its targets. */
const keptRulesFile = (copy: string) => path.posix.join("/", copy, "wazo", "rules");

export const rulesFormat: PluginFormat<RulesPlugin> = {
  kind: "rules",
  async detect(dir) {
    return !(await exists(path.join(dir, "package.yml"))) && (await exists(path.join(dir, "wazo", "plugin.yml")));
  },
  async load(dir) {
    return (await import("../../rules/meta.js")).loadRulesPlugin(dir);
  },
  async describe(dir) {
    return (await import("../../rules/describe.js")).describeRulesPlugin(dir);
  },
  async prepare(plugins, ctx) {
    // depends (installed first), Wazo version range, debian_depends.
    return (await import("../../rules/prepare.js")).prepareRules(plugins, ctx);
  },
  async check(plugin) {
    // Unknown keys, targets that will not be called.
    return plugin.rules.warnings;
  },
  async expand(plugin, ctx) {
    return (await import("./plugin.js")).expandRulesPlugin(plugin, { ...ctx, stagings: await ctx.stagings(), programEnv: ctx.programEnv });
  },
  uninstallReads(m) {
    return m.rules ? [keptRulesFile(m.rules.copy)] : [];
  },
  async expandUninstall(m, ctx) {
    const rules = m.rules;
    if (!rules) return undefined;
    return (await import("./plugin.js")).expandRulesUninstall({ ...m, rules }, ctx.root, ctx.staying ?? [], ctx.facts?.texts?.get(keptRulesFile(rules.copy)));
  },
};
