/**
 * What must be true before a stack's first `pulumi up`, checked live: one item a
 * line, each with what to do when it fails. Nothing here changes anything; no
 * secret is ever part of a result.
 *
 * Items: the stack file holds no example value; the AWS credentials are for the
 * account the stack pins, its hosted zone is in that account and delegated from the
 * parent domain; the database server is reachable from here and its admin role has
 * exactly the attributes the program needs; the Upstash and Sentry credentials are
 * accepted by their APIs.
 */
import { GetHostedZoneCommand, type Route53Client } from "@aws-sdk/client-route-53";
import { GetCallerIdentityCommand, type STSClient } from "@aws-sdk/client-sts";
import { Resolver } from "node:dns/promises";
import * as net from "node:net";
import { Client } from "pg";
import type { RawStackConfig } from "../config/raw";
import type { StackConfig } from "../config/stackConfig";
import { firstLine } from "../lib/errors";
import { internalHosts, placeholders } from "./placeholders";

export const DOCTOR_ITEMS = ["placeholders", "aws", "zone", "database", "upstash", "sentry"] as const;
export type DoctorItem = (typeof DOCTOR_ITEMS)[number];

export interface DoctorResult {
  readonly item: DoctorItem;
  readonly ok: boolean;
  /** One line: what was found. */
  readonly reason: string;
  /** What to do, when it failed. */
  readonly fix?: string;
}

/** Where the live items look, and with what; every secret comes from the environment, never from a flag. */
export interface DoctorContext {
  readonly raw: RawStackConfig;
  readonly config: StackConfig;
  readonly env: NodeJS.ProcessEnv;
  /** `HOST[:PORT]` of the DNS resolver to ask (default: the system's). */
  readonly resolver?: string;
  readonly timeoutMs: number;
  /** The Redis database names of the environments this one may share nothing with (another tier's, or production's). */
  readonly foreignRedisDatabases?: readonly { environment: string; name: string }[];
}

/** The secrets the live items read from the environment, by config key. */
export const DOCTOR_SECRETS = {
  "mina:dbServerAdminPassword": "DB_SERVER_ADMIN_PASSWORD",
  "upstash:apiKey": "UPSTASH_API_KEY",
  "mina:sentryToken": "SENTRY_AUTH_TOKEN",
} as const;

const ok = (item: DoctorItem, reason: string): DoctorResult => ({ item, ok: true, reason });
const fail = (item: DoctorItem, reason: string, fix: string): DoctorResult => ({ item, ok: false, reason, fix });

function resolverOf(ctx: DoctorContext): Resolver {
  const r = new Resolver({ timeout: ctx.timeoutMs, tries: 1 });
  if (ctx.resolver) r.setServers([ctx.resolver]);
  return r;
}

/** The stack file holds no example value, and every `.internal` host it names resolves here. */
export async function checkPlaceholders(ctx: DoctorContext): Promise<DoctorResult> {
  const found = placeholders(ctx.raw).map((p) => `${p.key} ${p.why}`);
  const resolver = resolverOf(ctx);
  for (const { key, host } of internalHosts(ctx.raw)) {
    try {
      await resolver.resolve4(host);
    } catch (e) {
      found.push(
        `${key} names ${host}, which does not resolve here (${(e as NodeJS.ErrnoException).code ?? firstLine(e)}): a placeholder, or this machine is outside its network`,
      );
    }
  }
  if (found.length === 0) return ok("placeholders", `${ctx.raw.file} holds no example value`);
  return fail(
    "placeholders",
    `${ctx.raw.file}: ${found.join("; ")}`,
    `replace each with this environment's real value (pulumi config set KEY VALUE --stack ${ctx.raw.stack}), then run doctor again`,
  );
}

