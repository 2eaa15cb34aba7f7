#!/usr/bin/env node
// Writes schema/tasks.schema.json from the compiled zod schema (run by `npm run build`), so the
// shipped JSON Schema can never differ from what `wazo-tasks schema` prints.
import { writeFileSync } from "node:fs";
import { tasksJsonSchema } from "../dist/load/json-schema.js";

writeFileSync(new URL("../schema/tasks.schema.json", import.meta.url), JSON.stringify(tasksJsonSchema(), null, 2) + "\n");
