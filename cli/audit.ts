/**
 * mina-infra audit FILE... | --stack a b ...
 *
 * Compares several environments' env files (or stacks' env outputs through the
 * Pulumi CLI) and fails when any isolation-critical value is shared. Prints pairs
 * of environments and key names with fingerprints, never values. What environments
 * of the non-production tier may share is read from the project's stack files
 * (config/tiers.ts); an environment without a readable stack file shares nothing.
 */
import * as path from "node:path";
import { readStacksLeniently } from "../config";
import { sharingByEnvironment } from "../config/expectations";
import type { Sharing } from "../config/tiers";
import { auditEnvs, type AuditResult, type EnvSource } from "../verify/audit";
import { readEnvFile, stackFromFileName } from "../envfiles/read";
import { envFromOutputs, readStackOutputsWithCli } from "./lib/outputs";
import { projectDir, requireStacks, stackNames } from "./lib/project";
import { command, commandHint, progress, runCli, UsageError } from "./lib/run";

export function renderAudit(r: AuditResult): string {
  const lines: string[] = [];
  if (r.ok) lines.push(`✓ ${r.files} environments share no isolation-critical value${r.withinTier.length > 0 ? " beyond what their stack files allow" : ""}`);
  if (r.problems.length > 0) {
    lines.push(`✗ cannot be compared (${r.problems.length}):`);
    for (const p of r.problems) lines.push(`  ${p.environment} (${p.source}): ${p.problem}`);
  }
  if (r.shared.length > 0) {
    lines.push(`✗ shared between environments (${r.shared.length}):`);
    for (const s of r.shared) lines.push(`  ${s.environments.join(" + ")}: ${s.key} (${s.fingerprint})${s.reason ? `: ${s.reason}` : ""}`);
  }
  if (r.withinTier.length > 0) {
    lines.push(`✓ shared within the non-production tier, as both stack files allow in mina:shareWithinTier (${r.withinTier.length}):`);
    for (const s of r.withinTier) lines.push(`  ${s.environments.join(" + ")}: ${s.key} (${s.fingerprint})`);
  }
  return `${lines.join("\n")}\n`;
}

/** What each environment of the project may share; none when the stack files cannot be listed (each then shares nothing). */
function sharingIn(dir: string): ReadonlyMap<string, Sharing> {
  try {
    return sharingByEnvironment(readStacksLeniently(dir).stacks);
  } catch {
    return new Map();
  }
}

export const main = command<{ stack?: string[]; dir?: string; json?: boolean }>(
  "audit",
  (c) =>
    c
      .description(
        "Fail when two environments share a database, Redis, bucket, AWS key, secret, share URL, Slack webhook or channel, or Sentry project or environment.",
      )
      .argument("[files...]", "env files of different environments")
      .option("--stack <name...>", "stacks to read through `pulumi stack output` instead of files (several, or comma-separated)")
      .option(
        "--dir <dir>",
        "project directory: its stack files tell what environments may share, and the Pulumi CLI runs there (default: the nearest with a Pulumi.yaml)",
      )
      .option("--json", "print the result as JSON"),
  async ({ opts: o, args: files, io }) => {
    const stacks = stackNames(o.stack) ?? [];
    if (files.length + stacks.length < 2) throw new UsageError("give at least two env files or stacks to compare");
    const dir = projectDir(io, o.dir);
    if (stacks.length > 0) requireStacks(io, dir, stacks);
    const sharing = sharingIn(dir);
    const sources: EnvSource[] = [];
    for (const file of files) {
      const env = readEnvFile(path.resolve(io.cwd, file), file);
      const environment = env.ENVIRONMENT || stackFromFileName(file) || file;
      sources.push({ environment, source: file, env, sharing: sharing.get(environment) });
    }
    if (stacks.length > 0) progress(io, o.json === true)(`reading ${stacks.join(", ")}'s outputs with pulumi stack output…`);
    for (const stack of stacks) {
      const outputs = readStackOutputsWithCli(
        stack,
        dir,
        io.env,
        `give env files (written by ${commandHint(io.env, "env", "--stack NAME")}) instead of --stack`,
      );
      sources.push({ environment: stack, source: `stack:${stack}`, env: envFromOutputs(outputs, `stack ${stack}`), sharing: sharing.get(stack) });
    }
    const seen = new Map<string, string>();
    for (const s of sources) {
      const prior = seen.get(s.environment);
      if (prior) throw new UsageError(`${prior} and ${s.source} are both environment "${s.environment}"; give one file per environment`);
      seen.set(s.environment, s.source);
    }
    const result = auditEnvs(sources);
    io.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : renderAudit(result));
    return result.ok ? 0 : 1;
  },
);

if (require.main === module) runCli(main);
