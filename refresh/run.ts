/**
 * A refresh, in order: the direction from the stack files alone (before any
 * connection), where each connection landed as the servers say, the guard before
 * any data moves, the plan, one refresh of the target at a time, the copy into a
 * database no one else may use yet, its checks, and the rename, last. `--prune`
 * drops the previous copies instead. The steps themselves are in engine.ts.
 */
import * as path from "node:path";
import type { Client } from "pg";
import { loadStackOffline, readAllStacks } from "../config";
import { deriveNames, type Names } from "../config/naming";
import { tierOfRaw } from "../config/tiers";
import { REFRESH_FROM } from "../config/validation/steps";
import type { PostgresUrl } from "../lib/connectionUrl";
import { commandHint } from "../lib/commandHint";
import { CommandError, UsageError } from "../lib/errors";
import { describeError } from "../verify/live/common";
import { closePostgres, connectPostgres } from "../verify/live/postgres";
import {
  checkCopy,
  copyMasked,
  copySequences,
  copyTables,
  drawHashKey,
  dropDatabase,
  dropUnused,
  dumpAndRestore,
  handOver,
  ident,
  identify,
  type Identity,
  type Inventory,
  inventory,
  leftoverCopies,
  lockTarget,
  maskFitProblems,
  notOwnedBy,
  previousCopies,
  type RowCount,
  rowCounts,
  type SourceSchema,
  sameServer,
  sourceAccessProblems,
  sourceSchema,
  stamp,
  swapIn,
  unbound,
} from "./engine";
import { checkRulesAgainstSchema, describeMask, quoteName, type Rules, RULES_FILE, RulesError, readRules } from "./rules";

/** A database URL, and the parts of it no message may show. */
export interface ResolvedUrl {
  readonly url: PostgresUrl;
  readonly secrets: string[];
}

/** What a refresh (or a prune) is asked to do: the stacks, their URLs, the flags. */
export interface RefreshRequest {
  readonly dir: string;
  readonly from: string;
  readonly to: string;
  /** The source's URL; none with `prune`, which reads nothing of the source. */
  readonly src?: ResolvedUrl;
  readonly dst: ResolvedUrl;
  readonly dryRun: boolean;
  readonly yes: boolean;
  readonly prune: boolean;
  /** Bound of connecting, of each of the guard's queries and of waiting for a lock. */
  readonly timeoutMs: number;
  /** When the command started (for the time the refresh took). */
  readonly started: number;
}

