/**
 * The one source of truth for plugin metadata and the install descriptor: the zod schemas below
 * give the TypeScript types (z.infer), the validation, and the JSON Schema (`wazo-tasks schema`).
 */
import { z } from "zod";
import { STEP_KINDS, stepKind, type StepKind } from "./step-kinds.js";

/**
 * What a plugin's code may be handed, declared in package.yml (`needs: [ami]`):
 * - `ami`: the AMI settings of the run (src/util/process.ts, childEnv).
 */
export const NEEDS = ["ami"] as const;
export type Need = (typeof NEEDS)[number];

/** `package.yml`: the plugin's metadata. */
export const PackageSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "must be lower-case letters, digits and '-', starting with a letter or digit")
      .describe("Name installed and shown; may differ from the folder name."),
    description: z.string().describe("One line saying what the plugin does."),
    version: z.string().min(1).describe('Version as a string; quote numbers ("1.0").'),
    needs: z
      .array(z.enum(NEEDS))
      .optional()
      .describe(
        "What the plugin's code (run: steps, make) is given beyond a scrubbed environment. ami: the AMI settings, as WAZO_TASKS_AMI_HOST, WAZO_TASKS_AMI_PORT, WAZO_TASKS_AMI_USER and WAZO_TASKS_AMI_SECRET.",
      ),
  })
  .describe("package.yml: plugin metadata");
export type PackageMeta = z.infer<typeof PackageSchema>;

// Regular expressions rather than refinements, so the JSON Schema carries them too.
const NO_DOTDOT = /^(?!(?:.*\/)?\.\.(?:\/|$))/;

const absolutePath = z.string().min(1).regex(/^\//, "must be an absolute path (starting with '/')").regex(NO_DOTDOT, "must not contain '..' segments");

const relativeSource = z
  .string()
  .min(1)
  .regex(/^[^/]/, "must be relative to the plugin folder, not absolute")
  .regex(NO_DOTDOT, "must stay inside the plugin folder (no '..')");

const mode = z
  .string()
  .regex(/^0?[0-7]{3,4}$/, 'must be an octal mode as a quoted string, such as "0644"')
  .describe('Octal file mode as a string, e.g. "0644".');

const always = z.boolean().optional().describe("Run even when nothing changed.");

export const CopyStep = z
  .strictObject({
    copy: relativeSource.describe("File, folder or glob, relative to the plugin folder."),
    to: absolutePath.describe("Target: a folder when it ends with '/', else a file path."),
    mode: mode.optional(),
    lint: z.enum(["dialplan", "none"]).optional().describe("Lint the copied files as this syntax before any change."),
  })
  .describe("Copy files from the plugin into the target tree (atomic, idempotent).");

export const RemoveStep = z
  .strictObject({ remove: absolutePath.describe("Path to remove (file, symlink or empty folder).") })
  .describe("Remove a path from the target tree.");

export const MkdirStep = z
  .strictObject({ mkdir: absolutePath.describe("Folder to create, with its parents."), mode: mode.optional() })
  .describe("Create a folder.");

export const SymlinkStep = z
  .strictObject({
    symlink: absolutePath.describe("Path of the link to create."),
    target: z.string().min(1).describe("What the link points to (written as given)."),
  })
  .describe("Create or replace a symbolic link.");

export const ChmodStep = z
  .strictObject({ chmod: absolutePath.describe("Path whose mode is set."), mode })
  .describe("Set the mode of a path the plugin installs.");

export const ReloadStep = z
  .strictObject({
    reload: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, "must be 'dialplan' or an Asterisk module name such as res_pjsip.so")
      .describe("'dialplan' (pbx_config) or an Asterisk module name."),
    always,
  })
  .describe("Handler: reload the dialplan or an Asterisk module once, after all file steps, if something changed.");

export const RestartStep = z
  .strictObject({
    restart: z
      .string()
      .regex(/^[A-Za-z0-9@_.:-]+$/, "must be a systemd unit name such as wazo-calld or wazo-calld.service")
      .describe("systemd unit to restart."),
    always,
  })
  .describe("Handler: `systemctl restart UNIT` once, after all file steps, if something changed.");

export const AsteriskStep = z
  .strictObject({ asterisk: z.string().min(1).describe("Asterisk CLI command, sent through AMI `Command`.") })
  .describe("Run an Asterisk CLI command (after the files, in order).");

export const RunStep = z
  .strictObject({
    run: z.array(z.string()).min(1).describe("Program and arguments (no shell)."),
    cwd: relativeSource.optional().describe("Working folder relative to the plugin folder (default: the plugin folder)."),
  })
  .describe("Escape hatch: run a program. Never run in a dry run.");

export const VerifyStep = z
  .strictObject({
    verify: z
      .strictObject({
        extension: z.string().min(1).describe("Extension, e.g. ***42."),
        context: z.string().min(1).describe("Dialplan context, e.g. xivo-extrafeatures."),
      })
      .describe("Extension that must be loaded after install (and gone after uninstall)."),
  })
  .describe("Check after the handlers that an extension is loaded in Asterisk.");

/** Step kinds by their key; the key present in a step object tells its kind. */
export const STEP_SCHEMAS: { readonly [K in StepKind]: z.ZodType } = {
  copy: CopyStep,
  remove: RemoveStep,
  mkdir: MkdirStep,
  symlink: SymlinkStep,
  chmod: ChmodStep,
  reload: ReloadStep,
  restart: RestartStep,
  asterisk: AsteriskStep,
  run: RunStep,
  verify: VerifyStep,
};
export { STEP_KINDS, stepKind, type StepKind };

export const StepSchema = z.union([CopyStep, RemoveStep, MkdirStep, SymlinkStep, ChmodStep, ReloadStep, RestartStep, AsteriskStep, RunStep, VerifyStep]);
export type Step = z.infer<typeof StepSchema>;
export type CopyStep = z.infer<typeof CopyStep>;
export type RemoveStep = z.infer<typeof RemoveStep>;
export type MkdirStep = z.infer<typeof MkdirStep>;
export type SymlinkStep = z.infer<typeof SymlinkStep>;
export type ChmodStep = z.infer<typeof ChmodStep>;
export type ReloadStep = z.infer<typeof ReloadStep>;
export type RestartStep = z.infer<typeof RestartStep>;
export type AsteriskStep = z.infer<typeof AsteriskStep>;
export type RunStep = z.infer<typeof RunStep>;
export type VerifyStep = z.infer<typeof VerifyStep>;

/** `tasks.yml` / `tasks.ts`: the typed install descriptor. */
export const TasksSchema = z
  .strictObject({
    install: z.array(StepSchema).min(1).describe("Steps run by `wazo-tasks install`, in order; handlers last."),
    uninstall: z.array(StepSchema).optional().describe("Extra steps for `wazo-tasks uninstall`. The files install created are always removed."),
  })
  .describe("wazo-tasks install descriptor (tasks.yml)");
export type Tasks = z.infer<typeof TasksSchema>;
