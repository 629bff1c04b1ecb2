/**
 * npm run refresh against the real PostgreSQL of this machine: a generated
 * source database, a target, and a temporary project whose stacks have unique
 * names (so their derived databases are this test's own, dropped after).
 */
import * as assert from "node:assert";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "pg";
import { loadStackOffline, readAllStacks } from "../config";
import { brokenForeignKeys } from "../refresh/engine";
import { checkRulesAgainstSchema, parseName, parseRules } from "../refresh/rules";
import { run, withoutNpm } from "./cli";
import { REPO, tempProject } from "./helpers";
import { createProvisioner, PG_HOST, PG_PORT, type Provisioner } from "./pg";

const hex = randomBytes(4).toString("hex");
const SRC = `rsrc${hex}`;
const DST = `rdst${hex}`;
const SRC_DB = `mina_${SRC}`;
const DST_DB = `mina_${DST}`;
const APP_ROLE = `mina_${DST}_app`;
const USERS = 40;

/** The server's admin, as production has one: not a superuser (tests/pg.ts). Every statement of this file runs as it. */
let admin: Provisioner;
const sql = <T = Record<string, unknown>>(database: string, text: string, params: unknown[] = []): Promise<T[]> => admin.sql<T>(database, text, params);

const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");

/** The target from staging's file, the source from production's, renamed; refreshFrom added to the target. */
function projectFiles(extraTarget = `  mina:refreshFrom: ${SRC}\n`): Record<string, string> {
  const staging = read("Pulumi.staging.yaml")
    .replace(/staging/g, DST)
    .replace(/STAGING/g, DST.toUpperCase())
    .replace(/^config:\n/m, `config:\n${extraTarget}`);
  const source = read("Pulumi.production.yaml")
    .replace(/production/g, SRC)
    .replace(/PRODUCTION/g, SRC.toUpperCase())
    .replace(/^config:\n/m, "config:\n  mina:profile: production\n");
  return {
    "Pulumi.yaml": read("Pulumi.yaml"),
    [`Pulumi.${DST}.yaml`]: staging,
    [`Pulumi.${SRC}.yaml`]: source,
    "Pulumi.production.yaml": read("Pulumi.production.yaml"),
    "refresh.rules.yaml": read("refresh.rules.yaml"),
  };
}

