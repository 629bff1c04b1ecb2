/**
 * The steps of `validateStack`, in the order it runs them. Each step reads the
 * context, reports what it refuses through `fail` (the order of the report is the
 * order of the steps) and returns the part of the `StackConfig` it settles, if any.
 */
import {
  defaultsFor,
  type LogLevel,
  MAX_REDIS_BUDGET,
  MIN_PRODUCTION_BACKUP_DAYS,
  type Profile,
  type ProfileDefaults,
  profileFor,
  PRODUCTION_NAME_WORDS,
  readsAsProduction,
  REVIEW_PROFILE,
} from "../defaults";
import { BUILTIN_ENVIRONMENTS, describeForeign, identity, IdentityIndex } from "../isolation";
import { checkNameLimits, deriveNames, ENVIRONMENT_PATTERN, MAX_ENVIRONMENT_LENGTH, type Names, RESERVED_ENVIRONMENT_NAMES } from "../naming";
import { protectionFor } from "../protection";
import { DEPLOY_RUNNER, runnerProblems } from "../runner";
import {
  namespaceProblems,
  normalizeHost,
  normalizeZoneId,
  type Problem,
  projectProblems,
  shapeProblems,
  sharedValueProblems,
  stackFileProblems,
  unreadableSiblingProblems,
  whitespaceProblems,
} from "./checks";
import { percentDecoded } from "../../lib/connectionUrl";
import { embeddedAddress, isCanonicalIPv4, wildcardDnsDomain } from "../../lib/hosts";
import { isIP } from "node:net";
import { EMAIL_ADDRESS, productionDomainOf } from "../../lib/email";
import { SHARE_WITHIN_TIER, TIER_MARKABLE_KEYS, tierMates, tierOfRaw } from "../tiers";
import { ConfigError, ConfigErrors, type RawStackConfig, SecureValue } from "../raw";
import { type ConfigKey, type DatabaseMode, KEYS, type ParsedValues, parseRawConfig, REDIS_MODES, REFUSED_REDIS_MODES, SHARED_REDIS_REASONS } from "../schema";
import type { DatabaseConfig, Front, InstanceDatabaseConfig, Secret, ServerDatabaseConfig, StackConfig, ValidateOptions } from "../stackConfig";

const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const ACCOUNT_ID = /^\d{12}$/;

const SCHEMA_MODE_REFUSAL =
  'expected one of instance, server, got "schema": one database with a schema per environment is refused, because staging and production would share one server login, one backup and one failure, and a staging credential could read production data; use "instance" (an RDS instance of its own) or "server" (a database and role of its own, CONNECT revoked from PUBLIC)';

/** The refusal of one Redis server with another DB number per environment, with the guide's reasons. */
function sharedRedisRefusal(mode: string): string {
  return `expected one of ${REDIS_MODES.join(", ")}, got "${mode}": one Redis server with another DB number per environment is refused, because it means ${SHARED_REDIS_REASONS}; use "database" (an Upstash database of its own)`;
}

/** What every step reads, and where it reports. */
export interface ValidationContext {
  readonly raw: RawStackConfig;
  readonly opts: ValidateOptions;
  /** The stack's name, which is its environment's. */
  readonly environment: string;
  readonly siblings: readonly RawStackConfig[];
  /** This stack's identifiers and every other known environment's. */
  readonly index: IdentityIndex;
  /** Every problem so far, in the order found. */
  readonly errors: ConfigError[];
  /** Required secrets not set yet (offline only); may repeat: `validateStack` returns each once, sorted. */
  readonly missingSecrets: string[];
  /** Records a problem with a key of this stack file. */
  readonly fail: (key: string | undefined, detail: string) => void;
  /** Records each `[key, detail]` problem against this stack file. */
  readonly report: (problems: readonly Problem[]) => void;
}

/** The context once the known keys are parsed. */
export interface ParsedContext extends ValidationContext {
  readonly v: ParsedValues;
  readonly databaseMode: DatabaseMode | undefined;
  /** Keys already refused when the values were parsed: they are not also reported missing. */
  readonly failedKeys: ReadonlySet<string | undefined>;
  readonly profile: Profile;
  readonly defaults: ProfileDefaults;
}

/** The parts of the config settled by the steps, before `assemble`. */
export interface Settled {
  readonly names: Names;
  readonly database: DatabaseConfig;
  readonly dns: Omit<StackConfig["dns"], "zoneId">;
  readonly emailEnabled: boolean;
  readonly bucket: StackConfig["bucket"];
  readonly redisBudget: number;
}

