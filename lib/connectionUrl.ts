/**
 * DATABASE_URL and REDIS_URL: one strict parser for every side that reads them
 * (env export, verify, verify --live, audit).
 *
 * Connection URLs are read by several parsers that disagree: libpq (the Flask
 * app, through psycopg) obeys `host=`, `hostaddr=`, `dbname=`, `user=`, `port=`,
 * `options=`, `service=`, `passfile=` and more in the query string, over what
 * the URL's authority and path say; pg-connection-string lets a query `host` or
 * `user` override the URL's but keeps `dbname` apart; redis-py takes `db=` from
 * the query over the path. Percent-encoding hides names from a text scan. So
 * none of them is trusted: a URL is accepted only when every reader must agree
 * on where it connects, and is then described by its decoded, normalised parts.
 *
 * - Only a short allowlist of query parameters that cannot redirect a
 *   connection is accepted (see {@link POSTGRES_QUERY_PARAMETERS}); REDIS_URL
 *   accepts none. Every other parameter is refused by name; so are repeated ones.
 * - One host only (no `host1,host2`), a TCP host (no Unix socket path), no
 *   fragment, at most one `@`, characters with a meaning percent-encoded.
 * - Host, user and database are checked after percent-decoding, which is what
 *   libpq and redis-py connect with. Hosts are lowercased, lose a trailing dot
 *   and IPv6 brackets; a host that looks numeric must be a canonical IPv4 address.
 *
 * Errors are one line starting with the key, naming the part that is wrong and
 * never showing the password.
 */
import { isIP } from "node:net";

/** A URL that is refused; the message is one line and carries no secret. */
export class ConnectionUrlError extends Error {}

/**
 * The query parameters DATABASE_URL may carry. None of them can change which
 * server, database or role a connection reaches (libpq documentation, "Parameter
 * Key Words"):
 * - `sslmode`: whether and how TLS is used; it can weaken transport security but
 *   not move the connection (verify prints the mode it connected with);
 * - `sslrootcert`: the CA file a certificate is checked against (or `system`);
 * - `connect_timeout`: seconds to wait for a connection;
 * - `application_name`: a label the server shows in `pg_stat_activity`.
 */
export const POSTGRES_QUERY_PARAMETERS = ["sslmode", "sslrootcert", "connect_timeout", "application_name"] as const;

/** libpq parameters that choose the server, database, role or session: where the connection goes. */
const REDIRECTING = new Set([
  "host",
  "hostaddr",
  "port",
  "dbname",
  "user",
  "service",
  "servicefile",
  "options",
  "target_session_attrs",
  "load_balance_hosts",
  "replication",
]);

/** libpq parameters that bring credentials or keys from outside the URL, or write them somewhere. */
const CREDENTIAL_SOURCES = new Set(["password", "passfile", "sslcert", "sslkey", "sslpassword", "sslkeylogfile"]);

export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export interface PostgresUrl {
  readonly scheme: "postgresql" | "postgres";
  /** Normalised: percent-decoded, lowercased, no trailing dot, no IPv6 brackets. */
  readonly host: string;
  readonly port: number;
  /** `host:port` for messages and comparisons (an IPv6 host in brackets). */
  readonly hostPort: string;
  /** Percent-decoded. */
  readonly user: string;
  /** Percent-decoded; undefined when the URL has none. */
  readonly password?: string;
  /** Percent-decoded. */
  readonly database: string;
  /** The effective sslmode: the URL's, else libpq's default (`prefer`, or `verify-full` with `sslrootcert=system`). */
  readonly sslMode: SslMode;
  readonly sslRootCert?: string;
  readonly connectTimeoutSeconds?: number;
  readonly applicationName?: string;
  /** The password as written and decoded, to mask in messages. */
  readonly secrets: readonly string[];
}

