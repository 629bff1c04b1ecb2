/**
 * `verify --live` against the real PostgreSQL (127.0.0.1:5432) and Redis
 * (127.0.0.1:6379): no mocks. Two throwaway environments are created exactly as
 * the program's server mode creates one (a login role of its own, a database it
 * owns, every privilege revoked from PUBLIC), by a provisioner that is not a
 * superuser (tests/pg.ts), and dropped afterwards.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { Client } from "pg";
import { createClient } from "@redis/client";
import { deriveNames, type Names } from "../config/naming";
import { buildDatabaseUrl } from "../components/urls";
import { checkPostgresLive, checkRedisLive, PG_ITEMS, REDIS_ITEMS, REDIS_MARKER_KEY, type CheckResult } from "../verify/live";
import { createProvisioner, withClient, type Provisioner } from "./pg";

const PG_HOST = "127.0.0.1";
const PG_PORT = 5432;
const REDIS_HOST = "127.0.0.1";
const REDIS_PORT = 6379;

const run = randomBytes(4).toString("hex");
const envA = `t${run}a`;
const envB = `t${run}b`;
const namesA = deriveNames(envA);
const namesB = deriveNames(envB);
/** A database name no environment has: the check must call it absent. */
const missingDatabase = `mina_t${run}_gone`;
/** Passwords with characters that must be URL-encoded. */
const passwordA = `pA@:/?#%${randomBytes(8).toString("hex")}`;
const passwordB = `pB@:/?#%${randomBytes(8).toString("hex")}`;

function pgUrl(names: Names, password: string, database = names.databaseName, port = PG_PORT): string {
  return buildDatabaseUrl({ user: names.databaseRole, password, host: PG_HOST, port, database, sslMode: "disable" });
}
const urlA = pgUrl(namesA, passwordA);
const urlB = pgUrl(namesB, passwordB);

/** Every reason of every check made in this file, to prove that none leaks a secret. */
const allResults: CheckResult[] = [];
function record(results: CheckResult[]): CheckResult[] {
  allResults.push(...results);
  return results;
}

function byItem(results: readonly CheckResult[], item: string): CheckResult {
  const found = results.find((r) => r.item === item);
  assert.ok(found, `no item "${item}" in ${JSON.stringify(results, null, 2)}`);
  return found;
}

function assertAllOk(results: readonly CheckResult[]): void {
  const failed = results.filter((r) => !r.ok);
  assert.deepEqual(failed, [], `expected every item to pass:\n${JSON.stringify(results, null, 2)}`);
}

/** The server's admin, not a superuser (tests/pg.ts): it provisions both environments, as server mode's admin does. */
let provisioner: Provisioner;

async function admin<T>(fn: (c: Client) => Promise<T>, database = "postgres"): Promise<T> {
  return withClient(provisioner.name, database, fn);
}