/** A context for one stack, with no problem found yet. */
export function newContext(raw: RawStackConfig, opts: ValidateOptions, index: IdentityIndex): ValidationContext {
  const errors: ConfigError[] = [];
  const fail = (key: string | undefined, detail: string) => {
    errors.push(new ConfigError(raw.file, key, detail));
  };
  const report = (problems: readonly Problem[]) => {
    for (const [key, detail] of problems) fail(key, detail);
  };
  return { raw, opts, environment: raw.stack, siblings: opts.siblings ?? [], index, errors, missingSecrets: [], fail, report };
}

/** Refuses a stack name that cannot name an environment; throws at once, since every name derives from it. */
export function checkStackName(raw: RawStackConfig): void {
  if (RESERVED_ENVIRONMENT_NAMES.includes(raw.stack)) {
    const detail = `stack name "${raw.stack}" is reserved: the offline placeholders are made of it (${RESERVED_ENVIRONMENT_NAMES.join(", ")}), so every other stack would seem to name it`;
    throw new ConfigErrors([new ConfigError(raw.file, undefined, detail)]);
  }
  if (ENVIRONMENT_PATTERN.test(raw.stack)) return;
  const detail = `stack name "${raw.stack}" cannot name an environment: use lowercase letters, digits and single hyphens, starting with a letter, at most ${MAX_ENVIRONMENT_LENGTH} characters`;
  throw new ConfigErrors([new ConfigError(raw.file, undefined, detail)]);
}

/** Refuses the project file's problems, unreadable siblings, and every field, namespace, blank or shape of the stack file not understood. */
export function checkProjectAndSiblings(ctx: ValidationContext): void {
  const { raw, siblings, index, report } = ctx;
  for (const p of projectProblems(ctx.opts.project, index)) ctx.errors.push(new ConfigError(p.file, p.key, p.detail));
  // Fail closed: a sibling that cannot be read hides identifiers this stack must not carry.
  report(unreadableSiblingProblems(raw, siblings));
  // Every field of the stack file, and every namespace: what is not understood is refused.
  report(stackFileProblems(raw, siblings, index));
  report(namespaceProblems(raw.values));
  report(whitespaceProblems(raw.values));
  report(shapeProblems(raw.values));
}

/** Refuses the schema database mode, a shared Redis server, and every known key whose value does not parse. */
export function parseKnownKeys(ctx: ValidationContext): ParsedContext {
  const values = ctx.raw.values;
  const redisMode = values["mina:redisMode"];
  const refusedRedis = typeof redisMode === "string" && (REFUSED_REDIS_MODES as readonly string[]).includes(redisMode);
  if (values["mina:databaseMode"] === "schema") ctx.fail("mina:databaseMode", SCHEMA_MODE_REFUSAL);
  if (refusedRedis) ctx.fail("mina:redisMode", sharedRedisRefusal(redisMode));
  const known = Object.fromEntries(
    Object.entries(values).filter(([k]) => k in KEYS && !(k === "mina:databaseMode" && values[k] === "schema") && !(k === "mina:redisMode" && refusedRedis)),
  );
  const parsed = parseRawConfig(known);
  for (const issue of parsed.issues) ctx.fail(issue.key, issue.message);
  const v: ParsedValues = parsed.data ?? {};
  const profile = profileFor(ctx.environment, v["mina:profile"] as Profile | undefined);
  return {
    ...ctx,
    v,
    databaseMode: v["mina:databaseMode"] as DatabaseMode | undefined,
    failedKeys: new Set(ctx.errors.map((e) => e.key)),
    profile,
    defaults: defaultsFor(profile),
  };
}

/** Refuses a required key that is not set (always, or in this database mode); a missing secret is only listed offline. */
export function checkRequiredKeys(ctx: ParsedContext): void {
  const { raw, databaseMode, fail } = ctx;
  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    const spec = KEYS[key];
    // A blue/green front points its share domain at the colours, not at an app host of its own.
    const front = key === "mina:appHost" && raw.values["mina:liveColour"] !== undefined;
    const required = !front && (spec.required === "always" || spec.required === databaseMode);
    if (!required || raw.values[key] !== undefined || ctx.failedKeys.has(key)) continue;
    if (spec.kind === "secret") {
      if (ctx.opts.requireSecrets) fail(key, `is required; set it with: pulumi config set --secret ${key} <value> --stack ${raw.stack}`);
      else ctx.missingSecrets.push(key);
    } else {
      const example = spec.kind === "list" ? `--path '${key}[0]' <value>` : `${key} <value>`;
      const inMode = databaseMode && spec.required === databaseMode ? ` in ${databaseMode} mode` : "";
      fail(key, `is required${inMode}; set it with: pulumi config set ${example} --stack ${raw.stack}`);
    }
  }
}

