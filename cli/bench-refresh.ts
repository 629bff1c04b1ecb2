/**
 * npm run bench:refresh [-- --rows N] [--admin-url-env VAR]
 *
 * Times `refresh` against a plain `pg_dump | pg_restore` between the same two
 * databases on this machine's PostgreSQL: a generated source of about N rows
 * (default a million), in a scratch project whose stacks have unique names.
 * Prints rows/s, MB/s and the ratio (refresh time / plain time). Drops
 * everything it created. Not a test: run it by hand. BENCH_TRACE=1 prints the
 * refresh's progress lines with their times, to see where the time goes.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client, type QueryResult } from "pg";
import { type PostgresUrl, parsePostgresUrl } from "../lib/connectionUrl";
import { packageRoot } from "../lib/root";
import { dumpAndRestore } from "../refresh/engine";
import { main as refresh } from "./refresh";
import { command, type Io, progress, runCli, wholeNumberOption } from "./lib/run";

interface Opts {
  rows: string;
  adminUrlEnv?: string;
  json?: boolean;
}

export const main = command<Opts>(
  "bench:refresh",
  (c) =>
    c
      .description("Time refresh against plain pg_dump | pg_restore on this machine's PostgreSQL.")
      .option("--rows <n>", "rows in the generated source (about)", "1000000")
      .option("--admin-url-env <var>", "name of a variable with a superuser URL (default: postgresql://postgres@127.0.0.1:5432/postgres)")
      .option("--json", "print the result as JSON: the report's lines in `report`"),
  async ({ opts: o, io }) => {
    const rows = wholeNumberOption("--rows", o.rows, 1000);
    const adminRaw = (o.adminUrlEnv ? io.env[o.adminUrlEnv] : undefined) ?? "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable";
    const admin = parsePostgresUrl(adminRaw, o.adminUrlEnv ?? "the admin URL");
    const say = progress(io);
    const bench = newBench(adminRaw, admin);
    writeScratchProject(bench);
    try {
      say(`generating ${rows} rows in ${bench.srcDb}…`);
      await generateSource(bench, rows);
      say("plain pg_dump | pg_restore…");
      const plain = await timePlainCopy(bench, io.env);
      say("refresh…");
      const timed = await timeRefresh(bench, io);
      io.stdout.write(report(rows, plain, timed));
      return 0;
    } finally {
      await cleanUp(bench);
    }
  },
  { report: ({ rows }) => ({ rows: Number(rows) }) },
);

/** One run's names (unique, so runs never meet), its scratch project and how it reaches the server. */
interface Bench {
  /** The source and target stacks. */
  readonly SRC: string;
  readonly DST: string;
  readonly srcDb: string;
  readonly dstDb: string;
  /** Where the plain pg_dump | pg_restore restores. */
  readonly plainDb: string;
  /** The target's app role. */
  readonly role: string;
  /** The scratch project. */
  readonly dir: string;
  /** The admin URL, on another database. */
  readonly urlFor: (db: string) => string;
  /** Runs SQL as the admin on a database, on a connection of its own. */
  readonly sql: (db: string, text: string) => Promise<QueryResult>;
}

function newBench(adminRaw: string, admin: PostgresUrl): Bench {
  const hex = randomBytes(4).toString("hex");
  const [SRC, DST] = [`bsrc${hex}`, `bdst${hex}`];
  const [srcDb, dstDb, plainDb, role] = [`mina_${SRC}`, `mina_${DST}`, `mina_${DST}_plain`, `mina_${DST}_app`];
  const urlFor = (db: string) => adminRaw.replace(/\/[^/?]+(\?|$)/, `/${db}$1`);
  const sql = async (db: string, text: string) => {
    const c = new Client({ host: admin.host, port: admin.port, user: admin.user, password: admin.password, database: db });
    await c.connect();
    try {
      return await c.query(text);
    } finally {
      await c.end();
    }
  };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-bench-refresh-"));
  return { SRC, DST, srcDb, dstDb, plainDb, role, dir, urlFor, sql };
}

/** The scratch project: this project's Pulumi.yaml and rules, a staging-like target refreshed from a production-like source. */
function writeScratchProject({ dir, SRC, DST }: Bench): void {
  const read = (f: string) => fs.readFileSync(path.join(packageRoot(), f), "utf8");
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), read("Pulumi.yaml"));
  fs.writeFileSync(path.join(dir, "refresh.rules.yaml"), read("refresh.rules.yaml"));
  fs.writeFileSync(
    path.join(dir, `Pulumi.${DST}.yaml`),
    read("Pulumi.staging.yaml")
      .replace(/staging/g, DST)
      .replace(/STAGING/g, DST.toUpperCase())
      .replace(/^config:\n/m, `config:\n  mina:refreshFrom: ${SRC}\n`),
  );
  fs.writeFileSync(
    path.join(dir, `Pulumi.${SRC}.yaml`),
    read("Pulumi.production.yaml")
      .replace(/production/g, SRC)
      .replace(/PRODUCTION/g, SRC.toUpperCase())
      .replace(/^config:\n/m, "config:\n  mina:profile: production\n"),
  );
}

