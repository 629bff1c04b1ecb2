/**
 * npm run refresh against the real PostgreSQL, as non-superuser roles: what a
 * source database may hold beyond the rules (refused before any data moves),
 * the roads rows could take around a rule (inheritance, partitions), schema
 * shapes that used to fail late, a copy large enough to outlast --timeout,
 * and what an interrupted refresh leaves behind.
 */
import * as assert from "node:assert";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnCliAsync, run, withoutNpm } from "./cli";
import { REPO, tempProject } from "./helpers";
import { Client } from "pg";
import { drawnFakeName } from "../refresh/engine";
import { asServerOwner, createProvisioner, PG_HOST, PG_PORT, withClient, type Provisioner } from "./pg";

const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");

/**
 * A source and a target stack of their own (unique names), the target provisioned as the
 * Database component does, the source created by the same non-superuser admin, and a
 * temporary project with the given rules.
 */
async function fixture(schema: string, rules: string) {
  const hex = randomBytes(4).toString("hex");
  const SRC = `rsrc${hex}`;
  const DST = `rdst${hex}`;
  const f = { SRC, DST, SRC_DB: `mina_${SRC}`, DST_DB: `mina_${DST}`, APP_ROLE: `mina_${DST}_app` };
  const admin: Provisioner = await createProvisioner();
  const env: NodeJS.ProcessEnv = { ...withoutNpm(process.env), SRC_URL: admin.url(f.SRC_DB), DST_URL: admin.url(f.DST_DB) };
  const staging = read("Pulumi.staging.yaml")
    .replace(/staging/g, DST)
    .replace(/STAGING/g, DST.toUpperCase())
    .replace(/^config:\n/m, `config:\n  mina:refreshFrom: ${SRC}\n`);
  const source = read("Pulumi.production.yaml")
    .replace(/production/g, SRC)
    .replace(/PRODUCTION/g, SRC.toUpperCase())
    .replace(/^config:\n/m, "config:\n  mina:profile: production\n");
  const project = tempProject({
    "Pulumi.yaml": read("Pulumi.yaml"),
    [`Pulumi.${DST}.yaml`]: staging,
    [`Pulumi.${SRC}.yaml`]: source,
    "refresh.rules.yaml": rules,
  });
  const sql = <T = Record<string, unknown>>(database: string, text: string, params: unknown[] = []): Promise<T[]> => admin.sql<T>(database, text, params);
  const roles: string[] = [];
  const cleanup = async () => {
    const dbs = (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE $1", [`${f.DST_DB}%`])).map((r) => r.datname);
    for (const db of [...dbs, f.SRC_DB]) await sql("postgres", `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
    for (const r of [f.APP_ROLE, ...roles]) await sql("postgres", `DROP ROLE IF EXISTS ${r}`);
    await admin.drop();
    project.cleanup();
  };
  try {
    await admin.provision({ appRole: f.APP_ROLE, database: f.DST_DB, password: randomBytes(16).toString("hex") });
    await sql("postgres", `CREATE DATABASE ${f.SRC_DB}`);
    await sql(f.DST_DB, "CREATE TABLE marker (v text); INSERT INTO marker VALUES ('old')");
    await sql(f.SRC_DB, schema);
  } catch (e) {
    await cleanup();
    throw e;
  }
  const args = ["--from", SRC, "--to", DST, "--from-url-env", "SRC_URL", "--to-url-env", "DST_URL"];
  return {
    ...f,
    admin,
    env,
    dir: project.dir,
    sql,
    args,
    rules: (text: string) => fs.writeFileSync(path.join(project.dir, "refresh.rules.yaml"), text),
    refresh: (...more: string[]) => run("refresh", [...args, ...more], { cwd: project.dir, env }),
    bin: (...more: string[]) => spawnCliAsync("refresh", [...args, ...more], { cwd: project.dir, env }),
    databases: async () =>
      (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", [`${f.DST_DB}%`])).map((r) => r.datname),
    marker: async () => (await sql<{ v: string }>(f.DST_DB, "SELECT v FROM marker")).map((r) => r.v),
    cleanup,
    /** A role of the test's own (created by the admin, dropped after the databases). */
    role(name: string) {
      roles.push(name);
      return name;
    },
  };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): void {
  assert.equal(stderr.trim().split("\n").length, 1, stderr);
  assert.doesNotMatch(stderr, /^\s+at /m, stderr);
}

/** The problems of a refusal that came before any data moved, in order (one line, "; " between them). */
function problemsBeforeAnyData(stderr: string): string[] {
  oneLine(stderr);
  return stderr
    .replace(/^error: \d+ problems, before any data moved: /, "")
    .trim()
    .split("; ");
}

describe("refresh: a table larger than --timeout allows for one statement", function () {
  this.timeout(120000);
  let f: Fixture;
  const ROWS = 50000;
  const TIMEOUT_MS = 300;
  before(async () => {
    // A table of 50,000 rows whose every hundredth body its domain checks slowly (2 ms): writing the rows takes
    // a second or more, on any machine, where reading the catalogs takes milliseconds.
    f = await fixture(
      `CREATE FUNCTION checked_slowly(v text) RETURNS boolean IMMUTABLE LANGUAGE plpgsql AS $$BEGIN IF right(v, 2) = '00' THEN PERFORM pg_sleep(0.002); END IF; RETURN true; END$$;
       CREATE DOMAIN body_text AS text CHECK (checked_slowly(VALUE));
       CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, body body_text NOT NULL);
       INSERT INTO events SELECT i, 'k' || (i % 7), repeat('x', 100) || i FROM generate_series(1, ${ROWS}) i;
       ANALYZE events;`,
      "tables:\n  events:\n    columns:\n      id: keep\n      kind: hash\n      body: keep\n",
    );
  });
  after(async () => f?.cleanup());

  it("bounds connecting and the guard by --timeout, not the copy: a copy that outlasts it finishes, through the bin", async () => {
    const r = await f.bin("--yes", "--timeout", `${TIMEOUT_MS}ms`);
    assert.equal(r.status, 0, r.stderr);
    const done = new RegExp(`refreshed from ${f.SRC}: 1 tables, ${ROWS} rows, ${ROWS} values masked, 0 skipped, [\\d.]+ MB in ([\\d.]+) s`).exec(r.stdout);
    assert.ok(done, r.stdout);
    assert.ok(Number(done[1]) > 1, `the run outlasted the bound many times over (${done[1]} s)`);
    assert.deepEqual(await f.sql(f.DST_DB, "SELECT count(*)::int AS n, count(DISTINCT kind)::int AS k, min(length(kind))::int AS l FROM events"), [
      { n: ROWS, k: 7, l: 64 },
    ]);
  });

  it("still bounds waiting for a lock by --timeout: a table another session holds ends the run in one line, before any data moves", async () => {
    await withClient(f.admin.name, f.SRC_DB, async (c) => {
      await c.query("BEGIN");
      await c.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      try {
        const r = await f.bin("--yes", "--timeout", `${TIMEOUT_MS}ms`);
        assert.equal(r.status, 1, r.stdout);
        assert.equal(r.stderr, "error: counting events: canceling statement due to lock timeout\n");
      } finally {
        await c.query("ROLLBACK");
      }
    });
    assert.deepEqual(
      (await f.databases()).filter((d) => d.includes("_refresh_")),
      [],
    );
  });
});

describe("refresh: a source holding what can reach outside the database or run with other rights is refused before any data moves", function () {
  this.timeout(60000);
  let f: Fixture;
  const FDW_PASSWORD = `fdwpw${randomBytes(6).toString("hex")}`;
  const SUB_PASSWORD = `subpw${randomBytes(6).toString("hex")}`;
  const RULES = "tables:\n  users:\n    columns:\n      id: keep\n      email: email\n";
  // (created without connecting, it has no slot to drop)
  const DROP_SUBSCRIPTION =
    "DO $$BEGIN IF EXISTS (SELECT 1 FROM pg_subscription WHERE subname = 'mirror') THEN ALTER SUBSCRIPTION mirror SET (slot_name = NONE); DROP SUBSCRIPTION mirror; END IF; END$$";
  before(async () => {
    f = await fixture("CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL); INSERT INTO users (email) VALUES ('a@real.example.com');", RULES);
  });
  after(async () => {
    if (!f) return;
    await asServerOwner(f.SRC_DB, DROP_SUBSCRIPTION).catch(() => undefined);
    await f.cleanup();
  });

  const unchanged = async () => {
    assert.deepEqual(await f.databases(), [f.DST_DB], "no copy was created");
    assert.deepEqual(await f.marker(), ["old"]);
  };

  it("names every such object in one line, before any data moves, and prints no password of a user mapping or subscription", async () => {
    // What the server's owner installs (as rds_superuser does on RDS), then what the database's owner builds on it.
    await asServerOwner(
      f.SRC_DB,
      `CREATE EXTENSION postgres_fdw; CREATE EXTENSION dblink; GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ${f.admin.name};
       CREATE FUNCTION abs_internal(integer) RETURNS integer LANGUAGE internal STRICT AS 'int4abs';
       CREATE FUNCTION on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$;
       CREATE EVENT TRIGGER on_ddl ON ddl_command_end EXECUTE FUNCTION on_ddl();
       CREATE SUBSCRIPTION mirror CONNECTION 'host=${PG_HOST} dbname=nowhere password=${SUB_PASSWORD}' PUBLICATION nothing WITH (connect = false);`,
    );
    await f.sql(
      f.SRC_DB,
      `CREATE SERVER prod_link FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '${PG_HOST}', dbname '${f.SRC_DB}');
       CREATE USER MAPPING FOR ${f.admin.name} SERVER prod_link OPTIONS (user 'reader', password '${FDW_PASSWORD}');
       CREATE FOREIGN TABLE remote_users (id bigint, email text) SERVER prod_link OPTIONS (table_name 'users');
       CREATE FUNCTION whoami() RETURNS name LANGUAGE sql SECURITY DEFINER AS 'SELECT current_user';
       CREATE PUBLICATION outbound FOR TABLE users;
       CREATE VIEW emails AS SELECT email FROM users;
       CREATE RULE no_delete AS ON DELETE TO users DO INSTEAD NOTHING;
       CREATE AGGREGATE total(integer) (SFUNC = int4pl, STYPE = integer);
       SELECT lo_from_bytea(0, 'a document');`,
    );
    const r = await f.refresh("--dry-run");
    assert.equal(r.status, 1, r.stdout);
    oneLine(r.stderr);
    for (const named of [
      "extension postgres_fdw: refresh copies nothing that can reach outside the database",
      "extension dblink: refresh copies nothing that can reach outside the database",
      "foreign server prod_link: refresh copies nothing that can reach outside the database",
      `user mapping for ${f.admin.name} on server prod_link: refresh copies nothing that can reach outside the database`,
      "foreign table public.remote_users: refresh copies nothing that can reach outside the database",
      "function public.whoami() is SECURITY DEFINER: refresh copies nothing that runs with another role's rights",
      "function public.abs_internal(integer) is in language internal",
      "event trigger on_ddl: refresh copies nothing that runs with another role's rights",
      "publication outbound: refresh copies nothing that can reach outside the database",
      "subscription mirror: refresh copies nothing that can reach outside the database",
      "view public.emails: refresh copies only tables and what they need",
      "rule no_delete on public.users: refresh copies only tables",
      "aggregate public.total(integer): refresh copies only tables",
      "1 large object: refresh copies only tables",
    ]) {
      assert.ok(r.stderr.includes(named), `names ${named}: ${r.stderr}`);
    }
    assert.match(r.stderr, /^error: 14 problems, before any data moved: /);
    assert.ok(!r.stderr.includes(FDW_PASSWORD) && !r.stdout.includes(FDW_PASSWORD), "no user mapping password");
    assert.ok(!r.stderr.includes(SUB_PASSWORD) && !r.stdout.includes(SUB_PASSWORD), "no subscription password");
    await unchanged();

    // Without them (as the database's owner drops them), one is enough to stop it; through the bin, with --yes.
    await asServerOwner(f.SRC_DB, `${DROP_SUBSCRIPTION}; DROP EVENT TRIGGER on_ddl; DROP FUNCTION on_ddl(); DROP FUNCTION abs_internal(integer)`);
    await f.sql(
      f.SRC_DB,
      "DROP FOREIGN TABLE remote_users; DROP USER MAPPING FOR CURRENT_USER SERVER prod_link; DROP SERVER prod_link; DROP PUBLICATION outbound; DROP VIEW emails; DROP RULE no_delete ON users; DROP AGGREGATE total(integer); SELECT lo_unlink(oid) FROM pg_largeobject_metadata",
    );
    await asServerOwner(f.SRC_DB, "DROP EXTENSION postgres_fdw; DROP EXTENSION dblink");
    const definer = await f.bin("--yes");
    assert.equal(definer.status, 1, definer.stdout);
    assert.equal(definer.stderr, "error: function public.whoami() is SECURITY DEFINER: refresh copies nothing that runs with another role's rights\n");
    await unchanged();

    // A SECURITY INVOKER function (a trigger's) is copied, owned by the app role: the same function without DEFINER refreshes.
    await f.sql(f.SRC_DB, "ALTER FUNCTION whoami() SECURITY INVOKER");
    const ok = await f.refresh("--dry-run");
    assert.equal(ok.status, 0, ok.stderr);
  });
});

describe("refresh: schemas, names, types, inheritance and partitions", function () {
  this.timeout(60000);
  let f: Fixture;
  let reader: string;
  const RULES = `tables:
  users:
    columns:
      id: keep
      email: email
      backup_email: email
      contact: email
      email_domain: generated
      name: fake_name
      password_hash: hash
      mood: keep
      ticket: keep
      updated_at: keep
  billing.invoices:
    columns:
      id: keep
      user_id: keep
      amount_cents: keep
      memo:
        constant: invoice
  '"UserEvents"':
    columns:
      id: keep
      '"createdAt"': keep
      '"Detail"': hash
  people:
    columns:
      id: keep
      email: email
  staff: skip
  contractors:
    columns:
      id: keep
      email: email
      agency: keep
  events:
    columns:
      id: keep
      at: keep
      email: email
`;
  const SCHEMA = `
    CREATE EXTENSION citext;
    CREATE SCHEMA billing;
    CREATE TYPE mood AS ENUM ('calm', 'busy');
    CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%_@_%');
    CREATE SEQUENCE ticket_no START 1000;
    SELECT setval('ticket_no', 4242);
    CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;
    CREATE TABLE users (
      id bigserial PRIMARY KEY,
      email citext UNIQUE NOT NULL,
      backup_email varchar(64),
      contact email_address,
      email_domain text GENERATED ALWAYS AS (split_part(email::text, '@', 2)) STORED,
      name text,
      password_hash text NOT NULL,
      mood mood NOT NULL DEFAULT 'calm',
      ticket bigint NOT NULL DEFAULT nextval('ticket_no'),
      updated_at timestamptz
    );
    CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();
    CREATE TABLE billing.invoices (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, amount_cents int NOT NULL, memo text);
    CREATE TABLE "UserEvents" (id bigserial PRIMARY KEY, "createdAt" timestamptz NOT NULL DEFAULT now(), "Detail" text);
    CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL);
    CREATE TABLE staff (badge text) INHERITS (people);
    CREATE TABLE contractors (agency text) INHERITS (people);
    CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, email text) PARTITION BY RANGE (at);
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE billing.events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    INSERT INTO users (email, backup_email, contact, name, password_hash)
      SELECT 'Person' || i || '@Real.Example.com', 'b' || i || '@real.example.com', 'c' || i || '@real.example.com', 'Real Person ' || i, 'pbkdf2$' || md5(i::text) FROM generate_series(1, 30) i;
    -- Real people bearing made-up names: two whose name is the one their own key draws, one in capitals, two of another.
    UPDATE users SET name = ${drawnFakeName("id")} WHERE id IN (1, 2);
    UPDATE users SET name = upper(${drawnFakeName("id")}) WHERE id = 3;
    UPDATE users SET name = 'Alex Archer' WHERE id IN (4, 5);
    INSERT INTO billing.invoices (user_id, amount_cents, memo) SELECT 1 + i % 30, i * 100, 'for Real Person ' || i FROM generate_series(1, 50) i;
    INSERT INTO "UserEvents" ("Detail") SELECT 'clicked ' || i FROM generate_series(1, 20) i;
    INSERT INTO people SELECT i, 'p' || i || '@real.example.com' FROM generate_series(1, 10) i;
    INSERT INTO staff SELECT 100 + i, 's' || i || '@real.example.com', 'B' || i FROM generate_series(1, 5) i;
    INSERT INTO contractors SELECT 200 + i, 'c' || i || '@real.example.com', 'Agency' FROM generate_series(1, 4) i;
    INSERT INTO events SELECT i, DATE '2024-06-01' + i * 30, 'e' || i || '@real.example.com' FROM generate_series(1, 12) i;`;

  before(async () => {
    f = await fixture(SCHEMA, RULES);
    // The source role as the README asks for it, and no more: CONNECT, USAGE on the schemas, SELECT on every table and sequence.
    reader = f.role(`${f.APP_ROLE}_reader`);
    await f.sql("postgres", `CREATE ROLE ${reader} LOGIN`);
    await f.sql(
      f.SRC_DB,
      `GRANT CONNECT ON DATABASE ${f.SRC_DB} TO ${reader}; GRANT USAGE ON SCHEMA public, billing TO ${reader};
       GRANT SELECT ON ALL TABLES IN SCHEMA public, billing TO ${reader}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA public, billing TO ${reader};`,
    );
    f.env.SRC_URL = `postgresql://${reader}@${PG_HOST}:${PG_PORT}/${f.SRC_DB}?sslmode=disable`;
  });
  after(async () => f?.cleanup());

  const unchanged = async () => {
    assert.deepEqual(await f.databases(), [f.DST_DB], "no copy was created");
    assert.deepEqual(await f.marker(), ["old"]);
  };
  /** Runs `change` on the source and `rules` in the project, then puts both back. */
  const withSource = async (change: string, undo: string, rules: string, fn: () => Promise<void>) => {
    await f.sql(f.SRC_DB, change);
    f.rules(rules);
    try {
      await fn();
    } finally {
      f.rules(RULES);
      await f.sql(f.SRC_DB, undo);
    }
  };

  it("refuses, before any data moves, rules the schema cannot take: each says what to write", async () => {
    const rules = RULES.replace(
      "      updated_at: keep\n",
      "      updated_at: keep\n      handle:\n        constant: x\n      domain_copy: keep\n      label: generated\n",
    )
      .replace("  staff: skip\n", "  staff: skip\n  events_2024:\n    columns:\n      id: keep\n      at: keep\n      email: keep\n")
      .replace("      agency: keep\n", "      agency: keep\n")
      .replace("  contractors:\n    columns:\n      id: keep\n      email: email\n", "  contractors:\n    columns:\n      id: keep\n      email: keep\n");
    await withSource(
      `ALTER TABLE users ADD COLUMN handle text UNIQUE, ADD COLUMN domain_copy text GENERATED ALWAYS AS (lower(email::text)) STORED, ADD COLUMN label text;
       CREATE TABLE billing."Refunds" (id int); CREATE SEQUENCE billing.refund_no;
       ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY; CREATE POLICY mine ON billing.invoices USING (user_id = 1);`,
      `ALTER TABLE users DROP COLUMN handle, DROP COLUMN domain_copy, DROP COLUMN label; DROP TABLE billing."Refunds"; DROP SEQUENCE billing.refund_no;
       DROP POLICY mine ON billing.invoices; ALTER TABLE billing.invoices DISABLE ROW LEVEL SECURITY;`,
      rules,
      async () => {
        const r = await f.refresh("--yes");
        assert.equal(r.status, 1, r.stdout);
        assert.deepEqual(problemsBeforeAnyData(r.stderr), [
          // the source role is not the table's owner: it would read only the rows the policy lets it see
          "table billing.invoices has row-level security the source role is subject to: the copy would hold only the rows it may see (read as the table's owner)",
          "row-level security policy mine on billing.invoices: refresh copies only tables and what they need (see README, Refreshing staging's data)",
          `table billing."Refunds" has no rule (add it to refresh.rules.yaml as 'billing."Refunds"': skip, or a rule for each column)`,
          "contractors.email is inherited from people, whose rule for it is email: write the same rule",
          "table events_2024 is a partition of events: its rows follow events's rule (remove events_2024 from refresh.rules.yaml)",
          "users.handle has a unique index, and a constant gives every row the same value: write hash, null or email",
          "users.domain_copy is a generated column (the copy computes it from the row's masked columns): write generated",
          "users.label is not a generated column: generated is only for GENERATED ALWAYS AS (...) STORED columns",
          // (the source role was granted what it reads before these were added)
          `the source role ${reader} may not read sequence billing.refund_no, table billing."Refunds": it needs USAGE on every schema and SELECT on every table and sequence (see README, Refreshing staging's data)`,
        ]);
        await unchanged();
      },
    );
  });

  it("refuses, before any data moves, masks whose values the column would not take: varchar(n), a domain's check or NOT NULL, another type", async () => {
    const rules = RULES.replace(
      "      updated_at: keep\n",
      "      updated_at: keep\n      short_email: email\n      work_email: email\n      required: 'null'\n      born:\n        constant: soon\n      nick: hash\n",
    );
    await withSource(
      `CREATE DOMAIN corp_email AS text CHECK (VALUE LIKE '%@acme.com'); CREATE DOMAIN required_text AS text NOT NULL;
       ALTER TABLE users ADD COLUMN short_email varchar(20), ADD COLUMN work_email corp_email, ADD COLUMN required required_text DEFAULT 'x', ADD COLUMN born date, ADD COLUMN nick char(10);
       GRANT SELECT ON users TO ${reader};`,
      "ALTER TABLE users DROP COLUMN short_email, DROP COLUMN work_email, DROP COLUMN required, DROP COLUMN born, DROP COLUMN nick; DROP DOMAIN corp_email; DROP DOMAIN required_text;",
      rules,
      async () => {
        const r = await f.refresh("--yes");
        assert.equal(r.status, 1, r.stdout);
        assert.deepEqual(problemsBeforeAnyData(r.stderr), [
          "users.nick is character(10), and hash writes up to 64 characters: write a rule whose values fit (constant: VALUE, null) or widen the column",
          "users.short_email is character varying(20), and email writes up to 23 characters here (user_<id>@example.invalid): write a rule whose values fit (constant: VALUE, null) or widen the column",
          `users.work_email is corp_email, which refuses what email writes (value for domain corp_email violates check constraint "corp_email_check"): write a rule whose values it takes`,
          "users.required is required_text, which refuses what null writes (domain required_text does not allow null values): write a rule whose values it takes",
          `users.born is date, which refuses what constant: soon writes (invalid input syntax for type date: "soon"): write a rule whose values it takes`,
        ]);
        await unchanged();
      },
    );
  });

  it("reads names as SQL writes them: a mixed-case name must be quoted, and says how", async () => {
    f.rules(RULES.replace(`'"UserEvents"':`, "UserEvents:"));
    try {
      const r = await f.refresh("--dry-run");
      assert.equal(r.status, 1);
      assert.equal(r.stderr, `error: refresh.rules.yaml: table "UserEvents" is not lowercase: write '"UserEvents"' for the name as it is, or userevents\n`);
    } finally {
      f.rules(RULES);
    }
  });

  it("copies only what the rules cover, each table on its own, every object the app role's; masks every form; then the next run drops what an interrupted one left", async () => {
    // What interrupted refreshes left: one unused (dropped), one in use (left alone), and names of another pattern (left alone).
    const [unused, inUse] = [`${f.DST_DB}_refresh_20000101000000`, `${f.DST_DB}_refresh_20000101000001`];
    const others = [`${f.DST_DB}_refresh_2000`, `${f.DST_DB}_refresh_20000101000000x`];
    for (const db of [unused, inUse, ...others]) await f.sql("postgres", `CREATE DATABASE "${db}"`);
    const held = new Client({ host: PG_HOST, port: PG_PORT, user: f.admin.name, database: inUse });
    held.on("error", () => undefined);
    await held.connect();
    // Every statement the refresh sends, to whichever server: the mask key must be in none.
    const pg = require("pg") as typeof import("pg");
    const query = pg.Client.prototype.query;
    const sent: string[] = [];
    pg.Client.prototype.query = function (this: unknown, q: unknown, ...rest: unknown[]) {
      sent.push(typeof q === "string" ? q : String((q as { text?: string })?.text ?? ""));
      return (query as (...a: unknown[]) => unknown).call(this, q, ...rest);
    } as typeof query;
    let r;
    try {
      r = await f.refresh("--yes");
    } finally {
      pg.Client.prototype.query = query;
      await held.end().catch(() => undefined);
    }
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /events: 12 rows in 2 partitions, masks email: email/);
    assert.match(r.stdout, /"UserEvents": 20 rows, masks "Detail": hash/);
    assert.match(r.stdout, new RegExp(`${unused}: left by an interrupted refresh: dropped first`));
    assert.match(r.stdout, new RegExp(`${inUse}: left by an interrupted refresh, in use by 1 session: left alone`));
    assert.match(r.stdout, new RegExp(`✓ ${f.DST} refreshed from ${f.SRC}: 6 tables, ${30 + 50 + 20 + 10 + 4 + 12} rows`));
    const dbs = await f.databases();
    assert.ok(!dbs.includes(unused), "the unused leftover was dropped");
    for (const db of [inUse, ...others]) assert.ok(dbs.includes(db), `${db} was left alone`);

    // The mask key was drawn on the source's server: no statement carried it, the COPY read it from the transaction's setting.
    assert.ok(
      sent.some((t) => t.includes("COPY (SELECT") && t.includes("current_setting('mina_refresh.hash_key')")),
      "the hash mask reads the key from the setting",
    );
    assert.deepEqual(
      sent.filter((t) => /[0-9a-f]{32,}/i.test(t)),
      [],
      "no statement holds a key-like hex string",
    );

    const src = <T = Record<string, unknown>>(q: string) => f.sql<T>(f.SRC_DB, q);
    const dst = <T = Record<string, unknown>>(q: string) => f.sql<T>(f.DST_DB, q);
    // Everything in the copy is the app role's: schemas, tables, sequences, types, functions, the extension.
    const owners = await dst<{ what: string; owner: string }>(
      `SELECT 'schema ' || nspname AS what, pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'billing'
       UNION ALL SELECT 'relation ' || oid::regclass, pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'billing'))
       UNION ALL SELECT 'function ' || oid::regprocedure, pg_get_userbyid(proowner) FROM pg_proc WHERE pronamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('public', 'billing'))
         AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = pg_proc.oid AND d.deptype = 'e')
       UNION ALL SELECT 'type ' || typname, pg_get_userbyid(typowner) FROM pg_type WHERE typname IN ('mood', 'email_address')
       UNION ALL SELECT 'extension ' || extname, pg_get_userbyid(extowner) FROM pg_extension WHERE extname <> 'plpgsql'`,
    );
    assert.ok(owners.length > 20, `${owners.length} objects`);
    assert.deepEqual(
      owners.filter((o) => o.owner !== f.APP_ROLE),
      [],
    );
    assert.ok(owners.some((o) => o.what === "function touch()") && owners.some((o) => o.what === "extension citext"));
    assert.deepEqual(await dst("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"), [{ tgname: "users_touch" }]);

    // Masks, on citext, varchar(n) and domain columns alike; the generated column computed from the masked email.
    const users = await dst<{ id: string; email: string; backup_email: string; contact: string; email_domain: string; name: string }>(
      "SELECT id, email::text, backup_email, contact, email_domain, name FROM users ORDER BY id",
    );
    assert.equal(users.length, 30);
    for (const u of users) {
      assert.equal(u.email, `user_${u.id}@example.invalid`);
      assert.equal(u.backup_email, u.email);
      assert.equal(u.contact, u.email);
      assert.equal(u.email_domain, "example.invalid");
    }
    // fake_name: no row kept its own name (in any case), and real people named like the made-up ones did not stop it.
    const names = new Map((await src<{ id: string; name: string }>("SELECT id, name FROM users")).map((u) => [u.id, u.name.toLowerCase()]));
    for (const u of users) assert.notEqual(u.name.toLowerCase(), names.get(u.id), `user ${u.id} kept its name`);
    // Sequences: the free-standing one and the serials continue where the source's are.
    assert.deepEqual(await dst("SELECT last_value::int AS v FROM ticket_no"), await src("SELECT last_value::int AS v FROM ticket_no"));
    assert.deepEqual(await dst("SELECT nextval('users_id_seq')::int AS v"), [{ v: 31 }]);
    // Another schema, a mixed-case table and column.
    assert.deepEqual(await dst("SELECT count(*)::int AS n, min(memo) AS memo, max(memo) AS m2 FROM billing.invoices"), [
      { n: 50, memo: "invoice", m2: "invoice" },
    ]);
    assert.deepEqual(await dst(`SELECT count(*)::int AS n FROM "UserEvents" WHERE "Detail" ~ '^[0-9a-f]{64}$'`), [{ n: 20 }]);
    // Inheritance: each table on its own; the skipped child's rows are nowhere, not even in its parent's copy.
    assert.deepEqual(
      await dst(
        "SELECT (SELECT count(*) FROM ONLY people)::int AS people, (SELECT count(*) FROM staff)::int AS staff, (SELECT count(*) FROM contractors)::int AS contractors, (SELECT count(*) FROM people)::int AS all",
      ),
      [{ people: 10, staff: 0, contractors: 4, all: 14 }],
    );
    // Partitions: every row in the partition it came from, masked.
    const parts = "SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM events GROUP BY 1 ORDER BY 1";
    assert.deepEqual(await dst(parts), await src(parts));
    // No source value of any of these reached the target's server.
    assert.deepEqual(await dst("SELECT count(*)::int AS n FROM people WHERE email LIKE '%real.example.com'"), [{ n: 0 }]);
    assert.deepEqual(await dst("SELECT count(*)::int AS n FROM events WHERE email LIKE '%real.example.com'"), [{ n: 0 }]);
  });
});