/**
 * Refuses a profile other than production on a stack whose name reads as production
 * (`readsAsProduction`): every rule of the project treats such a stack as production
 * (its tier, the sweeper, the workflows), so its protections and isolation must be
 * production's too.
 */
export function checkProductionName(ctx: ParsedContext): void {
  const declared = ctx.v["mina:profile"];
  // A review profile on such a name has its own refusal (config/validation/review.ts).
  if (declared === undefined || declared === "production" || declared === REVIEW_PROFILE || !readsAsProduction(ctx.environment)) return;
  ctx.fail(
    "mina:profile",
    `is ${declared}, but the stack name "${ctx.environment}" reads as production (it has one of the words ${PRODUCTION_NAME_WORDS.join(", ")}): such a stack is production's everywhere, so it carries the production profile; set mina:profile: production, or choose a name without those words`,
  );
}

/** Refuses a declared environment other than the stack's own name. */
export function checkEnvironmentName(ctx: ParsedContext): void {
  const declared = ctx.v["mina:environment"];
  if (declared !== undefined && declared !== ctx.environment) {
    ctx.fail("mina:environment", `is "${declared}" but this is the ${ctx.environment} stack: a stack's environment is its own name`);
  }
}

/**
 * Refuses `mina:shareWithinTier` in a production-tier stack (production shares nothing),
 * and any entry that is not one of the supplied keys the non-production tier may share.
 */
export function checkShareWithinTier(ctx: ParsedContext): void {
  if (ctx.raw.values[SHARE_WITHIN_TIER] === undefined || ctx.failedKeys.has(SHARE_WITHIN_TIER)) return;
  if (tierOfRaw(ctx.raw) === "production") {
    ctx.fail(SHARE_WITHIN_TIER, "is refused in a production environment: production shares nothing with any other environment");
    return;
  }
  const entries = ctx.v[SHARE_WITHIN_TIER] ?? [];
  entries.forEach((entry, i) => {
    if (TIER_MARKABLE_KEYS.includes(entry)) return;
    // An entry that is not even a key name might be a value pasted by mistake: it is not shown.
    const what = /^[a-z]+:[A-Za-z0-9]+$/.test(entry) ? `"${entry}" cannot be shared within the non-production tier` : `entry ${i + 1} is not a config key name`;
    ctx.fail(SHARE_WITHIN_TIER, `${what}: only ${TIER_MARKABLE_KEYS.join(", ")} can be`);
  });
}

/** Refuses a runner that cannot reach the stack's database, or one it may not share (config/runner.ts). */
export function checkDeployRunner(ctx: ParsedContext): void {
  if (ctx.failedKeys.has(DEPLOY_RUNNER)) return;
  ctx.report(runnerProblems(ctx.raw, ctx.siblings));
}

export const REFRESH_FROM = "mina:refreshFrom";

/**
 * Refuses `mina:refreshFrom` in a production-tier stack (nothing is ever copied into
 * production), naming the stack itself, or naming a stack that has no stack file.
 */
export function checkRefreshFrom(ctx: ParsedContext): void {
  if (ctx.raw.values[REFRESH_FROM] === undefined || ctx.failedKeys.has(REFRESH_FROM)) return;
  if (tierOfRaw(ctx.raw) === "production") {
    ctx.fail(REFRESH_FROM, "is refused in a production environment: no data is ever copied into production");
    return;
  }
  const from = ctx.v[REFRESH_FROM];
  if (from === undefined) return;
  if (from === ctx.environment) {
    ctx.fail(REFRESH_FROM, `names this stack itself: a refresh copies from another stack`);
    return;
  }
  if (!ctx.siblings.some((s) => s.stack === from)) {
    const shownName = /^[a-z][a-z0-9-]{0,62}$/.test(from) ? `"${from}"` : "a value that";
    ctx.fail(REFRESH_FROM, `${shownName} is not a stack of this project (no Pulumi.${/^[a-z][a-z0-9-]{0,62}$/.test(from) ? from : "<name>"}.yaml)`);
  }
}

/** Refuses a bucket name override that does not carry this environment, and any derived name over its service's limit. */
export function deriveNamesAndOverrides(ctx: ParsedContext): Names {
  const { environment, fail } = ctx;
  const bucketOverride = ctx.v["mina:bucketName"];
  const names = deriveNames(environment, { bucket: bucketOverride });
  const envNames = new IdentityIndex([environment, ...BUILTIN_ENVIRONMENTS, ...ctx.siblings.map((s) => s.stack)].map((e) => identity(e)));
  if (bucketOverride !== undefined && !envNames.names(bucketOverride, environment)) {
    fail("mina:bucketName", `"${bucketOverride}" does not contain the environment name "${environment}"; a name override must still carry its environment`);
  }
  for (const problem of checkNameLimits(names)) fail(bucketOverride !== undefined && problem.startsWith("bucket") ? "mina:bucketName" : undefined, problem);
  return names;
}

