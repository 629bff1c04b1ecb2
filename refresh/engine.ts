/**
 * The mechanism of `npm run refresh`: identify both databases, check that the
 * source holds nothing the copy may not carry, copy its schema into a new
 * database on the target's server (`pg_dump | pg_restore`, piped, nothing on
 * disk, restored as the target's app role), stream the masked rows in, check
 * the copy, and only then rename it in place of the target. Any failure before
 * the rename drops the new database: the target is left as it was.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { type Client, escapeIdentifier as ident, escapeLiteral as lit } from "pg";
import { handOverStatements } from "../config/databasePrivileges";
import type { PostgresUrl } from "../lib/connectionUrl";
import { columnKey, describeMask, FAKE_FIRST, FAKE_LAST, type Mask, type Rules, type SourceColumn, type SourceTable, type TableRule, tableKey } from "./rules";

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

/** The schemas of the database's own objects (not PostgreSQL's, not temporary ones), for `n`, a pg_namespace. */
const USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'";
/** Not an object an extension created (those come with the extension, which is judged as a whole). */
const notExtensionMember = (catalog: string, alias: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${alias}.oid AND e.deptype = 'e')`;

/** A table as SQL reads it. */
export interface TableRef {
  readonly schema: string;
  readonly name: string;
  /** A partitioned table is read through its root: its partitions follow its rule. */
  readonly partitioned: boolean;
}

export function qualified(t: TableRef): string {
  return `${ident(t.schema)}.${ident(t.name)}`;
}

/**
 * Where a table's rows are read: ONLY the table itself (an inheritance child has a
 * rule of its own, skipped or masked on its own), and for a partitioned table its
 * partitions, which follow its rule.
 */
export function rel(t: TableRef): string {
  return `${t.partitioned ? "" : "ONLY "}${qualified(t)}`;
}

/** The source's tables and their columns, from the catalogs (what the role may not read is listed too: the guard names it). */
export interface SourceSchema {
  readonly tables: readonly (SourceTable & TableRef)[];
  readonly columns: readonly SourceColumn[];
}

const VARCHAR = 1043;
const BPCHAR = 1042;

export async function sourceSchema(c: Client): Promise<SourceSchema> {
  const { tables, keyOf } = await sourceTables(c);
  const baseOf = await domainBases(c);
  const rows = await sourceColumnRows(c);
  const categories = await typeCategories(
    c,
    rows.map((r) => baseOf(r.typid, r.typmod).id),
  );
  const columns = rows.map((r) => sourceColumn(r, baseOf(r.typid, r.typmod), keyOf, categories));
  return { tables, columns };
}

/** The source's tables, and each table's key by its oid. */
async function sourceTables(c: Client): Promise<{ tables: SourceSchema["tables"]; keyOf: Map<string, string> }> {
  const t = await c.query<{
    oid: string;
    schema: string;
    name: string;
    partitioned: boolean;
    partition: boolean;
    root_schema: string | null;
    root_name: string | null;
  }>(
    `SELECT c.oid::int8::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind = 'p' AS partitioned, c.relispartition AS partition,
            rn.nspname AS root_schema, r.relname AS root_name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_class r ON c.relispartition AND r.oid = pg_partition_root(c.oid)
       LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
      ORDER BY 2, 3`,
  );
  const keyOf = new Map(t.rows.map((r) => [r.oid, tableKey(r.schema, r.name)]));
  const tables = t.rows.map((r) => ({
    table: tableKey(r.schema, r.name),
    schema: r.schema,
    name: r.name,
    partitioned: r.partitioned,
    kind: r.partition ? ("partition" as const) : r.partitioned ? ("partitioned" as const) : ("table" as const),
    ...(r.partition && r.root_schema && r.root_name ? { root: tableKey(r.root_schema, r.root_name) } : {}),
  }));
  return { tables, keyOf };
}

/** A type, as its oid and type modifier (a length limit, for character types). */
interface BaseType {
  readonly id: number;
  readonly mod: number;
}

/**
 * The base type of a column's type, through domains over domains; the first length limit
 * on the way down is the one that holds.
 */
async function domainBases(c: Client): Promise<(typid: string, typmod: number) => BaseType> {
  const domains = new Map(
    (
      await c.query<{ oid: string; base: string; typmod: number }>(
        "SELECT oid::int8::text AS oid, typbasetype::int8::text AS base, typtypmod AS typmod FROM pg_type WHERE typtype = 'd'",
      )
    ).rows.map((d) => [d.oid, d]),
  );
  return (typid, typmod) => {
    let [id, mod] = [typid, typmod];
    for (let d = domains.get(id), depth = 0; d && depth < 32; d = domains.get(id), depth++) {
      if (mod < 0) mod = d.typmod;
      id = d.base;
    }
    return { id: Number(id), mod };
  };
}

/** A column of a source table, as the catalogs describe it. */
interface ColumnRow {
  oid: string;
  col: string;
  type: string;
  typid: string;
  typmod: number;
  domain: boolean;
  nullable: boolean;
  generated: boolean;
  uniq: boolean;
  parents: string[];
}

/** The columns of the source's tables, table by table, in their order. */
async function sourceColumnRows(c: Client): Promise<ColumnRow[]> {
  const cols = await c.query<ColumnRow>(
    `SELECT a.attrelid::int8::text AS oid, a.attname AS col, format_type(a.atttypid, a.atttypmod) AS type, a.atttypid::int8::text AS typid, a.atttypmod AS typmod,
            ty.typtype = 'd' AS domain, NOT a.attnotnull AS nullable, a.attgenerated <> '' AS generated,
            EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum) AS uniq,
            ARRAY(SELECT ih.inhparent::int8::text FROM pg_inherits ih
                   WHERE a.attinhcount > 0 AND ih.inhrelid = a.attrelid AND NOT c.relispartition
                     AND EXISTS (SELECT 1 FROM pg_attribute pa WHERE pa.attrelid = ih.inhparent AND pa.attname = a.attname AND NOT pa.attisdropped)) AS parents
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type ty ON ty.oid = a.atttypid
      WHERE c.relkind IN ('r', 'p') AND ${USER_SCHEMA} AND ${notExtensionMember("pg_class", "c")} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY n.nspname, c.relname, a.attnum`,
  );
  return cols.rows;
}

/** The category (`typcategory`, `S` for strings) of each of these types, by oid. */
async function typeCategories(c: Client, typeIds: readonly number[]): Promise<Map<string, string>> {
  const r = await c.query<{ oid: string; cat: string }>("SELECT oid::int8::text AS oid, typcategory AS cat FROM pg_type WHERE oid = ANY($1::oid[])", [
    [...new Set(typeIds.map(String))],
  ]);
  return new Map(r.rows.map((row) => [row.oid, row.cat]));
}

/** A column as the rules read it: its table by key, whether it holds text, its length limit, the tables it is inherited from. */
function sourceColumn(r: ColumnRow, base: BaseType, keyOf: Map<string, string>, categories: Map<string, string>): SourceColumn {
  const maxLength = (base.id === VARCHAR || base.id === BPCHAR) && base.mod >= 4 ? base.mod - 4 : null;
  return {
    table: keyOf.get(r.oid)!,
    column: r.col,
    dataType: r.type,
    nullable: r.nullable,
    text: categories.get(String(base.id)) === "S",
    maxLength,
    domain: r.domain ? r.type : null,
    generated: r.generated,
    unique: r.uniq,
    inheritedFrom: r.parents.map((p) => keyOf.get(p)).filter((k): k is string => k !== undefined),
  };
}

/**
 * What the source role may not read: schemas without USAGE, tables and sequences
 * without SELECT. pg_dump locks every table it dumps, the copy reads them, and a
 * sequence's value reads as NULL without the privilege (the copy's sequence would
 * start again at 1). One line, or none.
 */
export async function sourceAccessProblems(c: Client): Promise<string[]> {
  const r = await c.query<{ what: string; role: string }>(
    `SELECT format('%s %s', CASE WHEN NOT has_schema_privilege(n.oid, 'USAGE') THEN 'schema' WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END,
                   CASE WHEN NOT has_schema_privilege(n.oid, 'USAGE') THEN quote_ident(n.nspname) ELSE format('%I.%I', n.nspname, c.relname) END) AS what,
            current_user AS role
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'S') AND ${USER_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
        AND NOT (has_schema_privilege(n.oid, 'USAGE') AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE has_table_privilege(c.oid, 'SELECT') END)
      GROUP BY 1, 2 ORDER BY 1`,
  );
  if (r.rows.length === 0) return [];
  const shown = r.rows.slice(0, 5).map((x) => x.what);
  const more = r.rows.length > 5 ? ` and ${r.rows.length - 5} more` : "";
  return [
    `the source role ${r.rows[0].role} may not read ${shown.join(", ")}${more}: it needs USAGE on every schema and SELECT on every table and sequence (see README, Refreshing staging's data)`,
  ];
}

