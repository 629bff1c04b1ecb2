/**
 * `verify --live`, PostgreSQL: the URL's own credentials connect, land in this
 * environment's database as this environment's role, cannot open the other
 * environments' databases, and can read the sessions table. The driver gets
 * exactly the parsed parts of the URL (lib/connectionUrl.ts), never the raw
 * string and never a default from the environment (PGHOST, PGOPTIONS, ~/.pgpass).
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import type { Client, ClientConfig } from "pg";
import { deriveNames, type Names } from "../../config/naming";
import { parsePostgresUrl, type PostgresUrl } from "../../lib/connectionUrl";
import { assertEnvironment, type CheckResult, DEFAULT_TIMEOUT_MS, describeError, positiveTimeout, urlSecrets, withDeadline } from "./common";

export interface PostgresLiveOptions {
  /** The environment the env file belongs to (its database name is derived from it). */
  environment: string;
  /** Database names of the other environments: this role must not be able to open them. */
  otherDatabases: readonly string[];
  /** Bound of each connection attempt and each statement, in milliseconds (default 5000). */
  timeoutMs?: number;
}

/** Item names, so callers and tests refer to the same lines. */
export const PG_ITEMS = {
  connect: "postgres: connect",
  database: "postgres: database",
  role: "postgres: role",
  isolation: (database: string) => `postgres: no access to ${database}`,
  sessions: "postgres: sessions table",
} as const;

type PostgresTarget = PostgresUrl;

/**
 * The TLS settings to try, in order, for an sslmode. node-postgres cannot
 * negotiate libpq's `prefer` itself, so `prefer` tries TLS first and falls back
 * to a plain connection only when the server refuses TLS.
 */
function sslAttempts(t: PostgresTarget): Array<false | ConnectionOptions> {
  const noVerify: ConnectionOptions = { rejectUnauthorized: false };
  // sslrootcert=system: the system's trusted roots, which are Node's default
  const ca = t.sslRootCert && t.sslRootCert !== "system" ? { ca: readFileSync(t.sslRootCert, "utf8") } : {};
  switch (t.sslMode) {
    case "disable":
    case "allow":
      return [false];
    case "prefer":
      return [noVerify, false];
    case "require":
      return [noVerify];
    case "verify-ca":
      // the chain is verified, the host name is not (libpq's verify-ca)
      return [{ rejectUnauthorized: true, checkServerIdentity: () => undefined, ...ca }];
    case "verify-full":
      return [{ rejectUnauthorized: true, ...(isIP(t.host) ? {} : { servername: t.host }), ...ca }];
  }
}

function tlsLabel(ssl: false | ConnectionOptions): string {
  if (ssl === false) return "without TLS";
  return ssl.rejectUnauthorized ? "over verified TLS" : "over TLS (certificate not verified)";
}

/** How long to wait for a connection: the URL's connect_timeout when shorter (libpq waits at least 2 s). */
function connectBound(t: PostgresTarget, timeoutMs: number): number {
  const seconds = t.connectTimeoutSeconds;
  return seconds === undefined || seconds === 0 ? timeoutMs : Math.min(timeoutMs, Math.max(2, seconds) * 1000);
}

/**
 * Exactly the parsed URL's parts. The password is a function so that node-postgres
 * never falls back to PGPASSWORD or ~/.pgpass when the URL has none.
 */
function pgConfig(t: PostgresTarget, database: string, ssl: false | ConnectionOptions, timeoutMs: number): ClientConfig {
  const password = t.password ?? "";
  return {
    host: t.host,
    port: t.port,
    user: t.user,
    password: async () => password,
    database,
    ssl,
    connectionTimeoutMillis: connectBound(t, timeoutMs),
    statement_timeout: timeoutMs,
    lock_timeout: timeoutMs,
    query_timeout: timeoutMs,
    application_name: t.applicationName ?? "mina-verify",
  };
}

/**
 * node-postgres fills every setting it is not given (or given empty) from PG*
 * variables: PGOPTIONS, PGSSLMODE, PGCLIENT_ENCODING, PGREPLICATION... It reads
 * them only while constructing the client, so they are hidden for that moment.
 */
function newPgClient(config: ClientConfig): Client {
  const hidden = Object.keys(process.env).filter((k) => /^PG/i.test(k));
  const saved = hidden.map((k) => [k, process.env[k]] as const);
  for (const k of hidden) delete process.env[k];
  try {
    // Loaded when a connection is made: the commands that only read files never pay for the driver.
    const pg = require("pg") as typeof import("pg");
    return new pg.Client(config);
  } finally {
    for (const [k, v] of saved) process.env[k] = v;
  }
}