/**
 * Refuses another environment's identifier in any value this stack carries, as written or
 * percent-decoded (a client connects with the decoded name); secret plaintext only when
 * known, and never printed. The profile is a kind of environment, not a reference to one;
 * inherited values are the project file's (checked there).
 */
export function checkForeignValues(ctx: ParsedContext): void {
  // The list of keys shared within the tier names keys, not environments.
  // The stack a refresh copies from names another environment by design: checked by checkRefreshFrom instead.
  // Runner labels are compared by their own rule (config/runner.ts): a tier-mate may run on staging's runners.
  const notScanned = new Set(["mina:profile", SHARE_WITHIN_TIER, REFRESH_FROM, DEPLOY_RUNNER, ...(ctx.raw.inherited ?? [])]);
  const zoneApexOfTierMate = tierMateZoneApexes(ctx);
  for (const [key, value] of Object.entries(ctx.raw.values)) {
    if (notScanned.has(key)) continue;
    const seen = new Set<string>();
    for (const s of stringsIn(value).flatMap((x) => [x, percentDecoded(x)])) {
      for (const m of ctx.index.findForeign(s, ctx.environment)) {
        // The name of a hosted zone the tier shares is also the share domain of a tier-mate whose records sit at its apex.
        if (key === "mina:dnsZoneName" && m.kind === "share domain" && zoneApexOfTierMate.get(normalizeHost(s)) === m.environment) continue;
        const line = describeForeign(m);
        if (!seen.has(line)) {
          seen.add(line);
          ctx.fail(key, line);
        }
      }
    }
  }
}

/** The zone names of the tier-mates whose share domain is their zone's apex: zone name to environment. */
function tierMateZoneApexes(ctx: ParsedContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const other of ctx.siblings) {
    if (other.stack === ctx.environment || other.unreadable || !tierMates(ctx.index.tierOf(ctx.environment), ctx.index.tierOf(other.stack))) continue;
    const share = other.values["mina:shareDomain"];
    const zone = other.values["mina:dnsZoneName"] ?? share;
    if (typeof share === "string" && typeof zone === "string" && normalizeHost(share) === normalizeHost(zone)) out.set(normalizeHost(zone), other.stack);
  }
  return out;
}

/**
 * Refuses a value that is the same as another environment's, where no problem named its key already:
 * production shares none, the non-production tier only what config/tiers.ts allows.
 */
export function checkSharedValues(ctx: ParsedContext): void {
  const reported = new Set(ctx.errors.map((e) => e.key));
  ctx.report(sharedValueProblems(ctx.raw, ctx.siblings).filter(([key]) => !reported.has(key)));
}

/** Refuses an allowed account id that is not 12 digits. */
export function checkAccountIds(ctx: ParsedContext): void {
  for (const id of ctx.v["aws:allowedAccountIds"] ?? []) {
    if (!ACCOUNT_ID.test(id)) ctx.fail("aws:allowedAccountIds", `"${id}" is not a 12-digit AWS account id`);
  }
}

/** The database of the stack's mode; undefined when the mode is missing or refused (already reported). */
export function databaseConfig(ctx: ParsedContext): DatabaseConfig | undefined {
  if (ctx.databaseMode === "instance") return instanceDatabase(ctx);
  if (ctx.databaseMode === "server") return serverDatabase(ctx);
  return undefined;
}

