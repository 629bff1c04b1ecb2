/**
 * npm run refresh against the real PostgreSQL, as non-superuser roles: a copy
 * large enough to outlast --timeout.
 */
import * as assert from "assert";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { spawnCliAsync, run, withoutNpm } from "./cli";
import { REPO, tempProject } from "./helpers";
import { createProvisioner, withClient, type Provisioner } from "./pg";

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
  const staging = read("Pulumi.staging.yaml").replace(/staging/g, DST).replace(/STAGING/g, DST.toUpperCase()).replace(/^config:\n/m, `config:\n  mina:refreshFrom: ${SRC}\n`);
  const source = read("Pulumi.production.yaml").replace(/production/g, SRC).replace(/PRODUCTION/g, SRC.toUpperCase()).replace(/^config:\n/m, "config:\n  mina:profile: production\n");
  const project = tempProject({ "Pulumi.yaml": read("Pulumi.yaml"), [`Pulumi.${DST}.yaml`]: staging, [`Pulumi.${SRC}.yaml`]: source, "refresh.rules.yaml": rules });
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
    databases: async () => (await sql<{ datname: string }>("postgres", "SELECT datname FROM pg_database WHERE datname LIKE $1 ORDER BY 1", [`${f.DST_DB}%`])).map((r) => r.datname),
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
    const r = await f.bin("--yes", "--timeout", String(TIMEOUT_MS));
    assert.equal(r.status, 0, r.stderr);
    const done = new RegExp(`refreshed from ${f.SRC}: 1 tables, ${ROWS} rows, ${ROWS} values masked, 0 skipped, [\\d.]+ MB in ([\\d.]+) s`).exec(r.stdout);
    assert.ok(done, r.stdout);
    assert.ok(Number(done[1]) > 1, `the run outlasted the bound many times over (${done[1]} s)`);
    assert.deepEqual(await f.sql(f.DST_DB, "SELECT count(*)::int AS n, count(DISTINCT kind)::int AS k, min(length(kind))::int AS l FROM events"), [{ n: ROWS, k: 7, l: 64 }]);
  });

  it("still bounds waiting for a lock by --timeout: a table another session holds ends the run in one line, before any data moves", async () => {
    await withClient(f.admin.name, f.SRC_DB, async (c) => {
      await c.query("BEGIN");
      await c.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      try {
        const r = await f.bin("--yes", "--timeout", String(TIMEOUT_MS));
        assert.equal(r.status, 1, r.stdout);
        assert.equal(r.stderr, "error: counting events: canceling statement due to lock timeout\n");
      } finally {
        await c.query("ROLLBACK");
      }
    });
    assert.deepEqual((await f.databases()).filter((d) => d.includes("_refresh_")), []);
  });
});