/** Opens a client or rejects; a failed client is already closed. */
async function pgConnect(config: ClientConfig, timeoutMs: number): Promise<Client> {
  const client = newPgClient(config);
  const connectMs = config.connectionTimeoutMillis ?? timeoutMs;
  // errors after connect (server restart, terminated backend) must not crash the process
  client.on("error", () => undefined);
  try {
    // pg bounds the connection itself; the outer deadline also covers DNS and TLS stalls
    await withDeadline(client.connect(), connectMs + 1000, "connect");
    return client;
  } catch (err) {
    await pgClose(client);
    // pg's own connection timeout reads "timeout expired": say what it means
    if (err instanceof Error && /^timeout expired$|connection timeout/i.test(err.message)) {
      throw new Error(`no answer within ${connectMs} ms`);
    }
    throw err;
  }
}

async function pgClose(client: Client): Promise<void> {
  await withDeadline(client.end(), 1000, "disconnect").catch(() => undefined);
}

function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** An open connection and the TLS setting it was made with. */
export interface PostgresConnection {
  readonly client: Client;
  readonly ssl: false | ConnectionOptions;
}

/** Tries each TLS setting in turn; the next one only when the server refused TLS. Rejects with the last error. */
async function connectFirst(
  target: PostgresTarget,
  database: string,
  attempts: ReadonlyArray<false | ConnectionOptions>,
  timeoutMs: number,
): Promise<PostgresConnection> {
  let lastError: unknown;
  for (const [i, attempt] of attempts.entries()) {
    try {
      return { client: await pgConnect(pgConfig(target, database, attempt, timeoutMs), timeoutMs), ssl: attempt };
    } catch (err) {
      lastError = err;
      const refusedTls = err instanceof Error && /does not support SSL/i.test(err.message);
      if (!(refusedTls && i + 1 < attempts.length)) break;
    }
  }
  throw lastError;
}

/**
 * Connects to `database` with exactly the parsed URL's parts (no PG* variable,
 * no ~/.pgpass), trying the URL's sslmode as verify does. Rejects with the
 * driver's error: pass it through `describeError` with the URL's secrets.
 */
