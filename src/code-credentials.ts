/**
 * What a plugin's code is handed beyond its scrubbed environment (src/util/process.ts,
 * childEnv): the run's AMI settings, for a plugin whose package.yml declares `needs: [ami]`.
 * Once handed, the secret is masked in every event of the run: what the code prints, and the
 * failure messages that quote it.
 */
import type { AmiConfig } from "./asterisk/ami-url.js";
import { amiSettingsFor, type AmiOption } from "./asterisk/connect.js";
import type { AmiFlags } from "./asterisk/settings.js";
import type { Need } from "./load/schema.js";
import type { Emit, Event } from "./model/event.js";

export interface CodeCredentials {
  /** The AMI settings for `plugin`'s code, when it declares them and the run has them. */
  amiFor(plugin: string): AmiConfig | undefined;
}

/** An emit that masks the secrets it is told about, in every string of every event. */
export function maskingEmit(emit: Emit): { emit: Emit; hide: (secret: string) => void } {
  const secrets = new Set<string>();
  const mask = (v: unknown): unknown => {
    if (typeof v === "string") {
      let out = v;
      for (const s of secrets) out = out.split(s).join("***");
      return out;
    }
    if (Array.isArray(v)) return v.map(mask);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
    return v;
  };
  return {
    emit: (event) => emit(secrets.size ? (mask(event) as Event) : event),
    hide: (secret) => {
      if (secret) secrets.add(secret);
    },
  };
}

/**
 * Resolves the AMI settings once when one of `plugins` declares `needs: [ami]` (a dry run
 * too: what the code would get is said before it runs), tells `hide` the secret, and warns when
 * there are none to hand.
 */
export async function codeCredentials(
  plugins: readonly { name: string; needs?: readonly Need[] }[],
  opts: { ami?: AmiOption; amiFlags?: AmiFlags; env?: Readonly<Record<string, string | undefined>> },
  root: string,
  out: { emit: Emit; hide: (secret: string) => void },
): Promise<CodeCredentials> {
  const needing = new Set(plugins.filter((p) => p.needs?.includes("ami")).map((p) => p.name));
  if (!needing.size) return { amiFor: () => undefined };
  const ami = await amiSettingsFor(opts, root);
  if (ami) out.hide(ami.secret);
  else
    for (const name of needing)
      out.emit({
        type: "warning",
        plugin: name,
        message: "needs: [ami] in package.yml, but no AMI settings are configured (WAZO_TASKS_AMI_URL, --ami-*, config.yml): its code gets none",
      });
  return { amiFor: (plugin) => (ami && needing.has(plugin) ? ami : undefined) };
}
