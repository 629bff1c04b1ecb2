/**
 * The mechanism of `npm run refresh`: identify both databases, copy the source
 * into a new database on the target's server (`pg_dump | pg_restore`, piped,
 * nothing on disk), mask it, check it, and only then rename it in place of the
 * target. Any failure before the rename drops the new database: the target is
 * left as it was.
 */
import { spawn } from "child_process";
import { Transform } from "stream";
import { randomBytes } from "crypto";
import { Client, escapeIdentifier as ident, escapeLiteral as lit } from "pg";
import { handOverStatements } from "../config/databasePrivileges";
import type { PostgresUrl } from "../lib/connectionUrl";
import { Mask, Rules, SourceColumn } from "./rules";

/** Where a connection landed: the server (as far as it says) and the database. */
export interface Identity {
  readonly database: string;
  readonly address: string | null;
  readonly port: number | null;
  /** pg_control_system().system_identifier, when the role may read it. */
  readonly systemId: string | null;
}

export async function identify(c: Client): Promise<Identity> {
  const r = await c.query("SELECT current_database() AS db, host(inet_server_addr()) AS addr, inet_server_port() AS port");
  let systemId: string | null = null;
  try {
    await c.query("SAVEPOINT ident");
    const s = await c.query("SELECT system_identifier::text AS id FROM pg_control_system()");
    systemId = s.rows[0]?.id ?? null;
    await c.query("RELEASE SAVEPOINT ident");
  } catch {
    await c.query("ROLLBACK TO SAVEPOINT ident").catch(() => undefined);
  }
  return { database: r.rows[0].db, address: r.rows[0].addr ?? null, port: r.rows[0].port ?? null, systemId };
}

/** Whether two identities are on the same server (unknown parts are not taken as different). */
export function sameServer(a: Identity, b: Identity): boolean {
  if (a.systemId && b.systemId) return a.systemId === b.systemId;
  return a.address === b.address && a.port === b.port;
}

/**
 * Lifts the statement bounds of a connection (the server's statement_timeout and
 * the driver's query_timeout): --timeout bounds connecting and the guard's
 * catalog queries, not work that grows with the data (counting, copying,
 * checking). lock_timeout stays: waiting for another session's lock is bounded.
 */
export async function unbound(c: Client): Promise<void> {
  await c.query("SET statement_timeout = 0");
  const params = (c as unknown as { connectionParameters?: { query_timeout?: number } }).connectionParameters;
  if (params) params.query_timeout = undefined;
}

/** The user tables' columns (views excluded); tables outside `public` are returned with a qualified name. */
export async function sourceColumns(c: Client): Promise<SourceColumn[]> {
  const r = await c.query(
    `SELECT c.table_schema AS s, c.table_name AS t, c.column_name AS col, c.data_type AS type, c.is_nullable = 'YES' AS nullable
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
      ORDER BY 1, 2, c.ordinal_position`,
  );
  return r.rows.map((row) => ({ table: row.s === "public" ? row.t : `${row.s}.${row.t}`, column: row.col, dataType: row.type, nullable: row.nullable }));
}

/** What the rules do not cover beyond columns: materialized views (their data would be recomputed from unmasked rows). */
export async function unsupportedObjects(c: Client): Promise<string[]> {
  const r = await c.query("SELECT schemaname || '.' || matviewname AS n FROM pg_matviews WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1");
  return r.rows.map((row) => `materialized view ${row.n} is not supported by refresh (its data is not classified by the rules)`);
}

export async function rowCounts(c: Client, tables: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const t of tables) {
    const r = await c.query(`SELECT count(*)::bigint AS n FROM public.${ident(t)}`).catch((e) => {
      throw named(`counting ${t}`, e);
    });
    out.set(t, Number(r.rows[0].n));
  }
  return out;
}

