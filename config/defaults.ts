/**
 * Per-profile defaults. A stack's profile is `production` for the `production`
 * stack and `staging` for every other one unless `mina:profile` says otherwise,
 * so a third stack file (`Pulumi.staging-blue.yaml`) needs no code change.
 * `review` is for throwaway environments, one per pull request (`env:new`): it is
 * only ever chosen explicitly.
 */
export const PROFILES = ["production", "staging", "review"] as const;
/** The profile of environments made by `env:new`, one per pull request. */
export const REVIEW_PROFILE = "review";
export type Profile = (typeof PROFILES)[number];

export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface ProfileDefaults {
  readonly dbInstanceClass: string;
  readonly dbAllocatedStorageGb: number;
  readonly dbEngineVersion: string;
  readonly dbBackupRetentionDays: number;
  readonly dbMultiAz: boolean;
  readonly logLevel: LogLevel;
  readonly rateLimitPerMinute: number;
  readonly rateLimitPerHour: number;
  readonly emailEnabled: boolean;
  /** Upstash monthly budget of the Redis database, in US dollars: once spent, the database is throttled until the next month. */
  readonly redisBudget: number;
  /** Days after which staging audio objects expire; production never expires audio. */
  readonly bucketExpireDays: number | undefined;
  readonly featureFlags: Readonly<Record<string, boolean>>;
}

/** The largest Upstash monthly budget a stack may set, in US dollars: more is a typo, not a cache. */
export const MAX_REDIS_BUDGET = 1000;

/** Production's minimum backup retention, enforced by validation and by the policy pack. */
export const MIN_PRODUCTION_BACKUP_DAYS = 7;

const PRODUCTION: ProfileDefaults = {
  dbInstanceClass: "db.t4g.medium",
  dbAllocatedStorageGb: 50,
  dbEngineVersion: "16",
  dbBackupRetentionDays: 14,
  dbMultiAz: true,
  logLevel: "INFO",
  rateLimitPerMinute: 100,
  rateLimitPerHour: 1000,
  emailEnabled: true,
  // Headroom over the provider's $20 default: production's cache is never throttled by a busy month.
  redisBudget: 100,
  bucketExpireDays: undefined,
  featureFlags: { beta_features: false, debug_toolbar: false, new_ai_insights: false },
};

const STAGING: ProfileDefaults = {
  dbInstanceClass: "db.t4g.micro",
  dbAllocatedStorageGb: 20,
  dbEngineVersion: "16",
  dbBackupRetentionDays: 1,
  dbMultiAz: false,
  // The guide: staging logs as production does; a stack may still set mina:logLevel DEBUG.
  logLevel: "INFO",
  rateLimitPerMinute: PRODUCTION.rateLimitPerMinute * 2,
  rateLimitPerHour: PRODUCTION.rateLimitPerHour * 2,
  emailEnabled: false,
  redisBudget: 20,
  bucketExpireDays: 30,
  // The staging guide's example: AI insights are tried in staging before production turns them on.
  featureFlags: { beta_features: true, debug_toolbar: false, new_ai_insights: true },
};

/**
 * A review environment lives as long as its pull request: staging's settings, audio
 * kept a week, one day of backups (the shortest RDS keeps while still taking any).
 * Its protections (none, and a bucket `pulumi destroy` empties) are in `protectionFor`.
 */
const REVIEW: ProfileDefaults = {
  ...STAGING,
  dbBackupRetentionDays: 1,
  redisBudget: 10,
  bucketExpireDays: 7,
};

/** The words that make a stack name read as production: the name and its aliases. */
export const PRODUCTION_NAME_WORDS: readonly string[] = ["production", "prod", "prd"];

/**
 * Whether a stack name reads as production: one of its words (split on anything but
 * letters and digits) is production or an alias (`prod-eu`, `eu-prd`, `production`;
 * not `reproduce` or `products`). Every rule that asks "is this production by its
 * name" asks this one function.
 */
export function readsAsProduction(name: string): boolean {
  return name
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .some((w) => PRODUCTION_NAME_WORDS.includes(w));
}

/** A stack's profile: the declared one, else production for a name that reads as production, else staging. */
export function profileFor(environment: string, explicit?: Profile): Profile {
  return explicit ?? (readsAsProduction(environment) ? "production" : "staging");
}

export function defaultsFor(profile: Profile): ProfileDefaults {
  return profile === "production" ? PRODUCTION : profile === "review" ? REVIEW : STAGING;
}
