/**
 * mina-infra env --stack NAME [--outputs-file FILE] [--out PATH | --stdout] [--force] [--json]
 *
 * Turns a stack's `env` output into `.env.NAME.local` for a developer: checked on
 * the way out (only the program's own variable names; this environment's values,
 * carrying no other's identifiers),
 * written atomically with mode 0600, never to a path git would commit.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { ENVIRONMENT_PATTERN } from "../config/naming";
import { isProductionTier } from "../config/workflowStacks";
import { exportWarnings, foreignProblems, renderEnvFile, unexpectedVariables } from "../envfiles/export";
import { parseEnvFile } from "../envfiles/format";
import { writeFileAtomic } from "../lib/atomicWrite";
import { refuseUnsafePath } from "../lib/git";
import { envFromOutputs, readStackOutputsFile, readStackOutputsWithCli } from "./lib/outputs";
import { shownPath } from "../lib/root";
import { githubMaskCommands } from "../envfiles/mask";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, commandHint, progress, runCli, UsageError } from "./lib/run";

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

/** The one-line warning before a production-tier stack's env file is written. */
export function productionWarning(stack: string, env: NodeJS.ProcessEnv = {}): string {
  return `warning: ${stack} is a production environment and its env file holds production credentials: only the deploy job or an operator with production access should run this; developers run ${commandHint(env, "env", "--stack staging")}`;
}

export const main = command<{
  stack: string;
  outputsFile?: string;
  out?: string;
  stdout?: boolean;
  force?: boolean;
  dir?: string;
  json?: boolean;
  githubMask?: boolean;
}>(
  "env",
  (c) =>
    c
      .description(
        "Write a stack's env output to .env.<stack>.local (mode 0600, atomically), refusing values of another environment and paths git would commit.",
      )
      .requiredOption("--stack <name>", "the stack (= environment) to export")
      .option("--outputs-file <file>", "read outputs from this JSON file (the output of `pulumi stack output --json --show-secrets`) instead of the Pulumi CLI")
      .option("--out <path>", "where to write (default: .env.<stack>.local in the current directory)")
      .option("--stdout", "print the file to standard output instead of writing it (secrets included)")
      .option("--force", "overwrite a file that differs without asking")
      .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)")
      .option("--json", "print a machine-readable summary (never values)")
      .option("--github-mask", "in a GitHub Actions job: register every value with ::add-mask:: as the file is written, so no later step's log shows one"),
  async ({ opts: o, io }) => {
    if (!ENVIRONMENT_PATTERN.test(o.stack)) throw new UsageError(`--stack "${o.stack}" is not a valid stack name`);
    if (o.stdout && o.out) throw new UsageError("--stdout and --out are exclusive");
    if (o.stdout && o.json) throw new UsageError("--stdout prints the env file itself, --json a summary: give one");
    // The workflow commands carry the values: only where the runner reads and hides them.
    if (o.githubMask && io.env.GITHUB_ACTIONS !== "true")
      throw new UsageError("--github-mask is for a GitHub Actions job (GITHUB_ACTIONS=true): elsewhere it would print every value");
    if (o.githubMask && (o.stdout || o.json)) throw new UsageError("--github-mask goes with writing the file, not with --stdout or --json");
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    if (isProductionTier(dir, o.stack)) io.stderr.write(`${productionWarning(o.stack, io.env)}\n`);

    const outputsFile = o.outputsFile ? path.resolve(io.cwd, o.outputsFile) : undefined;
    if (!outputsFile) progress(io, o.json === true || o.stdout === true)(`reading stack ${o.stack}'s outputs with pulumi stack output…`);
    const outputs = outputsFile ? readStackOutputsFile(outputsFile) : readStackOutputsWithCli(o.stack, dir, io.env);
    const env = envFromOutputs(outputs, o.outputsFile ?? `stack ${o.stack}`);
    const unexpected = unexpectedVariables(env);
    if (unexpected !== undefined) throw new CommandError(`refusing to write: ${unexpected}`);
    const problems = foreignProblems(env, o.stack, dir);
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
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);

    if (o.stdout) {
      io.stdout.write(content);
      return 0;
    }
    const target = path.resolve(io.cwd, o.out ?? `.env.${o.stack}.local`);
    const shown = shownPath(target, io.cwd);
    try {
      refuseUnsafePath(target);
    } catch (e) {
      throw new CommandError((e as Error).message);
    }
    const body = (t: string) =>
      t
        .split("\n")
        .filter((l) => !l.startsWith("#"))
        .join("\n");
    if (fs.existsSync(target)) {
      const old = fs.readFileSync(target, "utf8");
      if (body(old) !== body(content) && !o.force) {
        const changed = changedKeys(old, env);
        if (!io.interactive) throw new CommandError(`${shown} exists and differs (${changed.join(", ")}); pass --force to overwrite`);
        if (!(await io.confirm(`${shown} exists and differs (${changed.join(", ")}). Overwrite? [y/N] `))) throw new CommandError("not overwritten");
      }
    }
    // Masked before the file exists: no step after this one can print a value unmasked.
    if (o.githubMask) io.stdout.write(githubMaskCommands(env));
    writeFileAtomic(target, content, 0o600);
    const summary = { stack: o.stack, file: target, variables: Object.keys(env).length, mode: "0600", warnings };
    io.stdout.write(o.json ? `${JSON.stringify(summary, null, 2)}\n` : `wrote ${shown} (${summary.variables} variables, mode 0600)\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
