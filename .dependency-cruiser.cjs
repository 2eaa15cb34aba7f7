/**
 * The layer rule of docs/architecture.md, checked by test/architecture.test.ts (`npm test`):
 * a module imports only from its own layer or the layers below it, and no import cycle exists.
 * Layers, lowest first; `engine` is src/engine.ts and the other top-level modules.
 */
const LAYERS = [
  ["model"],
  ["util"],
  ["load", "plan", "state", "dialplan", "asterisk", "sources"],
  ["formats", "make", "rules"],
  ["apply"],
  ["engine"],
  ["report"],
  ["cli"],
];

const folder = (name) => (name === "engine" ? "src/[^/]+\\.ts$" : `src/${name}/`);
const pattern = (names) => `^(${names.map(folder).join("|")})`;

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "an import cycle: layers point one way",
      from: {},
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map((names, i) => ({
      name: `layer:${names.join("|")}`,
      severity: "error",
      comment: `${names.join(", ")} may import only from ${LAYERS.slice(0, i + 1)
        .flat()
        .join(", ")}`,
      from: { path: pattern(names) },
      to: { path: pattern(LAYERS.slice(i + 1).flat()) },
    })),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    parser: "swc",
  },
};
