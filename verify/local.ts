/**
 * A `local` environment on this machine's PostgreSQL and Redis, so that
 * `verify --live` can be tried without a cloud account or a Pulumi backend.
 *
 * PostgreSQL gets what server mode (components/database.ts) creates on a shared
 * server, through an admin that is not a superuser (config/databasePrivileges.ts):
 * a login role `mina_local_app` with a fresh random password and no other power
 * (it inherits, so as database owner it can create tables in `public`), the admin
 * a member of it, a database `mina_local` owned by it, and every privilege of
 * `PUBLIC` on that database revoked, CONNECT included. Running it again gives the
 * role a new password and keeps the database and its data.
 *
 * Redis gets nothing: the URL's database index (0 unless told) is only checked
 * not to belong to another environment. `verify --live --claim` claims it.
 *
 * The env file carries every variable the program emits (config/variables.ts):
 * names from config/naming.ts, settings from the staging profile's defaults,
 * generated secrets random, supplied secrets visibly fake. It is written like
 * `npm run env` writes one: checked for other environments' identifiers, mode
 * 0600, atomically, never where git would commit it.
 *
 * Only loopback servers are touched (127.0.0.0/8, ::1, localhost): any other
 * host is refused before a connection is made. Every error is one line and
 * never shows a password.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { Client } from "pg";
import { buildDatabaseUrl } from "../components/urls";
import {
  APP_ROLE,
  attributeMismatches,
  attributesSql,
  LOCAL_ADMIN_ROLE,
  provisionStatements,
  quoteIdent,
  quoteLiteral,
  revokePublicSql,
  ROLE_ATTRIBUTE_SQL,
  SUPERUSER_ONLY_ATTRIBUTES,
} from "../config/databasePrivileges";
import { readStacksLeniently } from "../config/index";
import { BUILTIN_ENVIRONMENTS } from "../config/isolation";
import { defaultsFor } from "../config/defaults";
import { deriveNames, ENVIRONMENT_PATTERN, fakeSecret } from "../config/naming";
import { featureVariable, variableNames } from "../config/variables";
import { foreignProblems, orderedEntries, unexpectedVariables } from "../envfiles/export";
import { serializeEnvFile } from "../envfiles/format";
import { writeFileAtomic } from "../lib/atomicWrite";
import { parsePostgresUrl, parseRedisUrl, shown, type PostgresUrl, type RedisUrl } from "../lib/connectionUrl";
import { refuseUnsafePath } from "../lib/git";
import { isLoopbackHost, LOCAL_ENVIRONMENT, LOOPBACK_ADDRESSES } from "../lib/loopback";
import { closePostgres, connectPostgres, DEFAULT_TIMEOUT_MS, describeError, newRedisClient, positiveTimeout, REDIS_MARKER_KEY, withDeadline } from "./live";

/**
 * The admin connection used unless told otherwise: the machine's provisioner role
 * (`mina_provisioner`: LOGIN CREATEDB CREATEROLE, not a superuser, as a real
 * server's admin; `.ci/run` creates it, the README says how), trust auth.
 */
export const DEFAULT_ADMIN_URL = `postgresql://${LOCAL_ADMIN_ROLE}@127.0.0.1:5432/postgres`;

/** The Redis database used unless told otherwise. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0";

/** AWS_REGION in the env file: nothing local reaches AWS, the value only has to be a region. */
export const LOCAL_AWS_REGION = "us-east-1";

/** The project directory holding the Pulumi.<stack>.yaml files. */
const ROOT = resolve(__dirname, "..");

export interface LocalSetUpOptions {
  /** Admin connection that creates the role and database (default {@link DEFAULT_ADMIN_URL}); a loopback host only. */
  readonly adminUrl?: string;
  /** REDIS_URL of the env file; its path is the database index (default {@link DEFAULT_REDIS_URL}); a loopback host only. */
  readonly redisUrl?: string;
  /** Project directory holding the Pulumi.<stack>.yaml files (default: this checkout). */
  readonly dir?: string;
  /** Where to write the env file (default `.env.<environment>.local` in the current directory). */
  readonly out?: string;
  /** Replace an existing env file (its password stops working either way: every run sets a new one). */
  readonly force?: boolean;
  /** The environment (default `local`, the only one verify lets use plain redis://). */
  readonly environment?: string;
  /** Bound of each connection and statement, in milliseconds (default 5000). */
  readonly timeoutMs?: number;
}