export interface RedisUrl {
  readonly scheme: "redis" | "rediss";
  readonly tls: boolean;
  /** Normalised like {@link PostgresUrl.host}. */
  readonly host: string;
  readonly port: number;
  readonly hostPort: string;
  /** Percent-decoded; undefined when the URL has none. */
  readonly username?: string;
  readonly password?: string;
  /** The database index from the path (0 when there is none). */
  readonly database: number;
  readonly secrets: readonly string[];
}

// ---------------------------------------------------------------------------
// Shared grammar
// ---------------------------------------------------------------------------

/** Characters a URL may carry unencoded (RFC 3986 unreserved, sub-delims, `:@/?%[]`). */
const URL_CHARACTER = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%[\]]$/;

interface RawParts {
  readonly scheme: string;
  readonly user?: string;
  readonly password?: string;
  /** The host as written: brackets kept, not decoded. */
  readonly host: string;
  readonly port?: string;
  /** After the first `/`, before `?`; undefined when there is no `/`. */
  readonly path?: string;
  /** After the first `?`; undefined when there is none. */
  readonly query?: string;
}

/** Shows a non-secret name in a message: quoted, escaped, on one line, short. */
export function shown(name: string, max = 64): string {
  return JSON.stringify(name.length > max ? `${name.slice(0, max)}...` : name);
}

function splitUrl(raw: string, key: string, schemes: readonly string[], form: string): RawParts {
  const fail = (why: string): never => {
    throw new ConnectionUrlError(`${key}: ${why}`);
  };
  if (raw === "") fail("is empty");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(raw)?.[1];
  if (scheme === undefined) fail(`is not a URL of the form ${form}`);
  if (!schemes.includes(scheme!)) fail(`must start with ${schemes.map((s) => `${s}://`).join(" or ")}, not ${shown(`${scheme}://`, 24)}`);
  const rest = raw.slice(scheme!.length + 3);
  for (const c of rest) {
    if (URL_CHARACTER.test(c)) continue;
    if (c === "#") fail(`contains "#": libpq reads it as part of the URL, other parsers drop what follows; percent-encode it as %23`);
    fail("contains a character that must be percent-encoded (a space, control character, quote, backslash, non-ASCII character or one of <>^`{|})");
  }
  const ats = rest.split("@").length - 1;
  if (ats > 1) fail(`contains more than one "@": percent-encode "@" in the user name or password as %40`);

  const q = rest.indexOf("?");
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? undefined : rest.slice(q + 1);
  const slash = beforeQuery.indexOf("/");
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? undefined : beforeQuery.slice(slash + 1);
  if (ats === 1 && !authority.includes("@")) fail(`has an "@" after the host: percent-encode it as %40`);

  let user: string | undefined;
  let password: string | undefined;
  let hostPort = authority;
  const at = authority.indexOf("@");
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    if (/[[\]]/.test(userinfo)) fail(`has "[" or "]" in the user name or password: percent-encode them as %5B and %5D`);
    const colon = userinfo.indexOf(":");
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? undefined : userinfo.slice(colon + 1);
  }
  if (hostPort.includes(",")) fail(`lists more than one host ("host1,host2"): only one host is accepted`);

  let host: string;
  let port: string | undefined;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close < 0) fail(`has an IPv6 host without its closing "]"`);
    host = hostPort.slice(0, close + 1);
    const after = hostPort.slice(close + 1);
    if (after !== "" && !after.startsWith(":")) fail(`has characters after the IPv6 host's "]"`);
    port = after === "" ? undefined : after.slice(1);
  } else {
    if (/[[\]]/.test(hostPort)) fail(`has "[" or "]" in the host: only an IPv6 address is written in brackets`);
    const colon = hostPort.indexOf(":");
    host = colon < 0 ? hostPort : hostPort.slice(0, colon);
    port = colon < 0 ? undefined : hostPort.slice(colon + 1);
  }
  return { scheme: scheme!, user, password, host, port, path, query };
}

/**
 * Percent-decodes one part of a URL strictly: every `%` starts two hex digits,
 * the bytes are UTF-8, and there is no NUL (libpq refuses `%00`).
 */
