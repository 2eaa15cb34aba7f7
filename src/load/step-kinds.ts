/**
 * The step kinds, told from the key a step carries. Kept apart from the zod schemas
 * (schema.ts, which checks that it has one schema per kind) so that planning never loads zod.
 */
export const STEP_KINDS = ["copy", "remove", "mkdir", "symlink", "chmod", "reload", "restart", "asterisk", "run", "verify"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Tells a step's kind from the key it carries. */
export function stepKind(step: object): StepKind {
  for (const kind of STEP_KINDS) if (kind in step) return kind;
  throw new Error(`step without a known kind: ${JSON.stringify(step)}`);
}
