/**
 * npm run env -- --stack NAME [--outputs-file FILE] [--out PATH | --stdout] [--force] [--json]
 *
 * Turns a stack's `env` output into `.env.NAME.local` for a developer: checked on
 * the way out (only the program's own variable names; this environment's values,
 * carrying no other's identifiers),
 * written atomically with mode 0600, never to a path git would commit.
 */
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";
import { ENVIRONMENT_PATTERN } from "../config/naming";
import { exportWarnings, foreignProblems, renderEnvFile, unexpectedVariables } from "../envfiles/export";
import { parseEnvFile } from "../envfiles/format";
import { writeFileAtomic } from "../envfiles/write";
import { refuseUnsafePath } from "../lib/git";
import { envFromOutputs, readStackOutputsFile, readStackOutputsWithCli } from "./lib/outputs";
import { CommandError, runMain, UsageError, newCommand } from "./lib/run";

const ROOT = path.resolve(__dirname, "..");

const program = newCommand("env")
  .description("Write a stack's env output to .env.<stack>.local (mode 0600, atomically), refusing values of another environment and paths git would commit.")
  .requiredOption("--stack <name>", "the stack (= environment) to export")
  .option("--outputs-file <file>", "read outputs from this JSON file (the output of `pulumi stack output --json --show-secrets`) instead of the Pulumi CLI")
  .option("--out <path>", "where to write (default: .env.<stack>.local in the current directory)")
  .option("--stdout", "print the file to standard output instead of writing it (secrets included)")
  .option("--force", "overwrite a file that differs without asking")
  .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files", ROOT)
  .option("--json", "print a machine-readable summary (never values)");

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Key names whose values differ between the existing file and the new content (never the values). */
function changedKeys(oldText: string, env: Record<string, string>): string[] {
  let old: Record<string, string> = {};
  try {
    old = parseEnvFile(oldText);
  } catch {
    return ["(unreadable existing file)"];
  }
  const keys = new Set([...Object.keys(old), ...Object.keys(env)]);
  return [...keys].filter((k) => old[k] !== env[k]).sort();
}

runMain(async () => {
  program.parse();
  const o = program.opts<{ stack: string; outputsFile?: string; out?: string; stdout?: boolean; force?: boolean; dir: string; json?: boolean }>();
  if (!ENVIRONMENT_PATTERN.test(o.stack)) throw new UsageError(`--stack "${o.stack}" is not a valid stack name`);
  if (o.stdout && o.out) throw new UsageError("--stdout and --out are exclusive");

  const outputs = o.outputsFile ? readStackOutputsFile(o.outputsFile) : readStackOutputsWithCli(o.stack, o.dir);
  const env = envFromOutputs(outputs, o.outputsFile ?? `stack ${o.stack}`);
  const unexpected = unexpectedVariables(env);
  if (unexpected !== undefined) throw new CommandError(`refusing to write: ${unexpected}`);
  const problems = foreignProblems(env, o.stack, o.dir);
  if (problems.length > 0) {
    throw new CommandError(`refusing to write a ${o.stack} env file: ${problems.join("; ")}`);
  }
  const warnings = exportWarnings(env);
  let content: string;
  try {
    content = renderEnvFile(env, o.stack);
  } catch (e) {
    throw new CommandError(`refusing to write: ${(e as Error).message}`);
  }
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);

  if (o.stdout) {
    process.stdout.write(content);
    return 0;
  }
  const target = path.resolve(o.out ?? `.env.${o.stack}.local`);
  try {
    refuseUnsafePath(target);
  } catch (e) {
    throw new CommandError((e as Error).message);
  }
  const body = (t: string) => t.split("\n").filter((l) => !l.startsWith("#")).join("\n");
  if (fs.existsSync(target)) {
    const old = fs.readFileSync(target, "utf8");
    if (body(old) !== body(content) && !o.force) {
      const changed = changedKeys(old, env);
      const question = `${path.relative(process.cwd(), target) || target} exists and differs (${changed.join(", ")}). Overwrite? [y/N] `;
      if (!process.stdin.isTTY) throw new CommandError(`${target} exists and differs (${changed.join(", ")}); pass --force to overwrite`);
      if (!(await confirm(question))) throw new CommandError("not overwritten");
    }
  }
  writeFileAtomic(target, content, 0o600);
  const summary = { stack: o.stack, file: target, variables: Object.keys(env).length, mode: "0600", warnings };
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + "\n" : `wrote ${target} (${summary.variables} variables, mode 0600)\n`);
  return 0;
});
