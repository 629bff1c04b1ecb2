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
 *
 * One file per server: postgres.ts and redis.ts, with what they share in common.ts.
 */
export * from "./common";
export * from "./postgres";
export * from "./redis";
