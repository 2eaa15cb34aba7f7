import { tasksJsonSchema } from "../load/json-schema.js";

export default async function schema(): Promise<number> {
  process.stdout.write(JSON.stringify(tasksJsonSchema(), null, 2) + "\n");
  return 0;
}
