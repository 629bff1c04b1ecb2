/**
 * How every command runs: as a function of its arguments and its surroundings
 * (`Io`), so that tests run commands in-process and the `mina-infra` bin, the npm
 * scripts and the tests all share one code path. A known failure prints one line
 * to stderr and returns a non-zero code, never a stack trace.
 */
import { Command, CommanderError, Option } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";

import { formatDuration, parseDuration } from "../../lib/duration";
import { commandHint, underNpmRun } from "../../lib/commandHint";
import { CommandError, firstLine, UsageError } from "../../lib/errors";

export { CommandError, commandHint, firstLine, underNpmRun, UsageError };

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

/** The exit codes of every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Where the user stands. An npm script runs in the project's root, whatever the
 * directory npm was run from; npm says that directory in INIT_CWD.
 */
export function userCwd(env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  const init = env.INIT_CWD;
  if (underNpmRun(env) && init && path.isAbsolute(init) && fs.existsSync(init) && fs.statSync(init).isDirectory()) return init;
  return cwd;
}

export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: userCwd(process.env),
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
  if (!underNpmRun(env)) return [];
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
 * A duration option's value in milliseconds: a whole number with its unit
 * (`500ms`, `5s`, `10m`, `1h`, `3d`, lib/duration.ts), at least `min`
 * milliseconds; anything else is a usage error naming the flag and what was given.
 */