/** Refuses, in instance mode, production backups and availability below the floor, a single subnet, and a CIDR that is malformed or open to all. */
function instanceDatabase(ctx: ParsedContext): InstanceDatabaseConfig {
  const { v, defaults: d, profile, fail } = ctx;
  const backupRetentionDays = v["mina:dbBackupRetentionDays"] ?? d.dbBackupRetentionDays;
  const multiAz = v["mina:dbMultiAz"] ?? d.dbMultiAz;
  if (profile === "production" && backupRetentionDays < MIN_PRODUCTION_BACKUP_DAYS) {
    fail("mina:dbBackupRetentionDays", `is ${backupRetentionDays}; production keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days`);
  }
  if (profile === "production" && !multiAz) fail("mina:dbMultiAz", "is false; production runs Multi-AZ");
  const subnetIds = v["mina:dbSubnetIds"] ?? [];
  if (ctx.raw.values["mina:dbSubnetIds"] !== undefined && subnetIds.length > 0 && subnetIds.length < 2) {
    fail("mina:dbSubnetIds", "needs at least two subnets in different availability zones (an RDS subnet group requirement)");
  }
  for (const cidr of v["mina:dbAllowedCidrs"] ?? []) {
    if (!CIDR.test(cidr)) fail("mina:dbAllowedCidrs", `"${cidr}" is not an IPv4 CIDR like 10.0.1.0/24`);
    else if (cidr.endsWith("/0")) fail("mina:dbAllowedCidrs", `"${cidr}" opens PostgreSQL to the whole internet; list the app hosts' CIDRs`);
  }
  return {
    mode: "instance",
    instanceClass: v["mina:dbInstanceClass"] ?? d.dbInstanceClass,
    allocatedStorageGb: v["mina:dbAllocatedStorageGb"] ?? d.dbAllocatedStorageGb,
    engineVersion: v["mina:dbEngineVersion"] ?? d.dbEngineVersion,
    backupRetentionDays,
    multiAz,
    vpcId: v["mina:vpcId"] ?? "",
    subnetIds,
    allowedCidrs: v["mina:dbAllowedCidrs"] ?? [],
  };
}

/** Refuses, in server mode, a port that is not a TCP port. */
function serverDatabase(ctx: ParsedContext): ServerDatabaseConfig {
  const { v } = ctx;
  const database: ServerDatabaseConfig = {
    mode: "server",
    host: normalizeHost(v["mina:dbServerHost"] ?? ""),
    port: v["mina:dbServerPort"] ?? 5432,
    adminUser: v["mina:dbServerAdminUser"] ?? "",
    adminPassword: requiredSecret(v, "mina:dbServerAdminPassword"),
    sslMode: v["mina:dbServerSslMode"] ?? "require",
  };
  if (database.port < 1 || database.port > 65535) ctx.fail("mina:dbServerPort", `${database.port} is not a TCP port`);
  // The superuser's usual names: the program's admin is a non-superuser (config/databasePrivileges.ts).
  if (["postgres", "rdsadmin", "azure_superuser", "cloudsqladmin"].includes(database.adminUser.toLowerCase())) {
    ctx.fail(
      "mina:dbServerAdminUser",
      `is "${database.adminUser}", the server's superuser: use a role with exactly LOGIN CREATEDB CREATEROLE and no SUPERUSER (README, Database modes; npm run doctor checks it)`,
    );
  }
  return database;
}

/**
 * Refuses a share domain that is not a domain name or not inside its hosted zone, a
 * share domain or zone of a wildcard DNS service, and an app host a record cannot
 * point to, or that could be another environment's address under a name
 * (`appHostProblem`).
 */
export function dnsConfig(ctx: ParsedContext): Omit<StackConfig["dns"], "zoneId"> {
  const { v, fail } = ctx;
  const front = frontConfig(ctx);
  const shareDomain = normalizeHost(v["mina:shareDomain"] ?? "");
  const zoneName = normalizeHost(v["mina:dnsZoneName"] ?? shareDomain);
  const appHost = normalizeHost(v["mina:appHost"] ?? "");
  if (shareDomain && !HOSTNAME.test(shareDomain)) fail("mina:shareDomain", `"${shareDomain}" is not a domain name`);
  if (shareDomain && zoneName && shareDomain !== zoneName && !shareDomain.endsWith(`.${zoneName}`)) {
    fail("mina:shareDomain", `"${shareDomain}" is not inside the hosted zone "${zoneName}" (mina:dnsZoneName)`);
  }
  for (const [key, name] of [
    ["mina:shareDomain", shareDomain],
    ["mina:dnsZoneName", v["mina:dnsZoneName"] !== undefined ? zoneName : ""],
  ] as const) {
    const service = name ? wildcardDnsDomain(name) : undefined;
    if (service)
      fail(
        key,
        `"${name}" is a name of the wildcard DNS service ${service}, whose names resolve by their text, not by the records of this stack's hosted zone`,
      );
  }
  const problem = appHost ? appHostProblem(appHost, shareDomain, zoneName) : undefined;
  if (problem) fail("mina:appHost", problem);
  return { shareDomain, zoneName, appHost, ...(front ? { front } : {}) };
}

/**
 * Why an app host cannot be where the share domain points: it must be an IPv4
 * address written as a.b.c.d (an A record), or a name inside the stack's own hosted
 * zone (a CNAME, below the apex, to a record this stack's zone keeps). A name
 * elsewhere resolves to whatever its owner says, another environment's address
 * included; a wildcard DNS name (`203.0.113.10.nip.io`) is the address it spells out.
 */
