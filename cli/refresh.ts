/**
 * mina-infra refresh --from SOURCE --to TARGET [--dry-run] [--yes] [--from-url-env VAR] [--to-url-env VAR] [--prune]
 *
 * Refreshes a non-production stack's database from another stack's, anonymized
 * by refresh.rules.yaml, in one direction only: the target's stack file must say
 * `mina:refreshFrom: SOURCE`, a production-tier target is refused, and each URL
 * must land in its own stack's derived database (checked on the server) before
 * anything that can write connects. See README, Refreshing staging's data.
 */
import * as path from "node:path";
import type { Client } from "pg";
import { loadStackOffline, readAllStacks } from "../config";
import { deriveNames } from "../config/naming";
import { REFRESH_FROM } from "../config/steps";
import { tierOfRaw } from "../config/tiers";
import { parsePostgresUrl, type PostgresUrl } from "../lib/connectionUrl";
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
  inventory,
  leftoverCopies,
  lockTarget,
  maskFitProblems,
  notOwnedBy,
  previousCopies,
  rowCounts,
  sameServer,
  sourceAccessProblems,
  sourceSchema,
  stamp,
  swapIn,
  unbound,
} from "../refresh/engine";
import { checkRulesAgainstSchema, describeMask, quoteName, readRules, RULES_FILE, RulesError } from "../refresh/rules";
import { closePostgres, connectPostgres } from "../verify/live/postgres";
import { describeError, urlSecrets } from "../verify/live/common";
import { envFromOutputs, readStackOutputsWithCli } from "./lib/outputs";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, commandHint, durationOption, type Io, progress, runCli, UsageError } from "./lib/run";