export function durationValue(flag: string, text: string, min = 0): number {
  if (/^\s*[-+]?\d+(\.\d+)?\s*$/.test(text)) throw new UsageError(`${flag} needs a unit, as in 5s or 500ms, got "${text}"`);
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} must be a whole number with a unit (ms, s, m, h or d), as in 5s or 500ms, got "${text}"`);
  if (ms < min) throw new UsageError(`${flag} must be at least ${formatDuration(min)}, got "${text}"`);
  return ms;
}

/**
 * A duration option (`--timeout <duration>`): its value is parsed as the command
 * line is read, in milliseconds, and `--help` shows its default with its unit.
 */
export function durationOption(flags: string, description: string, opts: { default?: string; min?: number } = {}): Option {
  const flag = flags.split(/[ ,]/)[0];
  const option = new Option(flags, description).argParser((text: string) => durationValue(flag, text, opts.min));
  return opts.default === undefined ? option : option.default(durationValue(flag, opts.default, opts.min), opts.default);
}

/**
 * Whether the command line asks for JSON (`--json` or `--format json` before any
 * `--`), or npm took a `--json` meant for the command: its failures are JSON too.
 */
export function wantsJson(argv: readonly string[], env: NodeJS.ProcessEnv): boolean {
  const end = argv.indexOf("--");
  const own = end < 0 ? argv : argv.slice(0, end);
  const format = own.some((a, i) => a === "--format=json" || (a === "--format" && own[i + 1] === "json"));
  return own.includes("--json") || format || (underNpmRun(env) && (env.npm_config_json ?? "") !== "");
}

/** A failure as one JSON document, for `--json`: `{"ok": false, "exitCode": 2, "error": "..."}`. */
export function jsonError(exitCode: number, error: string): string {
  return `${JSON.stringify({ ok: false, exitCode, error })}\n`;
}

/**
 * Defines a command. `define` adds its description, arguments and options to a
 * fresh commander `Command` on every run; `body` does the work. Usage errors exit 2
 * with one line and one more pointing at `--help` (a command the user can type);
 * a failure exits 1 with one line; `--help` exits 0; a command that npm swallowed
 * an option of refuses to run. With `--json`, a failure that printed nothing on
 * standard output prints `{"ok": false, "exitCode": N, "error": "..."}` there too.
 * `report`: the command's output is lines of text, printed with `--json` as
 * `{"ok", ...report(opts), "report": [lines]}` (reportAsJson).
 */
export function command<O>(
  name: string,
  define: (cmd: Command) => Command,
  body: (run: Invocation<O>) => Promise<number | void>,
  options: { report?: (opts: O) => Record<string, unknown> } = {},
): Main {
  const run = options.report ? reportAsJson(options.report, body) : body;
  return async (argv, partial = {}) => {
    const out = watched({ ...processIo(), ...partial });
    const io = out.io;
    const json = wantsJson(argv, io.env);
    const fail = (code: number, message: string, said = false) => {
      if (!said) io.stderr.write(`error: ${message}\n`);
      if (json && !out.wroteStdout()) io.stdout.write(jsonError(code, message));
      return code;
    };
    const script = underNpmRun(io.env) ? (io.env.npm_lifecycle_event ?? name) : name;
    const cmd = define(new Command(name))
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
      .showHelpAfterError(`(run '${commandHint(io.env, name, "--help", script)}' for usage)`);
    const swallowed = swallowedByNpm(cmd, io.env);
    if (swallowed.length > 0) {
      const them = swallowed.length > 1 ? "them" : "it";
      return fail(
        EXIT.usage,
        `npm took ${swallowed.join(", ")} for itself, so ${name} never saw ${them}: put options after --, as in npm run ${script} -- ${swallowed.join(" ")}`,
      );
    }
    try {
      cmd.parse([...argv], { from: "user" });
    } catch (e) {
      if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : fail(EXIT.usage, e.message.replace(/^error: /, ""), true);
      if (e instanceof UsageError) return fail(EXIT.usage, e.message);
      throw e;
    }
    try {
      const code = (await run({ opts: cmd.opts() as O, args: cmd.args, io })) ?? EXIT.ok;
      if (code !== EXIT.ok && json && !out.wroteStdout()) io.stdout.write(jsonError(code, out.lastError() ?? `${name} failed`));
      return code;
    } catch (e) {
      return fail(e instanceof UsageError ? EXIT.usage : EXIT.failed, describe(e));
    }
  };
}

/**
 * For a command whose report is lines of text: with `--json`, the same lines in
 * one JSON document, `{"ok", ...summary, "report": [lines]}`, printed when the
 * command ends (a failure it throws is JSON the usual way).
 */
function reportAsJson<O>(
  summary: (opts: O) => Record<string, unknown>,
  body: (run: Invocation<O>) => Promise<number | void>,
): (run: Invocation<O>) => Promise<number> {
  return async (run) => {
    if ((run.opts as { json?: boolean }).json !== true) return (await body(run)) ?? EXIT.ok;
    const report: string[] = [];
    const stdout = {
      write: (s: string) => {
        if (s !== "") report.push(...s.replace(/\n$/, "").split("\n"));
        return true;
      },
    };
    const code = (await body({ ...run, io: { ...run.io, stdout } })) ?? EXIT.ok;
    run.io.stdout.write(`${JSON.stringify({ ok: code === EXIT.ok, ...summary(run.opts), report }, null, 2)}\n`);
    return code;
  };
}

/** `io` with its writes watched: whether anything reached standard output, and the last line on standard error. */
function watched(io: Io): { io: Io; wroteStdout: () => boolean; lastError: () => string | undefined } {
  let wrote = false;
  let last: string | undefined;
  const stdout = {
    write: (s: string) => {
      if (s !== "") wrote = true;
      return io.stdout.write(s);
    },
  };
  const stderr = {
    write: (s: string) => {
      const line = s.trimEnd().split("\n").pop();
      if (line) last = line.replace(/^(error: |✗ )/, "");
      return io.stderr.write(s);
    },
  };
  return { io: { ...io, stdout, stderr }, wroteStdout: () => wrote, lastError: () => last };
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
  const json = wantsJson(argv, process.env);
  const failed = (message: string) => {
    process.stderr.write(`error: ${message}\n`);
    if (json) process.stdout.write(jsonError(EXIT.failed, message));
    process.exitCode = EXIT.failed;
  };
  keepOutputErrorsQuiet();
  process.exitCode = 1;
  process.on("beforeExit", () => {
    if (settled) return;
    settled = true;
    failed(`${name} stopped before it finished (nothing was left to wait for): treat it as failed`);
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
      failed(firstLine(e));
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