/** A TCP port on which nothing listens. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A TCP server that accepts connections and never says a word. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const start = Date.now();
  const value = await work;
  return { value, ms: Date.now() - start };
}

describe("verify --live: PostgreSQL", () => {
  before(async () => {
    provisioner = await createProvisioner();
    // as components/database.ts (server mode): login role, no other powers, the admin its member, PUBLIC revoked
    for (const [names, password] of [
      [namesA, passwordA],
      [namesB, passwordB],
    ] as const) {
      await provisioner.provision({ appRole: names.databaseRole, database: names.databaseName, password });
    }
    // the app's sessions table, created by the app's own role: on PostgreSQL 15+
    // the public schema belongs to pg_database_owner, which the owner inherits.
    const app = new Client({ host: PG_HOST, port: PG_PORT, user: namesA.databaseRole, password: passwordA, database: namesA.databaseName });
    await app.connect();
    try {
      await app.query("CREATE TABLE sessions (id text PRIMARY KEY, data jsonb NOT NULL)");
      await app.query(`INSERT INTO sessions VALUES ('s1', '{}'), ('s2', '{}')`);
    } finally {
      await app.end();
    }
  });

  after(async () => {
    if (!provisioner) return;
    await admin(async (c) => {
      const dbs = [namesA.databaseName, namesB.databaseName];
      for (const db of dbs) await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(db)} WITH (FORCE)`);
      for (const role of [namesA.databaseRole, namesB.databaseRole, namesA.databaseMasterUser])
        await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(role)}`);
    });
    await provisioner.drop();
  });

  it("sets up two environments whose databases refuse PUBLIC", async () => {
    const acl = await admin(async (c) => {
      const { rows } = await c.query<{ datname: string; acl: string }>(
        "SELECT datname, datacl::text AS acl FROM pg_database WHERE datname = ANY($1) ORDER BY datname",
        [[namesA.databaseName, namesB.databaseName]],
      );
      return rows;
    });
    assert.equal(acl.length, 2);
    for (const row of acl) {
      // PUBLIC's entry starts with "=" ; after the revoke there is none
      assert.doesNotMatch(row.acl, /[{,]=/, `${row.datname} still grants something to PUBLIC: ${row.acl}`);
    }
  });

  it("happy path, environment A: every item passes, sessions counted", async () => {
    const results = record(await checkPostgresLive(urlA, { environment: envA, otherDatabases: [namesB.databaseName, missingDatabase] }));
    assertAllOk(results);
    assert.deepEqual(
      results.map((r) => r.item),
      [PG_ITEMS.connect, PG_ITEMS.database, PG_ITEMS.role, PG_ITEMS.isolation(namesB.databaseName), PG_ITEMS.isolation(missingDatabase), PG_ITEMS.sessions],
    );
    assert.match(byItem(results, PG_ITEMS.connect).reason, new RegExp(`${PG_HOST}:${PG_PORT}/${namesA.databaseName} as ${namesA.databaseRole} without TLS`));
    assert.match(byItem(results, PG_ITEMS.database).reason, new RegExp(`is ${namesA.databaseName}\\b`));
    assert.match(byItem(results, PG_ITEMS.isolation(namesB.databaseName)).reason, /permission denied for database/);
    assert.match(byItem(results, PG_ITEMS.isolation(missingDatabase)).reason, /does not exist/);
    assert.match(byItem(results, PG_ITEMS.sessions).reason, /: 2 rows/);
  });

  it("happy path, environment B: every item passes, sessions table not created yet", async () => {
    const results = record(await checkPostgresLive(urlB, { environment: envB, otherDatabases: [namesA.databaseName] }));
    assertAllOk(results);
    assert.equal(results.length, 5);
    assert.match(byItem(results, PG_ITEMS.isolation(namesA.databaseName)).reason, /permission denied for database/);
    assert.match(byItem(results, PG_ITEMS.sessions).reason, /does not exist yet/);
  });

  it("a swapped credential (A's role on B's database) fails the connect item and stops there", async () => {
    const swapped = pgUrl(namesA, passwordA, namesB.databaseName);
    const results = record(await checkPostgresLive(swapped, { environment: envB, otherDatabases: [namesA.databaseName] }));
    assert.equal(results.length, 1, JSON.stringify(results));
    const [connect] = results;
    assert.equal(connect!.item, PG_ITEMS.connect);
    assert.equal(connect!.ok, false);
    assert.match(connect!.reason, new RegExp(`${PG_HOST}:${PG_PORT}/${namesB.databaseName} as ${namesA.databaseRole}`));
    assert.match(connect!.reason, /permission denied for database/);
  });

  it("env A's URL pointed at B's database name fails", async () => {
    const pointed = pgUrl(namesA, passwordA, namesB.databaseName);
    const results = record(await checkPostgresLive(pointed, { environment: envA, otherDatabases: [namesB.databaseName] }));
    assert.equal(results.length, 1);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.reason, new RegExp(`/${namesB.databaseName} as ${namesA.databaseRole}: permission denied`));
  });

  it("env A's file carrying B's whole URL connects but fails the database and role items", async () => {
    const results = record(await checkPostgresLive(urlB, { environment: envA, otherDatabases: [namesB.databaseName] }));
    assert.equal(byItem(results, PG_ITEMS.connect).ok, true);
    const database = byItem(results, PG_ITEMS.database);
    assert.equal(database.ok, false);
    assert.match(database.reason, new RegExp(`current_database\\(\\) is ${namesB.databaseName}, but ${envA} uses ${namesA.databaseName}`));
    const role = byItem(results, PG_ITEMS.role);
    assert.equal(role.ok, false);
    assert.match(role.reason, new RegExp(`connected as ${namesB.databaseRole}`));
  });

  it("env A's file carrying its instance-mode master user fails the role item: the app connects as its own role in both modes", async () => {
    const master = namesA.databaseMasterUser;
    const masterPassword = `m@:${randomBytes(8).toString("hex")}`;
    await admin(async (c) => {
      await c.query(`CREATE ROLE ${c.escapeIdentifier(master)} LOGIN PASSWORD ${c.escapeLiteral(masterPassword)}`);
      await c.query(`GRANT CONNECT ON DATABASE ${c.escapeIdentifier(namesA.databaseName)} TO ${c.escapeIdentifier(master)}`);
    });
    try {
      const url = buildDatabaseUrl({ user: master, password: masterPassword, host: PG_HOST, port: PG_PORT, database: namesA.databaseName, sslMode: "disable" });
      const results = record(await checkPostgresLive(url, { environment: envA, otherDatabases: [] }));
      assert.equal(byItem(results, PG_ITEMS.database).ok, true);
      const role = byItem(results, PG_ITEMS.role);
      assert.equal(role.ok, false);
      assert.equal(
        role.reason,
        `connected as ${master}, but ${envA} connects as ${namesA.databaseRole}: ${master} is the RDS master user, whose password stays in the deploy's state and never in an env file`,
      );
    } finally {
      await admin(async (c) => {
        await c.query(`REVOKE CONNECT ON DATABASE ${c.escapeIdentifier(namesA.databaseName)} FROM ${c.escapeIdentifier(master)}`);
        await c.query(`DROP ROLE ${c.escapeIdentifier(master)}`);
      });
    }
  });

  it("a sessions table the role cannot read fails the sessions item", async () => {
    await admin((c) => c.query("CREATE TABLE sessions (id text PRIMARY KEY)"), namesB.databaseName);
    try {
      const results = record(await checkPostgresLive(urlB, { environment: envB, otherDatabases: [] }));
      const sessions = byItem(results, PG_ITEMS.sessions);
      assert.equal(sessions.ok, false);
      assert.match(sessions.reason, /permission denied for table sessions/);
    } finally {
      await admin((c) => c.query("DROP TABLE sessions"), namesB.databaseName);
    }
  });

  describe("isolation holds because CONNECT is revoked from PUBLIC", () => {
    async function setPublicConnect(grant: boolean): Promise<void> {
      await admin(async (c) => {
        const db = c.escapeIdentifier(namesB.databaseName);
        await c.query(grant ? `GRANT CONNECT ON DATABASE ${db} TO PUBLIC` : `REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
      });
    }

    it("with the revoke: A's role cannot open B's database (✓)", async () => {
      const results = record(await checkPostgresLive(urlA, { environment: envA, otherDatabases: [namesB.databaseName] }));
      const item = byItem(results, PG_ITEMS.isolation(namesB.databaseName));
      assert.equal(item.ok, true, item.reason);
      assert.match(item.reason, /CONNECT privilege/);
    });

    it("control: with CONNECT granted to PUBLIC the same check reports ✗", async () => {
      await setPublicConnect(true);
      try {
        const results = record(await checkPostgresLive(urlA, { environment: envA, otherDatabases: [namesB.databaseName] }));
        const item = byItem(results, PG_ITEMS.isolation(namesB.databaseName));
        assert.equal(item.ok, false);
        assert.match(item.reason, new RegExp(`${namesA.databaseRole} CAN connect to ${PG_HOST}:${PG_PORT}/${namesB.databaseName}`));
        // and the swapped URL now gets in: only the database item catches it
        const swapped = record(await checkPostgresLive(pgUrl(namesA, passwordA, namesB.databaseName), { environment: envA, otherDatabases: [] }));
        assert.equal(byItem(swapped, PG_ITEMS.connect).ok, true);
        assert.equal(byItem(swapped, PG_ITEMS.database).ok, false);
      } finally {
        await setPublicConnect(false);
      }
      // restored: passes again
      const again = record(await checkPostgresLive(urlA, { environment: envA, otherDatabases: [namesB.databaseName] }));
      assert.equal(byItem(again, PG_ITEMS.isolation(namesB.databaseName)).ok, true);
    });
  });

  it("connects to the percent-decoded database, user and host, as libpq does", async () => {
    const enc = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
    const url = `postgresql://${enc(namesA.databaseRole)}:${encodeURIComponent(passwordA)}@${enc(PG_HOST)}:${PG_PORT}/${enc(namesA.databaseName)}?sslmode=disable`;
    const results = record(await checkPostgresLive(url, { environment: envA, otherDatabases: [namesB.databaseName] }));
    assertAllOk(results);
    assert.match(byItem(results, PG_ITEMS.connect).reason, new RegExp(`${PG_HOST}:${PG_PORT}/${namesA.databaseName} as ${namesA.databaseRole}`));
  });

  it("a percent-encoded other database is that database: the role is refused there", async () => {
    const enc = [...namesB.databaseName].map((c) => `%${c.charCodeAt(0).toString(16)}`).join("");
    const url = urlA.replace(`/${namesA.databaseName}?`, `/${enc}?`);
    assert.notEqual(url, urlA);
    const results = record(await checkPostgresLive(url, { environment: envA, otherDatabases: [namesB.databaseName] }));
    assert.equal(results.length, 1);
    assert.match(results[0]!.reason, new RegExp(`/${namesB.databaseName} as ${namesA.databaseRole}: permission denied`));
  });

  it("a URL whose query would redirect the connection is refused before any connection, by parameter name", async () => {
    for (const [param, value] of [
      ["host", "127.0.0.1"],
      ["dbname", namesB.databaseName],
      ["user", namesB.databaseRole],
      ["options", "-c search_path=x"],
      ["%68ost", "127.0.0.1"],
    ] as const) {
      const results = record(await checkPostgresLive(`${urlA}&${param}=${encodeURIComponent(value)}`, { environment: envA, otherDatabases: [] }));
      assert.deepEqual(
        results.map((r) => [r.item, r.ok]),
        [[PG_ITEMS.connect, false]],
      );
      assert.match(
        results[0]!.reason,
        new RegExp(
          `^DATABASE_URL: query parameter "${decodeURIComponent(param)}" can redirect the connection; only sslmode, sslrootcert, connect_timeout, application_name are accepted$`,
        ),
      );
    }
  });

  it("ignores the caller's PG* variables: only the URL decides the connection", async () => {
    const saved = { PGOPTIONS: process.env.PGOPTIONS, PGDATABASE: process.env.PGDATABASE, PGSSLMODE: process.env.PGSSLMODE, PGAPPNAME: process.env.PGAPPNAME };
    // each of these would break or redirect the connection if node-postgres used it
    process.env.PGOPTIONS = "-c mina_no_such_setting=1";
    process.env.PGDATABASE = namesB.databaseName;
    process.env.PGSSLMODE = "require";
    process.env.PGAPPNAME = "from-the-environment";
    try {
      const results = record(await checkPostgresLive(urlA, { environment: envA, otherDatabases: [namesB.databaseName] }));
      assertAllOk(results);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it("an unreachable port gives one ✗ with host and error, quickly", async () => {
    const port = await closedPort();
    const { value: results, ms } = await timed(
      checkPostgresLive(pgUrl(namesA, passwordA, namesA.databaseName, port), { environment: envA, otherDatabases: [namesB.databaseName], timeoutMs: 2000 }),
    );
    record(results);
    assert.equal(results.length, 1);
    assert.equal(results[0]!.item, PG_ITEMS.connect);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.reason, new RegExp(`${PG_HOST}:${port}/${namesA.databaseName}`));
    assert.match(results[0]!.reason, /ECONNREFUSED/);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it("a server that never answers gives one ✗ within the timeout", async () => {
    const silent = await silentServer();
    try {
      const { value: results, ms } = await timed(
        checkPostgresLive(pgUrl(namesA, passwordA, namesA.databaseName, silent.port), { environment: envA, otherDatabases: [], timeoutMs: 500 }),
      );
      record(results);
      assert.equal(results.length, 1);
      assert.equal(results[0]!.ok, false);
      assert.match(results[0]!.reason, new RegExp(`${PG_HOST}:${silent.port}/${namesA.databaseName} as ${namesA.databaseRole}: no answer within 500 ms`));
      assert.ok(ms >= 400 && ms < 1500, `took ${ms} ms`);
    } finally {
      await silent.close();
    }
  });

  it("a URL that is not a URL is one ✗ that does not echo it", async () => {
    const results = record(
      await checkPostgresLive(`postgresql://${namesA.databaseRole}:${encodeURIComponent(passwordA)}@`, { environment: envA, otherDatabases: [] }),
    );
    assert.equal(results.length, 1);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.reason, /not a valid URL|no host/);
  });

  describe("afterwards", () => {
    it("no reason ever shows a password or a URL with credentials", () => {
      assert.ok(allResults.length > 20, `only ${allResults.length} results were recorded`);
      for (const r of allResults) {
        for (const secret of [passwordA, passwordB, encodeURIComponent(passwordA), encodeURIComponent(passwordB)]) {
          assert.ok(!r.reason.includes(secret), `a reason shows a password: ${r.reason}`);
        }
        assert.doesNotMatch(r.reason, /postgres(ql)?:\/\//, `a reason shows a URL: ${r.reason}`);
        assert.doesNotMatch(r.reason, /\n\s+at /, `a reason shows a stack trace: ${r.reason}`);
      }
    });
  });
});

describe("verify --live: Redis", () => {
  const admin = createClient({ socket: { host: REDIS_HOST, port: REDIS_PORT, reconnectStrategy: false } });
  /** A marker key of this run only: concurrent runs on the same server never meet. */
  const markerKey = `${REDIS_MARKER_KEY}:test-${run}`;
  /** A database index other than 0, so a marker landing in database 0 is caught. */
  const index = 1 + (parseInt(run, 16) % 15);
  const redisUrl = () => `redis://${REDIS_HOST}:${REDIS_PORT}/${index}`;
  const check = (environment: string, claim?: boolean) => checkRedisLive(redisUrl(), { environment, claim, markerKey });

  before(async () => {
    await admin.connect();
  });

  after(async () => {
    for (const i of [0, index]) {
      const db = admin.duplicate({ database: i });
      await db.connect();
      try {
        await db.del(markerKey);
      } finally {
        db.destroy();
      }
    }
    admin.destroy();
  });

  async function markerOn(i: number): Promise<string | null> {
    const db = admin.duplicate({ database: i });
    await db.connect();
    try {
      return await db.get(markerKey);
    } finally {
      db.destroy();
    }
  }

  it("uses REDIS_MARKER_KEY unless told otherwise", () => {
    assert.equal(REDIS_MARKER_KEY, "mina:environment-marker");
  });

  it("a plain verify of an unmarked database fails, says who claims it, and writes nothing", async () => {
    const results = await check(envA);
    assert.deepEqual(
      results.map((r) => [r.item, r.ok]),
      [
        [REDIS_ITEMS.connect, true],
        [REDIS_ITEMS.ping, true],
        [REDIS_ITEMS.server, true],
        [REDIS_ITEMS.marker, false],
      ],
    );
    assert.equal(
      byItem(results, REDIS_ITEMS.marker).reason,
      `no environment marker on ${REDIS_HOST}:${REDIS_PORT}/${index}: the deploy job claims it with verify --live --claim right after pulumi up`,
    );
    assert.equal(await markerOn(index), null);
  });

  it("--claim on an unmarked database sets the marker for A, in the URL's database index", async () => {
    const results = await check(envA, true);
    assertAllOk(results);
    assert.deepEqual(
      results.map((r) => r.item),
      [REDIS_ITEMS.connect, REDIS_ITEMS.ping, REDIS_ITEMS.server, REDIS_ITEMS.marker],
    );
    assert.equal(byItem(results, REDIS_ITEMS.ping).reason, "PING answered PONG");
    const version = /^redis_version:(.+)$/m.exec(await admin.info("server"))![1]!.trim();
    assert.equal(byItem(results, REDIS_ITEMS.server).reason, `Redis ${version}, database index ${index}`);
    assert.equal(byItem(results, REDIS_ITEMS.marker).reason, `${markerKey} was absent on ${REDIS_HOST}:${REDIS_PORT}/${index}: claimed for ${envA}`);
    assert.equal(await markerOn(index), envA);
    assert.equal(await markerOn(0), null, "the marker landed in database 0, not in the URL's index");
  });

  it("its own marker passes, with and without --claim", async () => {
    for (const claim of [false, true]) {
      const results = await check(envA, claim);
      assertAllOk(results);
      assert.equal(byItem(results, REDIS_ITEMS.marker).reason, `${markerKey} on ${REDIS_HOST}:${REDIS_PORT}/${index} says ${envA}`);
    }
  });

  it("another environment's marker fails, with and without --claim, and stays", async () => {
    for (const claim of [false, true]) {
      const results = await check(envB, claim);
      assert.equal(byItem(results, REDIS_ITEMS.ping).ok, true);
      const marker = byItem(results, REDIS_ITEMS.marker);
      assert.equal(marker.ok, false);
      assert.ok(
        marker.reason.startsWith(`this Redis database belongs to ${envA}: sharing it means feature-flag and session changes leak between environments`),
        marker.reason,
      );
      assert.equal(await markerOn(index), envA);
    }
  });

  it("a marker that is not an environment name is shown escaped, on one line", async () => {
    const db = admin.duplicate({ database: index });
    await db.connect();
    try {
      await db.set(markerKey, "evil\nline");
      const results = await check(envA, true);
      const marker = byItem(results, REDIS_ITEMS.marker);
      assert.equal(marker.ok, false);
      assert.ok(!marker.reason.includes("\n"), marker.reason);
      assert.match(marker.reason, /^this Redis database belongs to "evil\\nline"/);
      assert.equal(await db.get(markerKey), "evil\nline", "--claim never overwrites a marker");
    } finally {
      await db.set(markerKey, envA);
      db.destroy();
    }
  });

  it("a REDIS_URL with a query parameter is refused before any connection", async () => {
    const results = await checkRedisLive(`${redisUrl()}?db=0`, { environment: envA, claim: true, markerKey });
    assert.deepEqual(
      results.map((r) => [r.item, r.ok]),
      [[REDIS_ITEMS.connect, false]],
    );
    assert.match(results[0]!.reason, /^REDIS_URL: query parameter "db" is not accepted/);
    assert.equal(await markerOn(0), null);
  });

  it("an unreachable Redis gives one ✗ with host:port and the error", async () => {
    const port = await closedPort();
    const { value: results, ms } = await timed(checkRedisLive(`redis://${REDIS_HOST}:${port}/${index}`, { environment: envA, timeoutMs: 2000 }));
    assert.equal(results.length, 1);
    assert.equal(results[0]!.item, REDIS_ITEMS.connect);
    assert.equal(results[0]!.ok, false);
    assert.match(results[0]!.reason, new RegExp(`${REDIS_HOST}:${port}`));
    assert.match(results[0]!.reason, /ECONNREFUSED/);
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  it("a Redis that accepts the connection but never answers PING stops at the PING item, within the timeout", async () => {
    const silent = await silentServer();
    try {
      // database 0 and no password: node-redis sends nothing while connecting, so the connect succeeds
      const { value: results, ms } = await timed(checkRedisLive(`redis://${REDIS_HOST}:${silent.port}`, { environment: envA, timeoutMs: 400 }));
      assert.deepEqual(
        results.map((r) => [r.item, r.ok]),
        [
          [REDIS_ITEMS.connect, true],
          [REDIS_ITEMS.ping, false],
        ],
      );
      assert.match(results[1]!.reason, new RegExp(`${REDIS_HOST}:${silent.port}/0 failed: PING: no answer within 400 ms`));
      assert.ok(ms >= 300 && ms < 1400, `took ${ms} ms`);
    } finally {
      await silent.close();
    }
  });

  it("a Redis that never answers gives one ✗ within the timeout", async () => {
    const silent = await silentServer();
    try {
      const { value: results, ms } = await timed(
        checkRedisLive(`redis://:secret-pw@${REDIS_HOST}:${silent.port}/${index}`, { environment: envA, timeoutMs: 500 }),
      );
      assert.equal(results.length, 1, JSON.stringify(results));
      assert.equal(results[0]!.ok, false);
      assert.match(results[0]!.reason, new RegExp(`${REDIS_HOST}:${silent.port}`));
      assert.ok(!results[0]!.reason.includes("secret-pw"), results[0]!.reason);
      assert.ok(ms >= 400 && ms < 1500, `took ${ms} ms`);
    } finally {
      await silent.close();
    }
  });
});