/**
 * Extensions the copy carries (trusted by PostgreSQL, so the target's app role may
 * create them; none reaches outside the database or runs as another role).
 */
export const COPIED_EXTENSIONS: readonly string[] = [
  "btree_gin",
  "btree_gist",
  "citext",
  "cube",
  "fuzzystrmatch",
  "hstore",
  "intarray",
  "isn",
  "ltree",
  "pg_trgm",
  "pgcrypto",
  "plpgsql",
  "seg",
  "unaccent",
  "uuid-ossp",
];

/** Extensions left out of the copy and said so: the server's monitoring, which no table can depend on. */
export const LEFT_OUT_EXTENSIONS: readonly string[] = [
  "amcheck",
  "pageinspect",
  "pg_buffercache",
  "pg_freespacemap",
  "pg_prewarm",
  "pg_stat_statements",
  "pg_visibility",
  "pgrowlocks",
  "pgstattuple",
];

/** Extensions known to reach outside the database (beyond any that brings a foreign-data wrapper). */
const REACHING_EXTENSIONS = new Set([
  "dblink",
  "adminpack",
  "aws_s3",
  "aws_lambda",
  "aws_commons",
  "pg_cron",
  "pg_background",
  "http",
  "pgsql_http",
  "log_fdw",
]);

const OUTSIDE = "refresh copies nothing that can reach outside the database";
const RIGHTS = "refresh copies nothing that runs with another role's rights";
const ONLY = "refresh copies only tables and what they need (see README, Refreshing staging's data)";
const EXTENSIONS = `refresh copies only the extensions ${COPIED_EXTENSIONS.filter((e) => e !== "plpgsql").join(", ")} (see README, Refreshing staging's data)`;

export interface Inventory {
  /** What stops the refresh, one line each. */
  readonly refused: string[];
  /** Extensions left out of the copy (said in the plan). */
  readonly leftOut: string[];
  /** The copied extensions the database has (pg_dump --extension). */
  readonly extensions: string[];
}

/**
 * Every object of the database that is not a table, column, sequence, index,
 * constraint or a type, trigger or function such tables need, judged before any
 * data moves (on the source) and again on the copy (where nothing of it may be
 * either). Deny by default: a kind not named here as copied is refused.
 */
export async function inventory(c: Client): Promise<Inventory> {
  const rows = await c.query<InventoryRow>(INVENTORY_QUERY);
  const found: Inventory = { refused: [], leftOut: [], extensions: [] };
  for (const r of rows.rows) judgeObject(r, found);
  return found;
}

/** An object of the database that is not a table's own: its category, its kind within it, its name as SQL writes it, and what else the judgement needs. */
interface InventoryRow {
  cat: string;
  kind: string | null;
  name: string;
  detail: string | null;
}