/** Where a refresh writes and whom it asks. */
export interface RefreshIo {
  readonly stdout: { write(s: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** Whether a person can be asked. */
  readonly interactive: boolean;
  confirm(question: string): Promise<boolean>;
  /** A progress line. */
  say(line: string): void;
}

/**
 * The direction, from the stack files alone, before any connection: two stacks, the
 * target not of the production tier, its stack file naming the source in
 * `mina:refreshFrom`, and valid as a whole.
 */
export function refreshDirection(dir: string, from: string, to: string): void {
  if (from === to) throw new UsageError(`--from and --to are both ${to}: a refresh copies from one stack into another`);
  const stacks = readAllStacks(dir);
  const target = stacks.find((s) => s.stack === to)!;
  if (tierOfRaw(target) === "production")
    throw new CommandError(`refusing to refresh ${to}: it is a production-tier stack, and nothing is ever copied into production`);
  const declared = target.values[REFRESH_FROM];
  if (declared !== from) {
    throw new CommandError(
      declared === undefined
        ? `refusing to refresh ${to}: its stack file ${target.file} does not declare ${REFRESH_FROM}: ${from}`
        : `refusing to refresh ${to} from ${from}: its stack file ${target.file} declares ${REFRESH_FROM}: ${typeof declared === "string" ? declared : "(not a name)"}`,
    );
  }
  // The target's whole stack file must validate (mina:refreshFrom among it).
  loadStackOffline(dir, to, stacks);
}

/** The project's refresh rules (refresh.rules.yaml); a problem in them is one line. */
export function refreshRules(dir: string): Rules {
  try {
    return readRules(path.join(dir, RULES_FILE));
  } catch (e) {
    if (e instanceof RulesError) throw new CommandError(e.message);
    throw e;
  }
}

/** Each URL lands in its own stack's database, by name, before connecting; swapped URLs are named as such. */
export function checkUrlDatabases(req: Pick<RefreshRequest, "from" | "to" | "src" | "dst">): void {
  const srcDb = deriveNames(req.from).databaseName;
  const dstDb = deriveNames(req.to).databaseName;
  const byName = (u: PostgresUrl, stack: string, own: string, other: string, flag: string) => {
    if (u.database === own) return;
    const swapped = u.database === other ? ` (that is ${stack === req.to ? req.from : req.to}'s database: are the URLs swapped?)` : "";
    throw new CommandError(`refusing ${flag}: the URL's database is ${u.database}, not ${stack}'s own ${own}${swapped}`);
  };
  if (req.src) byName(req.src.url, req.from, srcDb, dstDb, "--from-url-env");
  byName(req.dst.url, req.to, dstDb, srcDb, "--to-url-env");
}

/** The open connections of a refresh: every one is closed at the end, whatever happens. */
class Connections {
  private readonly clients: Client[] = [];
  constructor(
    private readonly secrets: readonly string[],
    private readonly timeoutMs: number,
  ) {}

  async open(url: PostgresUrl, database: string, what: string): Promise<Client> {
    let c: Client;
    try {
      c = (await connectPostgres(url, database, this.timeoutMs)).client;
    } catch (e) {
      throw new CommandError(`cannot connect to ${what} (${url.hostPort}/${database} as ${url.user}): ${describeError(e, this.secrets)}`);
    }
    c.on("error", () => undefined);
    this.clients.push(c);
    return c;
  }

  async close(c: Client): Promise<void> {
    const i = this.clients.indexOf(c);
    if (i >= 0) this.clients.splice(i, 1);
    await closePostgres(c);
  }

  async closeAll(): Promise<void> {
    for (const c of [...this.clients]) await closePostgres(c);
  }
}

/** One refresh under way: what was asked, its connections, and the target's side of them. */
interface Session {
  readonly req: RefreshRequest;
  readonly io: RefreshIo;
  readonly conns: Connections;
  readonly secrets: readonly string[];
  readonly srcNames: Names;
  readonly dstNames: Names;
  readonly targetDb: Client;
  readonly targetId: Identity;
  /** The target's server, database postgres: where databases are created, renamed and dropped. */
  readonly maintenance: Client;
}

/** Runs a refresh, or a prune; every failure is one line that names no secret. */
export async function runRefresh(req: RefreshRequest, rules: Rules, io: RefreshIo): Promise<void> {
  const secrets = [...(req.src?.secrets ?? []), ...req.dst.secrets];
  const conns = new Connections(secrets, req.timeoutMs);
  try {
    const s = await openTarget(req, io, conns, secrets);
    if (req.prune) return await prune(s);
    await refresh(s, rules);
  } catch (e) {
    if (e instanceof CommandError || e instanceof UsageError) throw e;
    throw new CommandError(describeError(e, secrets));
  } finally {
    await conns.closeAll();
  }
}

/** Where the target's connections landed, as the servers say: its own database, and the same server for both. */
async function openTarget(req: RefreshRequest, io: RefreshIo, conns: Connections, secrets: readonly string[]): Promise<Session> {
  const srcNames = deriveNames(req.from);
  const dstNames = deriveNames(req.to);
  const { dst, to } = req;
  const targetDb = await conns.open(dst.url, dst.url.database, `${to}'s database`);
  const targetId = await identify(targetDb);
  if (targetId.database !== dstNames.databaseName) throw new CommandError(`the target connection landed in ${targetId.database}, not ${dstNames.databaseName}`);
  const maintenance = await conns.open(dst.url, "postgres", `${to}'s server (database postgres)`);
  const maintenanceId = await identify(maintenance);
  if (!sameServer(targetId, maintenanceId)) throw new CommandError(`the maintenance connection landed on another server than ${to}'s database`);
  return { req, io, conns, secrets, srcNames, dstNames, targetDb, targetId, maintenance };
}

function busy(database: string): string {
  return `another refresh or --prune of ${database} is running on its server (it holds the refresh lock): wait for it to end`;
}

/** --prune: the previous data of earlier refreshes, and the copies interrupted ones left (unless a session uses them). */
async function prune(s: Session): Promise<void> {
  const { maintenance, io, req } = s;
  const db = s.dstNames.databaseName;
  const old = await previousCopies(maintenance, db);
  const left = await leftoverCopies(maintenance, db);
  if (old.length === 0 && left.length === 0) {
    io.stdout.write(`nothing to prune: no ${db}_previous_* or ${db}_refresh_* database\n`);
    return;
  }
  const apply = !req.dryRun && req.yes;
  if (apply && !(await lockTarget(maintenance, db))) throw new CommandError(busy(db));
  for (const n of old) io.stdout.write(`${apply ? "dropping" : "would drop"} ${n}\n`);
  for (const l of left) {
    io.stdout.write(
      l.sessions > 0
        ? `leaving ${l.name}: ${l.sessions} session${l.sessions === 1 ? " uses" : "s use"} it\n`
        : `${apply ? "dropping" : "would drop"} ${l.name} (left by an interrupted refresh)\n`,
    );
  }
  if (!apply) {
    io.stdout.write("dry run: nothing dropped; run again with --yes to drop\n");
    return;
  }
  await unbound(maintenance);
  for (const n of old) await dropDatabase(maintenance, n);
  let interrupted = 0;
  for (const l of left) {
    if (l.sessions > 0) continue;
    if (await dropUnused(maintenance, l.name)) interrupted++;
    else io.stdout.write(`leaving ${l.name}: a session uses it\n`);
  }
  const copies = (n: number) => `cop${n === 1 ? "y" : "ies"}`;
  const what = [
    old.length > 0 ? `${old.length} previous ${copies(old.length)}` : "",
    interrupted > 0 ? `${interrupted} ${copies(interrupted)} left by an interrupted refresh` : "",
  ].filter(Boolean);
  io.stdout.write(`✓ dropped ${what.length > 0 ? what.join(" and ") : "nothing"} of ${db}\n`);
}

/** The refresh itself: the source, the guard, the plan, the go-ahead, then the copy and the rename. */
async function refresh(s: Session, rules: Rules): Promise<void> {
  const source = await openSource(s);
  const guarded = await guardSource(s, source, rules);
  await guardTarget(s);
  // What grows with the data is not bounded by --timeout: counting, copying, checking.
  for (const c of [source, s.maintenance, s.targetDb]) await unbound(c);
  const plan = await planRefresh(s, source, rules, guarded);
  s.io.stdout.write(`${plan.lines.join("\n")}\n`);
  if (s.req.dryRun) {
    s.io.stdout.write("dry run: nothing changed\n");
    return;
  }
  await goAhead(s);
  await copyIn(s, source, plan, guarded);
}

/** The source, read in one snapshot: its own database, and not the target's. */
async function openSource(s: Session): Promise<Client> {
  const { req, srcNames, targetId } = s;
  if (!req.src) throw new Error("unreachable: no source URL outside --prune");
  const source = await s.conns.open(req.src.url, req.src.url.database, `${req.from}'s database`);
  await source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  const sourceId = await identify(source);
  if (sourceId.database !== srcNames.databaseName) throw new CommandError(`the source connection landed in ${sourceId.database}, not ${srcNames.databaseName}`);
  if (sameServer(sourceId, targetId) && sourceId.database === targetId.database) {
    const server = sourceId.systemId ? `system ${sourceId.systemId}` : `${sourceId.address ?? "local socket"}:${sourceId.port ?? "?"}`;
    throw new CommandError(`the source and the target are the same database (${sourceId.database} on ${server})`);
  }
  return source;
}

/** What the guard learnt of the source, for the plan and the copy. */
interface Guarded {
  readonly inv: Inventory;
  readonly schema: SourceSchema;
  readonly ctx: { readonly sourceBucket: string; readonly targetBucket: string };
}

/**
 * The guard on the source, before any data moves (its catalog queries bounded by
 * --timeout): the source holds nothing the copy may not carry, every table and
 * column is classified, every mask fits its column, the role may read it all.
 */
async function guardSource(s: Session, source: Client, rules: Rules): Promise<Guarded> {
  const inv = await inventory(source);
  const schema = await sourceSchema(source);
  const sourceBucket = deriveNames(s.req.from).bucket;
  const ctx = { sourceBucket, targetBucket: s.dstNames.bucket };
  const problems = [
    ...inv.refused,
    ...checkRulesAgainstSchema(rules, schema.columns, schema.tables),
    ...(await sourceAccessProblems(source)),
    ...(await maskFitProblems(source, copyTables(rules, schema), ctx)),
  ];
  if (problems.length > 0) {
    throw new CommandError(problems.length === 1 ? problems[0] : `${problems.length} problems, before any data moved: ${problems.join("; ")}`);
  }
  return { inv, schema, ctx };
}

/**
 * The guard on the target's server: the app role exists, and the admin may create a
 * database and is a member of the app role. The copy is restored as the app role,
 * handed to it and renamed in place of its database: SET ROLE, the owner's rights,
 * and ending the app's sessions.
 */
async function guardTarget(s: Session): Promise<void> {
  const { maintenance, dstNames, req } = s;
  const roleExists = await maintenance.query("SELECT rolname FROM pg_roles WHERE rolname = $1", [dstNames.databaseRole]);
  if (roleExists.rowCount === 0)
    throw new CommandError(`${req.to}'s app role ${dstNames.databaseRole} does not exist on its server: the refreshed database would have no owner`);
  const may = await maintenance.query("SELECT rolsuper OR rolcreatedb AS ok FROM pg_roles WHERE rolname = current_user");
  if (!may.rows[0]?.ok)
    throw new CommandError(
      `${req.dst.url.user} may not CREATE DATABASE on ${req.to}'s server: pass --to-url-env with an admin URL (see README, Refreshing staging's data)`,
    );
  const member = await maintenance.query("SELECT pg_has_role(current_user, $1, 'USAGE') AS ok", [dstNames.databaseRole]);
  if (!member.rows[0]?.ok) {
    throw new CommandError(
      `${req.dst.url.user} is not a member of ${req.to}'s app role ${dstNames.databaseRole}: it could not hand the copy over, end the app's sessions or rename ${dstNames.databaseName} (the Database component grants the admin that membership; see README, Database modes)`,
    );
  }
}

/** What the refresh will do, before it does it. */
interface RefreshPlan {
  readonly tables: ReturnType<typeof copyTables>;
  readonly copied: ReturnType<typeof copyTables>;
  readonly skipped: ReturnType<typeof copyTables>;
  readonly counts: Map<string, RowCount>;
  readonly totalRows: number;
  /** The new database, and the name the current one gets. */
  readonly fresh: string;
  readonly previous: string;
  readonly lines: string[];
}

/** The tables, their rows and masks, what is left out, and the names of the copy and of the previous data. */
async function planRefresh(s: Session, source: Client, rules: Rules, g: Guarded): Promise<RefreshPlan> {
  const { req, srcNames, dstNames } = s;
  const tables = copyTables(rules, g.schema);
  const copied = tables.filter((t) => !t.rule.skip);
  const skipped = tables.filter((t) => t.rule.skip);
  const counts = await rowCounts(source, copied);
  const ts = stamp();
  const fresh = `${dstNames.databaseName}_refresh_${ts}`;
  const previous = `${dstNames.databaseName}_previous_${ts}`;
  const totalRows = [...counts.values()].reduce((a, b) => a + b.total, 0);
  const leftovers = await leftoverCopies(s.maintenance, dstNames.databaseName);
  const lines = [
    `refresh ${req.to} (${dstNames.databaseName} on ${req.dst.url.hostPort}) from ${req.from} (${srcNames.databaseName} on ${req.src?.url.hostPort}), anonymized by ${RULES_FILE}:`,
    ...copied.map((t) => {
      const masked = [...t.rule.columns]
        .filter(([, m]) => m.kind !== "keep" && m.kind !== "generated")
        .map(([col, m]) => `${quoteName(col)}: ${describeMask(m).replace(/^constant: .*/, "constant")}`);
      const parts = counts.get(t.rule.table)?.partitions;
      return `  ${t.rule.table}: ${counts.get(t.rule.table)?.total} rows${parts ? ` in ${parts.size} partition${parts.size === 1 ? "" : "s"}` : ""}${masked.length ? `, masks ${masked.join(", ")}` : ", kept as is"}`;
    }),
    ...skipped.map((t) => `  ${t.rule.table}: skipped (schema only, no rows)`),
    ...g.inv.leftOut.map((e) => `  extension ${e}: not copied (the server's monitoring; no table needs it)`),
    ...leftovers.map(
      (l) =>
        `  ${l.name}: ${l.sessions > 0 ? `left by an interrupted refresh, in use by ${l.sessions} session${l.sessions === 1 ? "" : "s"}: left alone` : "left by an interrupted refresh: dropped first"}`,
    ),
    `  copy into ${fresh} as ${dstNames.databaseRole}, mask, check, then rename ${dstNames.databaseName} to ${previous} and ${fresh} to ${dstNames.databaseName}`,
  ];
  return { tables, copied, skipped, counts, totalRows, fresh, previous, lines };
}

/** --yes, or a person's yes; then one refresh of the target at a time, and what an interrupted one left goes first. */
async function goAhead(s: Session): Promise<void> {
  const { req, io, maintenance } = s;
  const db = s.dstNames.databaseName;
  if (!req.yes) {
    if (!io.interactive) throw new UsageError("refusing to refresh without --yes when no one can be asked (or pass --dry-run)");
    if (!(await io.confirm(`Replace ${req.to}'s data with ${req.from}'s, anonymized? [y/N] `))) throw new CommandError("not confirmed: nothing changed");
  }
  if (!(await lockTarget(maintenance, db))) throw new CommandError(busy(db));
  for (const l of await leftoverCopies(maintenance, db)) {
    if (l.sessions === 0 && (await dropUnused(maintenance, l.name))) io.say(`dropped ${l.name}, left by an interrupted refresh`);
    else io.say(`left ${l.name} alone: a session uses it`);
  }
}

/** The copy, in a database no one else may use yet, owned by the app role; dropped on any failure before the rename. */
async function copyIn(s: Session, source: Client, plan: RefreshPlan, g: Guarded): Promise<void> {
  const { req, maintenance, dstNames } = s;
  const snap = await source.query("SELECT pg_export_snapshot() AS s");
  await drawHashKey(source);
  await maintenance.query(`CREATE DATABASE ${ident(plan.fresh)} OWNER ${ident(dstNames.databaseRole)} TEMPLATE template0`);
  let swapped = false;
  try {
    await maintenance.query(`REVOKE ALL ON DATABASE ${ident(plan.fresh)} FROM PUBLIC`);
    const { inNew, bytes, masked } = await restoreMasked(s, source, plan, g, snap.rows[0].s);
    await source.query("COMMIT");
    await s.conns.close(source);

    // Hand it to the app's role, then rename it in, last.
    await inNew.query("RESET ROLE");
    await handOver(maintenance, inNew, plan.fresh, dstNames.databaseRole);
    await s.conns.close(inNew);
    await s.conns.close(s.targetDb);
    s.io.say(`renaming ${plan.fresh} to ${dstNames.databaseName}…`);
    await swapIn(maintenance, dstNames.databaseName, plan.fresh, plan.previous);
    swapped = true;
    const seconds = (Date.now() - req.started) / 1000;
    s.io.stdout.write(
      `✓ ${req.to} refreshed from ${req.from}: ${plan.copied.length} tables, ${plan.totalRows} rows, ${masked} values masked, ${plan.skipped.length} skipped, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s; the previous data is ${plan.previous} (${commandHint(s.io.env, "refresh", `--from ${req.from} --to ${req.to} --prune --yes`)} drops it)\n`,
    );
  } catch (e) {
    if (!swapped) await dropDatabase(maintenance, plan.fresh).catch(() => undefined);
    if (e instanceof CommandError || e instanceof UsageError) throw e;
    throw new CommandError(`refresh failed, ${req.to} is unchanged: ${describeError(e, s.secrets)}`);
  }
}

/**
 * Into the new database: the schema, then the rows (masked in the stream), the
 * sequences, and only then indexes and constraints (which the server validates on
 * the masked rows); restored as the app role, which then owns everything in the
 * copy, with only the extensions the guard allowed. Then the checks.
 */
async function restoreMasked(
  s: Session,
  source: Client,
  plan: RefreshPlan,
  g: Guarded,
  snapshot: string,
): Promise<{ inNew: Client; bytes: number; masked: number }> {
  const { req, dstNames, io } = s;
  const { src, dst } = req;
  if (!src) throw new Error("unreachable: no source URL outside --prune");
  io.say(`copying ${plan.totalRows} rows of ${plan.copied.length} tables into ${plan.fresh}…`);
  const extensions = g.inv.leftOut.length > 0 ? (g.inv.extensions.length > 0 ? g.inv.extensions : ["plpgsql"]) : undefined;
  const copy = (section: "pre-data" | "post-data") =>
    dumpAndRestore({
      source: src.url,
      target: dst.url,
      newDatabase: plan.fresh,
      snapshot,
      section,
      lockWaitMs: req.timeoutMs,
      role: dstNames.databaseRole,
      extensions,
      env: io.env,
      secrets: [...s.secrets],
    });
  const inNew = await s.conns.open(dst.url, plan.fresh, "the new database");
  await unbound(inNew);
  await inNew.query(`SET ROLE ${ident(dstNames.databaseRole)}`);
  let bytes = (await copy("pre-data")).bytes;
  // What the schema brought, before any row does: nothing the guard refuses, everything the app role's.
  const wrongSchema = [...(await inventory(inNew)).refused, ...(await notOwnedBy(inNew, dstNames.databaseRole))];
  if (wrongSchema.length > 0) throw new CommandError(`the copy's schema holds what refresh does not copy, ${req.to} is unchanged: ${wrongSchema.join("; ")}`);
  // The rows, masked in the stream: the source's snapshot, its masked SELECT, COPY into the new database.
  const rows = await copyMasked(source, inNew, plan.tables, g.ctx, (t, n, m, b) => io.say(`  ${t}: ${n} rows, ${(b / 1e6).toFixed(1)} MB, ${m} values masked`));
  bytes += rows.bytes;
  await copySequences(source, inNew);
  io.say("indexes and constraints…");
  bytes += (await copy("post-data")).bytes;
  io.say("checking…");
  const wrong = await checkCopy(source, inNew, plan.tables, plan.counts, { ...g.ctx, sourceName: req.from }, io.say);
  wrong.push(...(await inventory(inNew)).refused, ...(await notOwnedBy(inNew, dstNames.databaseRole)));
  if (wrong.length > 0) throw new CommandError(`the refreshed copy failed its checks, ${req.to} is unchanged: ${wrong.join("; ")}`);
  return { inNew, bytes, masked: rows.masked };
}
