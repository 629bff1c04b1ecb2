/**
 * verify/local.ts against the real PostgreSQL and Redis on 127.0.0.1: the role
 * and database server mode would create, the env file, and then `verify --live
 * --claim` passing on it, offline items and live ones, in process. The admin is a
 * provisioner role that is not a superuser (tests/pg.ts); `npm run local` uses the
 * machine's `mina_provisioner`, created as `.ci/run` creates it when missing.
 * Every role, database and marker made here is dropped afterwards.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { expectationsFor } from "../config/expectations";
import { defaultsFor } from "../config/defaults";
import { APP_ROLE, attributeMismatches, LOCAL_ADMIN_ROLE } from "../config/databasePrivileges";
import { deriveNames } from "../config/naming";
import { variableNames } from "../config/variables";
import { parseEnvFile } from "../envfiles/format";
import { parsePostgresUrl } from "../lib/connectionUrl";
import { ITEMS, offlineChecklist } from "../verify/checklist";
import { releaseRedisIndexes, reserveRedisIndex, withRedis } from "./redis";
import { checkPostgresLive, checkRedisLive, REDIS_MARKER_KEY, type CheckResult } from "../verify/live";
import { DEFAULT_ADMIN_URL, LocalSetUpError, setUpLocal } from "../verify/local";
import { run as cli } from "./cli";
import { REPO } from "./helpers";
import { createProvisioner, sharedProvisioner, withClient, type Provisioner } from "./pg";

const run = randomBytes(3).toString("hex");

/** The admin setUpLocal is given in the first suite: a provisioner of this file's own, not a superuser (tests/pg.ts). */
let provisioner: Provisioner;

async function admin<T>(fn: (c: Client) => Promise<T>, database = "postgres"): Promise<T> {
  return withClient(provisioner.name, database, fn);
}

async function exists(environment: string, as: string = provisioner.name): Promise<{ role: boolean; database: boolean }> {
  const n = deriveNames(environment);
  return withClient(as, "postgres", async (c) => ({
    role: (await c.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [n.databaseRole])).rowCount === 1,
    database: (await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [n.databaseName])).rowCount === 1,
  }));
}