describe("refresh: anonymized copy from one stack's database into another's", function () {
  this.timeout(60000);
  let project: { dir: string; cleanup: () => void };
  const env: NodeJS.ProcessEnv = withoutNpm(process.env);
  const refresh = (...args: string[]) =>
    run("refresh", ["--from", SRC, "--to", DST, "--from-url-env", "SRC_URL", "--to-url-env", "DST_URL", ...args], { cwd: project.dir, env });
  const databases = async () =>
    (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", [`${DST_DB}%`])).map((r) => r.datname);

  before(async () => {
    admin = await createProvisioner();
    Object.assign(env, { SRC_URL: admin.url(SRC_DB), DST_URL: admin.url(DST_DB) });
    project = tempProject(projectFiles());
    // The target as the Database component makes it (its app role, the admin its member, PUBLIC revoked); the source is the admin's own.
    await admin.provision({ appRole: APP_ROLE, database: DST_DB, password: randomBytes(16).toString("hex") });
    await sql("postgres", `CREATE DATABASE ${SRC_DB}`);
    await sql(DST_DB, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old')");
    await sql(
      SRC_DB,
      `CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, name text, password_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
       CREATE TABLE sessions (id text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, data jsonb NOT NULL);
       CREATE TABLE meetings (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, title text NOT NULL, transcript text, created_at timestamptz NOT NULL DEFAULT now());
       CREATE TABLE audio (id bigserial PRIMARY KEY, meeting_id bigint NOT NULL REFERENCES meetings, object_key text NOT NULL, duration_seconds int, created_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO users (email, name, password_hash) SELECT 'person' || i || '@real.example.com', 'Real Person ' || i, 'pbkdf2$' || md5(i::text) FROM generate_series(1, ${USERS}) i;
       INSERT INTO sessions SELECT 'tok' || md5(i::text), i, '{}' FROM generate_series(1, ${USERS}) i;
       INSERT INTO meetings (user_id, title, transcript) SELECT 1 + i % ${USERS}, 'Secret plans ' || i, 'we said ' || i FROM generate_series(1, 100) i;
       INSERT INTO audio (meeting_id, object_key, duration_seconds) SELECT i, 's3://mina-audio-${SRC}/meetings/' || i || '.webm', i FROM generate_series(1, 100) i;`,
    );
  });

  after(async () => {
    if (admin) {
      for (const db of [...(await databases()), SRC_DB]) await sql("postgres", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await sql("postgres", `DROP ROLE IF EXISTS ${APP_ROLE}`);
      await admin.drop();
    }
    project?.cleanup();
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    const r = await refresh("--dry-run");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`users: ${USERS} rows, masks email: email, name: fake_name, password_hash: hash`));
    assert.match(r.stdout, /sessions: skipped/);
    assert.match(r.stdout, /dry run: nothing changed/);
    assert.deepEqual(await databases(), [DST_DB]);
    assert.deepEqual(await sql(DST_DB, "SELECT v FROM marker"), [{ v: "old" }]);
  });

  it("--json prints the report as one JSON document, and a refusal as one too", async () => {
    const r = await refresh("--dry-run", "--json");
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { ok: boolean; from: string; to: string; dryRun: boolean; report: string[] };
    assert.deepEqual([doc.ok, doc.from, doc.to, doc.dryRun], [true, SRC, DST, true]);
    assert.ok(doc.report.includes("dry run: nothing changed"), doc.report.join("\n"));
    const refused = await run("refresh", ["--from", SRC, "--to", "production", "--json"], { cwd: project.dir, env });
    assert.equal(refused.status, 1);
    assert.match(JSON.parse(refused.stdout).error, /^refusing to refresh production/);
  });

  it("refuses --to production, a production-tier target, a target that does not name the source (1), and --from = --to (2)", async () => {
    const toProd = await run("refresh", ["--from", SRC, "--to", "production", "--yes"], { cwd: project.dir, env });
    assert.equal(toProd.status, 1);
    assert.match(toProd.stderr, /^error: refusing to refresh production: it is a production-tier stack/);
    const reversed = await run("refresh", ["--from", DST, "--to", SRC, "--yes", "--from-url-env", "DST_URL", "--to-url-env", "SRC_URL"], {
      cwd: project.dir,
      env,
    });
    assert.equal(reversed.status, 1);
    assert.match(reversed.stderr, new RegExp(`refusing to refresh ${SRC}: it is a production-tier stack`));
    const undeclared = await run("refresh", ["--from", "production", "--to", DST, "--yes"], { cwd: project.dir, env });
    assert.equal(undeclared.status, 1);
    assert.match(undeclared.stderr, new RegExp(`declares mina:refreshFrom: ${SRC}`));
    const same = await run("refresh", ["--from", DST, "--to", DST, "--yes"], { cwd: project.dir, env });
    assert.equal(same.status, 2);
    assert.equal(same.stderr.trim().split("\n").length, 1);
  });

  it("refuses swapped URLs by name, printing no URL", async () => {
    const r = await run("refresh", ["--from", SRC, "--to", DST, "--from-url-env", "DST_URL", "--to-url-env", "SRC_URL", "--yes"], { cwd: project.dir, env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /are the URLs swapped\?/);
    assert.doesNotMatch(r.stderr, /postgresql:\/\//);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });

  it("stops at a column without a rule before any data moves", async () => {
    await sql(SRC_DB, "ALTER TABLE users ADD COLUMN phone text");
    try {
      const r = await refresh("--yes");
      assert.equal(r.status, 1);
      assert.equal(r.stderr, "error: users.phone has no rule\n");
      assert.deepEqual(await databases(), [DST_DB]);
      assert.deepEqual(await sql(DST_DB, "SELECT v FROM marker"), [{ v: "old" }]);
    } finally {
      await sql(SRC_DB, "ALTER TABLE users DROP COLUMN phone");
    }
  });

  it("drops the new database when the copy fails: the target is as it was", async () => {
    const r = await run("refresh", ["--from", SRC, "--to", DST, "--from-url-env", "SRC_URL", "--to-url-env", "DST_URL", "--yes"], {
      cwd: project.dir,
      env: { ...env, MINA_PG_RESTORE_BIN: "false" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`^error: refresh failed, ${DST} is unchanged: pg_restore into the new database failed: exit 1\n$`));
    assert.deepEqual(await databases(), [DST_DB]);
    assert.deepEqual(await sql(DST_DB, "SELECT v FROM marker"), [{ v: "old" }]);
  });

  it("leaves the target as it was when the refresh is killed midway (SIGKILL, no clean-up of its own); --prune then drops the copy it left, once no session uses it", async () => {
    const { spawn } = require("node:child_process") as typeof import("child_process");
    // A pg_restore that waits before it starts, so the kill lands while the copy is under way.
    const slow = path.join(project.dir, "slow-pg-restore");
    fs.writeFileSync(slow, '#!/bin/sh\nsleep 10\nexec pg_restore "$@"\n', { mode: 0o755 });
    const child = spawn(
      path.join(REPO, "node_modules", ".bin", "tsx"),
      [path.join(REPO, "cli", "main.ts"), "refresh", "--from", SRC, "--to", DST, "--from-url-env", "SRC_URL", "--to-url-env", "DST_URL", "--yes"],
      { cwd: project.dir, env: { ...env, MINA_PG_RESTORE_BIN: slow }, stdio: "ignore", detached: true },
    );
    let copies: string[] = [];
    try {
      const deadline = Date.now() + 30000;
      while (Date.now() < deadline) {
        copies = (await databases()).filter((d) => d.includes("_refresh_"));
        if (copies.length > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(copies.length, 1, "the refresh had started its copy");
      // While it runs, --prune does not run at all: the refresh holds the target's lock.
      const whileRunning = await run("refresh", ["--from", SRC, "--to", DST, "--to-url-env", "DST_URL", "--prune", "--yes"], { cwd: project.dir, env });
      assert.equal(whileRunning.status, 1, whileRunning.stdout);
      assert.match(whileRunning.stderr, /^error: another refresh or --prune of \S+ is running on its server/);
      process.kill(-child.pid!, "SIGKILL");
      await new Promise((r) => child.once("exit", r));
      // The target is untouched and still the target; only the unfinished copy is left behind.
      assert.deepEqual(await sql(DST_DB, "SELECT v FROM marker"), [{ v: "old" }]);
      assert.deepEqual(
        (await databases()).filter((d) => !d.includes("_refresh_")),
        [DST_DB],
      );
      // Its server sessions end when their connections close; then --prune drops it, and only it.
      const gone = Date.now() + 10000;
      while (
        Date.now() < gone &&
        (await sql<{ n: number }>("postgres", "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [copies[0]]))[0].n > 0
      ) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const dry = await run("refresh", ["--from", SRC, "--to", DST, "--to-url-env", "DST_URL", "--prune"], { cwd: project.dir, env });
      assert.equal(dry.status, 0, dry.stderr);
      assert.equal(dry.stdout, `would drop ${copies[0]} (left by an interrupted refresh)\ndry run: nothing dropped; run again with --yes to drop\n`);
      const prune = await run("refresh", ["--from", SRC, "--to", DST, "--to-url-env", "DST_URL", "--prune", "--yes"], { cwd: project.dir, env });
      assert.equal(prune.status, 0, prune.stderr);
      assert.match(prune.stdout, new RegExp(`✓ dropped 1 copy left by an interrupted refresh of ${DST_DB}\n$`));
      assert.deepEqual(await databases(), [DST_DB]);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      for (const db of (await databases()).filter((d) => d.includes("_refresh_"))) await sql("postgres", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
  });

  it("refuses an admin that is not a member of the target's app role, before any data moves, in one line", async () => {
    // with CONNECT granted on its own, the membership check speaks; without either, the connection is refused
    await sql("postgres", `GRANT CONNECT ON DATABASE ${DST_DB} TO ${admin.name}`);
    await sql("postgres", `REVOKE ${APP_ROLE} FROM ${admin.name}`);
    try {
      const r = await refresh("--dry-run");
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `error: ${admin.name} is not a member of ${DST}'s app role ${APP_ROLE}: it could not hand the copy over, end the app's sessions or rename ${DST_DB} (the Database component grants the admin that membership; see README, Database modes)\n`,
      );
    } finally {
      await sql("postgres", `GRANT ${APP_ROLE} TO ${admin.name}`);
      await sql("postgres", `REVOKE CONNECT ON DATABASE ${DST_DB} FROM ${admin.name}`);
    }
    await sql("postgres", `REVOKE ${APP_ROLE} FROM ${admin.name}`);
    try {
      const r = await refresh("--dry-run");
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^error: cannot connect to ${DST}'s database \\(127\\.0\\.0\\.1:5432/${DST_DB} as ${admin.name}\\): permission denied for database "${DST_DB}"`,
        ),
      );
      assert.equal(r.stderr.trim().split("\n").length, 1);
    } finally {
      await sql("postgres", `GRANT ${APP_ROLE} TO ${admin.name}`);
    }
    assert.deepEqual(await databases(), [DST_DB]);
  });

  it("stops at a session it may not end (another role's), names it, and leaves the target as it was", async () => {
    const other = `${APP_ROLE}_other`;
    await sql("postgres", `CREATE ROLE ${other} LOGIN`);
    await sql("postgres", `GRANT CONNECT ON DATABASE ${DST_DB} TO ${other}`);
    const held = new Client({ host: PG_HOST, port: PG_PORT, user: other, database: DST_DB });
    held.on("error", () => undefined);
    await held.connect();
    try {
      const r = await refresh("--yes");
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr,
        `error: refresh failed, ${DST} is unchanged: ${DST_DB} has sessions of ${other}, which ${admin.name} may not end: end them and run again\n`,
      );
      assert.deepEqual(await databases(), [DST_DB]);
    } finally {
      await held.end().catch(() => undefined);
      await sql("postgres", `REVOKE CONNECT ON DATABASE ${DST_DB} FROM ${other}`);
      await sql("postgres", `DROP ROLE ${other}`);
    }
    assert.deepEqual(await sql(DST_DB, "SELECT v FROM marker"), [{ v: "old" }]);
  });

  it("copies, masks, checks and renames the copy in, ending the app's sessions; the previous data is kept until --prune", async () => {
    const app = new Client({ host: PG_HOST, port: PG_PORT, user: APP_ROLE, database: DST_DB });
    app.on("error", () => undefined);
    await app.connect();
    const r = await refresh("--yes");
    assert.equal(r.status, 0, r.stderr);
    await assert.rejects(app.query("SELECT 1"), "the app's session was ended for the rename");
    await app.end().catch(() => undefined);
    assert.match(r.stdout, new RegExp(`✓ ${DST} refreshed from ${SRC}: 3 tables, ${USERS + 200} rows`));
    const dbs = await databases();
    assert.equal(dbs.length, 2, dbs.join(", "));
    const previous = dbs.find((d) => d.startsWith(`${DST_DB}_previous_`))!;
    assert.ok(previous);
    assert.deepEqual(await sql(previous, "SELECT v FROM marker"), [{ v: "old" }]);
    assert.deepEqual(await sql(DST_DB, "SELECT to_regclass('marker') AS t"), [{ t: null }]);

    const src = await sql<Record<string, string>>(SRC_DB, "SELECT email, name, password_hash FROM users");
    const dst = await sql<Record<string, string>>(DST_DB, "SELECT id, email, name, password_hash FROM users ORDER BY id");
    assert.equal(dst.length, USERS);
    const left = new Set(dst.flatMap((u) => [u.email, u.name, u.password_hash]));
    for (const u of src) for (const v of [u.email, u.name, u.password_hash]) assert.ok(!left.has(v), `source value left: ${v}`);
    assert.equal(dst[0].email, `user_${dst[0].id}@example.invalid`);
    assert.equal(new Set(dst.map((u) => u.password_hash)).size, USERS);
    for (const t of ["meetings", "audio"]) {
      const [a, b] = [await sql(SRC_DB, `SELECT count(*)::int AS n FROM ${t}`), await sql(DST_DB, `SELECT count(*)::int AS n FROM ${t}`)];
      assert.deepEqual(a, b, t);
    }
    assert.deepEqual(await sql(DST_DB, "SELECT count(*)::int AS n FROM sessions"), [{ n: 0 }]);
    assert.deepEqual(await sql(DST_DB, "SELECT count(*)::int AS n FROM meetings WHERE title LIKE 'Secret%' OR transcript LIKE 'we said%'"), [{ n: 0 }]);
    assert.deepEqual(await sql(DST_DB, "SELECT object_key FROM audio WHERE id = 7"), [{ object_key: `s3://mina-audio-${DST}/meetings/7.webm` }]);

    const c = new Client({ host: PG_HOST, port: PG_PORT, user: admin.name, database: DST_DB });
    await c.connect();
    try {
      assert.deepEqual(await brokenForeignKeys(c), []);
      const owners = await c.query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'");
      assert.deepEqual(owners.rows, [{ tableowner: APP_ROLE }]);
      const db = await c.query("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()");
      assert.deepEqual(db.rows, [{ owner: APP_ROLE }]);
      // PUBLIC keeps nothing on the copy, as the Database component leaves the database it replaces
      const acl = await c.query(
        "SELECT datacl IS NOT NULL AS set, (SELECT count(*) FROM aclexplode(datacl) WHERE grantee = 0)::int AS public FROM pg_database WHERE datname = current_database()",
      );
      assert.deepEqual(acl.rows, [{ set: true, public: 0 }]);
    } finally {
      await c.end();
    }

    const prune = await run("refresh", ["--from", SRC, "--to", DST, "--to-url-env", "DST_URL", "--prune", "--yes"], { cwd: project.dir, env });
    assert.equal(prune.status, 0, prune.stderr);
    assert.match(prune.stdout, /dropped 1 previous copy/);
    assert.deepEqual(await databases(), [DST_DB]);
  });

  it("refuses a copy in which a source value survives its mask (a source email already of the mask's form), leaving the target as it was", async () => {
    const before = await sql<{ email: string }>(DST_DB, "SELECT email FROM users ORDER BY id LIMIT 1");
    const [row] = await sql<{ id: string }>(SRC_DB, "INSERT INTO users (email, name, password_hash) VALUES ('placeholder', 'x', 'y') RETURNING id");
    await sql(SRC_DB, "UPDATE users SET email = 'user_' || id || '@example.invalid' WHERE id = $1", [row.id]);
    try {
      const r = await refresh("--yes");
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        new RegExp(`^error: the refreshed copy failed its checks, ${DST} is unchanged: users\\.email: 1 source value left after masking\n$`),
      );
      assert.deepEqual(await databases(), [DST_DB]);
      assert.deepEqual(await sql(DST_DB, "SELECT email FROM users ORDER BY id LIMIT 1"), before);
    } finally {
      await sql(SRC_DB, "DELETE FROM users WHERE id = $1", [row.id]);
    }
  });
});

describe("mina:refreshFrom in a stack file", () => {
  const files = (staging: string, production = "") => {
    const f = {
      "Pulumi.yaml": read("Pulumi.yaml"),
      "Pulumi.staging.yaml": read("Pulumi.staging.yaml"),
      "Pulumi.production.yaml": read("Pulumi.production.yaml"),
    };
    f["Pulumi.staging.yaml"] = f["Pulumi.staging.yaml"].replace(/^config:\n/m, `config:\n${staging}`);
    f["Pulumi.production.yaml"] = f["Pulumi.production.yaml"].replace(/^config:\n/m, `config:\n${production}`);
    return f;
  };
  const problems = (staging: string, production = "", stack = "staging"): string => {
    const p = tempProject(files(staging, production));
    try {
      loadStackOffline(p.dir, stack, readAllStacks(p.dir));
      return "";
    } catch (e) {
      return (e as Error).message;
    } finally {
      p.cleanup();
    }
  };

  it("is accepted in staging naming production", () => assert.equal(problems("  mina:refreshFrom: production\n"), ""));
  it("is refused in production", () =>
    assert.match(problems("", "  mina:refreshFrom: staging\n", "production"), /mina:refreshFrom.*refused in a production environment/));
  it("is refused naming the stack itself", () => assert.match(problems("  mina:refreshFrom: staging\n"), /names this stack itself/));
  it("is refused naming a stack without a file", () => assert.match(problems("  mina:refreshFrom: nosuch\n"), /"nosuch" is not a stack of this project/));
});

describe("refresh rules", () => {
  const rules = parseRules(read("refresh.rules.yaml"));
  const cols = (extra: Array<[string, string, string, boolean]> = []) =>
    [
      ["users", "id", "bigint", false],
      ["users", "email", "text", false],
      ["users", "name", "text", true],
      ["users", "password_hash", "text", false],
      ["users", "created_at", "timestamp with time zone", false],
      ["sessions", "id", "text", false],
      ["meetings", "id", "bigint", false],
      ["meetings", "user_id", "bigint", false],
      ["meetings", "title", "text", false],
      ["meetings", "transcript", "text", true],
      ["meetings", "created_at", "timestamp with time zone", false],
      ["audio", "id", "bigint", false],
      ["audio", "meeting_id", "bigint", false],
      ["audio", "object_key", "text", false],
      ["audio", "duration_seconds", "integer", true],
      ["audio", "created_at", "timestamp with time zone", false],
      ...extra,
    ].map(([table, column, dataType, nullable]) => ({
      table: table as string,
      column: column as string,
      dataType: dataType as string,
      nullable: nullable as boolean,
    }));

  it("the committed rules classify the app's schema", () => assert.deepEqual(checkRulesAgainstSchema(rules, cols()), []));
  it("refuses an unknown table, a vanished column and null for NOT NULL", () => {
    const strict = parseRules("tables:\n  users:\n    columns:\n      id: keep\n      email: 'null'\n      gone: keep\n");
    assert.deepEqual(
      checkRulesAgainstSchema(
        strict,
        cols()
          .filter((c) => c.table === "users" || c.table === "extra")
          .concat([{ table: "extra", column: "x", dataType: "text", nullable: true }]),
      ),
      [
        "table extra has no rule (add it to refresh.rules.yaml: skip, or a rule for each column)",
        "users.email is NOT NULL: its rule cannot be null",
        "users.name has no rule",
        "users.password_hash has no rule",
        "users.created_at has no rule",
        "users.gone has a rule but no longer exists",
      ],
    );
  });
  it("refuses unknown rules in one line", () =>
    assert.throws(() => parseRules("tables:\n  users:\n    columns:\n      id: scramble\n"), /users\.id: unknown rule "scramble"/));
  it("names tables and columns as SQL writes them: schema.table, quoted names with their quotes doubled", () => {
    const r = parseRules(
      `tables:\n  billing.invoices: skip\n  '"UserEvents"':\n    key: '"userId"'\n    columns:\n      '"userId"': keep\n      '"Email"': email\n  'billing."Odd ""Name"""': skip\n  public.sessions: skip\n`,
    );
    assert.deepEqual(
      [...r.tables.values()].map((t) => [t.table, t.schema, t.name, t.key, [...t.columns.keys()]]),
      [
        ["billing.invoices", "billing", "invoices", "id", []],
        ['"UserEvents"', "public", "UserEvents", "userId", ["userId", "Email"]],
        ['billing."Odd ""Name"""', "billing", 'Odd "Name"', "id", []],
        ["sessions", "public", "sessions", "id", []],
      ],
    );
    assert.deepEqual(parseName("a.b.c", 2), { error: '"a.b.c" is not a table name (table or schema.table)' });
    assert.deepEqual(parseName('"unclosed', 2), { error: '"\\"unclosed" has an unclosed double quote' });
    assert.deepEqual(parseName('""', 1), { error: '"\\"\\"": a quoted name has 1 to 63 bytes' });
    assert.throws(() => parseRules("tables:\n  users: skip\n  public.users: skip\n"), /table users has two rules \(public\.users names it again\)/);
    assert.throws(
      () => parseRules("tables:\n  Billing.invoices: skip\n"),
      /table "Billing" is not lowercase: write '"Billing"\.invoices' for the name as it is, or billing$/,
    );
    assert.throws(
      () => parseRules("tables:\n  users:\n    columns:\n      createdAt: keep\n"),
      /users: column "createdAt" is not lowercase: write '"createdAt"'/,
    );
    assert.throws(() => parseRules("tables:\n  'bad name': skip\n"), /table "bad name" is not a PostgreSQL name/);
  });
});