/** Every object the refresh does not copy as part of a table, one row each, by category and name. */
const INVENTORY_QUERY = `SELECT 'relation' AS cat, c.relkind::text AS kind, format('%I.%I', n.nspname, c.relname) AS name, NULL AS detail
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind NOT IN ('r', 'p', 'i', 'I', 'S', 'c', 't') AND ${USER_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
     UNION ALL
     SELECT 'function', p.prokind::text, format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
            CASE WHEN p.prosecdef THEN 'definer' WHEN NOT l.lanpltrusted OR l.lanname IN ('c', 'internal') THEN l.lanname END
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
      WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_proc", "p")} AND (p.prosecdef OR p.prokind NOT IN ('f', 'p') OR NOT l.lanpltrusted OR l.lanname IN ('c', 'internal'))
     UNION ALL
     SELECT 'type', t.typtype::text, format('%I.%I', n.nspname, t.typname), NULL
       FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typtype IN ('b', 'p') AND ${USER_SCHEMA} AND ${notExtensionMember("pg_type", "t")}
        AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
     UNION ALL
     SELECT 'extension', NULL, x.extname,
            CASE WHEN EXISTS (SELECT 1 FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = x.oid AND d.classid = 'pg_foreign_data_wrapper'::regclass) THEN 'fdw' END
       FROM pg_extension x
     UNION ALL
     SELECT 'foreign-data wrapper', NULL, quote_ident(w.fdwname), NULL FROM pg_foreign_data_wrapper w WHERE ${notExtensionMember("pg_foreign_data_wrapper", "w")}
     UNION ALL
     SELECT 'foreign server', NULL, quote_ident(s.srvname), NULL FROM pg_foreign_server s
     UNION ALL
     SELECT 'user mapping', NULL, format('for %s on server %I', um.usename, um.srvname), NULL FROM pg_user_mappings um
     UNION ALL
     SELECT 'event trigger', NULL, quote_ident(evtname), NULL FROM pg_event_trigger
     UNION ALL
     SELECT 'publication', NULL, quote_ident(pubname), NULL FROM pg_publication
     UNION ALL
     SELECT 'subscription', NULL, quote_ident(subname), NULL FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     UNION ALL
     SELECT 'rule', NULL, format('%I on %I.%I', r.rulename, n.nspname, c.relname), NULL
       FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE r.rulename <> '_RETURN' AND ${USER_SCHEMA}
     UNION ALL
     SELECT 'row-level security policy', NULL, format('%I on %I.%I', pol.polname, n.nspname, c.relname), NULL
       FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     UNION ALL
     SELECT 'row-level security', NULL, format('%I.%I', n.nspname, c.relname), NULL
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity AND ${USER_SCHEMA} AND NOT pg_has_role(c.relowner, 'USAGE')
        AND NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user)
     UNION ALL
     SELECT 'operator', NULL, format('%I.%s', n.nspname, o.oprname), NULL
       FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_operator", "o")}
     UNION ALL
     SELECT 'operator class', NULL, format('%I.%I', n.nspname, oc.opcname), NULL
       FROM pg_opclass oc JOIN pg_namespace n ON n.oid = oc.opcnamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_opclass", "oc")}
     UNION ALL
     SELECT 'operator family', NULL, format('%I.%I', n.nspname, f.opfname), NULL
       FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_opfamily", "f")}
     UNION ALL
     SELECT 'conversion', NULL, format('%I.%I', n.nspname, cv.conname), NULL
       FROM pg_conversion cv JOIN pg_namespace n ON n.oid = cv.connamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_conversion", "cv")}
     UNION ALL
     SELECT 'text search parser', NULL, format('%I.%I', n.nspname, p.prsname), NULL
       FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_ts_parser", "p")}
     UNION ALL
     SELECT 'text search template', NULL, format('%I.%I', n.nspname, tt.tmplname), NULL
       FROM pg_ts_template tt JOIN pg_namespace n ON n.oid = tt.tmplnamespace WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_ts_template", "tt")}
     UNION ALL
     SELECT 'cast', NULL, format('(%s AS %s)', format_type(ca.castsource, NULL), format_type(ca.casttarget, NULL)), NULL
       FROM pg_cast ca WHERE ca.oid >= 16384 AND ${notExtensionMember("pg_cast", "ca")}
     UNION ALL
     SELECT 'language', NULL, quote_ident(lg.lanname), NULL FROM pg_language lg WHERE lg.oid >= 16384 AND ${notExtensionMember("pg_language", "lg")}
     UNION ALL
     SELECT 'transform', NULL, format('for %s language %s', format_type(tr.trftype, NULL), tr.trflang::regproc::text), NULL
       FROM pg_transform tr WHERE tr.oid >= 16384 AND ${notExtensionMember("pg_transform", "tr")}
     UNION ALL
     SELECT 'access method', NULL, quote_ident(am.amname), NULL FROM pg_am am WHERE am.oid >= 16384 AND ${notExtensionMember("pg_am", "am")}
     UNION ALL
     SELECT 'large objects', NULL, count(*)::text, NULL FROM pg_largeobject_metadata HAVING count(*) > 0
     ORDER BY 1, 3`;

/** Adds the object to what is refused, left out or copied (an extension). */
function judgeObject(r: InventoryRow, found: Inventory): void {
  const { refused } = found;
  switch (r.cat) {
    case "relation":
      refused.push(relationRefusal(r));
      break;
    case "function":
      refused.push(functionRefusal(r));
      break;
    case "type":
      refused.push(`${r.kind === "b" ? "base type" : "shell type"} ${r.name}: ${ONLY}`);
      break;
    case "extension":
      judgeExtension(r, found);
      break;
    case "foreign-data wrapper":
    case "foreign server":
    case "user mapping":
      refused.push(`${r.cat} ${r.name}: ${OUTSIDE}`);
      break;
    case "event trigger":
      refused.push(`event trigger ${r.name}: ${RIGHTS} (it runs its function on the database's DDL)`);
      break;
    case "publication":
    case "subscription":
      refused.push(`${r.cat} ${r.name}: ${OUTSIDE} (it replicates rows past the rules)`);
      break;
    case "row-level security":
      refused.push(
        `table ${r.name} has row-level security the source role is subject to: the copy would hold only the rows it may see (read as the table's owner)`,
      );
      break;
    case "large objects":
      refused.push(`${r.name} large object${r.name === "1" ? "" : "s"}: ${ONLY} (their contents are not classified by the rules)`);
      break;
    default:
      refused.push(`${r.cat} ${r.name}: ${ONLY}`);
  }
}

/** Why a view, materialized view, foreign table or other relation that is no table is refused. */
function relationRefusal(r: InventoryRow): string {
  const what = { v: "view", m: "materialized view", f: "foreign table" }[r.kind ?? ""] ?? `relation (relkind ${r.kind})`;
  if (r.kind === "f") return `foreign table ${r.name}: ${OUTSIDE} (it reads another server's rows)`;
  if (r.kind === "m") return `materialized view ${r.name}: ${ONLY} (its data is not classified by the rules)`;
  return `${what} ${r.name}: ${ONLY}`;
}

