/**
 * How every command runs: as a function of its arguments and its surroundings
 * (`Io`), so that tests run commands in-process and the `mina-infra` bin, the npm
 * scripts and the tests all share one code path. A known failure prints one line
 * to stderr and returns a non-zero code, never a stack trace.
 */
import { Command, CommanderError } from "commander";
import * as path from "node:path";
import * as readline from "node:readline";

import { CommandError, firstLine, UsageError } from "../../lib/errors";

export { CommandError, firstLine, UsageError };

/** Where a command reads and writes: the process's own, or a test's. */
export interface Io {
  readonly stdout: { write(s: string): unknown };
  readonly stderr: { write(s: string): unknown };
  /** Where relative paths are resolved. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Whether a person can be asked (standard input is a terminal). */
  readonly interactive: boolean;
  /** Asks a yes/no question; only called when `interactive`. */
  confirm(question: string): Promise<boolean>;
  /** Whether standard error is a terminal: progress is shown only then. */
  readonly progress: boolean;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
    interactive: process.stdin.isTTY === true,
    progress: process.stderr.isTTY === true,
    async confirm(question) {
      const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
      try {
        const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
      }
    },
  };
}

/** A command: arguments and (optionally) surroundings in, exit code out. */
export type Main = (argv: readonly string[], io?: Partial<Io>) => Promise<number>;

export interface Invocation<O> {
  readonly opts: O;
  readonly args: string[];
  readonly io: Io;
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

/** A bare command, for the options alone (tests of `swallowedByNpm`). */
export function newCommand(name: string): Command {
  return new Command(name);
}

/**
 * An option that must be a whole number of at least `min` (a count, or a bound in
 * `unit`s); anything else is a usage error naming the flag and what was given.
 */
export function wholeNumberOption(flag: string, text: string, min: number, unit?: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} must be a whole number${unit ? ` of ${unit}` : ""} >= ${min}, got "${text}"`);
  return n;
}

/**
 * Defines a command. `define` adds its description, arguments and options to a
 * fresh commander `Command` on every run; `body` does the work. Usage errors exit 2
 * with commander's one-line message and one line pointing at `--help`; `--help`
 * exits 0; a command that npm swallowed an option of refuses to run.
 */
export function command<O>(name: string, define: (cmd: Command) => Command, body: (run: Invocation<O>) => Promise<number | void>): Main {
  return async (argv, partial = {}) => {
    const io: Io = { ...processIo(), ...partial };
    const cmd = define(new Command(name))
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
      .showHelpAfterError(`(run '${name} --help' for usage)`);
    const swallowed = swallowedByNpm(cmd, io.env);
    if (swallowed.length > 0) {
      const script = io.env.npm_lifecycle_event ?? name;
      io.stderr.write(
        `error: npm took ${swallowed.join(", ")} for itself, so ${name} never saw ${swallowed.length > 1 ? "them" : "it"}: put options after --, as in npm run ${script} -- ${swallowed.join(" ")}\n`,
      );
      return 2;
    }
    try {
      cmd.parse([...argv], { from: "user" });
    } catch (e) {
      if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
      throw e;
    }
    try {
      return (await body({ opts: cmd.opts() as O, args: cmd.args, io })) ?? 0;
    } catch (e) {
      io.stderr.write(`error: ${describe(e)}\n`);
      return e instanceof UsageError ? 2 : 1;
    }
  };
}

/**
 * The message of a failure: ours (usage, command and config errors) whole, one
 * problem a line; anything else by its first line only, never a stack trace.
 */
function describe(e: unknown): string {
  const known = e instanceof UsageError || e instanceof CommandError || (e instanceof Error && /^ConfigErrors?$/.test(e.name));
  return known ? (e as Error).message : firstLine(e);
}

/**
 * A progress line for work that takes more than a second: on a terminal only, and
 * never when the output is for a machine (`--json`) or piped.
 */
export function progress(io: Io, quiet = false): (line: string) => void {
  return (line) => {
    if (io.progress && !quiet) io.stderr.write(`${line}\n`);
  };
}

/**
 * Runs a command as this process: its exit code becomes the process's, and only a
 * command whose promise resolved with 0 ends the process with 0. The exit code is a
 * failure until then, and a process that would end before the command finished
 * (nothing left to keep Node's event loop alive: an unreferenced timer, a dropped
 * promise) says so in one line and exits 1, instead of ending silently with 0.
 */
export function runCli(main: Main, argv: readonly string[] = process.argv.slice(2), name = scriptName()): void {
  let settled = false;
  keepOutputErrorsQuiet();
  process.exitCode = 1;
  process.on("beforeExit", () => {
    if (settled) return;
    settled = true;
    process.stderr.write(`error: ${name} stopped before it finished (nothing was left to wait for): treat it as failed\n`);
    process.exitCode = 1;
  });
  main(argv).then(
    (code) => {
      if (settled) return;
      settled = true;
      process.exitCode = outputLost ? 1 : Number.isInteger(code) ? code : 1;
    },
    (e: unknown) => {
      if (settled) return;
      settled = true;
      process.stderr.write(`error: ${firstLine(e)}\n`);
      process.exitCode = 1;
    },
  );
}

let outputGuarded = false;
/** Set when writing to standard output or error failed otherwise than by a reader that left. */
let outputLost = false;

/**
 * A reader that stops reading (`npm run stacks | head -1`) closes the pipe, and
 * the next write to it fails with EPIPE, which Node raises as an unhandled
 * 'error' event: a stack trace and exit 1 from a command that did nothing wrong.
 * Here, once per process, for every command: a closed standard output or error
 * is not an error. What is still written to it is dropped (nobody is reading),
 * the command runs to its end (one that changes things is never cut short
 * halfway by a reader that left), and the process exits with the code the
 * command returns, printing nothing about it. Any other failure to write (a
 * full disk behind a redirection) loses output someone meant to read: one line
 * on standard error, and exit 1 whatever the command returns.
 */
export function keepOutputErrorsQuiet(): void {
  if (outputGuarded) return;
  outputGuarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") return;
      // Output that was meant to be read is lost: the command failed, said in one line where that can still be said.
      const first = !outputLost;
      outputLost = true;
      process.exitCode = 1;
      if (first && stream !== process.stderr)
        process.stderr.write(`error: cannot write to standard output (${e.code ?? firstLine(e)}): treat the command as failed\n`);
    });
  }
}

/** The command's name for messages: the script npm runs, or the file run. */
function scriptName(): string {
  return process.env.npm_lifecycle_event ?? path.basename(process.argv[1] ?? "mina-infra").replace(/\.[jt]s$/, "");
}