/** Drops an environment's database and role as `as` (the admin that made them: a member of the role). */
async function drop(environment: string, as: string = provisioner.name): Promise<void> {
  const n = deriveNames(environment);
  await withClient(as, "postgres", async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(n.databaseName)} WITH (FORCE)`);
    await c.query(`DROP ROLE IF EXISTS ${c.escapeIdentifier(n.databaseRole)}`);
  });
}

/** This file's reservations of Redis database indexes (tests/redis.ts). */
const REDIS_OWNER = `verify-local-${process.pid}-${Date.now()}`;
/** A Redis database index (1-15) that holds no environment marker and is not in `taken`, reserved for this file. */
const freeIndex = (taken: readonly number[] = []): Promise<number> => reserveRedisIndex(REDIS_OWNER, taken);
after(() => releaseRedisIndexes(REDIS_OWNER));

/**
 * The role's stored password verifier. The local server trusts every loopback
 * connection, so a login proves nothing about the password; the verifier does.
 */
async function verifier(role: string): Promise<string | null> {
  // pg_authid is the superuser's alone: read here to check the code's work, never by the code under test
  return withClient(
    "postgres",
    "postgres",
    async (c) => (await c.query<{ p: string | null }>("SELECT rolpassword AS p FROM pg_authid WHERE rolname = $1", [role])).rows[0]!.p,
  );
}

/** Whether `password` is the one a stored verifier was made from (SCRAM-SHA-256, or md5 on older settings). */
function isPasswordOf(password: string, role: string, stored: string | null): boolean {
  if (stored === null) return false;
  if (stored.startsWith("md5"))
    return (
      stored ===
      `md5${createHash("md5")
        .update(password + role)
        .digest("hex")}`
    );
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(stored);
  if (!m) return false;
  const salted = pbkdf2Sync(password, Buffer.from(m[2]!, "base64"), Number(m[1]), 32, "sha256");
  const storedKey = createHash("sha256").update(createHmac("sha256", salted).update("Client Key").digest()).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return storedKey === m[3] && serverKey === m[4];
}

function readEnv(file: string): Record<string, string> {
  return parseEnvFile(fs.readFileSync(file, "utf8"));
}

/** The offline checklist and both live checks, as `verify FILE --stack ENV --live [--claim]` runs them. */
async function verifyLive(file: string, environment: string, claim: boolean): Promise<CheckResult[]> {
  const env = readEnv(file);
  const expected = expectationsFor(REPO, environment);
  return [
    ...offlineChecklist({ file, env, expected }),
    ...(await checkPostgresLive(env.DATABASE_URL!, { environment, otherDatabases: expected.otherDatabases, timeoutMs: 3000 })),
    ...(await checkRedisLive(env.REDIS_URL!, { environment, claim, timeoutMs: 3000 })),
  ];
}

describe("setUpLocal: an environment on this machine's PostgreSQL and Redis", function () {
  this.timeout(60000);
  const environment = `t${run}l`;
  const names = deriveNames(environment);
  let work: string;
  let index: number;
  let file: string;
  const passwords: string[] = [];

  before(async () => {
    provisioner = await createProvisioner();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-local-"));
    file = path.join(work, `.env.${environment}.local`);
    index = await freeIndex();
  });

  after(async () => {
    if (!provisioner) return;
    await drop(environment);
    await withRedis(index, async (r) => {
      if ((await r.get(REDIS_MARKER_KEY)) === environment) await r.del(REDIS_MARKER_KEY);
    });
    fs.rmSync(work, { recursive: true, force: true });
    await provisioner.drop();
  });

  const setUp = (extra: Parameters<typeof setUpLocal>[0] = {}) =>
    setUpLocal({ environment, adminUrl: provisioner.url(), redisUrl: `redis://127.0.0.1:6379/${index}`, out: file, ...extra });

  it("creates the role and database as server mode does, and writes the env file", async () => {
    const r = await setUp();
    assert.deepEqual(r, {
      file,
      environment,
      database: names.databaseName,
      role: names.databaseRole,
      postgres: "127.0.0.1:5432",
      redis: `127.0.0.1:6379/${index}`,
      created: [`role ${names.databaseRole}`, `database ${names.databaseName}`],
      reused: [],
      markerClaimed: false,
    });

    const role = await admin(async (c) => (await c.query("SELECT * FROM pg_roles WHERE rolname = $1", [names.databaseRole])).rows[0]);
    assert.equal(role.rolcanlogin, true);
    for (const power of ["rolsuper", "rolcreatedb", "rolcreaterole", "rolreplication", "rolbypassrls"]) assert.equal(role[power], false, power);
    assert.equal(role.rolinherit, true, "the role inherits, as components/database.ts declares it");
    assert.deepEqual(attributeMismatches(role, APP_ROLE), []);
    const member = await admin(async (c) => (await c.query("SELECT pg_has_role(current_user, $1, 'USAGE') AS ok", [names.databaseRole])).rows[0]);
    assert.deepEqual(member, { ok: true }, "the admin is a member of the role, as components/database.ts declares it");

    const db = await admin(
      async (c) =>
        (await c.query("SELECT pg_get_userbyid(datdba) AS owner, datacl::text AS acl FROM pg_database WHERE datname = $1", [names.databaseName])).rows[0],
    );
    assert.equal(db.owner, names.databaseRole);
    assert.doesNotMatch(db.acl, /[{,]=/, `PUBLIC still holds a privilege: ${db.acl}`);

    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const env = readEnv(file);
    assert.deepEqual(Object.keys(env), variableNames(defaultsFor("staging").featureFlags));
    const url = parsePostgresUrl(env.DATABASE_URL!);
    assert.deepEqual([url.user, url.host, url.port, url.database, url.sslMode], [names.databaseRole, "127.0.0.1", 5432, names.databaseName, "disable"]);
    assert.match(url.password!, /^[0-9a-f]{64}$/);
    assert.ok(isPasswordOf(url.password!, names.databaseRole, await verifier(names.databaseRole)), "the file's password is the role's");
    passwords.push(url.password!);
    assert.equal(env.REDIS_URL, `redis://127.0.0.1:6379/${index}`);
    assert.equal(env.ENVIRONMENT, environment);
    assert.equal(env.AWS_S3_BUCKET, `mina-audio-${environment}`);
    assert.equal(env.SHARE_BASE_URL, `https://${environment}.mina.app`);
    assert.equal(env.SLACK_CHANNEL, `#mina-${environment}-alerts`);
    assert.equal(env.SENTRY_ENVIRONMENT, environment);
    assert.deepEqual([env.EMAIL_ENABLED, env.SENDGRID_API_KEY, env.SENTRY_DSN, env.SLACK_WEBHOOK_URL], ["false", "", "", ""]);
    assert.deepEqual([env.LOG_LEVEL, env.RATE_LIMIT_PER_MINUTE, env.RATE_LIMIT_PER_HOUR, env.JSON_LOGS], ["INFO", "200", "2000", "true"]);
    assert.deepEqual([env.FEATURE_BETA_FEATURES, env.FEATURE_DEBUG_TOOLBAR], ["true", "false"]);
    for (const key of ["OPENAI_API_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"])
      assert.match(env[key]!, new RegExp(`^fake-not-a-secret-${environment}-`), key);
    for (const key of ["SECRET_KEY", "SESSION_SECRET"]) assert.match(env[key]!, /^[0-9a-f]{64}$/, key);
    assert.notEqual(env.SECRET_KEY, env.SESSION_SECRET);
  });

  it("the role can log in and create the app's tables in its database", async () => {
    const c = new Client({ host: "127.0.0.1", port: 5432, user: names.databaseRole, password: passwords[0], database: names.databaseName });
    await c.connect();
    try {
      await c.query("CREATE TABLE sessions (id text PRIMARY KEY)");
      await c.query("INSERT INTO sessions VALUES ('kept')");
    } finally {
      await c.end();
    }
  });

  it("refuses to replace an existing file without force, before touching anything", async () => {
    const before = fs.readFileSync(file, "utf8");
    const stored = await verifier(names.databaseRole);
    assert.ok(stored, "the role has a password");
    await assert.rejects(setUp(), (e: Error) => {
      assert.ok(e instanceof LocalSetUpError);
      assert.match(e.message, /exists; --force replaces it/);
      return true;
    });
    assert.equal(fs.readFileSync(file, "utf8"), before);
    assert.equal(await verifier(names.databaseRole), stored, "the password is unchanged");
  });

  it("again with force: a new password, the data kept", async () => {
    const stored = await verifier(names.databaseRole);
    const r = await setUp({ force: true });
    assert.deepEqual(r.created, []);
    assert.deepEqual(r.reused, [`role ${names.databaseRole} (new password)`, `database ${names.databaseName} (data kept)`]);
    const password = parsePostgresUrl(readEnv(file).DATABASE_URL!).password!;
    passwords.push(password);
    assert.notEqual(password, passwords[0]);
    const now = await verifier(names.databaseRole);
    assert.ok(now && now !== stored, "the role's password was set anew");
    assert.ok(isPasswordOf(password, names.databaseRole, now), "the new file's password is the role's");
    assert.ok(!isPasswordOf(passwords[0]!, names.databaseRole, now), "the old one no longer is");
    const rows = await admin(async (c) => (await c.query("SELECT id FROM sessions")).rows, names.databaseName);
    assert.deepEqual(rows, [{ id: "kept" }]);
  });

  it("verify --live --claim: every live item passes; offline only the TLS item fails, as the name is not local", async () => {
    const results = await verifyLive(file, environment, true);
    const failed = results.filter((x) => !x.ok);
    assert.deepEqual(
      failed.map((x) => x.item),
      [ITEMS.redis],
      JSON.stringify(results, null, 2),
    );
    assert.equal(failed[0]!.reason, "REDIS_URL uses redis:// (no TLS); Upstash databases are reached with rediss://");
    assert.ok(results.some((x) => x.item === "postgres: no access to mina_staging" && x.ok));
    assert.ok(results.some((x) => x.item === "postgres: no access to mina_production" && x.ok));
    assert.match(results.find((x) => x.item === "postgres: sessions table")!.reason, /: 1 row /);
    assert.equal(await withRedis(index, (r) => r.get(REDIS_MARKER_KEY)), environment);
    // the marker now names it: setting up again says so
    assert.equal((await setUp({ force: true })).markerClaimed, true);
  });

  describe("refusals: one line, nothing created, nothing written", () => {
    const fresh = `t${run}r`;
    const freshFile = () => path.join(work, `.env.${fresh}.local`);
    /** A Redis database of the refusals' own: the one above now belongs to the first environment. */
    let free: number;
    const refused = async (opts: Parameters<typeof setUpLocal>[0], message: RegExp) => {
      await assert.rejects(
        setUpLocal({ environment: fresh, out: freshFile(), adminUrl: provisioner.url(), redisUrl: `redis://127.0.0.1:6379/${free}`, ...opts }),
        (e: Error) => {
          assert.ok(e instanceof LocalSetUpError, String(e));
          assert.match(e.message, message);
          assert.ok(!e.message.includes("\n"), e.message);
          assert.doesNotMatch(e.message, /hunter2|\n\s+at /);
          return true;
        },
      );
      assert.deepEqual(await exists(fresh), { role: false, database: false });
      assert.equal(fs.existsSync(freshFile()), false);
    };

    before(async () => {
      free = await freeIndex([index]);
    });

    after(async () => {
      await drop(fresh);
    });

    it("an admin URL whose host is not a loopback address", async () => {
      for (const host of ["10.0.0.5", "pg.example.com", "0.0.0.0", "[::ffff:127.0.0.1]", "localhost.example.com"]) {
        await refused(
          { adminUrl: `postgresql://postgres:hunter2@${host}:5432/postgres` },
          /^refusing to set up t\w+: the admin URL's host ".+" is not a loopback address \(127\.0\.0\.0\/8, ::1, localhost\); this recipe only touches servers on this machine$/,
        );
      }
    });

    it("a Redis URL whose host is not a loopback address", async () => {
      await refused(
        { redisUrl: "redis://:hunter2@cache.example.com:6379/0" },
        /^refusing to set up t\w+: the Redis URL's host "cache\.example\.com" is not a loopback address/,
      );
    });

    it("a deployed environment's name, or not an environment name", async () => {
      for (const environment of ["staging", "production"]) {
        await assert.rejects(setUpLocal({ environment, out: freshFile() }), /^Error: refusing to set up \w+ on this machine: it is a deployed environment/);
      }
      for (const environment of ["LOCAL", "local_x", "-local", ""]) {
        await assert.rejects(setUpLocal({ environment, out: freshFile() }), /is not a valid environment name/);
      }
      assert.deepEqual(await exists("staging"), { role: false, database: false });
    });

    it("a path git would commit", async () => {
      const repo = fs.mkdtempSync(path.join(os.tmpdir(), "mina-local-git-"));
      try {
        spawnSync("git", ["init", "-q"], { cwd: repo });
        const target = path.join(repo, `.env.${fresh}.local`);
        await assert.rejects(
          setUpLocal({ environment: fresh, out: target, redisUrl: `redis://127.0.0.1:6379/${free}` }),
          /refusing to write \.env\.t\w+\.local: it is not ignored by git; add this line to .*\.gitignore: \.env\.\*\.local/,
        );
        assert.equal(fs.existsSync(target), false);
      } finally {
        fs.rmSync(repo, { recursive: true, force: true });
      }
      assert.deepEqual(await exists(fresh), { role: false, database: false });
    });

    it("a folder that does not exist", async () => {
      const target = path.join(work, "missing", `.env.${fresh}.local`);
      await assert.rejects(
        setUpLocal({ environment: fresh, out: target, redisUrl: `redis://127.0.0.1:6379/${free}` }),
        /: its folder .*missing does not exist$/,
      );
      assert.deepEqual(await exists(fresh), { role: false, database: false });
    });

    it("a Redis database another environment has claimed", async () => {
      const other = await freeIndex([index, free]);
      await withRedis(other, (r) => r.set(REDIS_MARKER_KEY, "staging"));
      try {
        await refused(
          { redisUrl: `redis://127.0.0.1:6379/${other}` },
          new RegExp(`^Redis database 127\\.0\\.0\\.1:6379/${other} belongs to staging \\(mina:environment-marker\\): give t\\w+ a database index of its own`),
        );
      } finally {
        await withRedis(other, (r) => r.del(REDIS_MARKER_KEY));
      }
    });

    it("servers that do not answer: the error names the host, never the password", async () => {
      await refused(
        { adminUrl: "postgresql://postgres:hunter2@127.0.0.1:1/postgres" },
        /^cannot connect to 127\.0\.0\.1:1\/postgres as postgres: .*ECONNREFUSED/,
      );
      await refused({ redisUrl: "redis://:hunter2@127.0.0.1:1/0" }, /^cannot connect to Redis at 127\.0\.0\.1:1\/0: .*ECONNREFUSED/);
    });
  });
});