/** Why a function is refused: SECURITY DEFINER, an aggregate or window function, or a language only a superuser may use. */
function functionRefusal(r: InventoryRow): string {
  const what = { f: "function", p: "procedure", a: "aggregate", w: "window function" }[r.kind ?? ""] ?? "function";
  if (r.detail === "definer") return `${what} ${r.name} is SECURITY DEFINER: ${RIGHTS}`;
  if (r.kind !== "f" && r.kind !== "p") return `${what} ${r.name}: ${ONLY}`;
  return `${what} ${r.name} is in language ${r.detail}, which only a superuser may use: ${OUTSIDE}`;
}

/** An extension is refused when it reaches outside the database, copied or left out when the lists say so, refused otherwise. */
function judgeExtension(r: InventoryRow, found: Inventory): void {
  if (r.detail === "fdw" || REACHING_EXTENSIONS.has(r.name) || /fdw/.test(r.name)) found.refused.push(`extension ${r.name}: ${OUTSIDE}`);
  else if (COPIED_EXTENSIONS.includes(r.name)) found.extensions.push(r.name);
  else if (LEFT_OUT_EXTENSIONS.includes(r.name)) found.leftOut.push(r.name);
  else found.refused.push(`extension ${r.name}: ${EXTENSIONS}`);
}

/**
 * What in the copy is not owned by the target's app role (an extension's own
 * objects aside, and `public`, owned by pg_database_owner, which the app role is
 * as the database's owner): one line each.
 */
export async function notOwnedBy(c: Client, role: string): Promise<string[]> {
  const r = await c.query<{ what: string; owner: string }>(
    `WITH me AS (SELECT oid FROM pg_roles WHERE rolname = $1)
     SELECT what, pg_get_userbyid(owner) AS owner FROM (
       SELECT format('schema %I', n.nspname) AS what, n.nspowner AS owner FROM pg_namespace n
        WHERE ${USER_SCHEMA} AND NOT (n.nspname = 'public' AND n.nspowner = 'pg_database_owner'::regrole) AND ${notExtensionMember("pg_namespace", "n")}
       UNION ALL
       SELECT format('relation %I.%I', n.nspname, c.relname), c.relowner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_class", "c")}
       UNION ALL
       SELECT format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_proc", "p")}
       UNION ALL
       SELECT format('type %I.%I', n.nspname, t.typname), t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_type", "t")} AND t.typrelid = 0
          AND NOT EXISTS (SELECT 1 FROM pg_type el WHERE el.oid = t.typelem AND el.typarray = t.oid)
       UNION ALL
       SELECT format('extension %I', x.extname), x.extowner FROM pg_extension x WHERE x.extname <> 'plpgsql'
       UNION ALL
       SELECT format('collation %I.%I', n.nspname, co.collname), co.collowner FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_collation", "co")}
       UNION ALL
       SELECT format('text search configuration %I.%I', n.nspname, cf.cfgname), cf.cfgowner FROM pg_ts_config cf JOIN pg_namespace n ON n.oid = cf.cfgnamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_ts_config", "cf")}
       UNION ALL
       SELECT format('text search dictionary %I.%I', n.nspname, d.dictname), d.dictowner FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace
        WHERE ${USER_SCHEMA} AND ${notExtensionMember("pg_ts_dict", "d")}
       UNION ALL
       SELECT format('statistics object %I.%I', n.nspname, s.stxname), s.stxowner FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
        WHERE ${USER_SCHEMA}
     ) o WHERE owner <> (SELECT oid FROM me) ORDER BY 1`,
    [role],
  );
  return r.rows.map((x) => `${x.what} is owned by ${x.owner}, not ${role}`);
}

/** The name of the setting that holds the hash mask's key, in the source's transaction only. */
export const HASH_KEY_SETTING = "mina_refresh.hash_key";

/**
 * Draws the hash mask's key on the source's server, into a setting of the
 * source's transaction (`set_config(..., true)`): random (gen_random_uuid is
 * pg_strong_random) and new on every refresh, it is never sent, so it is in no
 * query text, pg_stat_activity or log, and gone when the transaction ends.
 */
export async function drawHashKey(source: Client): Promise<void> {
  await source.query(
    `SELECT set_config('${HASH_KEY_SETTING}', encode(sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || clock_timestamp()::text, 'UTF8')), 'hex'), true)`,
  );
}

export interface MaskContext {
  readonly sourceBucket: string;
  readonly targetBucket: string;
}

function pick(words: readonly string[], keyExpr: string, salt: string, shift = 0): string {
  const arr = `ARRAY[${words.map((w) => lit(w)).join(", ")}]`;
  return `(${arr})[1 + mod(hashtext(${keyExpr}::text || ${lit(salt)})::bigint + ${2147483648 + shift}, ${words.length})]`;
}

/** The SQL of the made-up name drawn from a row's key (`keyExpr`, SQL); `shift` takes a later first name. */
export function drawnFakeName(keyExpr: string, shift = 0): string {
  return `${pick(FAKE_FIRST, keyExpr, ":first", shift)} || ' ' || ${pick(FAKE_LAST, keyExpr, ":last")}`;
}

/**
 * The SQL expression a column's masked value is computed with, or undefined for
 * keep (generated columns are not read at all). fake_name never gives a row its
 * own value: when the name drawn from the key is the row's (any case), the next
 * first name is taken.
 */
export function maskExpression(m: Mask, column: string, key: string, ctx: MaskContext, drawn?: string): string | undefined {
  const col = ident(column);
  const k = ident(key);
  const unlessNull = (e: string) => `CASE WHEN ${col} IS NULL THEN NULL ELSE ${e} END`;
  switch (m.kind) {
    case "keep":
    case "generated":
      return undefined;
    case "email":
      return unlessNull(`'user_' || ${k}::text || '@example.invalid'`);
    case "hash":
      return unlessNull(`encode(sha256(convert_to(current_setting('${HASH_KEY_SETTING}') || ${col}::text, 'UTF8')), 'hex')`);
    case "constant":
      return lit(m.value);
    case "fake_name": {
      const d = drawn ?? drawnFakeName(k);
      return `CASE WHEN ${col} IS NULL THEN NULL WHEN lower(${col}::text) <> lower(${d}) THEN ${d} ELSE ${drawnFakeName(k, 1)} END`;
    }
    case "null":
      return "NULL";
    case "rebucket":
      return `replace(${col}, ${lit(ctx.sourceBucket)}, ${lit(ctx.targetBucket)})`;
  }
}