/** An error that says what was under way (its code kept). */
export function named(what: string, e: unknown): Error {
  return Object.assign(new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`), { code: (e as { code?: unknown })?.code });
}

/**
 * The first 16 hex digits of the md5 of every non-null value of a column (for
 * "no source value left"; a collision can only stop a refresh, never let one
 * through). Fetched as one string: far faster than a row per value.
 */
export async function valueHashes(c: Client, table: string, column: string): Promise<Set<string>> {
  const h = `left(md5(${ident(column)}::text), 16)`;
  const r = await c.query({ text: `SELECT string_agg(h, '') FROM (SELECT DISTINCT ${h} AS h FROM public.${ident(table)} WHERE ${ident(column)} IS NOT NULL) d`, rowMode: "array" });
  const all = (r.rows[0]?.[0] as string | null) ?? "";
  const out = new Set<string>();
  for (let i = 0; i < all.length; i += 16) out.add(all.slice(i, i + 16));
  return out;
}

/** How many of `hashes` (from {@link valueHashes}) are values of the column: asked of the server, for a small set. */
export async function countHashesIn(c: Client, table: string, column: string, hashes: ReadonlySet<string>): Promise<number> {
  const r = await c.query(`SELECT count(DISTINCT left(md5(${ident(column)}::text), 16))::bigint AS n FROM public.${ident(table)} WHERE left(md5(${ident(column)}::text), 16) = ANY($1::text[])`, [[...hashes]]);
  return Number(r.rows[0].n);
}

const FIRST = ["Alex", "Sam", "Robin", "Jo", "Kim", "Noor", "Lee", "Ari", "Dana", "Eli", "Rene", "Toni", "Jules", "Max", "Sasha", "Yael"];
const LAST = ["Archer", "Baker", "Carter", "Dalton", "Ellis", "Fisher", "Grant", "Hayes", "Iverson", "Jensen", "Keller", "Lowe", "Moreno", "Nash", "Okafor", "Price"];

function pick(words: readonly string[], keyExpr: string, salt: string): string {
  const arr = `ARRAY[${words.map((w) => lit(w)).join(", ")}]`;
  return `(${arr})[1 + mod(hashtext(${keyExpr}::text || ${lit(salt)})::bigint + 2147483648, ${words.length})]`;
}

/** The SQL expression a column's masked value is computed with, or undefined for keep. */
export function maskExpression(m: Mask, column: string, key: string, ctx: { hashKey: string; sourceBucket: string; targetBucket: string }): string | undefined {
  const col = ident(column);
  const k = ident(key);
  const unlessNull = (e: string) => `CASE WHEN ${col} IS NULL THEN NULL ELSE ${e} END`;
  switch (m.kind) {
    case "keep":
      return undefined;
    case "email":
      return unlessNull(`'user_' || ${k}::text || '@example.invalid'`);
    case "hash":
      return unlessNull(`encode(sha256(convert_to(${lit(ctx.hashKey)} || ${col}::text, 'UTF8')), 'hex')`);
    case "constant":
      return lit(m.value);
    case "fake_name":
      return unlessNull(`${pick(FIRST, k, ":first")} || ' ' || ${pick(LAST, k, ":last")}`);
    case "null":
      return "NULL";
    case "rebucket":
      return `replace(${col}, ${lit(ctx.sourceBucket)}, ${lit(ctx.targetBucket)})`;
  }
}

/**
 * Copies every copied table's rows from the source into the new database with the
 * masks applied in the stream: `COPY (SELECT <mask expressions> FROM t) TO STDOUT`
 * in the source's snapshot, piped into `COPY t FROM STDIN`. Production's plain values
 * of masked columns never reach the target server at all. Returns the masked values.
 */
export async function copyMasked(
  source: Client,
  target: Client,
  rules: Rules,
  columns: readonly SourceColumn[],
  ctx: { hashKey: string; sourceBucket: string; targetBucket: string },
  onTable: (table: string, rows: number, masked: number, bytes: number) => void = () => undefined,
): Promise<{ rows: number; masked: number; bytes: number }> {
  const { to, from } = require("pg-copy-streams") as typeof import("pg-copy-streams");
  const { pipeline } = require("stream/promises") as typeof import("stream/promises");
  let rows = 0;
  let masked = 0;
  let bytes = 0;
  for (const rule of rules.tables.values()) {
    if (rule.skip) continue;
    const cols = columns.filter((c) => c.table === rule.table); // in the table's column order
    let maskedHere = 0;
    const select = cols.map((c) => {
      const m = rule.columns.get(c.column);
      const e = m ? maskExpression(m, c.column, rule.key, ctx) : undefined;
      if (e === undefined) return ident(c.column);
      maskedHere++;
      return `${e} AS ${ident(c.column)}`;
    });
    const list = cols.map((c) => ident(c.column)).join(", ");
    const out = source.query(to(`COPY (SELECT ${select.join(", ")} FROM public.${ident(rule.table)}) TO STDOUT`));
    const into = target.query(from(`COPY public.${ident(rule.table)} (${list}) FROM STDIN`));
    let tableBytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        tableBytes += chunk.length;
        done(null, chunk);
      },
    });
    await pipeline(out, counter, into);
    const n = Number(into.rowCount ?? 0);
    rows += n;
    bytes += tableBytes;
    masked += n * maskedHere;
    onTable(rule.table, n, n * maskedHere, tableBytes);
  }
  return { rows, masked, bytes };
}

/** Sets every sequence of the new database to the source's value (the data section's job, when the rows are copied by hand). */
export async function copySequences(source: Client, target: Client): Promise<void> {
  const seqs = await source.query(`SELECT schemaname, sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'`);
  for (const r of seqs.rows) {
    const name = `public.${ident(r.sequencename)}`;
    if (r.last_value === null) continue;
    await target.query(`SELECT setval($1::regclass, $2::bigint, true)`, [name, r.last_value]);
  }
}

/**
 * The form every value of a masked column has after the mask, as a regular
 * expression, where the form alone proves no source value is left (when no source
 * value has that form either); undefined where the values themselves are compared.
 */
export function maskForm(m: Mask): string | undefined {
  switch (m.kind) {
    case "email":
      return "^user_[^@]+@example\\.invalid$";
    case "hash":
      return "^[0-9a-f]{64}$";
    default:
      return undefined;
  }
}

/** How many non-null values of a column have (`has` true) or lack the form. */
export async function countForm(c: Client, table: string, column: string, form: string, has: boolean): Promise<number> {
  const r = await c.query(`SELECT count(*)::bigint AS n FROM public.${ident(table)} WHERE ${ident(column)} IS NOT NULL AND ${has ? "" : "NOT "}(${ident(column)}::text ~ $1)`, [form]);
  return Number(r.rows[0].n);
}

/** A fresh key for the hash mask: equal values hash equally within one refresh, never across two. */
export function newHashKey(): string {
  return randomBytes(32).toString("hex");
}

/**
 * Every foreign key of the database with rows that point nowhere: one line each.
 * A constraint the server validated (added after the data, as pg_restore does) is
 * proven; one marked NOT VALID is checked row by row.
 */
export async function brokenForeignKeys(c: Client): Promise<string[]> {
  const fks = await c.query(
    `SELECT con.conname AS name, con.conrelid::regclass::text AS child, con.confrelid::regclass::text AS parent,
            array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i) AS ccols,
            array(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i) AS pcols
       FROM pg_constraint con WHERE con.contype = 'f' AND NOT con.convalidated ORDER BY 1`,
  );
  const out: string[] = [];
  for (const fk of fks.rows as Array<{ name: string; child: string; parent: string; ccols: string[]; pcols: string[] }>) {
    const notNull = fk.ccols.map((col) => `c.${ident(col)} IS NOT NULL`).join(" AND ");
    const join = fk.ccols.map((col, i) => `p.${ident(fk.pcols[i])} = c.${ident(col)}`).join(" AND ");
    const r = await c.query(`SELECT count(*)::bigint AS n FROM ${fk.child} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${fk.parent} p WHERE ${join})`);
    const n = Number(r.rows[0].n);
    if (n > 0) out.push(`foreign key ${fk.name} of ${fk.child}: ${n} row${n === 1 ? "" : "s"} point at no ${fk.parent} row`);
  }
  return out;
}

/**
 * Makes the new database the environment's, as the Database component leaves one
 * (handOverStatements in config/databasePrivileges.ts): owned by the app role with
 * every table, view and free-standing sequence in it, and nothing left to PUBLIC.
 * The database first: as its owner the app role has CREATE on `public`
 * (pg_database_owner), which PostgreSQL asks of a table's new owner. The admin
 * needs to be a member of the app role for each step, as the component makes it.
 */
export async function handOver(maintenance: Client, inNew: Client, database: string, role: string): Promise<void> {
  const [owner, revoke] = handOverStatements(database, role);
  await maintenance.query(owner);
  const rels = await inNew.query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
      ORDER BY 1`,
  );
  for (const r of rels.rows) await inNew.query(`ALTER TABLE ${r.name} OWNER TO ${ident(role)}`);
  await maintenance.query(revoke);
}

/** The environment and arguments of pg_dump/pg_restore for a parsed URL: the password in the environment, never in argv; no ~/.pgpass, no PG* from outside. */
export function libpqArgs(u: PostgresUrl, database: string, base: NodeJS.ProcessEnv): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!/^PG/.test(k)) env[k] = v;
  env.PGPASSFILE = "/dev/null";
  if (u.password !== undefined) env.PGPASSWORD = u.password;
  env.PGSSLMODE = u.sslMode;
  if (u.sslRootCert) env.PGSSLROOTCERT = u.sslRootCert;
  if (u.connectTimeoutSeconds !== undefined) env.PGCONNECT_TIMEOUT = String(u.connectTimeoutSeconds);
  env.PGAPPNAME = u.applicationName ?? "mina-refresh";
  const host = u.host.replace(/^\[(.*)\]$/, "$1");
  return { args: ["-h", host, "-p", String(u.port), "-U", u.user, "-d", database], env };
}

/**
 * `pg_dump --format=custom SOURCE | pg_restore -d NEW`, two child processes joined
 * by a pipe. Rejects with a one-line reason (secrets masked) when either fails.
 */
export function dumpAndRestore(opts: {
  source: PostgresUrl;
  target: PostgresUrl;
  newDatabase: string;
  skipTables: readonly string[];
  snapshot?: string;
  /** One section of the archive (schema before data, data, indexes and constraints); default all. */
  section?: "pre-data" | "data" | "post-data";
  /** How long pg_dump waits for each table's lock (a migration holding one) before it fails; default forever. */
  lockWaitMs?: number;
  env: NodeJS.ProcessEnv;
  secrets: readonly string[];
  onTable?: (table: string) => void;
}): Promise<{ bytes: number }> {
  const src = libpqArgs(opts.source, opts.source.database, opts.env);
  const dst = libpqArgs(opts.target, opts.newDatabase, opts.env);
  const dumpArgs = ["--format=custom", "--no-owner", "--no-acl", "--no-publications", "--no-subscriptions", ...src.args];
  if (opts.snapshot) dumpArgs.push(`--snapshot=${opts.snapshot}`);
  if (opts.section) dumpArgs.push(`--section=${opts.section}`);
  if (opts.lockWaitMs !== undefined) dumpArgs.push(`--lock-wait-timeout=${opts.lockWaitMs}`);
  for (const t of opts.skipTables) dumpArgs.push(`--exclude-table-data=public.${t}`);
  const restoreArgs = ["--no-owner", "--no-acl", "--exit-on-error", "--verbose", ...dst.args];
  const bin = (name: string) => opts.env[`MINA_${name.toUpperCase()}_BIN`] ?? name;
  const scrub = (s: string) => opts.secrets.reduce((m, secret) => (secret ? m.split(secret).join("***") : m), s);
  return new Promise((resolve, reject) => {
    const dump = spawn(bin("pg_dump"), dumpArgs, { env: src.env, stdio: ["ignore", "pipe", "pipe"] });
    const restore = spawn(bin("pg_restore"), restoreArgs, { env: dst.env, stdio: ["pipe", "ignore", "pipe"] });
    let bytes = 0;
    let dumpErr = "";
    let restoreErr = "";
    let pending = "";
    const codes: { dump?: number | null; restore?: number | null } = {};
    let failed = false;
    const fail = (why: string) => {
      if (failed) return;
      failed = true;
      dump.kill();
      restore.kill();
      reject(new Error(scrub(why).split("\n")[0]));
    };
    dump.on("error", (e) => fail(`could not run pg_dump: ${e.message}`));
    restore.on("error", (e) => fail(`could not run pg_restore: ${e.message}`));
    dump.stdout.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
    });
    dump.stdout.pipe(restore.stdin);
    restore.stdin.on("error", () => undefined);
    dump.stderr.on("data", (d: Buffer) => (dumpErr += d.toString()));
    restore.stderr.on("data", (d: Buffer) => {
      const text = pending + d.toString();
      const lines = text.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /processing data for table "(?:public\.)?([^"]+)"/.exec(line);
        if (m) opts.onTable?.(m[1]);
        else if (!/^pg_restore: (creating|processing|connecting|executing|launching|finished)/.test(line)) restoreErr += line + "\n";
      }
    });
    const done = () => {
      if (failed || !("dump" in codes) || !("restore" in codes)) return;
      if (codes.dump !== 0) return fail(`pg_dump of the source failed: ${lastLine(dumpErr) || `exit ${codes.dump}`}`);
      if (codes.restore !== 0) return fail(`pg_restore into the new database failed: ${lastLine(restoreErr) || `exit ${codes.restore}`}`);
      resolve({ bytes });
    };
    dump.on("close", (code) => {
      codes.dump = code;
      done();
    });
    restore.on("close", (code) => {
      codes.restore = code;
      done();
    });
  });
}

function lastLine(s: string): string {
  const lines = s.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !/^pg_(dump|restore): (warning: )?errors ignored/.test(l));
  const err = lines.find((l) => /error/i.test(l)) ?? lines[lines.length - 1] ?? "";
  return err.replace(/^pg_(dump|restore): (error: )?/, "");
}

/** `YYYYMMDDHHMMSS`, UTC: the suffix of the new and the previous database's names. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/**
 * Renames the new database in place of the target, the target to `previous`, in
 * one transaction, after ending the target's connections (retried when a client
 * reconnects in between). Only the sessions of roles whose privileges the admin
 * has are ended (the app role's, as its member): PostgreSQL refuses the others to
 * a role that is not a superuser, and a session left open stops the rename.
 */
export async function swapIn(maintenance: Client, target: string, fresh: string, previous: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await maintenance.query("BEGIN");
      await maintenance.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND pg_has_role(usesysid, 'USAGE')",
        [target],
      );
      await maintenance.query(`ALTER DATABASE ${ident(target)} RENAME TO ${ident(previous)}`);
      await maintenance.query(`ALTER DATABASE ${ident(fresh)} RENAME TO ${ident(target)}`);
      await maintenance.query("COMMIT");
      return;
    } catch (e) {
      await maintenance.query("ROLLBACK").catch(() => undefined);
      if (!/being accessed by other users/.test(String((e as Error).message))) throw e;
      // Sessions it may not end stay: say whose, at once. Its own kind reconnecting in between: try again.
      const left = await maintenance.query<{ who: string; me: string }>(
        // (background workers have no role: the rename deals with autovacuum itself; another user's backend_type reads as NULL)
        "SELECT DISTINCT usename::text AS who, current_user AS me FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND usesysid IS NOT NULL AND NOT pg_has_role(usesysid, 'USAGE') ORDER BY 1",
        [target],
      );
      if (left.rows.length > 0) throw new Error(`${target} has sessions of ${left.rows.map((r) => r.who).join(", ")}, which ${left.rows[0]!.me} may not end: end them and run again`);
      if (attempt >= 3) throw e;
    }
  }
}

/** `<target>_<what>_<14 digits>`, exactly: the databases of this target's naming pattern. */
function copiesOf(names: readonly string[], target: string, what: "previous" | "refresh"): string[] {
  const re = new RegExp(`^${target.replace(/[^a-z0-9_]/g, "")}_${what}_\\d{14}$`);
  return names.filter((n) => re.test(n));
}

/** The previous copies of `target` that --prune drops: exactly `<target>_previous_<14 digits>`. */
export async function previousCopies(maintenance: Client, target: string): Promise<string[]> {
  const r = await maintenance.query("SELECT datname FROM pg_database ORDER BY datname");
  return copiesOf(r.rows.map((row) => row.datname as string), target, "previous");
}

/**
 * The copies an interrupted refresh of `target` left (`<target>_refresh_<14
 * digits>`, never renamed in), with how many sessions use each: one in use may
 * be another refresh's, and is left alone.
 */
export async function leftoverCopies(maintenance: Client, target: string): Promise<Array<{ name: string; sessions: number }>> {
  const r = await maintenance.query<{ name: string; sessions: number }>(
    "SELECT d.datname AS name, (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = d.datname)::int AS sessions FROM pg_database d ORDER BY 1",
  );
  const names = new Set(copiesOf(r.rows.map((x) => x.name), target, "refresh"));
  return r.rows.filter((x) => names.has(x.name));
}

/**
 * Drops a leftover copy when no session uses it (no FORCE: a session that came in
 * between makes it fail, and it stays). Whether it was dropped.
 */
export async function dropUnused(maintenance: Client, name: string): Promise<boolean> {
  try {
    await maintenance.query(`DROP DATABASE IF EXISTS ${ident(name)}`);
    return true;
  } catch (e) {
    if (/being accessed by other users/.test(String((e as Error).message))) return false;
    throw e;
  }
}

/**
 * One refresh (or --prune) of a target at a time, server-wide: a session-level
 * advisory lock on the target's name, taken on the maintenance connection and
 * released when it closes (a killed refresh releases it too). Whether it was taken.
 */
export async function lockTarget(maintenance: Client, target: string): Promise<boolean> {
  const r = await maintenance.query("SELECT pg_try_advisory_lock(hashtext($1)) AS ok", [`mina-refresh:${target}`]);
  return r.rows[0]?.ok === true;
}

export async function dropDatabase(maintenance: Client, name: string): Promise<void> {
  await maintenance.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
}

export { ident };
