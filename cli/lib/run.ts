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

/** A command whose usage errors exit 2 with commander's one-line message and help, and `--help` exits 0. */
export function newCommand(name: string): Command {
  return new Command(name).showHelpAfterError().exitOverride((err) => {
    process.exit(err.code === "commander.helpDisplayed" || err.code === "commander.version" ? 0 : 2);
  });
}
