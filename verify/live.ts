/**
 * `verify --live`: checks an env file's own credentials against the real
 * servers. Each check yields one line of a checklist (✓/✗ with the reason).
 *
 * Both URLs are read by lib/connectionUrl.ts, and the drivers are given exactly
 * the parsed parts (host, port, user, password, database, TLS): never the raw
 * URL string, never a default from the environment (PGHOST, PGOPTIONS, ~/.pgpass).
 *
 * Reasons name the target as `host:port/database` and the role only: never a
 * password, never a URL with credentials. Every error message that reaches a
 * reason goes through `describeError`, which keeps the first line only and
 * masks the URL's secrets should a driver ever echo them.
 */
import { readFileSync } from "fs";
import { isIP } from "net";
import type { ConnectionOptions } from "tls";
import { Client, type ClientConfig } from "pg";
import { createClient } from "redis";
import { deriveNames, ENVIRONMENT_PATTERN } from "../config/naming";
import { parsePostgresUrl, parseRedisUrl, shown, type PostgresUrl, type RedisUrl } from "../lib/connectionUrl";

/** One line of the checklist. */
export interface CheckResult {
  item: string;
  ok: boolean;
  reason: string;
}

export interface PostgresLiveOptions {
  /** The environment the env file belongs to (its database name is derived from it). */
  environment: string;
  /** Database names of the other environments: this role must not be able to open them. */
  otherDatabases: readonly string[];
  /** Bound of each connection attempt and each statement, in milliseconds (default 5000). */
  timeoutMs?: number;
}

export interface RedisLiveOptions {
  /** The environment the env file belongs to (compared with the marker key). */
  environment: string;
  /**
   * Set the marker to this environment when it is absent (SET NX). Only the deploy
   * job does this, right after `pulumi up`; without it a missing marker fails.
   */
  claim?: boolean;
  /** The marker's key (default {@link REDIS_MARKER_KEY}; tests use keys of their own). */
  markerKey?: string;
  /** Bound of the connection and of each command, in milliseconds (default 5000). */
  timeoutMs?: number;
}

/** Key that records which environment a Redis database belongs to. */
export const REDIS_MARKER_KEY = "mina:environment-marker";

const DEFAULT_TIMEOUT_MS = 5000;

/** Item names, so callers and tests refer to the same lines. */
export const PG_ITEMS = {
  connect: "postgres: connect",
  database: "postgres: database",
  role: "postgres: role",
  isolation: (database: string) => `postgres: no access to ${database}`,
  sessions: "postgres: sessions table",
} as const;

export const REDIS_ITEMS = {
  connect: "redis: connect",
  ping: "redis: PING",
  server: "redis: server",
  marker: "redis: environment marker",
} as const;

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

function assertEnvironment(environment: string): void {
  if (!ENVIRONMENT_PATTERN.test(environment)) {
    throw new Error(`"${environment}" is not a valid environment name (lowercase letters, digits, single hyphens)`);
  }
}

function positiveTimeout(timeoutMs: number | undefined): number {
  const t = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0) throw new Error(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  return Math.ceil(t);
}

/**
 * A one-line error message without stack trace, with every secret masked.
 * Node reports a refused connection to a name with several addresses as an
 * AggregateError with an empty message: its inner errors are used instead.
 */
function describeError(err: unknown, secrets: readonly string[]): string {
  let message: string;
  if (err instanceof AggregateError && !err.message) {
    message = err.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
  } else if (err instanceof Error) {
    message = err.message;
    const detail = (err as { detail?: unknown }).detail;
    if (typeof detail === "string" && detail) message += ` (${detail})`;
  } else {
    message = String(err);
  }
  if (!message) {
    const code = (err as { code?: unknown } | null)?.code;
    message = typeof code === "string" ? code : "unknown error";
  }
  for (const secret of secrets) {
    if (secret) message = message.split(secret).join("***");
  }
  message = message.split(/\r?\n/)[0]!.trim();
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}

/** What to mask in messages: the raw URL and the password as written and decoded. */
function urlSecrets(rawUrl: string, parsed?: { secrets: readonly string[] }): string[] {
  return [rawUrl, ...(parsed?.secrets ?? [])].filter((s) => s.length > 0);
}

/** Runs `work`, rejecting with a timeout error after `ms` (the timer never keeps the process alive). */
function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

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
    return new Client(config);
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

/**
 * Checks DATABASE_URL against its server: the URL's own credentials connect,
 * land in this environment's database as this environment's role, cannot open
 * the other environments' databases, and can read the `sessions` table.
 */
