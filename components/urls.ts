/**
 * Connection URLs, built by pure functions so quoting is tested without mocks.
 * Credentials are URL-encoded: a password with `@`, `:` or `/` cannot change
 * which host or database the URL points at.
 */

export interface PostgresUrlParts {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly sslMode: string;
}

export function buildDatabaseUrl(p: PostgresUrlParts): string {
  const auth = `${encodeURIComponent(p.user)}:${encodeURIComponent(p.password)}`;
  return `postgresql://${auth}@${p.host}:${p.port}/${encodeURIComponent(p.database)}?sslmode=${encodeURIComponent(p.sslMode)}`;
}

export interface RedisUrlParts {
  readonly password: string;
  readonly endpoint: string;
  readonly port: number;
}

/** Upstash Redis over TLS: `rediss://default:<password>@<endpoint>:<port>`. */
export function buildRedisUrl(p: RedisUrlParts): string {
  return `rediss://default:${encodeURIComponent(p.password)}@${p.endpoint}:${p.port}`;
}