function decodePart(text: string, key: string, what: string): string {
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw new ConnectionUrlError(`${key}: ${what} has a "%" that is not followed by two hex digits`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(text);
  } catch {
    throw new ConnectionUrlError(`${key}: ${what} is not valid UTF-8 once percent-decoded`);
  }
  if (decoded.includes("\0")) throw new ConnectionUrlError(`${key}: ${what} contains %00`);
  return decoded;
}

const HOST_LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * A host as every reader resolves it: percent-decoded, lowercased, without a
 * trailing dot and without IPv6 brackets (an IPv6 address in its canonical form).
 * Refuses Unix socket paths, lists of hosts, and numeric hosts that are not a
 * canonical dotted IPv4 address (`127.1`, `0x7f.0.0.1` and `010.0.0.1` resolve
 * differently in different resolvers).
 */
export function normaliseHost(written: string, key: string): string {
  const fail = (why: string): never => {
    throw new ConnectionUrlError(`${key}: ${why}`);
  };
  if (written === "") fail("has no host");
  if (written.startsWith("[")) {
    const inner = written.slice(1, -1);
    if (inner.includes("%")) fail("has an IPv6 host with a zone or percent-encoding; write the bare address");
    if (isIP(inner) !== 6) fail(`host ${shown(inner)} is not an IPv6 address`);
    return new URL(`http://[${inner}]`).hostname.slice(1, -1);
  }
  const decoded = decodePart(written, key, "the host");
  if (decoded.startsWith("/") || decoded.includes("/")) fail("host is a Unix socket path; only a TCP host name or address is accepted");
  if (decoded.includes(",")) fail(`lists more than one host ("host1,host2"): only one host is accepted`);
  if (decoded.includes(":")) fail("has an IPv6 host without brackets: write it as [address]");
  let host = decoded.toLowerCase();
  if (host.endsWith(".")) host = host.slice(0, -1);
  if (host === "") fail("has no host");
  const labels = host.split(".");
  if (/^(?:\d+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) {
    if (isIP(host) !== 4) fail(`host ${shown(decoded)} looks numeric but is not an IPv4 address written as a.b.c.d`);
    return host;
  }
  if (host.length > 253 || !labels.every((l) => HOST_LABEL.test(l))) {
    fail(`host ${shown(decoded)} is not a valid host name (letters, digits, "-" and "_" in dot-separated labels)`);
  }
  return host;
}

function parsePort(written: string | undefined, key: string, fallback: number): number {
  if (written === undefined) return fallback;
  if (!/^\d{1,5}$/.test(written)) throw new ConnectionUrlError(`${key}: port ${shown(written, 16)} is not a number from 1 to 65535`);
  const port = Number(written);
  if (port < 1 || port > 65535) throw new ConnectionUrlError(`${key}: port ${port} is not a number from 1 to 65535`);
  return port;
}

const displayHostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

/** The decoded password and the text it was written as, for masking. */
function secretsOf(written: string | undefined, decoded: string | undefined): string[] {
  return [...new Set([written, decoded].filter((s): s is string => s !== undefined && s !== ""))];
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

const POSTGRES_FORM = "postgresql://user:password@host:port/database?sslmode=...";
const PG_USER = /^[A-Za-z0-9_][A-Za-z0-9_$.-]{0,62}$/;
const PG_DATABASE = /^[A-Za-z0-9_][A-Za-z0-9_$-]{0,62}$/;
const ACCEPTED = POSTGRES_QUERY_PARAMETERS.join(", ");

function refusedParameter(key: string, name: string): ConnectionUrlError {
  const why = REDIRECTING.has(name)
    ? "can redirect the connection"
    : CREDENTIAL_SOURCES.has(name)
      ? "brings credentials or keys from outside the URL"
      : "is not accepted";
  return new ConnectionUrlError(`${key}: query parameter ${shown(name, 40)} ${why}; only ${ACCEPTED} are accepted`);
}

/** `name=value&...` as libpq reads it: names and values percent-decoded, exactly one `=` each. */
function parseQuery(query: string, key: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const segment of query.split("&")) {
    const eq = segment.indexOf("=");
    if (eq < 0) throw new ConnectionUrlError(`${key}: the query has a part without "=" (write name=value, joined by &)`);
    if (segment.indexOf("=", eq + 1) >= 0) throw new ConnectionUrlError(`${key}: a query parameter has a second "=": percent-encode it as %3D`);
    const name = decodePart(segment.slice(0, eq), key, "a query parameter name");
    if (name === "") throw new ConnectionUrlError(`${key}: the query has a parameter without a name`);
    const value = decodePart(segment.slice(eq + 1), key, `query parameter ${shown(name, 40)}`);
    if (params.has(name)) throw new ConnectionUrlError(`${key}: query parameter ${shown(name, 40)} is given more than once`);
    params.set(name, value);
  }
  return params;
}

/**
 * Parses DATABASE_URL strictly (see the module comment). Throws a
 * {@link ConnectionUrlError} naming `key` and the part that is refused.
 */
export function parsePostgresUrl(raw: string, key = "DATABASE_URL"): PostgresUrl {
  const fail = (why: string): never => {
    throw new ConnectionUrlError(`${key}: ${why}`);
  };
  const parts = splitUrl(raw, key, ["postgresql", "postgres"], POSTGRES_FORM);

  // every parameter is checked by name first: a refused one says so even when other parts are wrong too
  const params = parts.query === undefined ? new Map<string, string>() : parseQuery(parts.query, key);
  for (const name of params.keys()) {
    if (!(POSTGRES_QUERY_PARAMETERS as readonly string[]).includes(name)) throw refusedParameter(key, name);
  }

  const host = normaliseHost(parts.host, key);
  const port = parsePort(parts.port, key, 5432);
  const hostPort = displayHostPort(host, port);

  const database = parts.path === undefined ? "" : decodePart(parts.path, key, "the database name");
  if (database === "") fail(`for ${hostPort} names no database`);
  if (database.includes("/")) fail(`the database name contains "/" (written as / or %2F)`);
  if (!PG_DATABASE.test(database)) fail(`database name ${shown(database)} is not a plain PostgreSQL name (letters, digits, "_", "$", "-")`);

  const user = parts.user === undefined ? "" : decodePart(parts.user, key, "the user name");
  if (user === "") fail(`for ${hostPort}/${database} names no role`);
  if (!PG_USER.test(user)) fail(`user name ${shown(user)} is not a plain PostgreSQL name (letters, digits, "_", "$", ".", "-")`);
  const password = parts.password === undefined ? undefined : decodePart(parts.password, key, "the password");

  const rootCert = params.get("sslrootcert");
  if (rootCert === "") fail(`query parameter "sslrootcert" is empty`);
  const givenMode = params.get("sslmode");
  if (givenMode !== undefined && !(SSL_MODES as readonly string[]).includes(givenMode)) {
    fail(`sslmode ${shown(givenMode, 24)} is not one of ${SSL_MODES.join(", ")}`);
  }
  // libpq 16+: sslrootcert=system defaults to verify-full and refuses weaker modes
  if (rootCert === "system" && givenMode !== undefined && givenMode !== "verify-full") {
    fail(`sslrootcert=system needs sslmode=verify-full (libpq refuses a weaker mode with it)`);
  }
  const sslMode = (givenMode ?? (rootCert === "system" ? "verify-full" : "prefer")) as SslMode;

  let connectTimeoutSeconds: number | undefined;
  const timeout = params.get("connect_timeout");
  if (timeout !== undefined) {
    if (!/^\d{1,6}$/.test(timeout)) fail(`connect_timeout ${shown(timeout, 16)} is not a whole number of seconds`);
    connectTimeoutSeconds = Number(timeout);
  }
  const applicationName = params.get("application_name");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (applicationName !== undefined && /[\x00-\x1f\x7f]/.test(applicationName)) fail("application_name contains a control character");

  return {
    scheme: parts.scheme as PostgresUrl["scheme"],
    host,
    port,
    hostPort,
    user,
    password,
    database,
    sslMode,
    sslRootCert: rootCert,
    connectTimeoutSeconds,
    applicationName,
    secrets: secretsOf(parts.password, password),
  };
}

// ---------------------------------------------------------------------------
// Redis
// ---------------------------------------------------------------------------

const REDIS_FORM = "rediss://user:password@host:port/database-index";
const REDIS_USER = /^[A-Za-z0-9_.@+-]{1,128}$/;

/**
 * Parses REDIS_URL strictly: redis:// or rediss://, one TCP host, a port, an
 * optional user and password, a database index of digits only, and no query
 * parameters at all (redis-py takes `db`, `ssl_cert_reqs` and other connection
 * settings from the query, over what the URL's path says).
 */
export function parseRedisUrl(raw: string, key = "REDIS_URL"): RedisUrl {
  const fail = (why: string): never => {
    throw new ConnectionUrlError(`${key}: ${why}`);
  };
  const parts = splitUrl(raw, key, ["redis", "rediss"], REDIS_FORM);
  if (parts.query !== undefined) {
    const first = parts.query.split("&")[0]!;
    const eq = first.indexOf("=");
    let name: string | undefined;
    try {
      name = eq > 0 ? decodePart(first.slice(0, eq), key, "a query parameter name") : undefined;
    } catch {
      name = undefined;
    }
    fail(
      `${name !== undefined ? `query parameter ${shown(name, 40)} is not accepted: ` : ""}REDIS_URL takes no query parameters (redis-py reads db, ssl_cert_reqs and other connection settings from them, over the URL's own)`,
    );
  }
  const host = normaliseHost(parts.host, key);
  const port = parsePort(parts.port, key, 6379);
  const hostPort = displayHostPort(host, port);

  const path = parts.path ?? "";
  if (path !== "" && !/^\d{1,9}$/.test(path)) fail(`for ${hostPort} has a database index that is not a number (the path must be digits only)`);
  const database = path === "" ? 0 : Number(path);

  const username = parts.user === undefined || parts.user === "" ? undefined : decodePart(parts.user, key, "the user name");
  if (username !== undefined && !REDIS_USER.test(username)) fail(`user name ${shown(username)} is not a plain name (letters, digits, "_", ".", "@", "+", "-")`);
  const password = parts.password === undefined || parts.password === "" ? undefined : decodePart(parts.password, key, "the password");

  return {
    scheme: parts.scheme as RedisUrl["scheme"],
    tls: parts.scheme === "rediss",
    host,
    port,
    hostPort,
    username,
    password,
    database,
    secrets: secretsOf(parts.password, password),
  };
}

// ---------------------------------------------------------------------------
// Other URLs and plain values
// ---------------------------------------------------------------------------

/** The outcome of a parse, for callers that collect problems instead of throwing. */
export type Parsed<T> = { readonly ok: true; readonly url: T } | { readonly ok: false; readonly problem: string };

export function tryParse<T>(parse: (raw: string, key: string) => T, raw: string, key: string): Parsed<T> {
  try {
    return { ok: true, url: parse(raw, key) };
  } catch (e) {
    if (e instanceof ConnectionUrlError) return { ok: false, problem: e.message };
    throw e;
  }
}

/**
 * An http(s) URL in a form where equal means "the same endpoint" (SENTRY_DSN,
 * SLACK_WEBHOOK_URL): lowercased scheme and host, no trailing dot on the host,
 * no default port, no fragment (never sent), percent-encoded unreserved
 * characters decoded. User, path and query are kept as they are otherwise: they
 * are case-sensitive. Undefined when the value is not an http(s) URL.
 */
export function normaliseHttpUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return undefined;
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") return undefined;
  const host = u.hostname.endsWith(".") ? u.hostname.slice(0, -1) : u.hostname;
  const unreserved = (s: string) =>
    s.replace(/%([0-9A-Fa-f]{2})/g, (m, hex: string) => {
      const c = String.fromCharCode(parseInt(hex, 16));
      return /[A-Za-z0-9\-._~]/.test(c) ? c : m.toUpperCase();
    });
  const userinfo = u.username || u.password ? `${unreserved(u.username)}${u.password ? `:${unreserved(u.password)}` : ""}@` : "";
  return `${u.protocol}//${userinfo}${host}${u.port ? `:${u.port}` : ""}${unreserved(u.pathname)}${unreserved(u.search)}`;
}