export function connectPostgres(target: PostgresUrl, database: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PostgresConnection> {
  return connectFirst(target, database, sslAttempts(target), positiveTimeout(timeoutMs));
}

/** Closes a client from {@link connectPostgres}, waiting at most a second; never rejects. */
export function closePostgres(client: Client): Promise<void> {
  return pgClose(client);
}

/**
 * Checks DATABASE_URL against its server: the URL's own credentials connect,
 * land in this environment's database as this environment's role, cannot open
 * the other environments' databases, and can read the `sessions` table.
 */
export async function checkPostgresLive(databaseUrl: string, opts: PostgresLiveOptions): Promise<CheckResult[]> {
  assertEnvironment(opts.environment);
  const timeoutMs = positiveTimeout(opts.timeoutMs);
  const names = deriveNames(opts.environment);

  // (a) the URL's own credentials connect
  const live = await connectWithUrl(databaseUrl, timeoutMs);
  if ("refused" in live) return [live.refused];
  const { target, client, ssl, secrets } = live;
  const results: CheckResult[] = [{ item: PG_ITEMS.connect, ok: true, reason: `connected to ${live.where} ${live.as} ${tlsLabel(ssl)}` }];
  try {
    // (b) this environment's database, (b') this environment's role
    results.push(...(await identityResults(live, names, opts.environment)));
    // (c) the other environments' databases stay closed to this role
    const others = [...new Set(opts.otherDatabases)].filter((d) => d !== names.databaseName);
    for (const other of others) {
      results.push(await checkNoAccess(target, other, ssl, timeoutMs, secrets));
    }
    // (d) the sessions table, when the app has created it
    results.push(await sessionsResult(live));
  } finally {
    await pgClose(client);
  }
  return results;
}

/** A connection made with DATABASE_URL's own credentials, and how the checks' lines name it. */
interface LiveDatabase {
  readonly target: PostgresTarget;
  readonly client: Client;
  readonly ssl: false | ConnectionOptions;
  /** The URL's secrets, masked in every reason. */
  readonly secrets: readonly string[];
  /** `host:port/database`. */
  readonly where: string;
  /** `as <user>`. */
  readonly as: string;
}

/** Connects with the URL's own credentials; the connect item's failure, when it does not parse, its root certificate cannot be read, or no attempt connects. */
async function connectWithUrl(databaseUrl: string, timeoutMs: number): Promise<LiveDatabase | { refused: CheckResult }> {
  const refused = (reason: string) => ({ refused: { item: PG_ITEMS.connect, ok: false, reason } });
  let target: PostgresTarget;
  try {
    target = parsePostgresUrl(databaseUrl);
  } catch (err) {
    return refused(describeError(err, urlSecrets(databaseUrl)));
  }
  const secrets = urlSecrets(databaseUrl, target);
  const where = `${target.hostPort}/${target.database}`;
  const as = `as ${target.user}`;
  let attempts: Array<false | ConnectionOptions>;
  try {
    attempts = sslAttempts(target);
  } catch (err) {
    return refused(`cannot read sslrootcert: ${describeError(err, secrets)}`);
  }
  try {
    const { client, ssl } = await connectFirst(target, target.database, attempts, timeoutMs);
    return { target, client, ssl, secrets, where, as };
  } catch (err) {
    return refused(`cannot connect to ${where} ${as}: ${describeError(err, secrets)}`);
  }
}

/** The database is this environment's, and the role its app role (never the RDS master user): two items, or one when neither can be read. */
async function identityResults(live: LiveDatabase, names: Names, environment: string): Promise<CheckResult[]> {
  let db: string;
  let role: string;
  try {
    const { rows } = await live.client.query<{ db: string; role: string }>("SELECT current_database() AS db, current_user AS role");
    ({ db, role } = rows[0]!);
  } catch (err) {
    return [{ item: PG_ITEMS.database, ok: false, reason: `cannot query current_database() on ${live.where}: ${describeError(err, live.secrets)}` }];
  }
  const database: CheckResult =
    db === names.databaseName
      ? { item: PG_ITEMS.database, ok: true, reason: `current_database() is ${db}, the database of ${environment}` }
      : {
          item: PG_ITEMS.database,
          ok: false,
          reason: `current_database() is ${db}, but ${environment} uses ${names.databaseName}: this URL points at another environment's database`,
        };
  // Both database modes: the app's own login role (config/databasePrivileges.ts); never the RDS master user.
  const appRole: CheckResult =
    role === names.databaseRole
      ? { item: PG_ITEMS.role, ok: true, reason: `connected as ${role}, the app role of ${environment}` }
      : {
          item: PG_ITEMS.role,
          ok: false,
          reason:
            role === names.databaseMasterUser
              ? `connected as ${role}, but ${environment} connects as ${names.databaseRole}: ${role} is the RDS master user, whose password stays in the deploy's state and never in an env file`
              : `connected as ${role}, but ${environment} connects as ${names.databaseRole}: these are another role's credentials`,
        };
  return [database, appRole];
}

/** The sessions table can be read, or does not exist yet. */
async function sessionsResult({ client, where, as, secrets }: LiveDatabase): Promise<CheckResult> {
  try {
    const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('sessions')::text AS t");
    const table = rows[0]?.t ?? null;
    if (table === null) return { item: PG_ITEMS.sessions, ok: true, reason: `table sessions does not exist yet in ${where}` };
    const count = await client.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM sessions");
    const n = count.rows[0]!.n;
    return { item: PG_ITEMS.sessions, ok: true, reason: `SELECT COUNT(*) FROM sessions: ${n} row${n === "1" ? "" : "s"} (${table})` };
  } catch (err) {
    return { item: PG_ITEMS.sessions, ok: false, reason: `cannot read sessions in ${where} ${as}: ${describeError(err, secrets)}` };
  }
}

/** Tries to open `database` with the URL's own credentials; success is the failure. */
async function checkNoAccess(
  target: PostgresTarget,
  database: string,
  ssl: false | ConnectionOptions,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<CheckResult> {
  const item = PG_ITEMS.isolation(database);
  const where = `${target.hostPort}/${database}`;
  let client: Client;
  try {
    client = await pgConnect(pgConfig(target, database, ssl, timeoutMs), timeoutMs);
  } catch (err) {
    const code = pgCode(err);
    const message = describeError(err, secrets);
    if (code === "3D000") return { item, ok: true, reason: `database ${database} does not exist on ${target.hostPort}` };
    if (code === "42501") return { item, ok: true, reason: `${target.user} is refused: ${message}` };
    if (code === "28000" && /pg_hba/i.test(message)) return { item, ok: true, reason: `${target.user} is refused by pg_hba.conf: ${message}` };
    return { item, ok: false, reason: `could not check whether ${target.user} can open ${where}: ${message}` };
  }
  await pgClose(client);
  return {
    item,
    ok: false,
    reason: `${target.user} CAN connect to ${where}, another environment's database: CONNECT must be revoked from PUBLIC on it (and not granted to this role)`,
  };
}
