/**
 * Reads a stack's outputs: from the user's Pulumi CLI
 * (`pulumi stack output --json --show-secrets --stack NAME`), or from a file of
 * exactly that JSON shape (pipelines, tests). Returns the `env` output.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { CommandError, UsageError } from "./run";

export type EnvOutput = Record<string, string>;

/** Runs the Pulumi CLI; every failure becomes a one-line `CommandError` saying what to do. */
export function readStackOutputsWithCli(
  stack: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
  /** What the command offers instead of the Pulumi CLI, for the message when there is none. */
  instead = "pass --outputs-file FILE with the JSON of `pulumi stack output --json --show-secrets`",
): unknown {
  const pulumiBin = env.MINA_PULUMI_BIN ?? "pulumi";
  const r = spawnSync(pulumiBin, ["stack", "output", "--json", "--show-secrets", "--stack", stack], {
    cwd,
    env,
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw new CommandError(`the Pulumi CLI is not installed (no "${pulumiBin}" on PATH); install it, or ${instead}`);
    }
    throw new CommandError(`could not run ${pulumiBin}: ${r.error.message}`);
  }
  if (r.status !== 0) {
    const err = (r.stderr || "").trim();
    const first = err.split("\n").find((l) => l.trim() !== "") ?? `exit ${r.status}`;
    if (/not logged in|PULUMI_ACCESS_TOKEN|pulumi login/i.test(err)) {
      throw new CommandError(`the Pulumi CLI is not logged in: run \`pulumi login\` (or set PULUMI_ACCESS_TOKEN), then retry`);
    }
    if (/no stack named|stack .* not found|does not exist/i.test(err)) {
      throw new CommandError(
        `stack "${stack}" does not exist for this project: run \`pulumi stack ls\` to see the stacks, or \`pulumi up --stack ${stack}\` to create it`,
      );
    }
    throw new CommandError(`pulumi stack output --stack ${stack} failed: ${first.replace(/^error:\s*/i, "")}`);
  }
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new CommandError(`pulumi stack output --stack ${stack} did not print JSON`);
  }
}

export function readStackOutputsFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // --outputs-file names a file that is not there: the command line is wrong.
    if (code === "ENOENT") throw new UsageError(`cannot read outputs file ${file}: no such file`);
    throw new CommandError(`cannot read outputs file ${file}: ${code ?? (e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CommandError(`${file}: not valid JSON (${(e as Error).message.split("\n")[0]})`);
  }
}

/** Extracts and checks the `env` output; `source` names where the outputs came from. */
export function envFromOutputs(outputs: unknown, source: string): EnvOutput {
  if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) throw new CommandError(`${source}: expected a JSON object of stack outputs`);
  const env = (outputs as Record<string, unknown>).env;
  if (env === undefined) {
    throw new CommandError(`${source}: the stack has no "env" output; run \`pulumi up\` for this stack with this program first`);
  }
  if (typeof env === "string" && /^\[secret\]$|^\*+$/.test(env)) {
    throw new CommandError(`${source}: the "env" output is masked; it must be read with --show-secrets`);
  }
  if (!env || typeof env !== "object" || Array.isArray(env)) throw new CommandError(`${source}: the "env" output is not an object of variables`);
  const out: EnvOutput = {};
  for (const [k, v] of Object.entries(env as Record<string, unknown>)) {
    if (typeof v !== "string") throw new CommandError(`${source}: env.${k} is not a string`);
    out[k] = v;
  }
  return out;
}