export interface LocalSetUp {
  /** The env file written, absolute. */
  readonly file: string;
  readonly environment: string;
  /** The database, e.g. `mina_local`. */
  readonly database: string;
  /** The login role, e.g. `mina_local_app`. */
  readonly role: string;
  /** Where the database is, `host:port` (no credentials). */
  readonly postgres: string;
  /** Where the Redis database is, `host:port/index` (no credentials). */
  readonly redis: string;
  /** What did not exist and was created, e.g. `role mina_local_app`, `database mina_local`. */
  readonly created: readonly string[];
  /** What existed and was reused, with what changed, e.g. `role mina_local_app (new password)`. */
  readonly reused: readonly string[];
  /** Whether the Redis database's environment marker already names this environment (else `verify --live --claim` sets it). */
  readonly markerClaimed: boolean;
}

/** A refusal or failure of {@link setUpLocal}: one line, no password, no stack trace. */
export class LocalSetUpError extends Error {}

/**
 * Creates (or refreshes) an environment on this machine's PostgreSQL and Redis
 * and writes its env file. See the module comment for what it creates.
 *
 * Nothing is touched before every input is checked: the environment name, both
 * hosts (loopback only), the target path (git, an existing file), and the env
 * file's values (no other environment's identifiers). Redis is then only read;
 * PostgreSQL is changed last, just before the file is written.
 */
export async function setUpLocal(opts: LocalSetUpOptions = {}): Promise<LocalSetUp> {
  const secrets: string[] = [];
  try {
    return await run(opts, secrets);
  } catch (err) {
    if (err instanceof LocalSetUpError) throw err;
    throw new LocalSetUpError(describeError(err, secrets));
  }
}

