/**
 * Turning a stack's `env` output into env-file text: ordering, the check that
 * the values are this environment's, and portability warnings.
 */
import { FEATURE_PREFIX, variableNames, VARIABLES } from "../config/variables";
import { parsePostgresUrl, parseRedisUrl, shown, tryParse } from "../lib/connectionUrl";
import { foreignProblemsIn } from "../config/foreign";
import { expectationsFor } from "../config/expectations";
import { KEY_PATTERN, portabilityProblems, serializeEnvFile } from "./format";

/** A feature flag's variable: `FEATURE_` and an upper-case name. */
export const FEATURE_VARIABLE = /^FEATURE_[A-Z][A-Z0-9_]*$/;

/**
 * Names that change how a shell, the dynamic loader, an interpreter, git, TLS,
 * libpq or Flask behave when an env file is sourced or loaded: refused like every
 * other unknown name, and called out as dangerous in the message.
 */
const DANGEROUS_VARIABLES: readonly RegExp[] = [
  /^(PATH|CDPATH|ENV|BASH_ENV|IFS|PS[0-4]|SHELLOPTS|BASHOPTS|PROMPT_COMMAND|GLOBIGNORE|HOME|SHELL|TMPDIR)$/,
  /^BASH_FUNC_/,
  /^(LD|DYLD)_/,
  /^NODE_(OPTIONS|PATH|EXTRA_CA_CERTS|TLS_REJECT_UNAUTHORIZED)$/,
  /^PYTHON/,
  /^PERL(5|LIB)/,
  /^RUBY(OPT|LIB)$/,
  /^(JAVA_TOOL_OPTIONS|_JAVA_OPTIONS)$/,
  /^GIT_/,
  /^(GCONV_PATH|HOSTALIASES|LOCALDOMAIN|RES_OPTIONS|MALLOC_[A-Z_]*)$/,
  /^(SSL_CERT_FILE|SSL_CERT_DIR|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE)$/,
  /^(HTTP|HTTPS|ALL|NO|FTP)_PROXY$/,
  /^PG[A-Z]/,
  /^FLASK_/,
  /^(EDITOR|VISUAL|PAGER|LESSOPEN|LESSCLOSE|SSH_ASKPASS|SUDO_ASKPASS|GIT_ASKPASS)$/,
];

/** Whether the program emits a variable of this name: one of {@link VARIABLES}, or a feature flag's. */
export function isProgramVariable(name: string): boolean {
  return VARIABLES.some((v) => v.name === name) || FEATURE_VARIABLE.test(name);
}

/** Whether a name changes how programs run when an env file is loaded (PATH, LD_PRELOAD, PYTHONPATH...). */
export function isDangerousVariable(name: string): boolean {
  return DANGEROUS_VARIABLES.some((re) => re.test(name));
}

/**
 * Why `env` cannot be written: it has variables the program does not emit
 * (anything but {@link VARIABLES} and `FEATURE_<NAME>`), named in one line with
 * the dangerous ones called out. Undefined when every name is the program's.
 */
export function unexpectedVariables(env: Readonly<Record<string, string>>): string | undefined {
  const unknown = Object.keys(env).filter((k) => !isProgramVariable(k));
  if (unknown.length === 0) return undefined;
  const name = (k: string) => (KEY_PATTERN.test(k) && k.length <= 64 ? k : shown(k, 40));
  const list = (names: string[]) =>
    names.length > 20 ? `${names.slice(0, 20).map(name).join(", ")} and ${names.length - 20} more` : names.map(name).join(", ");
  const dangerous = unknown.filter(isDangerousVariable);
  return (
    `env output has variables the program does not emit: ${list(unknown)}` +
    (dangerous.length > 0
      ? ` (dangerous: ${list(dangerous)} change${dangerous.length === 1 ? "s" : ""} what programs run or load when the file is sourced)`
      : "")
  );
}

/** Orders variables as the program lists them, then any others alphabetically. */
export function orderedEntries(env: Readonly<Record<string, string>>): [string, string][] {
  const flags = Object.fromEntries(
    Object.keys(env)
      .filter((k) => k.startsWith(FEATURE_PREFIX))
      .map((k) => [k.slice(FEATURE_PREFIX.length).toLowerCase(), true]),
  );
  const known = variableNames(flags);
  const rest = Object.keys(env)
    .filter((k) => !known.includes(k))
    .sort();
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
  const urls: [string, (raw: string, key: string) => unknown][] = [
    ["DATABASE_URL", parsePostgresUrl],
    ["REDIS_URL", parseRedisUrl],
  ];
  for (const [key, parse] of urls) {
    const v = env[key];
    if (!v) continue;
    const parsed = tryParse(parse, v, key);
    if (!parsed.ok) problems.push(parsed.problem);
  }
  const { index, unreadable } = expectationsFor(dir, stack);
  // Fail closed: a stack file that cannot be read hides identifiers this env must not carry.
  for (const u of unreadable ?? []) problems.push(`cannot check against ${u}: fix or remove that file first`);
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

/**
 * The env file's text as the app env secret stores it (components/appEnv.ts): the same
 * variables, order and quoting as `npm run env` writes, without the time of writing, so
 * the same env is the same text and `pulumi up` stores a new version only when it changes.
 */
export function renderStoredEnvFile(env: Readonly<Record<string, string>>, stack: string, secretName: string): string {
  return serializeEnvFile({ stack, entries: orderedEntries(env), generatedBy: `pulumi up into the secret ${secretName}` });
}