export async function checkPostgresLive(databaseUrl: string, opts: PostgresLiveOptions): Promise<CheckResult[]> {
  assertEnvironment(opts.environment);
  const timeoutMs = positiveTimeout(opts.timeoutMs);
  const names = deriveNames(opts.environment);

  let target: PostgresTarget;
  try {
    target = parsePostgresUrl(databaseUrl);
  } catch (err) {
    return [{ item: PG_ITEMS.connect, ok: false, reason: describeError(err, urlSecrets(databaseUrl)) }];
  }
  const secrets = urlSecrets(databaseUrl, target);
  const where = (database: string) => `${target.hostPort}/${database}`;
  const as = `as ${target.user}`;

  // (a) the URL's own credentials connect
  let client: Client | undefined;
  let ssl: false | ConnectionOptions = false;
  let lastError: unknown;
  let attempts: Array<false | ConnectionOptions>;
  try {
    attempts = sslAttempts(target);
  } catch (err) {
    return [{ item: PG_ITEMS.connect, ok: false, reason: `cannot read sslrootcert: ${describeError(err, secrets)}` }];
  }
  for (const [i, attempt] of attempts.entries()) {
    try {
      client = await pgConnect(pgConfig(target, target.database, attempt, timeoutMs), timeoutMs);
      ssl = attempt;
      break;
    } catch (err) {
      lastError = err;
      const refusedTls = err instanceof Error && /does not support SSL/i.test(err.message);
      if (!(refusedTls && i + 1 < attempts.length)) break;
    }
  }
  if (!client) {
    return [{
      item: PG_ITEMS.connect,
      ok: false,
      reason: `cannot connect to ${where(target.database)} ${as}: ${describeError(lastError, secrets)}`,
    }];
  }

  const results: CheckResult[] = [
    { item: PG_ITEMS.connect, ok: true, reason: `connected to ${where(target.database)} ${as} ${tlsLabel(ssl)}` },
  ];
  try {
    // (b) this environment's database, (b') this environment's role
    try {
      const { rows } = await client.query<{ db: string; role: string }>("SELECT current_database() AS db, current_user AS role");
      const { db, role } = rows[0]!;
      results.push(
        db === names.databaseName
          ? { item: PG_ITEMS.database, ok: true, reason: `current_database() is ${db}, the database of ${opts.environment}` }
          : {
              item: PG_ITEMS.database,
              ok: false,
              reason: `current_database() is ${db}, but ${opts.environment} uses ${names.databaseName}: this URL points at another environment's database`,
            },
      );
      const ownRoles = [names.databaseRole, names.databaseMasterUser];
      results.push(
        ownRoles.includes(role)
          ? { item: PG_ITEMS.role, ok: true, reason: `connected as ${role}, a role of ${opts.environment}` }
          : {
              item: PG_ITEMS.role,
              ok: false,
              reason: `connected as ${role}, but ${opts.environment} connects as ${names.databaseRole} (server mode) or ${names.databaseMasterUser} (instance mode): these are another role's credentials`,
            },
      );
    } catch (err) {
      results.push({ item: PG_ITEMS.database, ok: false, reason: `cannot query current_database() on ${where(target.database)}: ${describeError(err, secrets)}` });
    }

    // (c) the other environments' databases stay closed to this role
    const others = [...new Set(opts.otherDatabases)].filter((d) => d !== names.databaseName);
    for (const other of others) {
      results.push(await checkNoAccess(target, other, ssl, timeoutMs, secrets));
    }

    // (d) the sessions table, when the app has created it
    try {
      const { rows } = await client.query<{ t: string | null }>("SELECT to_regclass('sessions')::text AS t");
      const table = rows[0]?.t ?? null;
      if (table === null) {
        results.push({ item: PG_ITEMS.sessions, ok: true, reason: `table sessions does not exist yet in ${where(target.database)}` });
      } else {
        const count = await client.query<{ n: string }>("SELECT COUNT(*)::text AS n FROM sessions");
        const n = count.rows[0]!.n;
        results.push({ item: PG_ITEMS.sessions, ok: true, reason: `SELECT COUNT(*) FROM sessions: ${n} row${n === "1" ? "" : "s"} (${table})` });
      }
    } catch (err) {
      results.push({ item: PG_ITEMS.sessions, ok: false, reason: `cannot read sessions in ${where(target.database)} ${as}: ${describeError(err, secrets)}` });
    }
  } finally {
    await pgClose(client);
  }
  return results;
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

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------

/**
 * Checks REDIS_URL against its server: it answers PING, reports its version
 * and database index, and its environment marker names this environment.
 * A database without a marker fails, unless `claim` is set: then it is claimed
 * for this environment (the deploy job does that right after `pulumi up`).
 */
export async function checkRedisLive(redisUrl: string, opts: RedisLiveOptions): Promise<CheckResult[]> {
  assertEnvironment(opts.environment);
  const timeoutMs = positiveTimeout(opts.timeoutMs);

  let target: RedisUrl;
  try {
    target = parseRedisUrl(redisUrl);
  } catch (err) {
    return [{ item: REDIS_ITEMS.connect, ok: false, reason: describeError(err, urlSecrets(redisUrl)) }];
  }
  const secrets = urlSecrets(redisUrl, target);
  const markerKey = opts.markerKey ?? REDIS_MARKER_KEY;
  const where = `${target.hostPort}/${target.database}`;
  const socketCommon = { host: target.host, port: target.port, connectTimeout: timeoutMs, reconnectStrategy: false as const };

  const client = createClient({
    socket: target.tls
      ? { ...socketCommon, tls: true as const, ...(isIP(target.host) ? {} : { servername: target.host }) }
      : { ...socketCommon, tls: false as const },
    username: target.username,
    password: target.password,
    database: target.database,
    disableOfflineQueue: true,
    disableClientInfo: true,
    commandOptions: { timeout: timeoutMs },
  });
  let socketError: unknown;
  client.on("error", (err: unknown) => {
    socketError = err;
  });

  const results: CheckResult[] = [];
  try {
    try {
      // connectTimeout bounds the TCP/TLS connect; the deadline also bounds AUTH and SELECT
      await withDeadline(client.connect(), timeoutMs, "connect");
    } catch (err) {
      return [{
        item: REDIS_ITEMS.connect,
        ok: false,
        reason: `cannot connect to ${where}${target.tls ? " over TLS" : ""}: ${describeError(err ?? socketError, secrets)}`,
      }];
    }
    results.push({ item: REDIS_ITEMS.connect, ok: true, reason: `connected to ${where} ${target.tls ? "over TLS" : "without TLS"}` });

    // node-redis bounds a command only until it is written: each reply gets a deadline here
    const bounded = <T>(work: Promise<T>, what: string) => withDeadline(work, timeoutMs, what);

    try {
      const pong = await bounded(client.ping(), "PING");
      if (pong !== "PONG") {
        results.push({ item: REDIS_ITEMS.ping, ok: false, reason: `PING answered ${JSON.stringify(pong)} instead of PONG` });
        return results;
      }
      results.push({ item: REDIS_ITEMS.ping, ok: true, reason: "PING answered PONG" });
    } catch (err) {
      // a server that does not answer PING will not answer the rest either
      results.push({ item: REDIS_ITEMS.ping, ok: false, reason: `PING to ${where} failed: ${describeError(err, secrets)}` });
      return results;
    }

    try {
      const info = await bounded(client.info("server"), "INFO server");
      const version = /^redis_version:(.+)$/m.exec(info)?.[1]?.trim() ?? "unknown version";
      let selected: number | undefined;
      try {
        const clientInfo = String(await bounded(client.sendCommand(["CLIENT", "INFO"]), "CLIENT INFO"));
        const db = / db=(\d+)/.exec(clientInfo)?.[1];
        if (db !== undefined) selected = Number(db);
      } catch {
        // CLIENT INFO is missing on older servers and some hosted ones: the URL's index stands
      }
      results.push(
        selected === undefined || selected === target.database
          ? { item: REDIS_ITEMS.server, ok: true, reason: `Redis ${version}, database index ${target.database}` }
          : { item: REDIS_ITEMS.server, ok: false, reason: `Redis ${version}: on database index ${selected}, but the URL asks for ${target.database}` },
      );
    } catch (err) {
      results.push({ item: REDIS_ITEMS.server, ok: false, reason: `INFO server on ${where} failed: ${describeError(err, secrets)}` });
    }

    results.push(
      await checkMarker(
        {
          key: markerKey,
          setIfAbsent: (value) => bounded(client.set(markerKey, value, { condition: "NX" }), "SET NX"),
          get: () => bounded(client.get(markerKey), "GET"),
        },
        opts.environment,
        opts.claim === true,
        where,
        secrets,
      ),
    );
  } finally {
    // every command has been answered by now: destroy closes the socket at once
    // (close() would wait for a handshake a silent server never answers)
    if (client.isOpen) {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    }
  }
  return results;
}

/** The two marker commands, already bounded. */
interface MarkerStore {
  readonly key: string;
  /** SET NX: "OK" when the key was absent and is now set, null when it was present. */
  setIfAbsent(value: string): Promise<string | null>;
  get(): Promise<string | null>;
}

async function checkMarker(
  store: MarkerStore,
  environment: string,
  claim: boolean,
  where: string,
  secrets: readonly string[],
): Promise<CheckResult> {
  const item = REDIS_ITEMS.marker;
  try {
    if (claim) {
      const claimed = await store.setIfAbsent(environment);
      if (claimed === "OK") {
        return { item, ok: true, reason: `${store.key} was absent on ${where}: claimed for ${environment}` };
      }
    }
    const owner = await store.get();
    if (owner === environment) return { item, ok: true, reason: `${store.key} on ${where} says ${environment}` };
    if (owner === null) {
      return claim
        ? { item, ok: false, reason: `${store.key} on ${where} vanished between SET NX and GET: run verify again` }
        : { item, ok: false, reason: `no environment marker on ${where}: the deploy job claims it with verify --live --claim right after pulumi up` };
    }
    // the marker is whatever the server holds: shown escaped and short, on one line
    const named = /^[a-z][a-z0-9-]{0,62}$/.test(owner) ? owner : shown(owner, 40);
    return {
      item,
      ok: false,
      reason: `this Redis database belongs to ${named}: sharing it means feature-flag and session changes leak between environments (${where}, ${store.key} = ${shown(owner, 40)}, expected ${environment})`,
    };
  } catch (err) {
    return { item, ok: false, reason: `cannot ${claim ? "read or set" : "read"} ${store.key} on ${where}: ${describeError(err, secrets)}` };
  }
}