async function run(opts: LocalSetUpOptions, secrets: string[]): Promise<LocalSetUp> {
  const environment = opts.environment ?? LOCAL_ENVIRONMENT;
  if (!ENVIRONMENT_PATTERN.test(environment)) {
    fail(`${shown(environment, 40)} is not a valid environment name (lowercase letters, digits, single hyphens)`);
  }
  const timeoutMs = positiveTimeout(opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const dir = resolve(opts.dir ?? ROOT);
  refuseDeployed(environment, dir);
  const { admin, redis } = loopbackServers(opts, environment, secrets);
  const { file, shownFile } = targetFile(opts, environment, secrets);

  const names = deriveNames(environment);
  const password = randomBytes(32).toString("hex");
  secrets.push(password);
  const content = envFileContent(environment, dir, admin, redis, password);

  const markerClaimed = await checkRedis(redis, environment, timeoutMs, secrets);
  const { created, reused } = await setUpPostgres(admin, names.databaseRole, names.databaseName, password, timeoutMs, secrets);

  try {
    writeFileAtomic(file, content, 0o600);
  } catch (err) {
    fail(`cannot write ${shownFile}: ${describeError(err, secrets)}; role ${names.databaseRole} already has its new password: run again with --force`);
  }
  return {
    file,
    environment,
    database: names.databaseName,
    role: names.databaseRole,
    postgres: admin.hostPort,
    redis: `${redis.hostPort}/${redis.database}`,
    created,
    reused,
    markerClaimed,
  };
}

/** Refuses, in one line. */
function fail(message: string): never {
  throw new LocalSetUpError(message);
}

/** The environment set up on this machine is none of the deployed ones (a built-in one or a stack of the project in `dir`). */
function refuseDeployed(environment: string, dir: string): void {
  const deployed = new Set<string>([...BUILTIN_ENVIRONMENTS, ...readStacksLeniently(dir).stacks.map((s) => s.stack)]);
  if (deployed.has(environment)) {
    fail(`refusing to set up ${environment} on this machine: it is a deployed environment (a stack of ${dir}); use another name, such as ${LOCAL_ENVIRONMENT}`);
  }
}

/** Both servers' URLs, parsed (their secrets added to `secrets`): each must be this machine's, before any connection is made. */
function loopbackServers(opts: LocalSetUpOptions, environment: string, secrets: string[]): { admin: PostgresUrl; redis: RedisUrl } {
  const adminRaw = opts.adminUrl ?? DEFAULT_ADMIN_URL;
  const redisRaw = opts.redisUrl ?? DEFAULT_REDIS_URL;
  secrets.push(adminRaw, redisRaw);
  const admin = parseOrFail(() => parsePostgresUrl(adminRaw, "admin URL"));
  secrets.push(...admin.secrets);
  const redis = parseOrFail(() => parseRedisUrl(redisRaw, "Redis URL"));
  secrets.push(...redis.secrets);
  const notHere = (what: string, host: string) =>
    `refusing to set up ${environment}: ${what} host ${shown(host)} is not a loopback address (${LOOPBACK_ADDRESSES}); this recipe only touches servers on this machine`;
  if (!isLoopbackHost(admin.host)) fail(notHere("the admin URL's", admin.host));
  if (!isLoopbackHost(redis.host)) fail(notHere("the Redis URL's", redis.host));
  return { admin, redis };
}

/** The env file to write: never where git would commit it, never an existing file unless told. */
function targetFile(opts: LocalSetUpOptions, environment: string, secrets: readonly string[]): { file: string; shownFile: string } {
  const file = resolve(opts.out ?? `.env.${environment}.local`);
  const shownFile = relative(process.cwd(), file) || file;
  try {
    refuseUnsafePath(file);
  } catch (err) {
    fail(describeError(err, secrets));
  }
  if (!existsSync(dirname(file))) fail(`cannot write ${shownFile}: its folder ${dirname(file)} does not exist`);
  if (existsSync(file) && !opts.force) {
    fail(`${shownFile} exists; --force replaces it (every run gives the role a new password, so the old file stops working)`);
  }
  return { file, shownFile };
}

/** The env file's text, its variables checked like `npm run env` checks a stack's output. */
function envFileContent(environment: string, dir: string, admin: PostgresUrl, redis: RedisUrl, password: string): string {
  const names = deriveNames(environment);
  const env = localEnv(environment, {
    databaseUrl: buildDatabaseUrl({
      user: names.databaseRole,
      password,
      host: urlHost(admin.host),
      port: admin.port,
      database: names.databaseName,
      sslMode: appSslMode(admin),
    }),
    redisUrl: redisUrlOf(redis),
  });
  const unexpected = unexpectedVariables(env);
  if (unexpected !== undefined) fail(`refusing to write: ${unexpected}`);
  const problems = foreignProblems(env, environment, dir);
  if (problems.length > 0) fail(`refusing to write a ${environment} env file: ${problems.join("; ")}`);
  return serializeEnvFile({ stack: environment, generatedAt: new Date(), entries: orderedEntries(env), generatedBy: "npm run local" });
}

function parseOrFail<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    // the parser's messages name the part that is wrong, never the password
    throw new LocalSetUpError(err instanceof Error ? err.message : String(err));
  }
}

/** A normalised host as a URL writes it (an IPv6 address in brackets). */
function urlHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/**
 * DATABASE_URL's sslmode: `disable` (local servers speak plain TCP), unless the
 * admin URL asks for TLS, in which case the app asks for it too (`require`: a
 * loopback server's certificate names no host worth verifying).
 */
function appSslMode(admin: PostgresUrl): string {
  return admin.sslMode === "require" || admin.sslMode === "verify-ca" || admin.sslMode === "verify-full" ? "require" : "disable";
}

/** REDIS_URL from its parsed parts: scheme, credentials (encoded), host, port, database index. */
function redisUrlOf(r: RedisUrl): string {
  const user = r.username !== undefined ? encodeURIComponent(r.username) : "";
  const auth = r.password !== undefined ? `${user}:${encodeURIComponent(r.password)}@` : user !== "" ? `${user}@` : "";
  return `${r.scheme}://${auth}${urlHost(r.host)}:${r.port}/${r.database}`;
}

