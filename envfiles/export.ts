/**
 * Turning a stack's `env` output into env-file text: ordering, the check that
 * the values are this environment's, and portability warnings.
 */
import { FEATURE_PREFIX, variableNames, VARIABLES } from "../config/variables";
import { parsePostgresUrl, parseRedisUrl, tryParse } from "../lib/connectionUrl";
import { foreignProblemsIn } from "../lib/foreign";
import { expectationsFor } from "../verify/checklist";
import { portabilityProblems, serializeEnvFile } from "./format";

/** Orders variables as the program lists them, then any others alphabetically. */
export function orderedEntries(env: Readonly<Record<string, string>>): [string, string][] {
  const flags = Object.fromEntries(
    Object.keys(env)
      .filter((k) => k.startsWith(FEATURE_PREFIX))
      .map((k) => [k.slice(FEATURE_PREFIX.length).toLowerCase(), true]),
  );
  const known = variableNames(flags);
  const rest = Object.keys(env).filter((k) => !known.includes(k)).sort();
  return [...known.filter((k) => k in env), ...rest].map((k) => [k, env[k]]);
}

/**
 * Problems that make an env unfit to be written as stack `stack`'s file: a wrong
 * ENVIRONMENT, a DATABASE_URL or REDIS_URL the strict parser refuses (a query
 * parameter that redirects the connection, several hosts...), or any value
 * carrying another environment's identifiers, as written or percent-decoded.
 * Uses the same identity index as config validation. Messages name keys, never values.
 */
export function foreignProblems(env: Readonly<Record<string, string>>, stack: string, dir: string): string[] {
  const problems: string[] = [];
  if (env.ENVIRONMENT !== stack) problems.push(`ENVIRONMENT is ${JSON.stringify(env.ENVIRONMENT ?? "(missing)")}, not "${stack}"`);
  const urls: [string, (raw: string, key: string) => unknown][] = [["DATABASE_URL", parsePostgresUrl], ["REDIS_URL", parseRedisUrl]];
  for (const [key, parse] of urls) {
    const v = env[key];
    if (!v) continue;
    const parsed = tryParse(parse, v, key);
    if (!parsed.ok) problems.push(parsed.problem);
  }
  const { index } = expectationsFor(dir, stack);
  for (const [key, value] of Object.entries(env)) {
    problems.push(...foreignProblemsIn(index, key, value, stack).slice(0, 1));
  }
  return problems;
}

/** Warnings that do not stop the export: missing variables, values some reader cannot load. */
export function exportWarnings(env: Readonly<Record<string, string>>): string[] {
  const warnings: string[] = [];
  const missing = VARIABLES.map((v) => v.name).filter((k) => !(k in env));
  if (missing.length > 0) warnings.push(`the env output lacks ${missing.join(", ")}: was the stack deployed with an older program? run pulumi up`);
  for (const [key, value] of Object.entries(env)) {
    const broken = portabilityProblems(value);
    if (broken.length > 0) warnings.push(`${key}: its value cannot be loaded exactly by ${broken.join(", ")}`);
  }
  return warnings;
}

export function renderEnvFile(env: Readonly<Record<string, string>>, stack: string, now = new Date()): string {
  return serializeEnvFile({ stack, generatedAt: now, entries: orderedEntries(env) });
}