/** A table the refresh copies (or skips), with what it needs to read and write it. */
export interface CopyTable {
  readonly rule: TableRule;
  readonly ref: TableRef;
  /** The source's columns, in the table's order. */
  readonly columns: readonly SourceColumn[];
}

/** The copy plan: every table the rules name, as the source has it (a rule for a table the source lacks is the schema check's to refuse). */
export function copyTables(rules: Rules, schema: SourceSchema): CopyTable[] {
  return [...rules.tables.values()].flatMap((rule) => {
    const t = schema.tables.find((x) => x.table === rule.table && x.kind !== "partition");
    return t ? [{ rule, ref: t, columns: schema.columns.filter((c) => c.table === rule.table) }] : [];
  });
}

/**
 * The longest key text and the extremes of the key, for the samples a mask writes
 * (email: user_<key>@example.invalid). An integer key is read at its ends (an
 * index answers); another key is read through.
 */
async function keySamples(c: Client, t: CopyTable): Promise<string[]> {
  const key = t.columns.find((x) => x.column === t.rule.key);
  const k = ident(t.rule.key);
  if (key && /^(smallint|integer|bigint)$/.test(key.dataType)) {
    const r = await c.query({ text: `SELECT min(${k})::text, max(${k})::text FROM ${rel(t.ref)}`, rowMode: "array" });
    return (r.rows[0] as Array<string | null>).filter((v): v is string => v !== null);
  }
  const r = await c.query({ text: `SELECT ${k}::text FROM ${rel(t.ref)} WHERE ${k} IS NOT NULL ORDER BY length(${k}::text) DESC LIMIT 1`, rowMode: "array" });
  return r.rows.map((x) => x[0] as string);
}

const HASH_SAMPLE = createHash("sha256").update("mina refresh sample").digest("hex");

/**
 * What the schema alone cannot tell: whether each mask's values fit the column as
 * the target will take them, asked of the source before any data moves. A
 * length-limited column (varchar(n), char(n), a domain over one) must hold the
 * longest value the mask writes; a domain's constraints, or a non-text type, must
 * accept the values (the mask's samples are cast to the column's type: every
 * fake name, the email of the smallest and largest key, a hash, the constant, NULL).
 */
export async function maskFitProblems(c: Client, tables: readonly CopyTable[], ctx: MaskContext): Promise<string[]> {
  const problems: string[] = [];
  let n = 0;
  const nextSavepoint = () => `fit_${n++}`;
  for (const t of tables) {
    if (t.rule.skip) continue;
    for (const col of t.columns) {
      const m = t.rule.columns.get(col.column);
      if (!m || m.kind === "keep" || m.kind === "generated" || col.generated) continue;
      if (col.text === false && m.kind !== "constant" && m.kind !== "null") continue; // refused by the schema check already
      problems.push(...(await columnFitProblems(c, { t, col, m, ctx, where: columnKey(t.rule.table, col.column) }, nextSavepoint)));
    }
  }
  return problems;
}

/** One masked column whose values must fit: its table, the column as the source has it, its mask; `where` names it in messages. */
interface FitCheck {
  readonly t: CopyTable;
  readonly col: SourceColumn;
  readonly m: Mask;
  readonly ctx: MaskContext;
  readonly where: string;
}

/** Whether the mask's values fit one column: their length, then (for a domain or a non-text type) a cast of the mask's samples. */
async function columnFitProblems(c: Client, check: FitCheck, nextSavepoint: () => string): Promise<string[]> {
  const { col, m, where } = check;
  const sampled = await maskSamples(c, check);
  if (!Array.isArray(sampled)) return sampled.problems;
  const textual = col.text !== false;
  if (!col.domain && textual && m.kind !== "null") return []; // text takes any text; the lengths were checked with the schema
  if (!col.domain && m.kind === "null") return []; // NULL of a nullable column (NOT NULL was checked with the schema)
  const sp = nextSavepoint();
  await c.query(`SAVEPOINT ${sp}`);
  try {
    await c.query(`SELECT count(CAST(v AS ${col.dataType})) FROM unnest($1::text[]) v`, [sampled]);
    await c.query(`RELEASE SAVEPOINT ${sp}`);
    return [];
  } catch (e) {
    await c.query(`ROLLBACK TO SAVEPOINT ${sp}`);
    const why = String((e as Error).message).split("\n")[0];
    return [`${where} is ${col.dataType}, which refuses what ${describeMask(m)} writes (${why}): write a rule whose values it takes`];
  }
}

/**
 * The values the mask writes in this column, to cast; or, where the check ends
 * here, its problems (none when there is nothing to check).
 */
async function maskSamples(c: Client, check: FitCheck): Promise<Array<string | null> | { problems: string[] }> {
  const { m } = check;
  switch (m.kind) {
    case "email":
      return emailSamples(c, check);
    case "hash":
      return [HASH_SAMPLE];
    case "fake_name":
      return FAKE_FIRST.flatMap((f) => FAKE_LAST.map((l) => `${f} ${l}`));
    case "constant":
      return [m.value];
    case "null":
      return [null];
    case "rebucket":
      return { problems: await rebucketFitProblems(c, check) };
    default:
      return { problems: [] };
  }
}

/** The emails of the smallest and largest key, once the longest is known to fit a length-limited column. */
async function emailSamples(c: Client, { t, col, where }: FitCheck): Promise<Array<string | null> | { problems: string[] }> {
  // (a key the source lacks is the schema check's to name)
  if ((col.maxLength == null && !col.domain) || !t.columns.some((x) => x.column === t.rule.key)) return { problems: [] };
  const samples = (
    await keySamples(c, t).catch((e) => {
      throw named(`reading the keys of ${t.rule.table} for ${where}`, e);
    })
  ).map((k) => `user_${k}@example.invalid`);
  const longest = Math.max(0, ...samples.map((s) => s.length));
  if (col.maxLength != null && longest > col.maxLength) {
    return {
      problems: [
        `${where} is ${col.dataType}, and email writes up to ${longest} characters here (user_<${t.rule.key}>@example.invalid): write a rule whose values fit (constant: VALUE, null) or widen the column`,
      ],
    };
  }
  return samples;
}

