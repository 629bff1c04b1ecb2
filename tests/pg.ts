/**
 * The tests' PostgreSQL (127.0.0.1:5432), reached as production reaches its
 * servers: through a provisioner role that is not a superuser and has exactly the
 * admin attributes of config/databasePrivileges.ts (LOGIN CREATEDB CREATEROLE
 * INHERIT, NOSUPERUSER). The superuser `postgres` is used here only to create
 * such a role and to drop it; everything a test does runs as the provisioner, or
 * as the app roles it provisions. The local server trusts loopback connections,
 * so no role needs a password to log in.
 */
import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { ADMIN_ROLE, attributeMismatches, createAdminRoleSql, LOCAL_ADMIN_ROLE, provisionStatements, quoteIdent } from "../config/databasePrivileges";

export const PG_HOST = "127.0.0.1";
export const PG_PORT = 5432;

/** A connection as `user` to `database`, closed after `fn`. */
export async function withClient<T>(user: string, database: string, fn: (c: Client) => Promise<T>, password?: string): Promise<T> {
  const c = new Client({ host: PG_HOST, port: PG_PORT, user, password, database, connectionTimeoutMillis: 5000 });
  c.on("error", () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** The superuser, for creating and dropping provisioner roles only. */
function asSuperuser<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  return withClient("postgres", "postgres", fn);
}

/**
 * What only the server's owner does (the superuser here, rds_superuser on RDS),
 * run in `database`: install an untrusted extension (postgres_fdw, dblink),
 * create an event trigger, a subscription or a function in an untrusted
 * language. Tests use it to give a source database what a production database
 * may hold; the code under test never runs as it.
 */
export async function asServerOwner(database: string, text: string): Promise<void> {
  await withClient("postgres", database, async (c) => {
    await c.query(text);
  });
}

export interface Provisioner {
  /** The role's name, e.g. `mina_prov_1a2b3c4d`. */
  readonly name: string;
  /** `postgresql://<name>@127.0.0.1:5432/<database>` (trust: no password). */
  url(database?: string, query?: string): string;
  /** Runs one statement as the provisioner. */
  sql<T = Record<string, unknown>>(database: string, text: string, params?: unknown[]): Promise<T[]>;
  /** Runs server mode's statements for one environment as the provisioner (config/databasePrivileges.ts). */
  provision(p: { appRole: string; database: string; password: string }): Promise<void>;
  /** Drops what it still owns and the role itself (superuser: a role cannot drop itself). */
  drop(): Promise<void>;
}

function provisioner(name: string): Provisioner {
  const sql = <T>(database: string, text: string, params: unknown[] = []) => withClient(name, database, async (c) => (await c.query(text, params)).rows as T[]);
  return {
    name,
    url: (database = "postgres", query = "sslmode=disable") => `postgresql://${name}@${PG_HOST}:${PG_PORT}/${database}${query ? `?${query}` : ""}`,
    sql,
    async provision(p) {
      for (const s of provisionStatements({ admin: name, ...p })) await sql(s.database, s.sql);
    },
    async drop() {
      await asSuperuser(async (c) => {
        const owned = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)", [
          name,
        ]);
        for (const r of owned.rows) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(r.datname)} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${quoteIdent(name)}`);
      });
    },
  };
}

/**
 * A provisioner of this test file's own, uniquely named, with exactly the
 * documented admin attributes (checked after creating it). Drop it in `after`.
 */
export async function createProvisioner(): Promise<Provisioner> {
  const name = `mina_prov_${randomBytes(4).toString("hex")}`;
  await asSuperuser(async (c) => {
    await c.query(createAdminRoleSql(name));
  });
  const p = provisioner(name);
  const [row] = await p.sql("postgres", "SELECT * FROM pg_roles WHERE rolname = current_user");
  const wrong = attributeMismatches(row!, ADMIN_ROLE);
  if (wrong.length > 0) throw new Error(`provisioner ${name} lacks ${wrong.join(" ")}`);
  return p;
}

/**
 * `mina_provisioner`, the admin `npm run local` connects as by default, created as
 * `.ci/run` creates it when it does not exist (and checked when it does). Kept
 * afterwards: it is the machine's, like the server.
 */
export async function sharedProvisioner(): Promise<Omit<Provisioner, "drop">> {
  await asSuperuser(async (c) => {
    const exists = (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [LOCAL_ADMIN_ROLE])).rowCount === 1;
    if (exists) return;
    try {
      await c.query(createAdminRoleSql(LOCAL_ADMIN_ROLE));
    } catch (e) {
      // another test file created it in between
      if ((e as { code?: string }).code !== "42710" && (e as { code?: string }).code !== "23505") throw e;
    }
  });
  const { drop: _never, ...p } = provisioner(LOCAL_ADMIN_ROLE);
  const [row] = await p.sql("postgres", "SELECT * FROM pg_roles WHERE rolname = current_user");
  const wrong = attributeMismatches(row!, ADMIN_ROLE);
  if (wrong.length > 0)
    throw new Error(
      `${LOCAL_ADMIN_ROLE} on this machine does not have the documented attributes: it lacks ${wrong.join(" ")} (see docs/guides/database-modes.md)`,
    );
  return p;
}
