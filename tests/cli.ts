/**
 * Running the commands in tests. `run` calls a command's `main` in-process, with
 * its own working directory, environment and captured output (as fast as a
 * function call); `spawnCli` runs the compiled `mina-infra` bin as a user would,
 * for the few end-to-end tests (it falls back to the TypeScript sources when
 * dist/ is older than them, so a test never checks a stale build).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { COMMANDS } from "../cli/main";
import { REPO } from "./helpers";

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command of the bin's table (cli/main.ts) in-process. `env` replaces the environment (default: this process's, without npm's variables). */
export async function run(name: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const status = await COMMANDS[name].load()(args, {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? withoutNpm(process.env),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    interactive: false,
    progress: false,
    confirm: async () => false,
  });
  return { status, stdout, stderr };
}

/** The environment without npm's own variables (a test run through `npm test` must not look like `npm run plan`). */
export function withoutNpm(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !/^npm_/i.test(k)));
}

const BIN = path.join(REPO, "dist", "cli", "main.js");
const TSX = path.join(REPO, "node_modules", ".bin", "tsx");
let fresh: boolean | undefined;

/** Whether dist/ was built after the last change to any TypeScript source of the project (tests aside). */
function distIsFresh(): boolean {
  if (fresh !== undefined) return fresh;
  if (!fs.existsSync(BIN)) {
    fresh = false;
    return fresh;
  }
  // tsc -b rewrites its build info on every build that changed anything, but only the outputs whose content changed.
  const info = path.join(REPO, "dist", ".tsbuildinfo");
  const built = fs.existsSync(info) ? fs.statSync(info).mtimeMs : 0;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      if (e.name === "node_modules" || e.name === "dist" || e.name === "tests" || e.name.startsWith(".")) return m;
      const p = path.join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : e.name.endsWith(".ts") ? fs.statSync(p).mtimeMs : 0);
    }, 0);
  fresh = newest(REPO) <= built;
  return fresh;
}

/** The program and arguments that run `mina-infra ARGS...`: the bin, or the sources when the build is stale. */
export function cliCommand(args: readonly string[]): [string, string[]] {
  return distIsFresh() ? [process.execPath, [BIN, ...args]] : [TSX, [path.join(REPO, "cli", "main.ts"), ...args]];
}

/** Runs a command end to end, as a separate process through the bin (or the sources when the build is stale). */
export function spawnCli(
  name: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): SpawnSyncReturns<string> {
  const [cmd, argv] = cliCommand([name, ...args]);
  return spawnSync(cmd, argv, { cwd: opts.cwd ?? REPO, env: opts.env ?? withoutNpm(process.env), input: opts.input ?? "", encoding: "utf8" });
}

/**
 * `spawnCli` without blocking this process: for end-to-end tests whose command
 * talks to a server the test itself runs (a blocked test process could not answer).
 */
export function spawnCliAsync(name: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const [cmd, argv] = cliCommand([name, ...args]);
  return spawnProcess(cmd, argv, opts);
}

/** Runs a process to its end, stdin closed, and gives its exit code (1 when killed by a signal) and output. */
export function spawnProcess(cmd: string, argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? REPO, env: opts.env ?? withoutNpm(process.env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? 1, stdout, stderr }));
  });
}