function appHostProblem(appHost: string, shareDomain: string, zoneName: string): string | undefined {
  if (isCanonicalIPv4(appHost)) return undefined;
  if (isIP(appHost) === 0 && /^(?:\d+|0x[0-9a-f]*)$/.test(appHost.split(".").pop()!))
    return `"${appHost}" is not an IPv4 address written as a.b.c.d (decimal, no leading zeros)`;
  if (!HOSTNAME.test(appHost)) return `"${appHost}" is neither an IPv4 address nor a hostname`;
  const service = wildcardDnsDomain(appHost);
  if (service) {
    const address = embeddedAddress(appHost);
    return address
      ? `"${appHost}" is a name of the wildcard DNS service ${service}, which resolves it to ${address} by its text alone: write the address itself`
      : `"${appHost}" is a name of the wildcard DNS service ${service}, which resolves names by their text, not by records this stack keeps: use an IPv4 address or a name in the hosted zone "${zoneName}"`;
  }
  if (shareDomain && shareDomain === zoneName) {
    return `is a hostname, which needs a CNAME record, and DNS forbids a CNAME at the zone apex "${zoneName}"; use an IPv4 address or a share domain below the apex`;
  }
  if (zoneName && appHost !== zoneName && !appHost.endsWith(`.${zoneName}`)) {
    return `"${appHost}" is outside this stack's hosted zone "${zoneName}": where a name outside it resolves is not this stack's to say (another environment's address could come back under it); use an IPv4 address, or a name in the zone`;
  }
  if (appHost === shareDomain) return "is the share domain itself: its record cannot point at its own name";
  return undefined;
}

/**
 * A blue/green front (`mina:liveColour`): refused in the production tier; needs the
 * two colour stacks, `<stack>-blue` and `<stack>-green`, non-production, in this
 * stack's hosted zone, at `blue.<share domain>` and `green.<share domain>`, each an
 * A record (an alias targets a record of its own type); no app host of its own.
 */
export function frontConfig(ctx: ParsedContext): Front | undefined {
  const { v, raw, fail } = ctx;
  const live = v["mina:liveColour"] as "blue" | "green" | undefined;
  const canary = v["mina:canaryPercent"];
  if (live === undefined) {
    if (canary !== undefined) fail("mina:canaryPercent", "is set without mina:liveColour: only a blue/green front splits traffic");
    return undefined;
  }
  if (ctx.profile === "production") {
    fail(
      "mina:liveColour",
      "is refused in production: the colours would share production's hosted zone with other stacks; run blue/green in the non-production tier",
    );
    return undefined;
  }
  if (raw.values["mina:appHost"] !== undefined) fail("mina:appHost", "is set on a blue/green front, whose share domain points at the live colour; remove it");
  const canaryPercent = canary ?? 0;
  if (canaryPercent > 50) fail("mina:canaryPercent", `is ${canaryPercent}; at most 50 (above that, swap instead)`);
  const shareDomain = normalizeHost(v["mina:shareDomain"] ?? "");
  const zoneId = normalizeZoneId(String(v["mina:dnsZoneId"] ?? ""));
  const colours = {} as Record<"blue" | "green", { stack: string; host: string }>;
  for (const colour of ["blue", "green"] as const) {
    const stack = `${raw.stack}-${colour}`;
    const host = `${colour}.${shareDomain}`;
    colours[colour] = { stack, host };
    const sibling = ctx.siblings.find((s) => s.stack === stack);
    if (!sibling) {
      fail("mina:liveColour", `needs the ${colour} colour's stack file Pulumi.${stack}.yaml`);
      continue;
    }
    const sv = sibling.values;
    if (tierOfRaw(sibling) === "production") fail("mina:liveColour", `${sibling.file} is of the production tier; colours are non-production`);
    if (typeof sv["mina:shareDomain"] !== "string" || normalizeHost(sv["mina:shareDomain"]) !== host) {
      fail("mina:liveColour", `${sibling.file} must have mina:shareDomain ${host}, the ${colour} colour's host under this front`);
    }
    if (typeof sv["mina:dnsZoneId"] !== "string" || normalizeZoneId(sv["mina:dnsZoneId"]) !== zoneId) {
      fail(
        "mina:liveColour",
        `${sibling.file} must use this front's hosted zone (mina:dnsZoneId ${zoneId}): the weighted records alias the colours' records in it`,
      );
    }
    if (typeof sv["mina:appHost"] !== "string" || !isCanonicalIPv4(sv["mina:appHost"])) {
      fail("mina:liveColour", `${sibling.file} must point its host at an IPv4 address (an A record): the front's A alias can only target an A record`);
    }
  }
  return { live, canaryPercent, colours };
}