/** Every variable of config/variables.ts, for `environment` on this machine. */
function localEnv(environment: string, urls: { databaseUrl: string; redisUrl: string }): Record<string, string> {
  const names = deriveNames(environment);
  const d = defaultsFor("staging");
  const fake = (what: string) => fakeSecret(environment, what);
  const hex = () => randomBytes(32).toString("hex");
  const env: Record<string, string> = {
    ENVIRONMENT: environment,
    DATABASE_URL: urls.databaseUrl,
    REDIS_URL: urls.redisUrl,
    AWS_S3_BUCKET: names.bucket,
    AWS_REGION: LOCAL_AWS_REGION,
    AWS_ACCESS_KEY_ID: fake("aws-access-key-id"),
    AWS_SECRET_ACCESS_KEY: fake("aws-secret-access-key"),
    SECRET_KEY: hex(),
    SESSION_SECRET: hex(),
    OPENAI_API_KEY: fake("openai-api-key"),
    SENTRY_DSN: "",
    SENTRY_ENVIRONMENT: names.sentryEnvironment,
    EMAIL_ENABLED: String(d.emailEnabled),
    SENDGRID_API_KEY: d.emailEnabled ? fake("sendgrid-api-key") : "",
    EMAIL_REDIRECT_TO: "",
    SLACK_WEBHOOK_URL: "",
    SLACK_CHANNEL: names.slackChannel,
    SHARE_BASE_URL: `https://${environment}.mina.app`,
    JSON_LOGS: "true",
    LOG_LEVEL: d.logLevel,
    RATE_LIMIT_PER_MINUTE: String(d.rateLimitPerMinute),
    RATE_LIMIT_PER_HOUR: String(d.rateLimitPerHour),
  };
  for (const [flag, on] of Object.entries(d.featureFlags)) env[featureVariable(flag)] = String(on);
  const missing = variableNames(d.featureFlags).filter((k) => !(k in env));
  if (missing.length > 0) throw new LocalSetUpError(`the local env file lacks ${missing.join(", ")}: verify/local.ts is behind config/variables.ts`);
  return env;
}

/**
 * Reads the Redis database's environment marker: true when it names this
 * environment, false when there is none; refuses another environment's database.
 */
async function checkRedis(target: RedisUrl, environment: string, timeoutMs: number, secrets: readonly string[]): Promise<boolean> {
  const where = `${target.hostPort}/${target.database}`;
  const client = newRedisClient(target, timeoutMs);
  let socketError: unknown;
  client.on("error", (err: unknown) => {
    socketError = err;
  });
  try {
    try {
      await withDeadline(client.connect(), timeoutMs, "connect");
    } catch (err) {
      throw new LocalSetUpError(`cannot connect to Redis at ${where}: ${describeError(err ?? socketError, secrets)}`);
    }
    let owner: string | null;
    try {
      owner = await withDeadline(client.get(REDIS_MARKER_KEY), timeoutMs, "GET");
    } catch (err) {
      throw new LocalSetUpError(`cannot read ${REDIS_MARKER_KEY} on Redis ${where}: ${describeError(err, secrets)}`);
    }
    if (owner === null) return false;
    if (owner === environment) return true;
    const named = /^[a-z][a-z0-9-]{0,62}$/.test(owner) ? owner : shown(owner, 40);
    throw new LocalSetUpError(
      `Redis database ${where} belongs to ${named} (${REDIS_MARKER_KEY}): give ${environment} a database index of its own in the Redis URL, e.g. ${target.scheme}://${urlHost(target.host)}:${target.port}/${target.database === 15 ? 14 : target.database + 1}`,
    );
  } finally {
    if (client.isOpen) {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    }
  }
}

/**
 * The role and database, as server mode creates them (provisionStatements in
 * config/databasePrivileges.ts): a login role with no other power that inherits,
 * the admin a member of it, a database it owns, nothing left to PUBLIC on it. An
 * existing role gets the new password (and the attributes an admin that is not a
 * superuser may set; one that is a superuser, replicates or bypasses row security
 * is refused); an existing database keeps its data and gets the role as owner.
 */