/**
 * An http(s) URL as the endpoint it reaches, for comparing two of them (a webhook):
 * `normaliseHttpUrl`'s form without the scheme (http and https reach one host), without
 * a default port (80 or 443) and without a trailing slash. Undefined when the value
 * is not an http(s) URL.
 */
export function httpEndpoint(raw: string): string | undefined {
  const normal = normaliseHttpUrl(raw);
  if (normal === undefined) return undefined;
  const u = new URL(normal);
  const port = u.port === "" || u.port === "80" || u.port === "443" ? "" : `:${u.port}`;
  const userinfo = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
  return `${userinfo}${u.hostname}${port}${u.pathname.replace(/\/+$/, "")}${u.search}`;
}

/** A Sentry DSN as what it sends to: the project, the client key, and the deprecated secret key if written. */
export interface SentryDsn {
  /** The project: `sentry.io/<id>` on Sentry's service (every region and ingest host), else `<host>[:port][/path]/<id>`. */
  readonly project: string;
  /** The public (client) key, case-folded. */
  readonly publicKey: string;
  /** The secret key of the deprecated `KEY:SECRET@` form: a secret, never shown. */
  readonly secretKey?: string;
}

/**
 * A Sentry DSN, `https://PUBLIC_KEY@HOST/[PATH/]PROJECT_ID`, read as the project it
 * sends to, so that every spelling of one project is one: on Sentry's own service
 * every ingest host is the same service, whose project ids are its own
 * (`o123.ingest.sentry.io`, `o123.ingest.us.sentry.io`, `o123.ingest.de.sentry.io`,
 * `sentry.io`); elsewhere (a server of one's own) its host, a port other than 80 or
 * 443 and the path before the id. The scheme (http or https), the case of scheme,
 * host and key, a trailing dot or slash, a default port, a query and a fragment are
 * not part of it. Undefined when the value is not a DSN (not http(s), no key, or no
 * numeric project id last in its path).
 */
