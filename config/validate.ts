/**
 * Validates one stack's raw config as a whole and returns the typed config the
 * program is built from. Every problem becomes a one-line `ConfigError` naming the
 * stack file and the key; all problems are reported together.
 */
import { defaultsFor, LogLevel, MIN_PRODUCTION_BACKUP_DAYS, Profile, profileFor } from "./defaults";
import { BUILTIN_ENVIRONMENTS, describeForeign, EnvironmentIdentity, identity, Identifier, IdentityIndex } from "./isolation";
import { checkNameLimits, deriveNames, ENVIRONMENT_PATTERN, MAX_ENVIRONMENT_LENGTH, Names } from "./naming";
import { protectionFor, Protection } from "./protection";
import {
  namespaceProblems,
  normalizeHost,
  normalizeSlackChannel,
  normalizeZoneId,
  Problem,
  projectProblems,
  shapeProblems,
  sharedValueProblems,
  stackFileProblems,
  unreadableSiblingProblems,
  whitespaceProblems,
} from "./checks";
import { percentDecoded } from "../lib/connectionUrl";
import type { ProjectFile } from "./project";
import { ConfigError, ConfigErrors, RawStackConfig, SecureValue } from "./raw";
import { ConfigKey, DatabaseMode, KEYS, ParsedValues, rawConfigSchema } from "./schema";

/** A secret config value. `plaintext` is known only under the Pulumi engine. */
export interface Secret {
  readonly key: string;
  readonly plaintext?: string;
}

export interface InstanceDatabaseConfig {
  readonly mode: "instance";
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly engineVersion: string;
  readonly backupRetentionDays: number;
  readonly multiAz: boolean;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly allowedCidrs: readonly string[];
}

export interface ServerDatabaseConfig {
  readonly mode: "server";
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: Secret;
  readonly sslMode: string;
}

export type DatabaseConfig = InstanceDatabaseConfig | ServerDatabaseConfig;

export interface StackConfig {
  readonly stack: string;
  readonly file: string;
  readonly environment: string;
  readonly profile: Profile;
  readonly names: Names;
  readonly protection: Protection;
  readonly aws: { readonly region: string; readonly allowedAccountIds: readonly string[] };
  readonly database: DatabaseConfig;
  readonly cache: { readonly primaryRegion: string; readonly upstashEmail: string; readonly upstashApiKey: Secret };
  readonly bucket: { readonly expireDays?: number };
  readonly dns: { readonly shareDomain: string; readonly zoneId: string; readonly zoneName: string; readonly appHost: string };
  readonly secrets: {
    readonly openaiApiKey: Secret;
    readonly sentryDsn?: Secret;
    readonly sendgridApiKey?: Secret;
    readonly slackWebhookUrl?: Secret;
  };
  readonly settings: {
    readonly logLevel: LogLevel;
    readonly rateLimitPerMinute: number;
    readonly rateLimitPerHour: number;
    readonly emailEnabled: boolean;
    readonly slackChannel: string;
    readonly sentryEnvironment: string;
    readonly featureFlags: Readonly<Record<string, boolean>>;
  };
}

export interface ValidateOptions {
  /** The other stacks of the project (their files): their identifiers are foreign to this one. */
  readonly siblings?: readonly RawStackConfig[];
  /**
   * Under the engine every required secret must be set. Offline (plan), secrets are
   * ciphertext or missing; missing ones are listed instead of refused.
   */
  readonly requireSecrets: boolean;
  /** The project file (`Pulumi.yaml`): its problems and project-level config are every stack's. */
  readonly project?: ProjectFile;
}

