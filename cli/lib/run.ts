import { Command } from "commander";

/**
 * Runs a command's main function: a known failure prints one line to stderr and
 * exits non-zero, never with a stack trace.
 */
export class UsageError extends Error {}

/** A failure whose message is already the whole story (exit 1). */
export class CommandError extends Error {}

export function runMain(main: () => Promise<number | void>): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (e: unknown) => {
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`error: ${msg}\n`);
      process.exitCode = e instanceof UsageError ? 2 : 1;
    },
  );
}

/**
 * Options npm took for itself. `npm run plan --json` (without `--`) does not pass
 * `--json` to the command: npm reads it as its own config and sets
 * `npm_config_json`. A command that ran anyway would silently do something else.
 */
export function swallowedByNpm(cmd: Command, env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.npm_lifecycle_event === undefined) return [];
  return cmd.options
    .map((o) => o.long)
    .filter((long): long is string => long !== undefined && long !== "--help")
    .filter((long) => {
      const name = long.replace(/^--/, "");
      // npm spells its config in snake or kebab case, depending on the version.
      return [name, name.replace(/-/g, "_")].some((n) => env[`npm_config_${n}`] !== undefined && env[`npm_config_${n}`] !== "");
    });
}

/**
 * A command whose usage errors exit 2 with commander's one-line message and one line
 * pointing at `--help`, whose `--help` exits 0, and which refuses to run when npm
 * swallowed one of its options.
 */
export function newCommand(name: string): Command {
  const cmd = new Command(name).showHelpAfterError(`(run '${name} --help' for usage)`).exitOverride((err) => {
    process.exit(err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
  });
  const parse = cmd.parse.bind(cmd);
  cmd.parse = ((argv?: readonly string[], opts?: { from: "node" | "electron" | "user" }) => {
    const swallowed = swallowedByNpm(cmd);
    if (swallowed.length > 0) {
      const script = process.env.npm_lifecycle_event ?? name;
      process.stderr.write(
        `error: npm took ${swallowed.join(", ")} for itself, so ${name} never saw ${swallowed.length > 1 ? "them" : "it"}: put options after --, as in npm run ${script} -- ${swallowed.join(" ")}\n`,
      );
      process.exit(2);
    }
    return parse(argv, opts);
  }) as Command["parse"];
  return cmd;
}
