/**
 * Validates one stack's raw config as a whole and returns the typed config the
 * program is built from. Every problem becomes a one-line `ConfigError` naming the
 * stack file and the key; all problems are reported together.
 */
import type { LogLevel, Profile } from "../defaults";
import { BUILTIN_ENVIRONMENTS, type EnvironmentIdentity, identity, type Identifier, IdentityIndex } from "../isolation";
import { deriveNames, type Names } from "../naming";
import type { Protection } from "../protection";
import { normalizeHost, normalizeSlackChannel, normalizeZoneId } from "./checks";
import type { ProjectFile } from "../project";
import { checkReviewProfile } from "./review";
import { ConfigErrors, type RawStackConfig } from "../raw";
import { shareGroupOfRaw } from "../tiers";
import {
  assemble,
  bucketConfig,
  checkEmailRedirect,
  checkAccountIds,
  checkEnvironmentName,
  checkForeignValues,
  checkProjectAndSiblings,
  checkRequiredKeys,
  checkSentry,
  checkSharedValues,
  checkShareWithinTier,
  checkRefreshFrom,
  checkProductionName,
  checkDeployRunner,
  checkStackName,
  databaseConfig,
  deriveNamesAndOverrides,
  dnsConfig,
  isEmailEnabled,
  newContext,
  parseKnownKeys,
  redisBudget,
} from "./steps";

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

/** A blue/green front: the share domain's weighted records point at the two colours' hosts. */
export interface Front {
  readonly live: "blue" | "green";
  /** Share of traffic (0-50) the other colour gets. */
  readonly canaryPercent: number;
  /** Each colour's stack and host (`blue.<share domain>`). */
  readonly colours: Readonly<Record<"blue" | "green", { readonly stack: string; readonly host: string }>>;
}

export interface StackConfig {
  readonly stack: string;
  readonly file: string;
  readonly environment: string;
  readonly profile: Profile;
  readonly names: Names;
  readonly protection: Protection;
  readonly aws: { readonly region: string; readonly allowedAccountIds: readonly string[] };
  readonly database: DatabaseConfig;
  readonly cache: {
    readonly primaryRegion: string;
    readonly upstashEmail: string;
    readonly upstashApiKey: Secret;
    /** Upstash monthly budget in US dollars: the bill's cap; once spent, the database is throttled. */
    readonly budget: number;
  };
  readonly bucket: { readonly expireDays?: number };
  /**
   * Sentry, when on: the environment's own project (or, in the non-production tier, a
   * shared one the config names) and its own key, whose DSN is SENTRY_DSN.
   */
  readonly sentry?: {
    readonly organization: string;
    readonly team: string;
    readonly token: Secret;
    /** The project's slug: `mina-<environment>`, or the shared project's. */
    readonly project: string;
    /** Whether the project is a shared one that this stack does not declare. */
    readonly shared: boolean;
  };
  /** What the deploy job runs after pulumi up (npm run migrate). */
  readonly deploy: { readonly migrateCommand: string };
  readonly dns: {
    readonly shareDomain: string;
    readonly zoneId: string;
    readonly zoneName: string;
    /** Empty on a blue/green front, whose share domain points at the colours instead. */
    readonly appHost: string;
    readonly front?: Front;
  };
  readonly secrets: {
    readonly openaiApiKey: Secret;
    readonly sendgridApiKey?: Secret;
    readonly slackWebhookUrl?: Secret;
  };
  readonly settings: {
    readonly logLevel: LogLevel;
    readonly rateLimitPerMinute: number;
    readonly rateLimitPerHour: number;
    readonly emailEnabled: boolean;
    /** The one inbox every message goes to (a non-production environment with email on); empty otherwise. */
    readonly emailRedirectTo: string;
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

/**
 * Lists the identifiers an environment owns, from its raw stack file, leniently (for foreign checks),
 * with its tier (config/tiers.ts); a stack file that cannot be read gets none, so it shares nothing.
 */
export function identityOfRaw(raw: RawStackConfig): EnvironmentIdentity {
  const v = raw.values;
  const str = (k: string) => (typeof v[k] === "string" ? [v[k] as string] : []);
  const strs = (k: string) =>
    Array.isArray(v[k]) ? (v[k] as unknown[]).map(String) : typeof v[k] === "string" || typeof v[k] === "number" ? [String(v[k])] : [];
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
  return identity(raw.stack, ids, raw.unreadable ? undefined : shareGroupOfRaw(raw));
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

/**
 * Validates a stack's raw config. Throws `ConfigErrors` listing every problem.
 */
export function validateStack(raw: RawStackConfig, opts: ValidateOptions): ValidatedStack {
  checkStackName(raw);
  const ctx = newContext(raw, opts, identityIndexFor(raw, opts.siblings ?? []));
  checkProjectAndSiblings(ctx);
  const parsed = parseKnownKeys(ctx);
  checkRequiredKeys(parsed);
  checkEnvironmentName(parsed);
  checkProductionName(parsed);
  checkReviewProfile(parsed);
  checkSentry(parsed);
  checkShareWithinTier(parsed);
  checkRefreshFrom(parsed);
  checkDeployRunner(parsed);
  const names = deriveNamesAndOverrides(parsed);
  checkForeignValues(parsed);
  checkSharedValues(parsed);
  checkAccountIds(parsed);
  const database = databaseConfig(parsed);
  const dns = dnsConfig(parsed);
  const emailEnabled = isEmailEnabled(parsed);
  checkEmailRedirect(parsed, emailEnabled);
  const bucket = bucketConfig(parsed);
  const budget = redisBudget(parsed);
  if (ctx.errors.length > 0 || !database) throw new ConfigErrors(ctx.errors);
  const config = assemble(parsed, { names, database, dns, emailEnabled, bucket, redisBudget: budget });
  return { config, missingSecrets: [...new Set(ctx.missingSecrets)].sort() };
}