export interface ValidatedStack {
  readonly config: StackConfig;
  /** Required secret keys that are not set yet (offline mode only). */
  readonly missingSecrets: readonly string[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const CIDR = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const ACCOUNT_ID = /^\d{12}$/;

const SCHEMA_MODE_REFUSAL =
  'expected one of instance, server, got "schema": one database with a schema per environment is refused, because staging and production would share one server login, one backup and one failure, and a staging credential could read production data; use "instance" (an RDS instance of its own) or "server" (a database and role of its own, CONNECT revoked from PUBLIC)';

/** Lists the identifiers an environment owns, from its raw stack file, leniently (for foreign checks). */
export function identityOfRaw(raw: RawStackConfig): EnvironmentIdentity {
  const v = raw.values;
  const str = (k: string) => (typeof v[k] === "string" ? [v[k] as string] : []);
  const strs = (k: string) => (Array.isArray(v[k]) ? (v[k] as unknown[]).map(String) : typeof v[k] === "string" || typeof v[k] === "number" ? [String(v[k])] : []);
  const bucketOverride = str("mina:bucketName")[0];
  const names = deriveNames(raw.stack, { bucket: bucketOverride });
  const ids: Identifier[] = [
    { kind: "database name", value: names.databaseName },
    { kind: "database role", value: names.databaseRole },
    { kind: "RDS instance", value: names.rdsIdentifier },
    { kind: "bucket", value: names.bucket },
    { kind: "IAM user", value: names.bucketUser },
    { kind: "Redis database", value: names.redisDatabase },
    // A channel is named with or without its `#`: both spellings are this environment's.
    ...[normalizeSlackChannel(str("mina:slackChannel")[0] ?? names.slackChannel)].flatMap((c) => [
      { kind: "Slack channel", value: `#${c}` },
      { kind: "Slack channel", value: c },
    ]),
    ...strs("aws:allowedAccountIds").map((value) => ({ kind: "account id", value: value.trim() })),
    ...str("mina:shareDomain").map((value) => ({ kind: "share domain", value: normalizeHost(value), hostname: true })),
    ...str("mina:dnsZoneId").map((value) => ({ kind: "hosted zone", value: normalizeZoneId(value) })),
    ...str("mina:vpcId").map((value) => ({ kind: "VPC", value: value.trim() })),
    ...strs("mina:dbSubnetIds").map((value) => ({ kind: "subnet", value: value.trim() })),
  ];
  return identity(raw.stack, ids);
}

/** Builds the index of this stack's identity and every other known environment's. */
export function identityIndexFor(raw: RawStackConfig, siblings: readonly RawStackConfig[]): IdentityIndex {
  const others = siblings.filter((s) => s.stack !== raw.stack);
  const identities = [identityOfRaw(raw), ...others.map(identityOfRaw)];
  for (const env of BUILTIN_ENVIRONMENTS) {
    if (env !== raw.stack && !others.some((o) => o.stack === env)) identities.push(identityOfRaw({ stack: env, file: "", values: {} }));
  }
  return new IdentityIndex(identities);
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

/**
 * Validates a stack's raw config. Throws `ConfigErrors` listing every problem.
 */
export function validateStack(raw: RawStackConfig, opts: ValidateOptions): ValidatedStack {
  const errors: ConfigError[] = [];
  const fail = (key: string | undefined, detail: string) => errors.push(new ConfigError(raw.file, key, detail));
  const environment = raw.stack;

  if (!ENVIRONMENT_PATTERN.test(environment)) {
    fail(
      undefined,
      `stack name "${environment}" cannot name an environment: use lowercase letters, digits and single hyphens, starting with a letter, at most ${MAX_ENVIRONMENT_LENGTH} characters`,
    );
    throw new ConfigErrors(errors);
  }

  const siblings = opts.siblings ?? [];
  const index = identityIndexFor(raw, siblings);
  const report = (problems: readonly Problem[]) => problems.forEach(([key, detail]) => fail(key, detail));
  for (const p of projectProblems(opts.project, index)) errors.push(new ConfigError(p.file, p.key, p.detail));
  // Fail closed: a sibling that cannot be read hides identifiers this stack must not carry.
  report(unreadableSiblingProblems(raw, siblings));
  // Every field of the stack file, and every namespace: what is not understood is refused.
  report(stackFileProblems(raw, siblings, index));
  report(namespaceProblems(raw.values));
  report(whitespaceProblems(raw.values));
  report(shapeProblems(raw.values));

  if (raw.values["mina:databaseMode"] === "schema") fail("mina:databaseMode", SCHEMA_MODE_REFUSAL);
  const known = Object.fromEntries(
    Object.entries(raw.values).filter(([k]) => k in KEYS && !(k === "mina:databaseMode" && raw.values[k] === "schema")),
  );
  const parsed = rawConfigSchema.safeParse(known);
  let v: ParsedValues = {};
  if (!parsed.success) {
    for (const issue of parsed.error.issues) fail(String(issue.path[0]), issue.message);
  } else {
    v = parsed.data as ParsedValues;
  }
  const failedKeys = new Set(errors.map((e) => e.key));

  const missingSecrets: string[] = [];
  const databaseMode = v["mina:databaseMode"] as DatabaseMode | undefined;
  const isRequired = (key: ConfigKey) => {
    const r = KEYS[key].required;
    return r === "always" || (r === databaseMode);
  };
  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    if (!isRequired(key) || raw.values[key] !== undefined || failedKeys.has(key)) continue;
    if (key === "mina:databaseMode" && raw.values[key] === "schema") continue;
    const spec = KEYS[key];
    if (spec.kind === "secret") {
      if (opts.requireSecrets) fail(key, `is required; set it with: pulumi config set --secret ${key} <value> --stack ${raw.stack}`);
      else missingSecrets.push(key);
    } else {
      const example = spec.kind === "list" ? `--path '${key}[0]' <value>` : `${key} <value>`;
      fail(key, `is required${databaseMode && spec.required === databaseMode ? ` in ${databaseMode} mode` : ""}; set it with: pulumi config set ${example} --stack ${raw.stack}`);
    }
  }

  // The environment is the stack's.
  const declared = v["mina:environment"];
  if (declared !== undefined && declared !== environment) {
    fail("mina:environment", `is "${declared}" but this is the ${environment} stack: a stack's environment is its own name`);
  }

  const profile = profileFor(environment, v["mina:profile"] as Profile | undefined);
  const d = defaultsFor(profile);
  const protection = protectionFor(profile);

  // Names derived in one place; an override must still carry this environment.
  const bucketOverride = v["mina:bucketName"];
  const names = deriveNames(environment, { bucket: bucketOverride });
  const envNames = new IdentityIndex([environment, ...BUILTIN_ENVIRONMENTS, ...(opts.siblings ?? []).map((s) => s.stack)].map((e) => identity(e)));
  if (bucketOverride !== undefined && !envNames.names(bucketOverride, environment)) {
    fail("mina:bucketName", `"${bucketOverride}" does not contain the environment name "${environment}"; a name override must still carry its environment`);
  }
  for (const problem of checkNameLimits(names)) fail(bucketOverride !== undefined && problem.startsWith("bucket") ? "mina:bucketName" : undefined, problem);

  // Foreign identifiers, in every value this stack carries (secret plaintext only when known; never printed).
  // The profile is a kind of environment, not a reference to one; inherited values are the project file's (checked there).
  const notScanned = new Set(["mina:profile", ...(raw.inherited ?? [])]);
  for (const [key, value] of Object.entries(raw.values)) {
    if (notScanned.has(key)) continue;
    const seen = new Set<string>();
    // As written and percent-decoded: a client connects with the decoded name (`%6d%69%6e%61_production`).
    for (const s of stringsIn(value).flatMap((x) => [x, percentDecoded(x)])) {
      for (const m of index.findForeign(s, environment)) {
        const line = describeForeign(m);
        if (!seen.has(line)) {
          seen.add(line);
          fail(key, line);
        }
      }
    }
  }

  // Values that are the same as a production environment's (or, in production, as any other's), where no identifier said so already.
  const foreignKeys = new Set(errors.map((e) => e.key));
  report(sharedValueProblems(raw, siblings).filter(([key]) => !foreignKeys.has(key)));

  for (const id of v["aws:allowedAccountIds"] ?? []) {
    if (!ACCOUNT_ID.test(id)) fail("aws:allowedAccountIds", `"${id}" is not a 12-digit AWS account id`);
  }

  const secretOf = (key: ConfigKey): Secret | undefined => {
    const s = v[key] as SecureValue | undefined;
    return s ? { key, plaintext: s.plaintext } : undefined;
  };
  const required = (key: ConfigKey): Secret => secretOf(key) ?? { key };

  // Database.
  let database: DatabaseConfig | undefined;
  if (databaseMode === "instance") {
    const backupRetentionDays = v["mina:dbBackupRetentionDays"] ?? d.dbBackupRetentionDays;
    const multiAz = v["mina:dbMultiAz"] ?? d.dbMultiAz;
    if (profile === "production" && backupRetentionDays < MIN_PRODUCTION_BACKUP_DAYS) {
      fail("mina:dbBackupRetentionDays", `is ${backupRetentionDays}; production keeps backups for at least ${MIN_PRODUCTION_BACKUP_DAYS} days`);
    }
    if (profile === "production" && !multiAz) fail("mina:dbMultiAz", "is false; production runs Multi-AZ");
    const subnetIds = v["mina:dbSubnetIds"] ?? [];
    if (raw.values["mina:dbSubnetIds"] !== undefined && subnetIds.length > 0 && subnetIds.length < 2) {
      fail("mina:dbSubnetIds", "needs at least two subnets in different availability zones (an RDS subnet group requirement)");
    }
    for (const cidr of v["mina:dbAllowedCidrs"] ?? []) {
      if (!CIDR.test(cidr)) fail("mina:dbAllowedCidrs", `"${cidr}" is not an IPv4 CIDR like 10.0.1.0/24`);
      else if (cidr.endsWith("/0")) fail("mina:dbAllowedCidrs", `"${cidr}" opens PostgreSQL to the whole internet; list the app hosts' CIDRs`);
    }
    database = {
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
  } else if (databaseMode === "server") {
    database = {
      mode: "server",
      host: normalizeHost(v["mina:dbServerHost"] ?? ""),
      port: v["mina:dbServerPort"] ?? 5432,
      adminUser: v["mina:dbServerAdminUser"] ?? "postgres",
      adminPassword: required("mina:dbServerAdminPassword"),
      sslMode: v["mina:dbServerSslMode"] ?? "require",
    };
    if (database.port < 1 || database.port > 65535) fail("mina:dbServerPort", `${database.port} is not a TCP port`);
  }

  // DNS: the share domain is the environment's own, inside its own zone.
  const shareDomain = normalizeHost(v["mina:shareDomain"] ?? "");
  const zoneName = normalizeHost(v["mina:dnsZoneName"] ?? shareDomain);
  const appHost = normalizeHost(v["mina:appHost"] ?? "");
  if (shareDomain && !HOSTNAME.test(shareDomain)) fail("mina:shareDomain", `"${shareDomain}" is not a domain name`);
  if (shareDomain && zoneName && shareDomain !== zoneName && !shareDomain.endsWith(`.${zoneName}`)) {
    fail("mina:shareDomain", `"${shareDomain}" is not inside the hosted zone "${zoneName}" (mina:dnsZoneName)`);
  }
  if (appHost && !IPV4.test(appHost)) {
    if (!HOSTNAME.test(appHost)) fail("mina:appHost", `"${appHost}" is neither an IPv4 address nor a hostname`);
    else if (shareDomain && shareDomain === zoneName) {
      fail("mina:appHost", `is a hostname, which needs a CNAME record, and DNS forbids a CNAME at the zone apex "${zoneName}"; use an IPv4 address or a share domain below the apex`);
    }
  }

  // Email and bucket lifecycle.
  const emailEnabled = v["mina:emailEnabled"] ?? d.emailEnabled;
  if (emailEnabled && raw.values["mina:sendgridApiKey"] === undefined && !failedKeys.has("mina:sendgridApiKey")) {
    if (opts.requireSecrets) {
      fail("mina:sendgridApiKey", `is required because email is enabled; set it with: pulumi config set --secret mina:sendgridApiKey <value> --stack ${raw.stack}, or set mina:emailEnabled false`);
    } else missingSecrets.push("mina:sendgridApiKey");
  }
  const expireDays = v["mina:bucketExpireDays"] ?? d.bucketExpireDays;
  if (profile === "production" && v["mina:bucketExpireDays"] !== undefined) {
    fail("mina:bucketExpireDays", "is refused in production: production audio never expires");
  }
  if (expireDays !== undefined && expireDays < 1) fail("mina:bucketExpireDays", "must be at least 1 day");

  if (errors.length > 0 || !database) throw new ConfigErrors(errors);

  const config: StackConfig = {
    stack: raw.stack,
    file: raw.file,
    environment,
    profile,
    names,
    protection,
    aws: { region: v["aws:region"]!, allowedAccountIds: v["aws:allowedAccountIds"]! },
    database,
    cache: {
      primaryRegion: v["mina:redisPrimaryRegion"] ?? "us-east-1",
      upstashEmail: v["upstash:email"]!,
      upstashApiKey: required("upstash:apiKey"),
    },
    bucket: { expireDays },
    dns: { shareDomain, zoneId: normalizeZoneId(v["mina:dnsZoneId"]!), zoneName, appHost },
    secrets: {
      openaiApiKey: required("mina:openaiApiKey"),
      sentryDsn: secretOf("mina:sentryDsn"),
      sendgridApiKey: emailEnabled ? required("mina:sendgridApiKey") : undefined,
      slackWebhookUrl: secretOf("mina:slackWebhookUrl"),
    },
    settings: {
      logLevel: (v["mina:logLevel"] as LogLevel | undefined) ?? d.logLevel,
      rateLimitPerMinute: v["mina:rateLimitPerMinute"] ?? d.rateLimitPerMinute,
      rateLimitPerHour: v["mina:rateLimitPerHour"] ?? d.rateLimitPerHour,
      emailEnabled,
      slackChannel: v["mina:slackChannel"] ?? names.slackChannel,
      sentryEnvironment: names.sentryEnvironment,
      featureFlags: { ...d.featureFlags, ...(v["mina:featureFlags"] ?? {}) },
    },
  };
  return { config, missingSecrets: [...new Set(missingSecrets)].sort() };
}