/** The target's role and the three databases, and a source of about `rows` rows: users, sessions, meetings, audio. */
async function generateSource({ sql, srcDb, dstDb, plainDb, role, SRC }: Bench, rows: number): Promise<void> {
  const users = Math.round(rows * 0.2);
  const meetings = Math.round(rows * 0.35);
  const audio = Math.round(rows * 0.35);
  const sessions = rows - users - meetings - audio;
  await sql("postgres", `CREATE ROLE ${role} NOLOGIN`);
  for (const db of [srcDb, dstDb, plainDb]) await sql("postgres", `CREATE DATABASE ${db}`);
  await sql(
    srcDb,
    `CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL, name text, password_hash text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
         CREATE TABLE sessions (id text PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, data jsonb NOT NULL);
         CREATE TABLE meetings (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, title text NOT NULL, transcript text, created_at timestamptz NOT NULL DEFAULT now());
         CREATE TABLE audio (id bigserial PRIMARY KEY, meeting_id bigint NOT NULL REFERENCES meetings, object_key text NOT NULL, duration_seconds int, created_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO users (email, name, password_hash) SELECT 'person' || i || '@real.example.com', 'Real Person ' || i, 'pbkdf2$' || md5(i::text) FROM generate_series(1, ${users}) i;
         INSERT INTO sessions SELECT 'tok' || md5(i::text), 1 + i % ${users}, '{}' FROM generate_series(1, ${sessions}) i;
         INSERT INTO meetings (user_id, title, transcript) SELECT 1 + i % ${users}, 'Meeting ' || i, repeat('words ', 20) || i FROM generate_series(1, ${meetings}) i;
         INSERT INTO audio (meeting_id, object_key, duration_seconds) SELECT 1 + i % ${meetings}, 's3://mina-audio-${SRC}/meetings/' || i || '.webm', i % 3600 FROM generate_series(1, ${audio}) i;
`,
  );
  await sql(srcDb, "VACUUM ANALYZE");
}

/** A plain pg_dump | pg_restore of the source: its time in seconds and the archive's size. */
async function timePlainCopy({ urlFor, srcDb, dstDb, plainDb }: Bench, env: NodeJS.ProcessEnv): Promise<{ seconds: number; bytes: number }> {
  const t0 = Date.now();
  const { bytes } = await dumpAndRestore({
    source: parsePostgresUrl(urlFor(srcDb)),
    target: parsePostgresUrl(urlFor(dstDb)),
    newDatabase: plainDb,
    skipTables: [],
    env,
    secrets: [],
  });
  return { seconds: (Date.now() - t0) / 1000, bytes };
}

/** A refresh from the source to the target, in seconds; BENCH_TRACE prints its progress lines with their times. */
async function timeRefresh({ urlFor, srcDb, dstDb, SRC, DST, dir }: Bench, io: Io): Promise<number> {
  const env = { ...io.env, BENCH_SRC_URL: urlFor(srcDb), BENCH_DST_URL: urlFor(dstDb) };
  const t1 = Date.now();
  let out = "";
  let err = "";
  const code = await refresh(["--from", SRC, "--to", DST, "--from-url-env", "BENCH_SRC_URL", "--to-url-env", "BENCH_DST_URL", "--yes"], {
    cwd: dir,
    env,
    stdout: {
      write: (s: string) => {
        out += s;
      },
    },
    stderr: {
      write: (s: string) => {
        if (io.env.BENCH_TRACE) process.stderr.write(`${((Date.now() - t1) / 1000).toFixed(2)} ${s}`);
        else err += s;
      },
    },
    interactive: false,
    progress: io.env.BENCH_TRACE !== undefined,
  });
  const timed = (Date.now() - t1) / 1000;
  if (code !== 0) throw new Error(`refresh failed: ${err.trim() || out.trim()}`);
  return timed;
}

/** Rows/s and MB/s of both, and the ratio (refresh time / plain time). */
function report(rows: number, plain: { seconds: number; bytes: number }, timed: number): string {
  const mb = plain.bytes / 1e6;
  const line = (what: string, s: number) =>
    `${what.padEnd(22)} ${s.toFixed(2).padStart(7)} s  ${Math.round(rows / s)
      .toString()
      .padStart(9)} rows/s  ${(mb / s).toFixed(1).padStart(6)} MB/s`;
  return `${rows} rows, ${mb.toFixed(1)} MB dumped\n${line("pg_dump | pg_restore", plain.seconds)}\n${line("refresh", timed)}\nratio ${(timed / plain.seconds).toFixed(2)} (target <= 1.5)\n`;
}

/** Drops every database and the role the run made, the copies a refresh left included, and the scratch project. */
async function cleanUp({ sql, plainDb, dstDb, srcDb, role, dir }: Bench): Promise<void> {
  for (const db of [plainDb, dstDb, srcDb]) await sql("postgres", `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
  const left = await sql("postgres", `SELECT datname FROM pg_database WHERE datname LIKE '${dstDb}_%'`).catch(() => undefined);
  for (const r of left?.rows ?? []) await sql("postgres", `DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`).catch(() => undefined);
  await sql("postgres", `DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) runCli(main);
