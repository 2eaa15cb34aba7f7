/** The JSON Schema of tasks.yml, generated from the zod schema (never written by hand). */
import { z } from "zod";
import { TasksSchema } from "./schema.js";

export const SCHEMA_ID = "https://unpkg.com/wazo-tasks/schema/tasks.schema.json";

export function tasksJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(TasksSchema, { target: "draft-7", io: "input" }) as Record<string, unknown>;
  return { $id: SCHEMA_ID, title: "wazo-tasks descriptor (tasks.yml)", ...schema };
}
