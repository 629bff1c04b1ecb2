/**
 * The privilege model of config/databasePrivileges.ts on the real PostgreSQL of
 * this machine, as a provisioner role that is not a superuser (tests/pg.ts).
 * These run the SQL the postgresql provider runs for components/database.ts, not
 * the provider itself: there is no Pulumi engine here. That the component
 * declares these resources is checked under the mock runtime (program.test.ts).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Client } from "pg";
import {
  ADMIN_ROLE,
  APP_ROLE,
  attributeMismatches,
  attributesSql,
  createAdminRoleSql,
  handOverStatements,
  LOCAL_ADMIN_ROLE,
  provisionStatements,
  quoteIdent as q,
  revokePublicSql,
  ROLE_ATTRIBUTE_SQL,
} from "../config/databasePrivileges";
import { deriveNames } from "../config/naming";
import { REPO } from "./helpers";
import { createProvisioner, PG_HOST, PG_PORT, withClient, type Provisioner } from "./pg";

const run = randomBytes(4).toString("hex");
const names = (x: string) => deriveNames(`tp${run}${x}`);
const A = names("a");
const B = names("b");
const C = names("c");
const password = () => randomBytes(16).toString("hex");

/** The privileges PUBLIC holds on a database (an unset ACL means PostgreSQL's default: CONNECT and TEMPORARY). */
const publicPrivileges = (c: Client, database: string) =>
  c
    .query<{ p: string[] | null; acl: string | null }>(
      `SELECT datacl::text AS acl, (SELECT array_agg(privilege_type ORDER BY privilege_type) FROM aclexplode(datacl) WHERE grantee = 0) AS p FROM pg_database WHERE datname = $1`,
      [database],
    )
    .then((r) => (r.rows[0]!.acl === null ? ["CONNECT", "TEMPORARY"] : (r.rows[0]!.p ?? [])));

/** The notices (warnings) a statement raised, with its outcome. */
async function withNotices(c: Client, sql: string): Promise<string[]> {
  const notices: string[] = [];
  const on = (n: { message?: string }) => notices.push(n.message ?? "");
  c.on("notice", on);
  try {
    await c.query(sql);
  } finally {
    c.off("notice", on);
  }
  return notices;
}

