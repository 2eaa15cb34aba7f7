/** defineTasks alone, so that a tasks.ts importing only it loads one small module. */
import type { Tasks } from "./load/schema.js";

/** Types a tasks.ts descriptor: `export default defineTasks({ install: [...] })`. */
export function defineTasks(tasks: Tasks): Tasks {
  return tasks;
}