interface Opts {
  from: string;
  to: string;
  dryRun?: boolean;
  yes?: boolean;
  fromUrlEnv?: string;
  toUrlEnv?: string;
  prune?: boolean;
  timeout: number;
  quiet?: boolean;
  json?: boolean;
  dir?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A stack's database URL: from the named environment variable, else from its outputs' env.DATABASE_URL. */
function urlOf(io: Io, dir: string, stack: string, envName: string | undefined, flag: string): { url: PostgresUrl; secrets: string[] } {
  let raw: string;
  let key: string;
  if (envName !== undefined) {
    if (!ENV_NAME.test(envName)) throw new UsageError(`${flag} takes the NAME of an environment variable, not a value`);
    const v = io.env[envName];
    if (v === undefined || v === "") throw new UsageError(`${flag}: environment variable ${envName} is not set`);
    raw = v;
    key = envName;
  } else {
    const env = envFromOutputs(
      readStackOutputsWithCli(stack, dir, io.env, `pass ${flag} VAR with the name of a variable holding the URL`),
      `the outputs of ${stack}`,
    );
    if (!env.DATABASE_URL) throw new CommandError(`the outputs of ${stack} have no env.DATABASE_URL; pass ${flag} VAR`);
    raw = env.DATABASE_URL;
    key = `${stack}'s DATABASE_URL`;
  }
  let url: PostgresUrl;
  try {
    url = parsePostgresUrl(raw, key);
  } catch (e) {
    throw new UsageError(describeError(e, urlSecrets(raw)));
  }
  return { url, secrets: urlSecrets(raw, url) };
}

async function open(url: PostgresUrl, database: string, secrets: readonly string[], what: string, timeoutMs: number): Promise<Client> {
  try {
    return (await connectPostgres(url, database, timeoutMs)).client;
  } catch (e) {
    throw new CommandError(`cannot connect to ${what} (${url.hostPort}/${database} as ${url.user}): ${describeError(e, secrets)}`);
  }
}

function describeServer(i: Identity): string {
  return i.systemId ? `system ${i.systemId}` : `${i.address ?? "local socket"}:${i.port ?? "?"}`;
}

export const main = command<Opts>(
  "refresh",
  (c) =>
    c
      .description(
        "Refresh a non-production stack's database from another stack's, anonymized by refresh.rules.yaml; the target's stack file must name the source in mina:refreshFrom.",
      )
      .requiredOption("--from <stack>", "the source stack (e.g. production); only read")
      .requiredOption("--to <stack>", "the target stack (e.g. staging); its stack file must say mina:refreshFrom: <source>")
      .option("--dry-run", "check everything and print the plan; change nothing")
      .option("--yes", "apply without asking")
      .option("--from-url-env <var>", "name of an environment variable holding the source's URL (default: the source's outputs, env.DATABASE_URL)")
      .option(
        "--to-url-env <var>",
        "name of an environment variable holding an admin URL on the target's server, to the target's database (CREATEDB, and a member of the target's app role)",
      )
      .option(
        "--prune",
        "instead of refreshing: drop the target's previous copies (<target db>_previous_<time>) and those interrupted refreshes left (<target db>_refresh_<time>, unless in use)",
      )
      .addOption(
        durationOption(
          "--timeout <duration>",
          "bound of connecting, of each of the guard's queries and of waiting for a lock (not of counting, copying or checking)",
          {
            default: "10s",
            min: 100,
          },
        ),
      )
      .option("--quiet", "no progress lines")
      .option("--json", "print the result as JSON: the report's lines in `report`")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const started = Date.now();
    const timeoutMs = o.timeout;
    if (o.dryRun && o.yes) throw new UsageError("--dry-run and --yes contradict each other: pick one");
    const say = progress(io, o.quiet === true || o.json === true);

    // 1. The direction, from the stack files alone: before any connection.
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.from, o.to]);
    if (o.from === o.to) throw new UsageError(`--from and --to are both ${o.to}: a refresh copies from one stack into another`);
    const stacks = readAllStacks(dir);
    const target = stacks.find((s) => s.stack === o.to)!;
    if (tierOfRaw(target) === "production")
      throw new CommandError(`refusing to refresh ${o.to}: it is a production-tier stack, and nothing is ever copied into production`);
    const declared = target.values[REFRESH_FROM];
    if (declared !== o.from) {
      throw new CommandError(
        declared === undefined
          ? `refusing to refresh ${o.to}: its stack file ${target.file} does not declare ${REFRESH_FROM}: ${o.from}`
          : `refusing to refresh ${o.to} from ${o.from}: its stack file ${target.file} declares ${REFRESH_FROM}: ${typeof declared === "string" ? declared : "(not a name)"}`,
      );
    }
    // The target's whole stack file must validate (mina:refreshFrom among it).
    loadStackOffline(dir, o.to, stacks);
    const rulesPath = path.join(dir, RULES_FILE);
    let rules;
    try {
      rules = readRules(rulesPath);
    } catch (e) {
      if (e instanceof RulesError) throw new CommandError(e.message);
      throw e;
    }
    const srcNames = deriveNames(o.from);
    const dstNames = deriveNames(o.to);

    // 2. Each URL lands in its own stack's database, by name, before connecting.
    // --prune reads nothing of the source: its URL is not asked for.
    const src = o.prune ? undefined : urlOf(io, dir, o.from, o.fromUrlEnv, "--from-url-env");
    const dst = urlOf(io, dir, o.to, o.toUrlEnv, "--to-url-env");
    const byName = (u: PostgresUrl, stack: string, own: string, other: string, flag: string) => {
      if (u.database === own) return;
      const swapped = u.database === other ? ` (that is ${stack === o.to ? o.from : o.to}'s database: are the URLs swapped?)` : "";
      throw new CommandError(`refusing ${flag}: the URL's database is ${u.database}, not ${stack}'s own ${own}${swapped}`);
    };
    if (src) byName(src.url, o.from, srcNames.databaseName, dstNames.databaseName, "--from-url-env");
    byName(dst.url, o.to, dstNames.databaseName, srcNames.databaseName, "--to-url-env");
    const secrets = [...(src?.secrets ?? []), ...dst.secrets];

    const clients: Client[] = [];
    const connect = async (u: PostgresUrl, db: string, what: string) => {
      const c = await open(u, db, secrets, what, timeoutMs);
      c.on("error", () => undefined);
      clients.push(c);
      return c;
    };
    const close = async (c: Client) => {
      const i = clients.indexOf(c);
      if (i >= 0) clients.splice(i, 1);
      await closePostgres(c);
    };
    try {
      // 3. Where the connections landed, as the servers say.
      const targetDb = await connect(dst.url, dst.url.database, `${o.to}'s database`);
      const targetId = await identify(targetDb);
      if (targetId.database !== dstNames.databaseName)
        throw new CommandError(`the target connection landed in ${targetId.database}, not ${dstNames.databaseName}`);
      const maintenance = await connect(dst.url, "postgres", `${o.to}'s server (database postgres)`);
      const maintenanceId = await identify(maintenance);
      if (!sameServer(targetId, maintenanceId)) throw new CommandError(`the maintenance connection landed on another server than ${o.to}'s database`);

      if (o.prune) {
        // The previous data of earlier refreshes, and the copies interrupted ones left (unless a session uses them).
        const old = await previousCopies(maintenance, dstNames.databaseName);
        const left = await leftoverCopies(maintenance, dstNames.databaseName);
        if (old.length === 0 && left.length === 0) {
          io.stdout.write(`nothing to prune: no ${dstNames.databaseName}_previous_* or ${dstNames.databaseName}_refresh_* database\n`);
          return 0;
        }
        const apply = !o.dryRun && o.yes === true;
        if (apply && !(await lockTarget(maintenance, dstNames.databaseName))) throw new CommandError(busy(dstNames.databaseName));
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
          return 0;
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
        io.stdout.write(`✓ dropped ${what.length > 0 ? what.join(" and ") : "nothing"} of ${dstNames.databaseName}\n`);
        return 0;
      }

      if (!src) throw new Error("unreachable: no source URL outside --prune");
      const source = await connect(src.url, src.url.database, `${o.from}'s database`);
      await source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      const sourceId = await identify(source);
      if (sourceId.database !== srcNames.databaseName)
        throw new CommandError(`the source connection landed in ${sourceId.database}, not ${srcNames.databaseName}`);
      if (sameServer(sourceId, targetId) && sourceId.database === targetId.database) {
        throw new CommandError(`the source and the target are the same database (${sourceId.database} on ${describeServer(sourceId)})`);
      }

      // 4. The guard, before any data moves (its catalog queries bounded by --timeout): the source holds nothing the
      // copy may not carry, every table and column is classified, every mask fits its column, the role may read it all.
      const inv = await inventory(source);
      const schema = await sourceSchema(source);
      const sourceBucket = deriveNames(o.from).bucket;
      const ctx = { sourceBucket, targetBucket: dstNames.bucket };
      const problems = [
        ...inv.refused,
        ...checkRulesAgainstSchema(rules, schema.columns, schema.tables),
        ...(await sourceAccessProblems(source)),
        ...(await maskFitProblems(source, copyTables(rules, schema), ctx)),
      ];
      if (problems.length > 0) {
        throw new CommandError(problems.length === 1 ? problems[0] : `${problems.length} problems, before any data moved: ${problems.join("; ")}`);
      }
      const roleExists = await maintenance.query("SELECT rolname FROM pg_roles WHERE rolname = $1", [dstNames.databaseRole]);
      if (roleExists.rowCount === 0)
        throw new CommandError(`${o.to}'s app role ${dstNames.databaseRole} does not exist on its server: the refreshed database would have no owner`);
      const may = await maintenance.query("SELECT rolsuper OR rolcreatedb AS ok FROM pg_roles WHERE rolname = current_user");
      if (!may.rows[0]?.ok)
        throw new CommandError(
          `${dst.url.user} may not CREATE DATABASE on ${o.to}'s server: pass --to-url-env with an admin URL (see README, Refreshing staging's data)`,
        );
      // The copy is restored as the app role, handed to it and renamed in place of its database: SET ROLE, the owner's rights, and ending the app's sessions.
      const member = await maintenance.query("SELECT pg_has_role(current_user, $1, 'USAGE') AS ok", [dstNames.databaseRole]);
      if (!member.rows[0]?.ok) {
        throw new CommandError(
          `${dst.url.user} is not a member of ${o.to}'s app role ${dstNames.databaseRole}: it could not hand the copy over, end the app's sessions or rename ${dstNames.databaseName} (the Database component grants the admin that membership; see README, Database modes)`,
        );
      }

      // What grows with the data is not bounded by --timeout: counting, copying, checking.
      for (const c of [source, maintenance, targetDb]) await unbound(c);
      const tables = copyTables(rules, schema);
      const copied = tables.filter((t) => !t.rule.skip);
      const skipped = tables.filter((t) => t.rule.skip);
      const counts = await rowCounts(source, copied);
      const ts = stamp();
      const fresh = `${dstNames.databaseName}_refresh_${ts}`;
      const previous = `${dstNames.databaseName}_previous_${ts}`;
      const totalRows = [...counts.values()].reduce((a, b) => a + b.total, 0);
      const leftovers = await leftoverCopies(maintenance, dstNames.databaseName);

      const plan = [
        `refresh ${o.to} (${dstNames.databaseName} on ${dst.url.hostPort}) from ${o.from} (${srcNames.databaseName} on ${src.url.hostPort}), anonymized by ${RULES_FILE}:`,
        ...copied.map((t) => {
          const masked = [...t.rule.columns]
            .filter(([, m]) => m.kind !== "keep" && m.kind !== "generated")
            .map(([col, m]) => `${quoteName(col)}: ${describeMask(m).replace(/^constant: .*/, "constant")}`);
          const parts = counts.get(t.rule.table)?.partitions;
          return `  ${t.rule.table}: ${counts.get(t.rule.table)?.total} rows${parts ? ` in ${parts.size} partition${parts.size === 1 ? "" : "s"}` : ""}${masked.length ? `, masks ${masked.join(", ")}` : ", kept as is"}`;
        }),
        ...skipped.map((t) => `  ${t.rule.table}: skipped (schema only, no rows)`),
        ...inv.leftOut.map((e) => `  extension ${e}: not copied (the server's monitoring; no table needs it)`),
        ...leftovers.map(
          (l) =>
            `  ${l.name}: ${l.sessions > 0 ? `left by an interrupted refresh, in use by ${l.sessions} session${l.sessions === 1 ? "" : "s"}: left alone` : "left by an interrupted refresh: dropped first"}`,
        ),
        `  copy into ${fresh} as ${dstNames.databaseRole}, mask, check, then rename ${dstNames.databaseName} to ${previous} and ${fresh} to ${dstNames.databaseName}`,
      ];
      io.stdout.write(`${plan.join("\n")}\n`);
      if (o.dryRun) {
        io.stdout.write("dry run: nothing changed\n");
        return 0;
      }
      if (!o.yes) {
        if (!io.interactive) throw new UsageError("refusing to refresh without --yes when no one can be asked (or pass --dry-run)");
        if (!(await io.confirm(`Replace ${o.to}'s data with ${o.from}'s, anonymized? [y/N] `))) throw new CommandError("not confirmed: nothing changed");
      }

      // 5. One refresh of the target at a time; what an interrupted one left goes first.
      if (!(await lockTarget(maintenance, dstNames.databaseName))) throw new CommandError(busy(dstNames.databaseName));
      for (const l of await leftoverCopies(maintenance, dstNames.databaseName)) {
        if (l.sessions === 0 && (await dropUnused(maintenance, l.name))) say(`dropped ${l.name}, left by an interrupted refresh`);
        else say(`left ${l.name} alone: a session uses it`);
      }

      // 6. The copy, in a database no one else may use yet, owned by the app role; dropped on any failure.
      const snap = await source.query("SELECT pg_export_snapshot() AS s");
      await drawHashKey(source);
      await maintenance.query(`CREATE DATABASE ${ident(fresh)} OWNER ${ident(dstNames.databaseRole)} TEMPLATE template0`);
      let swapped = false;
      try {
        await maintenance.query(`REVOKE ALL ON DATABASE ${ident(fresh)} FROM PUBLIC`);
        say(`copying ${totalRows} rows of ${copied.length} tables into ${fresh}…`);
        // Schema, then data, then the masks, and only then indexes and constraints (which the server validates on the masked rows).
        // Restored as the app role, which then owns everything in the copy; only the extensions the guard allowed.
        const extensions = inv.leftOut.length > 0 ? (inv.extensions.length > 0 ? inv.extensions : ["plpgsql"]) : undefined;
        const copy = (section: "pre-data" | "post-data") =>
          dumpAndRestore({
            source: src.url,
            target: dst.url,
            newDatabase: fresh,
            snapshot: snap.rows[0].s,
            section,
            lockWaitMs: timeoutMs,
            role: dstNames.databaseRole,
            extensions,
            env: io.env,
            secrets,
          });
        const inNew = await connect(dst.url, fresh, "the new database");
        await unbound(inNew);
        await inNew.query(`SET ROLE ${ident(dstNames.databaseRole)}`);
        let bytes = (await copy("pre-data")).bytes;
        // What the schema brought, before any row does: nothing the guard refuses, everything the app role's.
        const wrongSchema = [...(await inventory(inNew)).refused, ...(await notOwnedBy(inNew, dstNames.databaseRole))];
        if (wrongSchema.length > 0)
          throw new CommandError(`the copy's schema holds what refresh does not copy, ${o.to} is unchanged: ${wrongSchema.join("; ")}`);
        // The rows, masked in the stream: the source's snapshot, its masked SELECT, COPY into the new database.
        const copied_ = await copyMasked(source, inNew, tables, ctx, (t, n, m, b) => say(`  ${t}: ${n} rows, ${(b / 1e6).toFixed(1)} MB, ${m} values masked`));
        const masked = copied_.masked;
        bytes += copied_.bytes;
        await copySequences(source, inNew);

        say("indexes and constraints…");
        bytes += (await copy("post-data")).bytes;
        say("checking…");
        const wrong = await checkCopy(source, inNew, tables, counts, { ...ctx, sourceName: o.from }, say);
        wrong.push(...(await inventory(inNew)).refused, ...(await notOwnedBy(inNew, dstNames.databaseRole)));
        if (wrong.length > 0) throw new CommandError(`the refreshed copy failed its checks, ${o.to} is unchanged: ${wrong.join("; ")}`);
        await source.query("COMMIT");
        await close(source);

        // 7. Hand it to the app's role, then rename it in, last.
        await inNew.query("RESET ROLE");
        await handOver(maintenance, inNew, fresh, dstNames.databaseRole);
        await close(inNew);
        await close(targetDb);
        say(`renaming ${fresh} to ${dstNames.databaseName}…`);
        await swapIn(maintenance, dstNames.databaseName, fresh, previous);
        swapped = true;
        const seconds = (Date.now() - started) / 1000;
        io.stdout.write(
          `✓ ${o.to} refreshed from ${o.from}: ${copied.length} tables, ${totalRows} rows, ${masked} values masked, ${skipped.length} skipped, ${(bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(1)} s; the previous data is ${previous} (${commandHint(io.env, "refresh", `--from ${o.from} --to ${o.to} --prune --yes`)} drops it)\n`,
        );
        return 0;
      } catch (e) {
        if (!swapped) await dropDatabase(maintenance, fresh).catch(() => undefined);
        if (e instanceof CommandError || e instanceof UsageError) throw e;
        throw new CommandError(`refresh failed, ${o.to} is unchanged: ${describeError(e, secrets)}`);
      }
    } catch (e) {
      if (e instanceof CommandError || e instanceof UsageError) throw e;
      throw new CommandError(describeError(e, secrets));
    } finally {
      for (const c of [...clients]) await closePostgres(c);
    }
  },
  { report: ({ from, to, dryRun, prune }) => ({ from, to, dryRun: dryRun === true, prune: prune === true }) },
);

function busy(database: string): string {
  return `another refresh or --prune of ${database} is running on its server (it holds the refresh lock): wait for it to end`;
}

if (require.main === module) runCli(main);