async function setUpPostgres(
  admin: PostgresUrl,
  role: string,
  database: string,
  password: string,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<{ created: string[]; reused: string[] }> {
  const where = `${admin.hostPort}/${admin.database} as ${admin.user}`;
  let client: Client;
  try {
    ({ client } = await connectPostgres(admin, admin.database, timeoutMs));
  } catch (err) {
    throw new LocalSetUpError(`cannot connect to ${where}: ${describeError(err, secrets)}`);
  }
  const run: Provisioning = { client, step: "", created: [], reused: [] };
  try {
    run.step = "read the admin role";
    const me = (await client.query<{ u: string }>("SELECT current_user AS u")).rows[0]!.u;
    const [createRole, grantRole, createDatabase] = provisionStatements({ admin: me, appRole: role, database, password });
    await provisionRole(run, admin, role, password, createRole!.sql);
    // the admin a member of the role, before the database: CREATE DATABASE ... OWNER asks it, and so does every later change
    run.step = `make ${me} a member of role ${role}`;
    await client.query(grantRole!.sql);
    await provisionDatabase(run, role, database, createDatabase!.sql);
    run.step = `revoke PUBLIC's privileges on database ${database}`;
    await client.query(revokePublicSql(database));
  } catch (err) {
    if (err instanceof LocalSetUpError) throw err;
    throw new LocalSetUpError(`cannot ${run.step} on ${where}: ${describeError(err, secrets)}`);
  } finally {
    await closePostgres(client);
  }
  return { created: run.created, reused: run.reused };
}

/** The set-up of the role and database under way: the admin's connection, the step it is at (named when one fails), what it created and reused. */
interface Provisioning {
  readonly client: Client;
  step: string;
  readonly created: string[];
  readonly reused: string[];
}

/** Creates the app role; or gives an existing one the new password, unless it is a superuser, replicates or bypasses row security. */
async function provisionRole(run: Provisioning, admin: PostgresUrl, role: string, password: string, createRoleSql: string): Promise<void> {
  const { client } = run;
  run.step = `look up role ${role}`;
  const existing = (await client.query("SELECT * FROM pg_roles WHERE rolname = $1", [role])).rows[0] as Record<string, unknown> | undefined;
  if (existing === undefined) {
    run.step = `create role ${role}`;
    await client.query(createRoleSql);
    run.created.push(`role ${role}`);
    return;
  }
  const refused = attributeMismatches(existing, APP_ROLE).filter((a) => SUPERUSER_ONLY_ATTRIBUTES.some((k) => ROLE_ATTRIBUTE_SQL[k].off === a));
  if (refused.length > 0) {
    throw new LocalSetUpError(
      `role ${role} exists on ${admin.hostPort} and is not an app role (it should be ${refused.join(" ")}): drop it as a superuser, then run again`,
    );
  }
  run.step = `set a new password for role ${role}`;
  const settable = (Object.keys(APP_ROLE) as (keyof typeof APP_ROLE)[]).filter((k) => !SUPERUSER_ONLY_ATTRIBUTES.includes(k));
  await client.query(`ALTER ROLE ${quoteIdent(role)} WITH ${attributesSql(APP_ROLE, settable)} PASSWORD ${quoteLiteral(password)}`);
  run.reused.push(`role ${role} (new password)`);
}

/** Creates the database, owned by the role; an existing one keeps its data and gets the role as owner. */
async function provisionDatabase(run: Provisioning, role: string, database: string, createDatabaseSql: string): Promise<void> {
  const { client } = run;
  run.step = `look up database ${database}`;
  const owners = await client.query<{ owner: string }>("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [database]);
  if (owners.rowCount === 0) {
    run.step = `create database ${database}`;
    await client.query(createDatabaseSql);
    run.created.push(`database ${database}`);
  } else if (owners.rows[0]!.owner !== role) {
    run.step = `make ${role} the owner of database ${database}`;
    await client.query(`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(role)}`);
    run.reused.push(`database ${database} (data kept; owner was ${owners.rows[0]!.owner})`);
  } else {
    run.reused.push(`database ${database} (data kept)`);
  }
}