describe("npm run local, then verify .env.local.local --stack local --live --claim", function () {
  this.timeout(60000);
  let work: string;
  let index = -1;
  let skipped = false;

  before(async function () {
    // the admin npm run local uses by default, created as .ci/run creates it when missing
    await sharedProvisioner();
    // never touch a developer's own local environment
    const already = await exists("local", LOCAL_ADMIN_ROLE);
    if (already.role || already.database) {
      skipped = true;
      this.skip();
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-local-e2e-"));
    index = await freeIndex();
  });

  after(async () => {
    if (skipped) return;
    await drop("local", LOCAL_ADMIN_ROLE);
    if (index > 0) {
      await withRedis(index, async (r) => {
        if ((await r.get(REDIS_MARKER_KEY)) === "local") await r.del(REDIS_MARKER_KEY);
      });
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("every item passes, and plain redis:// is accepted only because this is local on 127.0.0.1", async () => {
    const file = path.join(work, ".env.local.local");
    // Through the command, as the README says: npm run local, then npm run verify.
    const set = await cli("local", ["--redis-url", `redis://127.0.0.1:6379/${index}`, "--json"], { cwd: work });
    assert.equal(set.status, 0, set.stderr);
    const r = JSON.parse(set.stdout) as { environment: string; created: string[]; file: string };
    assert.equal(r.environment, "local");
    assert.equal(r.file, ".env.local.local");
    assert.deepEqual(r.created, ["role mina_local_app", "database mina_local"]);
    assert.equal(parsePostgresUrl(DEFAULT_ADMIN_URL).user, LOCAL_ADMIN_ROLE);
    const member = await withClient(
      LOCAL_ADMIN_ROLE,
      "postgres",
      async (c) =>
        (await c.query("SELECT pg_has_role(current_user, 'mina_local_app', 'USAGE') AS ok, rolsuper FROM pg_roles WHERE rolname = current_user")).rows[0],
    );
    assert.deepEqual(member, { ok: true, rolsuper: false }, "made by an admin that is not a superuser, and a member of the role");
    const env = readEnv(file);
    assert.match(env.DATABASE_URL!, /^postgresql:\/\/mina_local_app:[0-9a-f]{64}@127\.0\.0\.1:5432\/mina_local\?sslmode=disable$/);
    assert.equal(env.REDIS_URL, `redis://127.0.0.1:6379/${index}`);
    assert.equal(env.AWS_S3_BUCKET, "mina-audio-local");
    assert.equal(env.SHARE_BASE_URL, "https://local.mina.app");

    const verified = await cli("verify", [".env.local.local", "--live", "--claim", "--json"], { cwd: work });
    const results = (JSON.parse(verified.stdout) as { results: CheckResult[] }).results;
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
    assert.deepEqual(
      results.filter((x) => !x.ok),
      [],
      JSON.stringify(results, null, 2),
    );
    assert.match(results.find((x) => x.item === ITEMS.redis)!.reason, /; plain redis:\/\/ accepted: local environment on a loopback address$/);
    assert.match(results.find((x) => x.item === "redis: environment marker")!.reason, /claimed for local$/);
    for (const item of [
      "postgres: connect",
      "postgres: database",
      "postgres: role",
      "postgres: no access to mina_staging",
      "postgres: no access to mina_production",
      "postgres: sessions table",
      "redis: PING",
    ]) {
      assert.ok(
        results.some((x) => x.item === item),
        item,
      );
    }
    const password = parsePostgresUrl(env.DATABASE_URL!).password!;
    for (const x of results) assert.ok(!x.reason.includes(password), `a reason shows the password: ${x.reason}`);

    // afterwards a plain verify --live (no --claim) passes too
    assert.deepEqual(
      (await verifyLive(file, "local", false)).filter((x) => !x.ok),
      [],
    );
  });
});
