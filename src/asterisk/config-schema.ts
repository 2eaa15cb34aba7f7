/** <root>/etc/wazo-tasks/config.yml (see settings.ts), in its own module so that zod is loaded
 * only when such a file exists. */
import { z } from "zod";

export const ConfigSchema = z.strictObject({
  ami: z
    .strictObject({
      host: z.string().default("127.0.0.1"),
      port: z.number().int().min(1).max(65535).default(5038),
      username: z.string().min(1),
      secret: z.string().min(1).optional().describe("Prefer secret_file: the secret then stays out of this file."),
      secret_file: z.string().min(1).optional(),
    })
    .optional(),
  /** The plugin market (src/sources/market.ts). */
  market: z.strictObject({ url: z.string().min(1) }).optional(),
});