/** The credentials in use are for the account the stack pins (STS). */
export async function checkAws(ctx: DoctorContext, sts: STSClient): Promise<DoctorResult> {
  let account: string;
  try {
    account = (await sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  } catch (e) {
    return fail(
      "aws",
      `no AWS identity: ${firstLine(e)}`,
      "configure credentials for the environment's account (aws sso login, or the deploy role), then run doctor again",
    );
  }
  const allowed = ctx.config.aws.allowedAccountIds;
  if (!allowed.includes(account)) {
    return fail(
      "aws",
      `the credentials are for account ${account}, but ${ctx.raw.file} pins ${allowed.join(", ")}`,
      `use credentials of ${allowed.join(" or ")}, or correct aws:allowedAccountIds`,
    );
  }
  return ok("aws", `the credentials are for account ${account}, which ${ctx.raw.file} pins`);
}

const hostOf = (n: string) => n.trim().toLowerCase().replace(/\.$/, "");

/** The hosted zone is in the account (Route53) and delegated: the parent domain answers with its name servers. */
export async function checkZone(ctx: DoctorContext, route53: Route53Client): Promise<DoctorResult> {
  const { zoneId, zoneName } = ctx.config.dns;
  let servers: string[];
  let name: string;
  try {
    const out = await route53.send(new GetHostedZoneCommand({ Id: zoneId }));
    name = hostOf(out.HostedZone?.Name ?? "");
    servers = (out.DelegationSet?.NameServers ?? []).map(hostOf).sort();
  } catch (e) {
    const missing = (e as { name?: string }).name === "NoSuchHostedZone";
    return fail(
      "zone",
      missing ? `hosted zone ${zoneId} does not exist in this account` : `hosted zone ${zoneId} cannot be read: ${firstLine(e)}`,
      missing
        ? `create the hosted zone ${zoneName} in the environment's account (aws route53 create-hosted-zone) and set mina:dnsZoneId to its id`
        : "give the credentials route53:GetHostedZone on it",
    );
  }
  if (name !== hostOf(zoneName))
    return fail(
      "zone",
      `hosted zone ${zoneId} is ${name}, not ${zoneName}`,
      `set mina:dnsZoneId to the id of ${zoneName}'s zone, or mina:dnsZoneName to ${name}`,
    );
  let answered: string[];
  try {
    answered = (await resolverOf(ctx).resolveNs(name)).map(hostOf).sort();
  } catch (e) {
    return fail(
      "zone",
      `${name} has no NS records where the parent domain delegates (${(e as NodeJS.ErrnoException).code ?? firstLine(e)})`,
      `add an NS record for ${name} in the parent domain with the zone's name servers: ${servers.join(", ")}`,
    );
  }
  if (answered.join(",") !== servers.join(",")) {
    return fail(
      "zone",
      `${name} is delegated to ${answered.join(", ")}, not to the zone's name servers ${servers.join(", ")}`,
      `set the NS record of ${name} in the parent domain to ${servers.join(", ")}`,
    );
  }
  return ok("zone", `${name} (${zoneId}) is in the account and delegated to its ${servers.length} name servers`);
}

/** The attributes the admin role must have: it logs in, creates databases and roles, and is no superuser. */
export const ADMIN_ATTRIBUTES = {
  rolcanlogin: true,
  rolcreatedb: true,
  rolcreaterole: true,
  rolsuper: false,
  rolbypassrls: false,
  rolreplication: false,
} as const;

/** Server mode: the server is reachable from here, and the admin role has exactly the attributes the program needs. */
export async function checkDatabase(ctx: DoctorContext): Promise<DoctorResult> {
  const db = ctx.config.database;
  if (db.mode !== "server")
    return ok("database", "instance mode: the stack creates its own RDS instance (its runner must be inside the VPC, mina:deployRunner)");
  const where = `${db.host}:${db.port}`;
  const password = ctx.env[DOCTOR_SECRETS["mina:dbServerAdminPassword"]];
  const reach = await tcpReach(db.host, db.port, ctx.timeoutMs);
  if (reach !== undefined)
    return fail(
      "database",
      `${where} cannot be reached from here: ${reach}`,
      "run doctor (and the deploy jobs) on a runner inside the database's network (mina:deployRunner)",
    );
  if (password === undefined)
    return fail(
      "database",
      `${where} answers; the admin role was not checked: DB_SERVER_ADMIN_PASSWORD is not set`,
      "set DB_SERVER_ADMIN_PASSWORD to the admin role's password in this shell",
    );
  const client = new Client({
    host: db.host,
    port: db.port,
    user: db.adminUser,
    password,
    database: "postgres",
    connectionTimeoutMillis: ctx.timeoutMs,
    ssl: db.sslMode === "disable" ? false : { rejectUnauthorized: db.sslMode === "verify-full" || db.sslMode === "verify-ca" },
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const r = await client.query(
      "SELECT rolcanlogin, rolcreatedb, rolcreaterole, rolsuper, rolbypassrls, rolreplication FROM pg_roles WHERE rolname = current_user",
    );
    const row = r.rows[0] as Record<string, boolean> | undefined;
    const wrong = Object.entries(ADMIN_ATTRIBUTES).filter(([k, v]) => row?.[k] !== v);
    if (wrong.length > 0) {
      const said = wrong.map(([k, v]) => `${v ? "" : "not "}${k.replace(/^rol/, "").toUpperCase()}`).join(", ");
      return fail(
        "database",
        `admin role ${db.adminUser} on ${where} is not what the program needs: it must be ${said}`,
        `ALTER ROLE ${db.adminUser} ${wrong.map(([k, v]) => `${v ? "" : "NO"}${k.replace(/^rol/, "").toUpperCase().replace("CANLOGIN", "LOGIN")}`).join(" ")} (as a superuser), or use the documented provisioner role`,
      );
    }
    return ok("database", `admin role ${db.adminUser} on ${where}: LOGIN, CREATEDB, CREATEROLE, not a superuser`);
  } catch (e) {
    return fail(
      "database",
      `cannot log in to ${where} as ${db.adminUser}: ${firstLine(e).split(password).join("***")}`,
      "check mina:dbServerAdminUser and DB_SERVER_ADMIN_PASSWORD, and that the server allows this machine (pg_hba.conf)",
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether a TCP connection opens within the timeout: undefined when it does, else why not. */
export function tcpReach(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (why: string | undefined) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once("connect", () => done(undefined));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/** A read-only GET with a timeout: the status, or why there was none. */
async function get(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{ status?: number; body?: unknown; error?: string }> {
  try {
    const res = await fetch(url, { headers: { accept: "application/json", ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: "manual" });
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { error: err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? firstLine(e)) };
  }
}

/** The Upstash API accepts the stack's account email and key (a read-only list of databases). */
export async function checkUpstash(ctx: DoctorContext): Promise<DoctorResult> {
  const key = ctx.env[DOCTOR_SECRETS["upstash:apiKey"]];
  const email = ctx.config.cache.upstashEmail;
  if (key === undefined)
    return fail(
      "upstash",
      `the Upstash key of ${email} was not checked: UPSTASH_API_KEY is not set`,
      "set UPSTASH_API_KEY to the stack's upstash:apiKey in this shell",
    );
  const api = (ctx.env.MINA_UPSTASH_API ?? "https://api.upstash.com").replace(/\/$/, "");
  const r = await get(`${api}/v2/redis/databases`, { authorization: `Basic ${Buffer.from(`${email}:${key}`).toString("base64")}` }, ctx.timeoutMs);
  if (r.status === 200) {
    // The account is told by what its key reaches: an account that holds another tier's database is that environment's account.
    const names = Array.isArray(r.body)
      ? r.body.map((d) => (d as { database_name?: unknown }).database_name).filter((n): n is string => typeof n === "string")
      : [];
    const foreign = (ctx.foreignRedisDatabases ?? []).find((f) => names.includes(f.name));
    if (foreign) {
      return fail(
        "upstash",
        `${email}'s key reaches ${foreign.environment}'s Redis database ${foreign.name}: this is ${foreign.environment}'s Upstash account`,
        `create an Upstash account of the environment's own (not ${foreign.environment}'s) and set upstash:email and upstash:apiKey to it`,
      );
    }
    return ok("upstash", `the Upstash API accepts ${email}'s key (${names.length} databases, none of another tier's environments)`);
  }
  const why = r.error ?? `answered ${r.status}`;
  return fail(
    "upstash",
    `the Upstash API did not accept ${email}'s key: ${why}`,
    "create a management API key in the environment's own Upstash account (console, Account > Management API) and set upstash:apiKey",
  );
}

/** The Sentry API accepts the stack's token for its organization (read-only), when the stack manages Sentry. */
export async function checkSentry(ctx: DoctorContext): Promise<DoctorResult> {
  const sentry = ctx.config.sentry;
  if (!sentry) return ok("sentry", "the stack manages no Sentry project (mina:sentryOrganization not set): SENTRY_DSN is empty");
  const token = ctx.env[DOCTOR_SECRETS["mina:sentryToken"]];
  if (token === undefined)
    return fail(
      "sentry",
      `the Sentry token for ${sentry.organization} was not checked: SENTRY_AUTH_TOKEN is not set`,
      "set SENTRY_AUTH_TOKEN to the stack's mina:sentryToken in this shell",
    );
  const api = (ctx.env.MINA_SENTRY_API ?? "https://sentry.io").replace(/\/$/, "");
  const r = await get(`${api}/api/0/organizations/${encodeURIComponent(sentry.organization)}/`, { authorization: `Bearer ${token}` }, ctx.timeoutMs);
  if (r.status === 200) return ok("sentry", `the Sentry API accepts the token for organization ${sentry.organization}`);
  return fail(
    "sentry",
    `the Sentry API did not accept the token for ${sentry.organization}: ${r.error ?? `answered ${r.status}`}`,
    "create an internal integration token with project:admin and team:read in that organization and set mina:sentryToken",
  );
}

/** Runs the items asked for, in order; the AWS clients are made only for the items that call AWS. */
export async function runDoctor(
  ctx: DoctorContext,
  items: readonly DoctorItem[],
  aws: { sts(): STSClient; route53(): Route53Client },
): Promise<DoctorResult[]> {
  const out: DoctorResult[] = [];
  for (const item of items) {
    if (item === "placeholders") out.push(await checkPlaceholders(ctx));
    else if (item === "aws") out.push(await checkAws(ctx, aws.sts()));
    else if (item === "zone") out.push(await checkZone(ctx, aws.route53()));
    else if (item === "database") out.push(await checkDatabase(ctx));
    else if (item === "upstash") out.push(await checkUpstash(ctx));
    else out.push(await checkSentry(ctx));
  }
  return out;
}
