/**
 * Who may do what on an environment's PostgreSQL, in one place: the attributes of
 * the admin role the deploy's postgresql provider runs as (server mode:
 * `mina:dbServerAdminUser`; instance mode: the RDS master user), the app role's,
 * and the SQL the Database component's resources amount to on the server. The
 * component (components/database.ts), `npm run local` (verify/local.ts),
 * `npm run refresh` (refresh/engine.ts), `.ci/run`, the tests and the README take
 * it from here.
 *
 * The app role logs in, owns its database and nothing else. `PUBLIC` keeps no
 * privilege on the database, `CONNECT` included, so another environment's
 * credential cannot open it.
 *
 * The admin is never a superuser: LOGIN, CREATEDB, CREATEROLE, INHERIT, and a
 * member of each app role it provisions (`GRANT <app role> TO <admin>`, a
 * postgresql.GrantRole). Membership, and not an explicit `GRANT CONNECT` on the
 * database, because everything the admin does after the first deploy needs the
 * owner's rights, which no grantable privilege gives:
 * - `REVOKE ... FROM PUBLIC` itself: run by a role that neither owns the database
 *   nor is a member of its owner, PostgreSQL only warns "no privileges could be
 *   revoked" and `PUBLIC` keeps `CONNECT` (the provider's own temporary membership
 *   during `CREATE DATABASE` is revoked again before the grant runs);
 * - reading and deleting that grant (`pulumi refresh`, a teardown): the provider
 *   connects to the database, which needs `CONNECT`, inherited from the owner;
 * - `npm run refresh`: `ALTER DATABASE ... RENAME` and `DROP DATABASE` (owner
 *   only), `ALTER TABLE/DATABASE ... OWNER TO` the app role (member of the new
 *   owner), and ending the app's connections before the rename
 *   (`pg_terminate_backend` of a role whose privileges one has; the alternative,
 *   `pg_signal_backend`, could end every non-superuser's sessions on the server);
 * - teardown: `DROP DATABASE` and `REASSIGN OWNED BY` the app role.
 * Membership does not depend on the database's identity either: a database that
 * `npm run refresh` renames into place is reachable like the one it replaces,
 * where an explicit grant would have to be made again on every copy.
 *
 * PostgreSQL 15: a CREATEROLE role may grant itself membership of any role that
 * is not a superuser, so the admin's credential is as sensitive as the server's.
 * PostgreSQL 16: CREATEROLE covers only the roles on which the admin has ADMIN
 * OPTION, which it gets on each role it creates; `createrole_self_grant`
 * (`set,inherit`) would also make it a member, which the explicit GRANT does
 * here regardless of that setting, so both versions end in the same state. The
 * explicit GRANT carries SET and INHERIT (16's defaults for a role that inherits),
 * which `ALTER ... OWNER TO` and the owner's rights need.
 */

/** A role's attributes, as the postgresql provider's Role resource names them. */
export interface RoleAttributes {
  readonly login: boolean;
  readonly superuser: boolean;
  readonly createDatabase: boolean;
  readonly createRole: boolean;
  readonly inherit: boolean;
  readonly replication: boolean;
  readonly bypassRowLevelSecurity: boolean;
}

/** The app role: logs in; inherits, so as its database's owner it creates tables in `public` (pg_database_owner on 15+); no other power. */
export const APP_ROLE: RoleAttributes = {
  login: true,
  superuser: false,
  createDatabase: false,
  createRole: false,
  inherit: true,
  replication: false,
  bypassRowLevelSecurity: false,
};

/**
 * The admin role the provider runs as: creates the app role (CREATEROLE) and its
 * database (CREATEDB); inherits, so as a member of the app role it has the
 * owner's rights; never a superuser.
 */
export const ADMIN_ROLE: RoleAttributes = {
  login: true,
  superuser: false,
  createDatabase: true,
  createRole: true,
  inherit: true,
  replication: false,
  bypassRowLevelSecurity: false,
};

/** What `PUBLIC` keeps on an environment's database: nothing. */
export const PUBLIC_DATABASE_PRIVILEGES: readonly string[] = [];

/** The name of the admin role on this machine's PostgreSQL (`npm run local`, `.ci/run`), as staging's `mina:dbServerAdminUser`. */
export const LOCAL_ADMIN_ROLE = "mina_provisioner";

/** Each attribute's SQL keywords (when true, when false) and its `pg_roles` column. */
export const ROLE_ATTRIBUTE_SQL: Readonly<Record<keyof RoleAttributes, { readonly on: string; readonly off: string; readonly column: string }>> = {
  login: { on: "LOGIN", off: "NOLOGIN", column: "rolcanlogin" },
  superuser: { on: "SUPERUSER", off: "NOSUPERUSER", column: "rolsuper" },
  createDatabase: { on: "CREATEDB", off: "NOCREATEDB", column: "rolcreatedb" },
  createRole: { on: "CREATEROLE", off: "NOCREATEROLE", column: "rolcreaterole" },
  inherit: { on: "INHERIT", off: "NOINHERIT", column: "rolinherit" },
  replication: { on: "REPLICATION", off: "NOREPLICATION", column: "rolreplication" },
  bypassRowLevelSecurity: { on: "BYPASSRLS", off: "NOBYPASSRLS", column: "rolbypassrls" },
};