export function parseSentryDsn(raw: string): SentryDsn | undefined {
  const normal = normaliseHttpUrl(raw.trim());
  if (normal === undefined) return undefined;
  const u = new URL(normal);
  const publicKey = decodeURIComponentSafe(u.username).toLowerCase();
  const segments = u.pathname.split("/").filter((x) => x !== "");
  const id = segments.pop();
  if (publicKey === "" || id === undefined || !/^\d+$/.test(id)) return undefined;
  const host = u.hostname;
  const sentryService = host === "sentry.io" || host.endsWith(".sentry.io");
  const port = u.port === "" || u.port === "80" || u.port === "443" ? "" : `:${u.port}`;
  const project = sentryService ? `sentry.io/${String(Number(id))}` : [`${host}${port}`, ...segments.map((x) => x.toLowerCase()), String(Number(id))].join("/");
  const secretKey = u.password !== "" ? decodeURIComponentSafe(u.password) : undefined;
  return { project, publicKey, ...(secretKey !== undefined ? { secretKey } : {}) };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * `value` with every valid `%XX` sequence decoded once, as libpq and redis-py
 * decode URL parts (invalid sequences are kept as written). Identifier scans run
 * over this view as well as the raw value, so `%6d%69%6e%61_production` is found.
 */
export function percentDecoded(value: string): string {
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ""), "hex").toString("utf8"));
}