/** Sentry: a team and a token with an organization; a shared project only in the non-production tier; nothing without an organization. */
export function checkSentry(ctx: ParsedContext): void {
  const { v, raw, fail } = ctx;
  const org = v["mina:sentryOrganization"];
  const others = ["mina:sentryTeam", "mina:sentryToken", "mina:sentrySharedProject"] as const;
  if (org === undefined) {
    for (const k of others)
      if (raw.values[k] !== undefined && !ctx.failedKeys.has(k)) fail(k, "is set without mina:sentryOrganization: Sentry is off for this stack");
    return;
  }
  if (raw.values["mina:sentryTeam"] === undefined)
    fail("mina:sentryTeam", `is required with mina:sentryOrganization; set it with: pulumi config set mina:sentryTeam <team slug> --stack ${raw.stack}`);
  if (raw.values["mina:sentryToken"] === undefined) {
    if (ctx.opts.requireSecrets)
      fail(
        "mina:sentryToken",
        `is required with mina:sentryOrganization; set it with: pulumi config set --secret mina:sentryToken <value> --stack ${raw.stack}`,
      );
    else ctx.missingSecrets.push("mina:sentryToken");
  }
  if (v["mina:sentrySharedProject"] !== undefined && ctx.profile === "production") {
    fail("mina:sentrySharedProject", "is refused in production: production has a Sentry project and key of its own, shared with no environment");
  }
}

/** Whether email is on; refuses email without a SendGrid key (offline, the key is only listed as missing). */
export function isEmailEnabled(ctx: ParsedContext): boolean {
  const enabled = ctx.v["mina:emailEnabled"] ?? ctx.defaults.emailEnabled;
  if (enabled && ctx.raw.values["mina:sendgridApiKey"] === undefined && !ctx.failedKeys.has("mina:sendgridApiKey")) {
    if (ctx.opts.requireSecrets) {
      ctx.fail(
        "mina:sendgridApiKey",
        `is required because email is enabled; set it with: pulumi config set --secret mina:sendgridApiKey <value> --stack ${ctx.raw.stack}, or set mina:emailEnabled false`,
      );
    } else ctx.missingSecrets.push("mina:sendgridApiKey");
  }
  return enabled;
}

/**
 * A non-production environment sends email only to one catch-all inbox: refuses email on
 * without `mina:emailRedirectTo`, a redirect that is not an address, and any redirect in a
 * production-tier stack (production mails its users), or one at a production domain.
 */
export function checkEmailRedirect(ctx: ParsedContext, emailEnabled: boolean): void {
  const key = "mina:emailRedirectTo";
  if (ctx.failedKeys.has(key)) return;
  const redirect = ctx.v[key];
  if (tierOfRaw(ctx.raw) === "production" || ctx.profile === "production") {
    if (redirect !== undefined) ctx.fail(key, "is refused in production: production sends email to its users, never to one inbox");
    return;
  }
  if (redirect !== undefined && !EMAIL_ADDRESS.test(redirect)) ctx.fail(key, "is not an email address like qa-inbox@example.com");
  else if (redirect !== undefined) {
    const productionDomains = ctx.siblings
      .filter((s) => s.stack !== ctx.environment && !s.unreadable && tierOfRaw(s) === "production" && typeof s.values["mina:shareDomain"] === "string")
      .map((s) => normalizeHost(s.values["mina:shareDomain"] as string));
    const domain = productionDomainOf(redirect, productionDomains, normalizeHost(ctx.v["mina:shareDomain"] ?? ""));
    if (domain !== undefined) ctx.fail(key, `is an address at the production domain ${domain}: the catch-all inbox must not be a production mailbox`);
  } else if (emailEnabled) {
    ctx.fail(
      key,
      `is required because email is enabled in a non-production environment: every message must go to one inbox; set it with: pulumi config set ${key} <address> --stack ${ctx.raw.stack}, or set mina:emailEnabled false`,
    );
  }
}

/** Refuses an expiry of audio in production, and one shorter than a day. */
export function bucketConfig(ctx: ParsedContext): StackConfig["bucket"] {
  const expireDays = ctx.v["mina:bucketExpireDays"] ?? ctx.defaults.bucketExpireDays;
  if (ctx.profile === "production" && ctx.v["mina:bucketExpireDays"] !== undefined) {
    ctx.fail("mina:bucketExpireDays", "is refused in production: production audio never expires");
  }
  if (expireDays !== undefined && expireDays < 1) ctx.fail("mina:bucketExpireDays", "must be at least 1 day");
  return { expireDays };
}