/** Attributes only a superuser may name in `ALTER ROLE` (even to say NO...): PostgreSQL 15 refuses a CREATEROLE role. */
export const SUPERUSER_ONLY_ATTRIBUTES: readonly (keyof RoleAttributes)[] = ["superuser", "replication", "bypassRowLevelSecurity"];

/** `LOGIN NOSUPERUSER ...`: every attribute, in a fixed order. */
export function attributesSql(
  a: RoleAttributes,
  only: readonly (keyof RoleAttributes)[] = Object.keys(ROLE_ATTRIBUTE_SQL) as (keyof RoleAttributes)[],
): string {
  return only.map((k) => (a[k] ? ROLE_ATTRIBUTE_SQL[k].on : ROLE_ATTRIBUTE_SQL[k].off)).join(" ");
}

/** The attributes that differ from `want` in a `pg_roles` row, e.g. `["NOSUPERUSER"]` for a superuser. */
export function attributeMismatches(row: Readonly<Record<string, unknown>>, want: RoleAttributes): string[] {
  return (Object.keys(ROLE_ATTRIBUTE_SQL) as (keyof RoleAttributes)[])
    .filter((k) => row[ROLE_ATTRIBUTE_SQL[k].column] !== want[k])
    .map((k) => (want[k] ? ROLE_ATTRIBUTE_SQL[k].on : ROLE_ATTRIBUTE_SQL[k].off));
}

/** A PostgreSQL identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A PostgreSQL string literal (standard_conforming_strings, the default since 9.1). */
export function quoteLiteral(value: string): string {
  if (value.includes("\0")) throw new Error("a PostgreSQL string cannot hold a NUL character");
  return `'${value.replace(/'/g, "''")}'`;
}

/** `CREATE ROLE` of the admin role, for a server's operator (`.ci/run`, README): run once by a superuser. */
export function createAdminRoleSql(name: string): string {
  return `CREATE ROLE ${quoteIdent(name)} WITH ${attributesSql(ADMIN_ROLE)}`;
}

/** One statement the component's resources amount to, where it runs, and which resource runs it. */
export interface Statement {
  /** `postgresql.Role`, `postgresql.GrantRole`, `postgresql.Database` or `postgresql.Grant`. */
  readonly resource: string;
  /** The database the admin is connected to: the provider's `postgres`, or the environment's own for the grant. */
  readonly database: string;
  readonly sql: string;
}

/**
 * The SQL the postgresql provider runs, in order, for the resources
 * components/database.ts declares for one environment, connected as the admin:
 * the app role, the admin's membership of it, the database it owns, and the
 * grant that leaves `PUBLIC` nothing on it (`REVOKE ALL` then a `GRANT` of
 * nothing, which the provider skips). The provider adds its own reads; these
 * are the statements that change the server.
 */
export function provisionStatements(p: { admin: string; appRole: string; database: string; password: string }): Statement[] {
  const [admin, role, db] = [quoteIdent(p.admin), quoteIdent(p.appRole), quoteIdent(p.database)];
  return [
    { resource: "postgresql.Role", database: "postgres", sql: `CREATE ROLE ${role} WITH ${attributesSql(APP_ROLE)} PASSWORD ${quoteLiteral(p.password)}` },
    { resource: "postgresql.GrantRole", database: "postgres", sql: `GRANT ${role} TO ${admin}` },
    {
      resource: "postgresql.Database",
      database: "postgres",
      sql: `CREATE DATABASE ${db} OWNER ${role} TEMPLATE template0 ENCODING 'UTF8' ALLOW_CONNECTIONS true CONNECTION LIMIT -1 IS_TEMPLATE false`,
    },
    { resource: "postgresql.Grant", database: p.database, sql: revokePublicSql(p.database) },
  ];
}

/** What `PUBLIC` loses on an environment's database (the component's grant; refresh after its copy; `npm run local`). */
export function revokePublicSql(database: string): string {
  return `REVOKE ALL PRIVILEGES ON DATABASE ${quoteIdent(database)} FROM PUBLIC`;
}

/**
 * What makes a database the environment's, as the component leaves it: the app
 * role owns it and `PUBLIC` has nothing on it. Run by `npm run refresh` on its
 * copy before renaming it in, connected as the admin.
 */
export function handOverStatements(database: string, appRole: string): string[] {
  return [`ALTER DATABASE ${quoteIdent(database)} OWNER TO ${quoteIdent(appRole)}`, revokePublicSql(database)];
}
