/**
 * The command line: argv → options → library call → exit code. The only module that touches
 * process.argv, process.exit and the terminal. Heavy modules load only in the commands that
 * need them, so `--help` starts fast.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { commonOptions, type CommonFlags } from "./options.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

const program = new Command("wazo-tasks")
  .description("Install, preview and remove Wazo PBX plugins: typed descriptors, Makefile fallback, AMI-backed reloads.")
  .version(pkg.version, "-V, --version")
  .showSuggestionAfterError(true)
  .showHelpAfterError("(run with --help for usage)")
  .exitOverride()
  .configureOutput({ outputError: (s, write) => write(s) })
  .addHelpText(
    "after",
    "\nExamples:\n  wazo-tasks install helloworld --root ./demo-root\n  wazo-tasks install helloworld --dry-run\n  wazo-tasks list --installed\n\nExit codes: 0 done, 1 failed (nothing applied, or rolled back), 2 invalid input, 3 applied but a reload or verification failed, 70 internal error, 75 the root is locked by another run.",
  );

type Action = (args: string[], flags: CommonFlags) => Promise<number>;
const run =
  (load: () => Promise<{ default: Action }>) =>
  async (...a: unknown[]) => {
    const cmd = a[a.length - 1] as Command;
    const flags = cmd.optsWithGlobals() as CommonFlags;
    const args = (cmd.args ?? []) as string[];
    const action = (await load()).default;
    process.exitCode = await action(args, flags);
  };

// Building a command and its options costs commander about 0.5–1 ms each: when the first
// argument names a command, only that one is built (help, suggestions and everything else,
// when it does not, see them all).
const COMMANDS: readonly string[] = [
  "install",
  "upgrade",
  "market",
  "uninstall",
  "list",
  "validate",
  "show",
  "reload",
  "convert",
  "verify",
  "recover",
  "schema",
];
const asked = process.argv[2];
const wanted = (name: string) => !COMMANDS.includes(asked) || asked === name;

if (wanted("install"))
  commonOptions(
    program
      .command("install")
      .argument("<plugin...>", "plugin names, folders, git URLs (URL#REF) or market names (NAMESPACE/NAME[@VERSION])")
      .description("install plugins (planned together, one reload)"),
    { plan: true, search: true },
  )
    .option("--force", "overwrite files not owned by the plugin (originals kept) and admin edits")
    .option("--allow-absolute", "run a Makefile that ignores DESTDIR even under --root")
    .option("--preview-build", "with --dry-run: run wazo/rules build and package in a temporary folder to show their files (runs plugin code)")
    .option("--wazo-version <version>", "Wazo version for min/max_wazo_version (default: WAZO_VERSION, then <root>/usr/share/wazo/WAZO-VERSION)")
    .option("--strict", "refuse setuid, setgid and world-writable modes, and a debian_depends package that is not installed (warnings otherwise)")
    .option("--ref <ref>", "git: the branch, tag or commit to install (default: the remote's default branch; one git plugin)")
    .option("--subdirectory <dir>", "git: the plugin's folder in the repository (one git plugin)")
    .option("--market <url>", "the market's address (default: WAZO_TASKS_MARKET_URL, the config file, then the public market)")
    .option("--reinstall", "run everything again, even for a plugin installed from the same source at the same commit")
    .addHelpText(
      "after",
      "\nExamples:\n  wazo-tasks install helloworld --root ./demo-root --dry-run\n  wazo-tasks install https://github.com/OWNER/REPO.git --ref v2\n  wazo-tasks install NAMESPACE/NAME",
    )
    .action(run(() => import("./install.js")));

if (wanted("upgrade"))
  commonOptions(
    program
      .command("upgrade")
      .argument("[plugin...]", "installed plugins (default: every one installed from git or the market)")
      .description("fetch git and market plugins again and install what changed"),
    { plan: true },
  )
    .option("--force", "overwrite admin edits and files not owned by the plugin")
    .option("--market <url>", "the market's address (default: WAZO_TASKS_MARKET_URL, the config file, then the public market)")
    .option("--wazo-version <version>", "Wazo version for the market and min/max_wazo_version")
    .option("--reinstall", "run everything again, even when the source did not move")
    .addHelpText("after", "\nExamples:\n  wazo-tasks upgrade --dry-run\n  wazo-tasks upgrade acme/hello")
    .action(run(() => import("./upgrade.js")));

if (wanted("market"))
  commonOptions(
    program
      .command("market")
      .argument("[text]", "only plugins whose name or description holds this text")
      .description("list the market's plugins: the version each would install here, and what is installed"),
    {},
  )
    .option("--market <url>", "the market's address (default: WAZO_TASKS_MARKET_URL, the config file, then the public market)")
    .option("--wazo-version <version>", "Wazo version to pick versions for (default: WAZO_VERSION, then <root>/usr/share/wazo/WAZO-VERSION)")
    .addHelpText("after", "\nExample:\n  wazo-tasks market hello --json")
    .action(run(() => import("./market.js")));

if (wanted("uninstall"))
  commonOptions(program.command("uninstall").argument("<plugin...>", "installed plugin names").description("remove what install put there, then reload"), {
    plan: true,
  })
    .option("--force", "also remove files an admin changed since install")
    .addHelpText("after", "\nExample:\n  wazo-tasks uninstall helloworld --root ./demo-root")
    .action(run(() => import("./uninstall.js")));

if (wanted("list"))
  commonOptions(program.command("list").description("list available plugins, or installed ones with --installed"), { search: true, lock: true })
    .option("--installed", "list installed plugins from the state folder")
    .addHelpText("after", "\nExample:\n  wazo-tasks list --installed --root ./demo-root --json")
    .action(run(() => import("./list.js")));

if (wanted("validate"))
  commonOptions(
    program
      .command("validate")
      .argument("<plugin...>", "plugin names or folders")
      .description("check plugins without touching any target (every problem listed)"),
    { search: true },
  )
    .addHelpText("after", "\nExample:\n  wazo-tasks validate ./my-plugin")
    .action(run(() => import("./validate.js")));

if (wanted("show"))
  commonOptions(
    program.command("show").argument("<plugin>", "plugin name or folder").description("metadata, executor and the plan it would run on this root"),
    { search: true },
  )
    .addHelpText("after", "\nExample:\n  wazo-tasks show helloworld --root ./demo-root")
    .action(run(() => import("./show.js")));

if (wanted("reload"))
  commonOptions(
    program
      .command("reload")
      .argument("[target...]", "dialplan (default) or Asterisk module names")
      .description("reload the dialplan or modules, then check every plugin's dialplan"),
    { ami: true },
  )
    .option("--pending", "run the reloads and restarts that earlier runs could not")
    .addHelpText("after", "\nExamples:\n  wazo-tasks reload\n  wazo-tasks reload res_pjsip.so\n  wazo-tasks reload --pending")
    .action(run(() => import("./reload.js")));

if (wanted("convert"))
  commonOptions(
    program.command("convert").argument("<plugin>", "Makefile plugin name or folder").description("turn a plugin's Makefile into an equivalent tasks.yml"),
    { search: true },
  )
    .option("--write", "write tasks.yml into the plugin folder instead of printing it")
    .option("--strict", "refuse when a recipe line cannot be translated (instead of keeping it as a run: step)")
    .option("--force", "replace an existing tasks.yml")
    .addHelpText("after", "\nExample:\n  wazo-tasks convert ./my-plugin --write")
    .action(run(() => import("./convert.js")));

if (wanted("verify"))
  commonOptions(
    program
      .command("verify")
      .argument("[plugin...]", "installed plugins (default: all)")
      .description("compare the disk with the installed state; exit 1 on drift"),
    { ami: true },
  )
    .option("--dialplan", "also ask Asterisk that every plugin's extensions are loaded")
    .option("--repair", "rebuild a corrupt manifest from the disk, or set it aside when nothing can be saved (installed files stay)")
    .addHelpText("after", "\nExample:\n  wazo-tasks verify --root ./demo-root")
    .action(run(() => import("./verify.js")));

if (wanted("recover"))
  commonOptions(program.command("recover").description("roll back an interrupted run (done automatically by the next command)"), { lock: true })
    .option("--discard", "set an interrupted run's journal aside without applying it (a corrupt one, or one of another root); lists what it does not put back")
    .addHelpText("after", "\nExample:\n  wazo-tasks recover --root ./demo-root")
    .action(run(() => import("./recover.js")));

if (wanted("schema"))
  program
    .command("schema")
    .description("print the JSON Schema of tasks.yml")
    .addHelpText("after", "\nExample:\n  wazo-tasks schema > tasks.schema.json")
    .action(run(() => import("./schema.js")));

program.addOption(new Option("--no-color", "no colours (also NO_COLOR)"));

// A closed pipe (`wazo-tasks install … --json | head -1`) must not kill a run half way: the
// output is lost, the run goes on and ends as it would have.
for (const stream of [process.stdout, process.stderr])
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
  });

// No top-level await: the bundle of the CLI is a CommonJS script (scripts/bundle.mjs).
void (async () => {
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      process.exitCode = e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0 ? 0 : 2;
    } else {
      // A bug: one line (the stack with --verbose), and in JSON the summary that ends every stream.
      const { failureOf } = await import("../model/failure.js");
      const { printFailure } = await import("./failure.js");
      process.exitCode = printFailure(failureOf(e), process.argv.includes("--json"));
      if (process.argv.includes("--verbose") || process.argv.includes("-v")) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    }
  }
})();