/** An open session of `role` on `database`, as the running app holds one. */
async function session(role: string, database: string): Promise<{ pid: number; client: Client }> {
  const { Client } = require("pg") as typeof import("pg");
  const client = new Client({ host: PG_HOST, port: PG_PORT, user: role, database });
  client.on("error", () => undefined);
  await client.connect();
  const pid = (await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return { pid, client };
}

/** Drops an environment's databases and role as the provisioner, a member of the role again first (the cases below take that away). */
async function dropEnvironment(p: Provisioner, n: ReturnType<typeof deriveNames>): Promise<void> {
  if ((await p.sql("postgres", "SELECT 1 FROM pg_roles WHERE rolname = $1", [n.databaseRole])).length === 1)
    await p.sql("postgres", `GRANT ${q(n.databaseRole)} TO ${q(p.name)}`);
  const dbs = await p.sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${n.databaseName}%`]);
  for (const { datname } of dbs) await p.sql("postgres", `DROP DATABASE IF EXISTS ${q(datname)} WITH (FORCE)`);
  await p.sql("postgres", `DROP ROLE IF EXISTS ${q(n.databaseRole)}`);
}

describe("database privileges: the SQL of server mode's resources on the real PostgreSQL, run as a non-superuser provisioner (not the provider itself)", function () {
  this.timeout(60000);
  let p: Provisioner;
  const sessions: Client[] = [];

  before(async () => {
    p = await createProvisioner();
  });

  after(async () => {
    for (const c of sessions) await c.end().catch(() => undefined);
    if (!p) return;
    for (const n of [A, B, C]) await dropEnvironment(p, n);
    await p.drop();
  });

  it("the provisioner has exactly the documented attributes, and no superuser's power", async () => {
    const [row] = await p.sql("postgres", "SELECT * FROM pg_roles WHERE rolname = current_user");
    assert.deepEqual(attributeMismatches(row!, ADMIN_ROLE), []);
    assert.equal(attributesSql(ADMIN_ROLE), "LOGIN NOSUPERUSER CREATEDB CREATEROLE INHERIT NOREPLICATION NOBYPASSRLS");
    await assert.rejects(p.sql("postgres", "SELECT rolpassword FROM pg_authid"), /permission denied for table pg_authid/);
  });

  describe("as the provider ran it before the admin's membership was declared", () => {
    it("REVOKE ... FROM PUBLIC by an admin that is no longer a member of the owner revokes nothing: a warning, and another environment's role still connects", async () => {
      // postgresql.Role, then postgresql.Database: the provider grants the owner to itself for CREATE DATABASE ... OWNER and revokes it after
      await p.sql("postgres", `CREATE ROLE ${q(A.databaseRole)} WITH ${attributesSql(APP_ROLE)} PASSWORD '${password()}'`);
      await p.sql("postgres", `GRANT ${q(A.databaseRole)} TO ${q(p.name)}`);
      await p.sql("postgres", `CREATE DATABASE ${q(A.databaseName)} OWNER ${q(A.databaseRole)} TEMPLATE template0`);
      await p.sql("postgres", `REVOKE ${q(A.databaseRole)} FROM ${q(p.name)}`);
      // postgresql.Grant (role public, privileges []), connected to the database
      const notices = await withClient(p.name, A.databaseName, (c) => withNotices(c, revokePublicSql(A.databaseName)));
      assert.deepEqual(notices, [`no privileges could be revoked for "${A.databaseName}"`]);
      assert.deepEqual(await withClient(p.name, "postgres", (c) => publicPrivileges(c, A.databaseName)), ["CONNECT", "TEMPORARY"]);
      // so another environment's credential opens this one
      await p.provision({ appRole: B.databaseRole, database: B.databaseName, password: password() });
      assert.equal(await withClient(B.databaseRole, A.databaseName, async (c) => (await c.query("SELECT current_database() AS d")).rows[0].d), A.databaseName);
    });

    it("once PUBLIC has lost CONNECT, an admin that is not a member of the app role is locked out: no connection, rename, owner change, drop, nor ending the app's sessions", async () => {
      await p.sql("postgres", `CREATE ROLE ${q(C.databaseRole)} WITH ${attributesSql(APP_ROLE)} PASSWORD '${password()}'`);
      await p.sql("postgres", `GRANT ${q(C.databaseRole)} TO ${q(p.name)}`);
      await p.sql("postgres", `CREATE DATABASE ${q(C.databaseName)} OWNER ${q(C.databaseRole)} TEMPLATE template0`);
      await p.sql(C.databaseName, revokePublicSql(C.databaseName));
      await p.sql("postgres", `REVOKE ${q(C.databaseRole)} FROM ${q(p.name)}`);
      const app = await session(C.databaseRole, C.databaseName);
      sessions.push(app.client);

      await assert.rejects(p.sql(C.databaseName, "SELECT 1"), /permission denied for database/);
      await assert.rejects(p.sql("postgres", `ALTER DATABASE ${q(C.databaseName)} RENAME TO ${q(`${C.databaseName}_previous`)}`), /must be owner of database/);
      await assert.rejects(p.sql("postgres", `ALTER DATABASE ${q(C.databaseName)} OWNER TO ${q(p.name)}`), /must be owner of database/);
      await assert.rejects(p.sql("postgres", `DROP DATABASE ${q(C.databaseName)}`), /must be owner of database/);
      await assert.rejects(
        p.sql("postgres", "SELECT pg_terminate_backend($1)", [app.pid]),
        /must be a member of the role whose process is being terminated or member of pg_signal_backend/,
      );
      // the membership this project declares gives each of them back
      await p.sql("postgres", `GRANT ${q(C.databaseRole)} TO ${q(p.name)}`);
      assert.deepEqual(await p.sql("postgres", "SELECT pg_terminate_backend($1) AS ok", [app.pid]), [{ ok: true }]);
      assert.deepEqual(await p.sql(C.databaseName, "SELECT current_database() AS d"), [{ d: C.databaseName }]);
    });
  });

  describe("as config/databasePrivileges.ts has it: the admin a member of the app role", () => {
    before(async () => {
      for (const n of [A, B, C]) await dropEnvironment(p, n);
      await p.provision({ appRole: A.databaseRole, database: A.databaseName, password: password() });
      await p.provision({ appRole: B.databaseRole, database: B.databaseName, password: password() });
    });

    it("the statements are the component's resources, in the order the provider runs them", () => {
      const s = provisionStatements({ admin: p.name, appRole: A.databaseRole, database: A.databaseName, password: "pw" });
      assert.deepEqual(
        s.map((x) => x.resource),
        ["postgresql.Role", "postgresql.GrantRole", "postgresql.Database", "postgresql.Grant"],
      );
      assert.deepEqual(
        s.map((x) => x.database),
        ["postgres", "postgres", "postgres", A.databaseName],
      );
      assert.equal(s[1]!.sql, `GRANT "${A.databaseRole}" TO "${p.name}"`);
    });

    it("PUBLIC holds nothing on the database, the app role owns it and has no other power, the admin is its member", async () => {
      assert.deepEqual(await withClient(p.name, "postgres", (c) => publicPrivileges(c, A.databaseName)), []);
      const [db] = await p.sql("postgres", "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [A.databaseName]);
      assert.equal(db!.owner, A.databaseRole);
      const [role] = await p.sql("postgres", "SELECT * FROM pg_roles WHERE rolname = $1", [A.databaseRole]);
      assert.deepEqual(attributeMismatches(role!, APP_ROLE), []);
      const [m] = await p.sql("postgres", "SELECT pg_has_role($1, $2, 'USAGE') AS usage, pg_has_role($2, $1, 'MEMBER') AS reverse", [p.name, A.databaseRole]);
      assert.deepEqual(m, { usage: true, reverse: false });
    });

    it("the app role logs in to its own database and creates tables in public; another environment's app role cannot connect", async () => {
      await withClient(A.databaseRole, A.databaseName, (c) => c.query("CREATE TABLE sessions (id text PRIMARY KEY)"));
      await assert.rejects(
        withClient(B.databaseRole, A.databaseName, (c) => c.query("SELECT 1")),
        /permission denied for database "[^"]+"/,
      );
      await assert.rejects(
        withClient(A.databaseRole, B.databaseName, (c) => c.query("SELECT 1")),
        /permission denied for database "[^"]+"/,
      );
    });

    it("the grant's read and re-apply (pulumi refresh, an update): connected to the database, the admin reads PUBLIC's privileges and revokes again without a warning", async () => {
      await withClient(p.name, A.databaseName, async (c) => {
        const read = await c.query(
          "SELECT array_agg(privilege_type) AS p FROM (SELECT (aclexplode(datacl)).* FROM pg_database WHERE datname = $1) x WHERE grantee = 0",
          [A.databaseName],
        );
        assert.deepEqual(read.rows, [{ p: null }]);
        assert.deepEqual(await withNotices(c, revokePublicSql(A.databaseName)), []);
      });
    });

    it("what npm run refresh does: a copy handed to the app role, the app's session ended, both databases renamed, the previous one dropped", async () => {
      const copy = `${A.databaseName}_refresh_1`;
      const previous = `${A.databaseName}_previous_1`;
      await p.sql("postgres", `CREATE DATABASE ${q(copy)} TEMPLATE template0`);
      await p.sql(copy, "CREATE TABLE sessions (id text PRIMARY KEY)");
      const [owner, revoke] = handOverStatements(copy, A.databaseRole);
      // a table's new owner needs CREATE on its schema: public's comes with owning the database (pg_database_owner)
      await assert.rejects(p.sql(copy, `ALTER TABLE sessions OWNER TO ${q(A.databaseRole)}`), /permission denied for schema public/);
      await p.sql("postgres", owner!);
      await p.sql(copy, `ALTER TABLE sessions OWNER TO ${q(A.databaseRole)}`);
      await p.sql("postgres", revoke!);
      const app = await session(A.databaseRole, A.databaseName);
      sessions.push(app.client);
      const ended = await p.sql(
        "postgres",
        "SELECT pid, pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = $1 AND pg_has_role(usesysid, 'USAGE')",
        [A.databaseName],
      );
      assert.deepEqual(ended, [{ pid: app.pid, ok: true }]);
      await p.sql("postgres", `ALTER DATABASE ${q(A.databaseName)} RENAME TO ${q(previous)}`);
      await p.sql("postgres", `ALTER DATABASE ${q(copy)} RENAME TO ${q(A.databaseName)}`);
      // the renamed copy is the environment's like the one it replaced, with nothing granted again
      assert.deepEqual(await withClient(p.name, "postgres", (c) => publicPrivileges(c, A.databaseName)), []);
      assert.deepEqual(await p.sql(A.databaseName, "SELECT tableowner FROM pg_tables WHERE tablename = 'sessions'"), [{ tableowner: A.databaseRole }]);
      await withClient(A.databaseRole, A.databaseName, (c) => c.query("INSERT INTO sessions VALUES ('after')"));
      await assert.rejects(
        withClient(B.databaseRole, A.databaseName, (c) => c.query("SELECT 1")),
        /permission denied for database/,
      );
      await p.sql("postgres", `DROP DATABASE ${q(previous)} WITH (FORCE)`);
    });

    it("a teardown in the provider's order (grant, database, membership, role) succeeds as the admin", async () => {
      const app = await session(B.databaseRole, B.databaseName);
      sessions.push(app.client);
      await p.sql(B.databaseName, revokePublicSql(B.databaseName)); // postgresql.Grant deleted
      await p.sql("postgres", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", [B.databaseName]);
      await p.sql("postgres", `DROP DATABASE ${q(B.databaseName)}`); // postgresql.Database deleted
      await p.sql("postgres", `REVOKE ${q(B.databaseRole)} FROM ${q(p.name)}`); // postgresql.GrantRole deleted
      // postgresql.Role deleted: the provider grants the role to itself for REASSIGN/DROP OWNED, revokes it, drops the role
      await withClient(p.name, "postgres", async (c) => {
        await c.query("BEGIN");
        await c.query(`GRANT ${q(B.databaseRole)} TO ${q(p.name)}`);
        await c.query(`REASSIGN OWNED BY ${q(B.databaseRole)} TO ${q(p.name)}`);
        await c.query(`DROP OWNED BY ${q(B.databaseRole)}`);
        await c.query(`REVOKE ${q(B.databaseRole)} FROM ${q(p.name)}`);
        await c.query(`DROP ROLE ${q(B.databaseRole)}`);
        await c.query("COMMIT");
      });
      const left = await p.sql(
        "postgres",
        "SELECT (SELECT count(*) FROM pg_database WHERE datname = $1)::int AS dbs, (SELECT count(*) FROM pg_roles WHERE rolname = $2)::int AS roles",
        [B.databaseName, B.databaseRole],
      );
      assert.deepEqual(left, [{ dbs: 0, roles: 0 }]);
    });
  });
});

describe("the docs state the model as config/databasePrivileges.ts has it", () => {
  const guide = (file: string) => fs.readFileSync(path.join(REPO, "docs", "guides", file), "utf8");
  const modes = guide("database-modes.md");
  const section = modes.slice(modes.indexOf("## The admin role and the app role"));

  it("the admin's CREATE ROLE, where a server's operator and a developer read it", () => {
    assert.ok(section.includes(`${createAdminRoleSql(LOCAL_ADMIN_ROLE)} PASSWORD '...';`), "Database modes");
    const envFiles = guide("env-files.md");
    const local = envFiles.slice(envFiles.indexOf("## Trying `verify --live` locally"));
    assert.ok(local.includes(createAdminRoleSql(LOCAL_ADMIN_ROLE)), "Trying verify --live locally");
    assert.ok(local.includes(`postgresql://${LOCAL_ADMIN_ROLE}@127.0.0.1:5432/postgres`));
  });

  it("each role's attributes in the table", () => {
    const row = (who: string) => section.split("\n").find((l) => l.startsWith(`| ${who} `)) ?? "";
    for (const [k, v] of Object.entries(ADMIN_ROLE) as [keyof typeof ADMIN_ROLE, boolean][]) {
      const word = v ? ROLE_ATTRIBUTE_SQL[k].on : ROLE_ATTRIBUTE_SQL[k].off;
      assert.ok(row("admin").includes(k === "superuser" ? "**not** `SUPERUSER`" : word), `admin ${word}`);
    }
    for (const [k, v] of Object.entries(APP_ROLE) as [keyof typeof APP_ROLE, boolean][]) {
      assert.ok(row("app").includes(v ? ROLE_ATTRIBUTE_SQL[k].on : ROLE_ATTRIBUTE_SQL[k].off), `app ${k}`);
    }
  });
});

