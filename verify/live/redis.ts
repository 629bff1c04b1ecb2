/**
 * `verify --live`, Redis: the URL's own credentials connect over TLS, the server
 * answers PING on the URL's database index, and its environment marker names
 * this environment (claimed only with `--claim`, by the deploy job).
 */
import { isIP } from "node:net";
import type { createClient as CreateClient } from "@redis/client";
import { parseRedisUrl, shown, type RedisUrl } from "../../lib/connectionUrl";
import { assertEnvironment, type CheckResult, describeError, positiveTimeout, urlSecrets, withDeadline } from "./common";

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

export const REDIS_ITEMS = {
  connect: "redis: connect",
  ping: "redis: PING",
  server: "redis: server",
  marker: "redis: environment marker",
} as const;

/**
 * A client with exactly the parsed URL's parts (host, port, user, password,
 * database index, TLS), no reconnects and no offline queue: every command
 * fails at once when the connection is gone. Not connected yet; listen for
 * "error" before connecting, and bound each reply with `withDeadline`.
 */
export function newRedisClient(target: RedisUrl, timeoutMs: number) {
  const socketCommon = { host: target.host, port: target.port, connectTimeout: timeoutMs, reconnectStrategy: false as const };
  // Loaded when a connection is made: the commands that only read files never pay for the driver.
  const { createClient } = require("@redis/client") as { createClient: typeof CreateClient };
  return createClient({
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
}

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
  const client = newRedisClient(target, timeoutMs);
  const live: LiveRedis = {
    client,
    target,
    secrets: urlSecrets(redisUrl, target),
    where: `${target.hostPort}/${target.database}`,
    // node-redis bounds a command only until it is written: each reply gets a deadline here
    bounded: (work, what) => withDeadline(work, timeoutMs, what),
  };
  try {
    const connected = await connectResult(live, timeoutMs);
    if (!connected.ok) return [connected];
    const ping = await pingResult(live);
    // a server that does not answer PING will not answer the rest either
    if (!ping.ok) return [connected, ping];
    const server = await serverResult(live);
    const marker = await checkMarker(markerStore(live, opts.markerKey ?? REDIS_MARKER_KEY), opts.environment, opts.claim === true, live.where, live.secrets);
    return [connected, ping, server, marker];
  } finally {
    destroyClient(client);
  }
}

/** A Redis client for REDIS_URL's own credentials, and how the checks' lines name it. */
interface LiveRedis {
  readonly client: ReturnType<typeof newRedisClient>;
  readonly target: RedisUrl;
  /** The URL's secrets, masked in every reason. */
  readonly secrets: readonly string[];
  /** `host:port/index`. */
  readonly where: string;
  /** A reply, within the deadline of one command. */
  readonly bounded: <T>(work: Promise<T>, what: string) => Promise<T>;
}

/** Connects; the connect item, with the socket's error when the connection fails without one of its own. */
async function connectResult({ client, target, where, secrets }: LiveRedis, timeoutMs: number): Promise<CheckResult> {
  let socketError: unknown;
  client.on("error", (err: unknown) => {
    socketError = err;
  });
  try {
    // connectTimeout bounds the TCP/TLS connect; the deadline also bounds AUTH and SELECT
    await withDeadline(client.connect(), timeoutMs, "connect");
  } catch (err) {
    return {
      item: REDIS_ITEMS.connect,
      ok: false,
      reason: `cannot connect to ${where}${target.tls ? " over TLS" : ""}: ${describeError(err ?? socketError, secrets)}`,
    };
  }
  return { item: REDIS_ITEMS.connect, ok: true, reason: `connected to ${where} ${target.tls ? "over TLS" : "without TLS"}` };
}

/** The server answers PING with PONG. */
async function pingResult({ client, where, secrets, bounded }: LiveRedis): Promise<CheckResult> {
  try {
    const pong = await bounded(client.ping(), "PING");
    if (pong !== "PONG") return { item: REDIS_ITEMS.ping, ok: false, reason: `PING answered ${JSON.stringify(pong)} instead of PONG` };
    return { item: REDIS_ITEMS.ping, ok: true, reason: "PING answered PONG" };
  } catch (err) {
    return { item: REDIS_ITEMS.ping, ok: false, reason: `PING to ${where} failed: ${describeError(err, secrets)}` };
  }
}

/** The server's version, and the connection is on the URL's database index (where the server tells it). */
async function serverResult({ client, target, where, secrets, bounded }: LiveRedis): Promise<CheckResult> {
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
    return selected === undefined || selected === target.database
      ? { item: REDIS_ITEMS.server, ok: true, reason: `Redis ${version}, database index ${target.database}` }
      : { item: REDIS_ITEMS.server, ok: false, reason: `Redis ${version}: on database index ${selected}, but the URL asks for ${target.database}` };
  } catch (err) {
    return { item: REDIS_ITEMS.server, ok: false, reason: `INFO server on ${where} failed: ${describeError(err, secrets)}` };
  }
}

/** The marker key's two commands on this connection, each bounded. */
function markerStore({ client, bounded }: LiveRedis, markerKey: string): MarkerStore {
  return {
    key: markerKey,
    setIfAbsent: (value) => bounded(client.set(markerKey, value, { condition: "NX" }), "SET NX"),
    get: () => bounded(client.get(markerKey), "GET"),
  };
}

/**
 * Every command has been answered by now: destroy closes the socket at once
 * (close() would wait for a handshake a silent server never answers).
 */
function destroyClient(client: LiveRedis["client"]): void {
  if (!client.isOpen) return;
  try {
    client.destroy();
  } catch {
    // already closed
  }
}

/** The two marker commands, already bounded. */
interface MarkerStore {
  readonly key: string;
  /** SET NX: "OK" when the key was absent and is now set, null when it was present. */
  setIfAbsent(value: string): Promise<string | null>;
  get(): Promise<string | null>;
}

async function checkMarker(store: MarkerStore, environment: string, claim: boolean, where: string, secrets: readonly string[]): Promise<CheckResult> {
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