/** A rebucketed value grows by the difference of the buckets' names: the longest must fit a length-limited column. */
async function rebucketFitProblems(c: Client, { t, col, ctx, where }: FitCheck): Promise<string[]> {
  if (col.maxLength == null || ctx.targetBucket.length <= ctx.sourceBucket.length) return [];
  const r = await c
    .query(`SELECT coalesce(max(length(replace(${ident(col.column)}, $1, $2))), 0)::int AS n FROM ${rel(t.ref)}`, [ctx.sourceBucket, ctx.targetBucket])
    .catch((e) => {
      throw named(`measuring ${where}`, e);
    });
  if (r.rows[0].n > col.maxLength) {
    return [`${where} is ${col.dataType}, and rebucket writes up to ${r.rows[0].n} characters here: write a rule whose values fit or widen the column`];
  }
  return [];
}

/** Rows of a table, read as the copy reads it; a partitioned table's also per partition. */
export interface RowCount {
  readonly total: number;
  readonly partitions?: ReadonlyMap<string, number>;
}

export async function rowCount(c: Client, t: TableRef): Promise<RowCount> {
  if (!t.partitioned) {
    const r = await c.query(`SELECT count(*)::bigint AS n FROM ${rel(t)}`);
    return { total: Number(r.rows[0].n) };
  }
  const r = await c.query<{ p: string; n: string }>(`SELECT tableoid::regclass::text AS p, count(*)::bigint AS n FROM ${rel(t)} GROUP BY 1`);
  const partitions = new Map(r.rows.map((x) => [x.p, Number(x.n)]));
  return { total: [...partitions.values()].reduce((a, b) => a + b, 0), partitions };
}