describe(".ci/run creates the machine's admin role as documented", () => {
  const script = fs.readFileSync(path.join(REPO, ".ci", "run"), "utf8");
  const start = script.indexOf("psql -U postgres");
  const block = script.slice(start, script.indexOf("\nSQL\n", start) + "\nSQL\n".length);

  it("with the statement of config/databasePrivileges.ts, before npm test", () => {
    assert.ok(start > 0, ".ci/run runs psql as postgres");
    assert.ok(block.includes(`${createAdminRoleSql(LOCAL_ADMIN_ROLE)};`), block);
    assert.ok(block.includes(`rolname = '${LOCAL_ADMIN_ROLE}'`), block);
    assert.ok(script.indexOf(block) < script.indexOf("npm test"));
  });

  it("idempotently: run twice (under a name of this test's own), it creates the role once, with exactly the admin's attributes", async () => {
    const name = `mina_prov_ci_${run}`;
    const ours = block.split(LOCAL_ADMIN_ROLE).join(name);
    try {
      for (let i = 0; i < 2; i++) {
        const r = spawnSync("bash", ["-euo", "pipefail", "-c", ours], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr, "");
      }
      const [row] = await withClient(name, "postgres", async (c) => (await c.query("SELECT * FROM pg_roles WHERE rolname = current_user")).rows);
      assert.deepEqual(attributeMismatches(row, ADMIN_ROLE), []);
    } finally {
      spawnSync("psql", ["-U", "postgres", "-h", PG_HOST, "-d", "postgres", "-qc", `DROP ROLE IF EXISTS ${name}`]);
    }
  });
});