/**
 * The Upstash monthly budget in US dollars: the stack's, or its profile's. Refuses
 * 0 (a database throttled before its first command) and more than MAX_REDIS_BUDGET.
 */
export function redisBudget(ctx: ParsedContext): number {
  const budget = ctx.v["mina:redisBudget"] ?? ctx.defaults.redisBudget;
  if (budget < 1) ctx.fail("mina:redisBudget", `is ${budget}; the budget is in whole US dollars per month, at least 1`);
  else if (budget > MAX_REDIS_BUDGET)
    ctx.fail("mina:redisBudget", `is ${budget}; at most ${MAX_REDIS_BUDGET} US dollars per month (a larger bill is a mistake, not a cache)`);
  return budget;
}

/** Builds the typed config from the parsed values and the settled parts; refuses nothing. */
export function assemble(ctx: ParsedContext, { names, database, dns, emailEnabled, bucket, redisBudget }: Settled): StackConfig {
  const { raw, v, defaults: d } = ctx;
  return {
    stack: raw.stack,
    file: raw.file,
    environment: ctx.environment,
    profile: ctx.profile,
    names,
    protection: protectionFor(ctx.profile),
    aws: { region: v["aws:region"]!, allowedAccountIds: v["aws:allowedAccountIds"]! },
    database,
    cache: {
      primaryRegion: v["mina:redisPrimaryRegion"] ?? "us-east-1",
      upstashEmail: v["upstash:email"]!,
      upstashApiKey: requiredSecret(v, "upstash:apiKey"),
      budget: redisBudget,
    },
    bucket,
    deploy: { migrateCommand: v["mina:migrateCommand"] ?? "flask db upgrade" },
    ...(v["mina:sentryOrganization"]
      ? {
          sentry: {
            organization: v["mina:sentryOrganization"],
            team: v["mina:sentryTeam"] ?? "",
            token: requiredSecret(v, "mina:sentryToken"),
            project: v["mina:sentrySharedProject"] ?? names.sentryProject,
            shared: v["mina:sentrySharedProject"] !== undefined,
          },
        }
      : {}),
    // The zone id is read only here: once every problem is known, it is set and well formed.
    dns: {
      shareDomain: dns.shareDomain,
      zoneId: normalizeZoneId(v["mina:dnsZoneId"]!),
      zoneName: dns.zoneName,
      appHost: dns.appHost,
      ...(dns.front ? { front: dns.front } : {}),
    },
    secrets: {
      openaiApiKey: requiredSecret(v, "mina:openaiApiKey"),
      sendgridApiKey: emailEnabled ? requiredSecret(v, "mina:sendgridApiKey") : undefined,
      slackWebhookUrl: secretOf(v, "mina:slackWebhookUrl"),
    },
    settings: {
      logLevel: (v["mina:logLevel"] as LogLevel | undefined) ?? d.logLevel,
      rateLimitPerMinute: v["mina:rateLimitPerMinute"] ?? d.rateLimitPerMinute,
      rateLimitPerHour: v["mina:rateLimitPerHour"] ?? d.rateLimitPerHour,
      emailEnabled,
      emailRedirectTo: emailEnabled && ctx.profile !== "production" ? (v["mina:emailRedirectTo"] ?? "") : "",
      slackChannel: v["mina:slackChannel"] ?? names.slackChannel,
      sentryEnvironment: names.sentryEnvironment,
      featureFlags: { ...d.featureFlags, ...(v["mina:featureFlags"] ?? {}) },
    },
  };
}

/** A secret's key and, when known, its plaintext; undefined when not set. */
function secretOf(v: ParsedValues, key: ConfigKey): Secret | undefined {
  const s = v[key] as SecureValue | undefined;
  return s ? { key, plaintext: s.plaintext } : undefined;
}

/** A required secret: its key alone when not set yet (offline). */
function requiredSecret(v: ParsedValues, key: ConfigKey): Secret {
  return secretOf(v, key) ?? { key };
}

/** Flattens a raw value to the strings it contains (secret plaintext included, when known). */
function stringsIn(v: unknown): string[] {
  if (v instanceof SecureValue) return v.plaintext !== undefined ? [v.plaintext] : [];
  if (typeof v === "string") return [v];
  if (typeof v === "number" || typeof v === "boolean") return [String(v)];
  if (Array.isArray(v)) return v.flatMap(stringsIn);
  if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => [k, ...stringsIn(x)]);
  return [];
}