export async function rowCounts(c: Client, tables: readonly CopyTable[]): Promise<Map<string, RowCount>> {
  const out = new Map<string, RowCount>();
  for (const t of tables) {
    out.set(
      t.rule.table,
      await rowCount(c, t.ref).catch((e) => {
        throw named(`counting ${t.rule.table}`, e);
      }),
    );
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
export async function valueHashes(c: Client, t: TableRef, column: string): Promise<Set<string>> {
  const h = `left(md5(${ident(column)}::text), 16)`;
  const r = await c.query({
    text: `SELECT string_agg(h, '') FROM (SELECT DISTINCT ${h} AS h FROM ${rel(t)} WHERE ${ident(column)} IS NOT NULL) d`,
    rowMode: "array",
  });
  const all = (r.rows[0]?.[0] as string | null) ?? "";
  const out = new Set<string>();
  for (let i = 0; i < all.length; i += 16) out.add(all.slice(i, i + 16));
  return out;
}

/** How many of `hashes` (from {@link valueHashes}) are values of the column: asked of the server, for a small set. */
export async function countHashesIn(c: Client, t: TableRef, column: string, hashes: ReadonlySet<string>): Promise<number> {
  const r = await c.query(
    `SELECT count(DISTINCT left(md5(${ident(column)}::text), 16))::bigint AS n FROM ${rel(t)} WHERE left(md5(${ident(column)}::text), 16) = ANY($1::text[])`,
    [[...hashes]],
  );
  return Number(r.rows[0].n);
}

/**
 * Copies every copied table's rows from the source into the new database with the
 * masks applied in the stream: `COPY (SELECT <mask expressions> FROM ONLY t) TO
 * STDOUT` in the source's snapshot, piped into `COPY t (columns) FROM STDIN`.
 * Production's plain values of masked columns never reach the target server at
 * all. Each table is read on its own (ONLY: an inheritance child's rows are its
 * own rule's), a partitioned table through its root (its partitions follow its
 * rule); generated columns are left to the target to compute. Returns the totals.
 */
export async function copyMasked(
  source: Client,
  target: Client,
  tables: readonly CopyTable[],
  ctx: MaskContext,
  onTable: (table: string, rows: number, masked: number, bytes: number) => void = () => undefined,
): Promise<{ rows: number; masked: number; bytes: number }> {
  const { to, from } = require("pg-copy-streams") as typeof import("pg-copy-streams");
  const { pipeline } = require("node:stream/promises") as typeof import("stream/promises");
  let rows = 0;
  let masked = 0;
  let bytes = 0;
  for (const t of tables) {
    if (t.rule.skip) continue;
    const cols = t.columns.filter((c) => !c.generated);
    // The made-up name a row's key draws, computed once per row for all its fake_name columns.
    const fake = [...t.rule.columns.values()].some((m) => m.kind === "fake_name");
    const readFrom = fake ? `${rel(t.ref)}, LATERAL (SELECT ${drawnFakeName(ident(t.rule.key))} AS mina_refresh_drawn) mina_refresh` : rel(t.ref);
    let maskedHere = 0;
    const select = cols.map((c) => {
      const m = t.rule.columns.get(c.column);
      const e = m ? maskExpression(m, c.column, t.rule.key, ctx, fake ? "mina_refresh.mina_refresh_drawn" : undefined) : undefined;
      if (e === undefined) return ident(c.column);
      maskedHere++;
      return `${e} AS ${ident(c.column)}`;
    });
    const list = cols.map((c) => ident(c.column)).join(", ");
    const out = source.query(to(`COPY (SELECT ${select.join(", ")} FROM ${readFrom}) TO STDOUT`));
    const into = target.query(from(`COPY ${qualified(t.ref)} (${list}) FROM STDIN`));
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
    onTable(t.rule.table, n, n * maskedHere, tableBytes);
  }
  return { rows, masked, bytes };
}

/** Sets every sequence of the new database to the source's value (the data section's job, when the rows are copied by hand). */
export async function copySequences(source: Client, target: Client): Promise<void> {
  const seqs = await source.query(
    `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  );
  for (const r of seqs.rows) {
    if (r.last_value === null) continue;
    await target.query(`SELECT setval($1::regclass, $2::bigint, true)`, [r.name, r.last_value]);
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
export async function countForm(c: Client, t: TableRef, column: string, form: string, has: boolean): Promise<number> {
  const r = await c.query(
    `SELECT count(*)::bigint AS n FROM ${rel(t)} WHERE ${ident(column)} IS NOT NULL AND ${has ? "" : "NOT "}(${ident(column)}::text ~ $1)`,
    [form],
  );
  return Number(r.rows[0].n);
}

/**
 * The copy's checks, one line per problem (none: it may be renamed in): the row
 * count of every table (each on its own, a partitioned table's per partition) is
 * the source's, skipped ones are empty, and no masked column kept a source value.
 */
export async function checkCopy(
  source: Client,
  inNew: Client,
  tables: readonly CopyTable[],
  counts: ReadonlyMap<string, RowCount>,
  ctx: MaskContext & { sourceName: string },
  say: (line: string) => void = () => undefined,
): Promise<string[]> {
  const wrong: string[] = [];
  say("  row counts");
  wrong.push(...(await rowCountProblems(inNew, tables, counts)));
  for (const t of tables) {
    if (t.rule.skip) continue;
    for (const [col, m] of t.rule.columns) {
      const check: ColumnCheck = { source, inNew, t, col, where: columnKey(t.rule.table, col), ctx, say };
      wrong.push(...(await maskedColumnProblems(check, m)));
    }
  }
  say("  masked columns: no source value left");
  wrong.push(...(await brokenForeignKeys(inNew)));
  say("  foreign keys");
  return wrong;
}

/** Every table's row count (a partitioned table's per partition) is the source's; a skipped table's is 0. */
async function rowCountProblems(inNew: Client, tables: readonly CopyTable[], counts: ReadonlyMap<string, RowCount>): Promise<string[]> {
  const wrong: string[] = [];
  for (const t of tables) {
    const now = await rowCount(inNew, t.ref);
    const want = t.rule.skip ? { total: 0, partitions: new Map<string, number>() } : counts.get(t.rule.table)!;
    if (now.total !== want.total) {
      wrong.push(t.rule.skip ? `${t.rule.table} is skipped but has ${now.total} rows` : `${t.rule.table} has ${now.total} rows, the source ${want.total}`);
      continue;
    }
    for (const [p, n] of want.partitions ?? [])
      if ((now.partitions?.get(p) ?? 0) !== n) wrong.push(`partition ${p} of ${t.rule.table} has ${now.partitions?.get(p) ?? 0} rows, the source ${n}`);
  }
  return wrong;
}

/** One masked column of the copy to check against the source; `where` names it in messages. */
interface ColumnCheck {
  readonly source: Client;
  readonly inNew: Client;
  readonly t: CopyTable;
  readonly col: string;
  readonly where: string;
  readonly ctx: MaskContext & { sourceName: string };
  readonly say: (line: string) => void;
}

/** What is wrong with one column of the copy, by its mask: none for kept and generated columns. */
async function maskedColumnProblems(check: ColumnCheck, m: Mask): Promise<string[]> {
  switch (m.kind) {
    case "keep":
    case "generated":
      return [];
    case "null":
      return nulledProblems(check);
    case "rebucket":
      return rebucketedProblems(check);
    case "constant":
      return constantProblems(check, m.value);
    case "fake_name":
      return fakeNameProblems(check);
    default:
      return formedMaskProblems(check, m);
  }
}

/** A nulled column holds no value. */
async function nulledProblems({ inNew, t, col, where }: ColumnCheck): Promise<string[]> {
  const left = await inNew.query(`SELECT count(*)::bigint AS n FROM ${rel(t.ref)} WHERE ${ident(col)} IS NOT NULL`);
  return Number(left.rows[0].n) > 0 ? [`${where}: ${left.rows[0].n} values were not masked`] : [];
}

/** A rebucketed column names the source's bucket nowhere. */
async function rebucketedProblems({ inNew, t, col, where, ctx }: ColumnCheck): Promise<string[]> {
  const left = await inNew.query(`SELECT count(*)::bigint AS n FROM ${rel(t.ref)} WHERE strpos(${ident(col)}, $1) > 0`, [ctx.sourceBucket]);
  return Number(left.rows[0].n) > 0 ? [`${where} still names ${ctx.sourceName}'s bucket in ${left.rows[0].n} rows`] : [];
}

/** A constant: every new value is the constant (a source value equal to it is the constant, not a leak). */
async function constantProblems({ inNew, t, col, where, say }: ColumnCheck, value: string): Promise<string[]> {
  const type = t.columns.find((x) => x.column === col)?.dataType ?? "text";
  const off = await inNew.query(`SELECT count(*)::bigint AS n FROM ${rel(t.ref)} WHERE ${ident(col)}::text IS DISTINCT FROM CAST($1 AS ${type})::text`, [
    value,
  ]);
  const wrong = Number(off.rows[0].n) > 0 ? [`${where}: ${off.rows[0].n} values were not masked`] : [];
  say(`  ${where}`);
  return wrong;
}

/**
 * Every new value is one of the made-up names; real people may bear one too, and that is no leak:
 * a row that kept its own (in any case) is, asked row by row by key. Both sides at once.
 */
async function fakeNameProblems({ source, inNew, t, col, where, say }: ColumnCheck): Promise<string[]> {
  const r = t.ref;
  const c = ident(col);
  const names = FAKE_FIRST.flatMap((first) => FAKE_LAST.map((last) => `${first} ${last}`));
  const k = ident(t.rule.key);
  const real = source.query({
    text: `SELECT ${k}::text, lower(${c}::text) FROM ${rel(r)} WHERE lower(${c}::text) = ANY($1::text[])`,
    values: [names.map((n) => n.toLowerCase())],
    rowMode: "array",
  });
  real.catch(() => undefined);
  const off = await inNew.query(`SELECT count(*)::bigint AS n FROM ${rel(r)} WHERE ${c} IS NOT NULL AND NOT (${c}::text = ANY($1::text[]))`, [names]);
  if (Number(off.rows[0].n) > 0) return [`${where}: ${off.rows[0].n} values were not masked`];
  const rows = (await real).rows;
  const kept =
    rows.length === 0
      ? 0
      : Number(
          (
            await inNew.query(
              `SELECT count(*)::bigint AS n FROM ${rel(r)} t JOIN unnest($1::text[], $2::text[]) s(k, v) ON t.${k}::text = s.k WHERE lower(t.${c}::text) = s.v`,
              [rows.map((x) => x[0]), rows.map((x) => x[1])],
            )
          ).rows[0].n,
        );
  const wrong = kept > 0 ? [`${where}: ${kept} row${kept === 1 ? "" : "s"} kept ${kept === 1 ? "its" : "their"} source value`] : [];
  say(`  ${where}`);
  return wrong;
}

/** A mask with a form of its own (user_<id>@example.invalid, 64 hex digits): every new value has it, and no source value is left. */
async function formedMaskProblems({ source, inNew, t, col, where, say }: ColumnCheck, m: Mask): Promise<string[]> {
  const r = t.ref;
  const form = maskForm(m)!;
  // Both sides at once: the new values' form on the target, the source's values of that form.
  const formed = countForm(source, r, col, form, true);
  formed.catch(() => undefined);
  const off = await countForm(inNew, r, col, form, false);
  if (off > 0) return [`${where}: ${off} value${off === 1 ? " was" : "s were"} not masked`];
  say(`  ${where}`);
  if ((await formed) === 0) return []; // no source value has the form either: none is left
  // Source values of the mask's own form (a placeholder email, a stored sha256): the values themselves are compared.
  const now = await valueHashes(inNew, r, col);
  const left = now.size <= 5000 ? await countHashesIn(source, r, col, now) : countCommon(now, await valueHashes(source, r, col));
  return left > 0 ? [`${where}: ${left} source value${left === 1 ? "" : "s"} left after masking`] : [];
}

function countCommon(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  for (const h of a) if (b.has(h)) n++;
  return n;
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
 * The copy was restored as the app role already (pg_restore --role), so this
 * changes nothing it made; it is kept so no relation can stay another role's.
 */
export async function handOver(maintenance: Client, inNew: Client, database: string, role: string): Promise<void> {
  const [owner, revoke] = handOverStatements(database, role);
  await maintenance.query(owner);
  const rels = await inNew.query(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${USER_SCHEMA} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
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
  /** Tables whose rows are left out of the data section (pg_dump patterns). */
  skipTables?: readonly string[];
  snapshot?: string;
  /** The role the restore runs as (pg_restore --role): it owns everything it creates. */
  role?: string;
  /** Only these extensions (pg_dump --extension); default all. */
  extensions?: readonly string[];
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
  const dumpArgs = pgDumpArgs(src.args, opts);
  const restoreArgs = ["--no-owner", "--no-acl", "--exit-on-error", "--verbose", ...(opts.role ? [`--role=${opts.role}`] : []), ...dst.args];
  const bin = (name: string) => opts.env[`MINA_${name.toUpperCase()}_BIN`] ?? name;
  const scrub = (s: string) => opts.secrets.reduce((m, secret) => (secret ? m.split(secret).join("***") : m), s);
  return new Promise((resolve, reject) => {
    const dump = spawn(bin("pg_dump"), dumpArgs, { env: src.env, stdio: ["ignore", "pipe", "pipe"] });
    const restore = spawn(bin("pg_restore"), restoreArgs, { env: dst.env, stdio: ["pipe", "ignore", "pipe"] });
    let bytes = 0;
    let dumpErr = "";
    const restoreLog = restoreProgress(opts.onTable);
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
    restore.stderr.on("data", (d: Buffer) => restoreLog.feed(d.toString()));
    const done = () => {
      if (failed || !("dump" in codes) || !("restore" in codes)) return;
      if (codes.dump !== 0) return fail(`pg_dump of the source failed: ${lastLine(dumpErr) || `exit ${codes.dump}`}`);
      if (codes.restore !== 0) return fail(`pg_restore into the new database failed: ${lastLine(restoreLog.errors()) || `exit ${codes.restore}`}`);
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

/**
 * Reads pg_restore's --verbose output as it comes, line by line: each table whose
 * data it loads goes to `onTable`; what is not progress is kept as its errors.
 */
function restoreProgress(onTable: ((table: string) => void) | undefined): { feed(chunk: string): void; errors(): string } {
  let pending = "";
  let errors = "";
  return {
    feed(chunk) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /processing data for table "(?:public\.)?([^"]+)"/.exec(line);
        if (m) onTable?.(m[1]);
        else if (!/^pg_restore: (creating|processing|connecting|executing|launching|finished)/.test(line)) errors += `${line}\n`;
      }
    },
    errors: () => errors,
  };
}

/** pg_dump's arguments: a custom-format archive without owners, grants or what belongs to the server, of the connection `connection` names. */
function pgDumpArgs(
  connection: readonly string[],
  opts: {
    skipTables?: readonly string[];
    snapshot?: string;
    extensions?: readonly string[];
    section?: "pre-data" | "data" | "post-data";
    lockWaitMs?: number;
  },
): string[] {
  const dumpArgs = [
    "--format=custom",
    "--no-owner",
    "--no-acl",
    "--no-publications",
    "--no-subscriptions",
    "--no-tablespaces",
    "--no-security-labels",
    ...connection,
  ];
  if (opts.snapshot) dumpArgs.push(`--snapshot=${opts.snapshot}`);
  if (opts.section) dumpArgs.push(`--section=${opts.section}`);
  if (opts.lockWaitMs !== undefined) dumpArgs.push(`--lock-wait-timeout=${opts.lockWaitMs}`);
  for (const t of opts.skipTables ?? []) dumpArgs.push(`--exclude-table-data=${t}`);
  for (const e of opts.extensions ?? []) dumpArgs.push(`--extension="${e.replace(/"/g, '""')}"`);
  return dumpArgs;
}

function lastLine(s: string): string {
  const lines = s
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^pg_(dump|restore): (warning: )?errors ignored/.test(l));
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
  // Sessions it may not end stay: say whose, at once (the rename would wait 5 s for them first). Its own kind reconnecting in between: try again.
  // (background workers have no role: the rename deals with autovacuum itself; another user's backend_type reads as NULL)
  const othersOn = async () => {
    const left = await maintenance.query<{ who: string; me: string }>(
      "SELECT DISTINCT usename::text AS who, current_user AS me FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND usesysid IS NOT NULL AND NOT pg_has_role(usesysid, 'USAGE') ORDER BY 1",
      [target],
    );
    if (left.rows.length > 0)
      throw new Error(`${target} has sessions of ${left.rows.map((r) => r.who).join(", ")}, which ${left.rows[0]!.me} may not end: end them and run again`);
  };
  await othersOn();
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
      await othersOn();
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
  return copiesOf(
    r.rows.map((row) => row.datname as string),
    target,
    "previous",
  );
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
  const names = new Set(
    copiesOf(
      r.rows.map((x) => x.name),
      target,
      "refresh",
    ),
  );
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
