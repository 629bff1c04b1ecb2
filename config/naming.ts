/**
 * Every physical name the program gives a resource is derived here, from the
 * application name and the environment. Nothing else in the code base spells a
 * name: components receive the names they need as arguments.
 */

/** The application every stack of this project belongs to. */
export const APP = "mina";

/** The Pulumi project name (Pulumi.yaml) and so the namespace of its config keys. */
export const PROJECT = "mina";

/** Environment (= stack) names: lowercase letters, digits and single hyphens. */
export const ENVIRONMENT_PATTERN = /^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,23}$/;

/**
 * Words the offline placeholders are made of (`<unset:...>`, the mock runtime's `mock...`
 * values, the demo's and the local recipe's `fake-not-a-secret-...`): an environment
 * named after one would find its own name in every placeholder of every other stack.
 */
export const RESERVED_ENVIRONMENT_NAMES: readonly string[] = ["unset", "mock", "fake", "not", "secret"];

/** A visibly fake credential for the demo and the local recipe: never mistaken for a real one. */
export function fakeSecret(environment: string, what: string): string {
  return `fake-not-a-secret-${environment}-${what}`;
}

/** The longest environment name: keeps every derived name inside its provider's limit. */
export const MAX_ENVIRONMENT_LENGTH = 24;

/** Provider limits that derived names must respect (checked by `checkNameLimits`). */
export const NAME_LIMITS = {
  bucket: 63, // S3: 3-63 lowercase letters, digits, hyphens, dots
  rdsIdentifier: 63, // RDS: starts with a letter, no double or trailing hyphen
  postgresIdentifier: 63, // NAMEDATALEN - 1
  iamUser: 64,
  iamGroup: 128,
  iamPolicy: 128,
  secret: 512,
  upstashDatabase: 64,
  securityGroup: 255,
  dbParameterGroup: 255,
} as const;

/**
 * How many characters the AWS provider appends to a `namePrefix` (a 26-digit unique
 * suffix): a prefix must leave that much room under its type's limit.
 */
export const NAME_PREFIX_SUFFIX_LENGTH = 26;

export interface Names {
  readonly app: string;
  readonly environment: string;
  /** Tags every taggable resource carries (also the AWS provider's default tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** Prefix of every Pulumi logical name, e.g. `mina-staging`. */
  readonly prefix: string;
  /** PostgreSQL database (both modes), e.g. `mina_staging`. */
  readonly databaseName: string;
  /** PostgreSQL login role the app connects as, e.g. `mina_staging_app`. */
  readonly databaseRole: string;
  /** RDS master user name (instance mode): never the engine default `postgres`. */
  readonly databaseMasterUser: string;
  /** RDS instance identifier, e.g. `mina-staging`. */
  readonly rdsIdentifier: string;
  readonly dbSubnetGroup: string;
  /**
   * The security group's `namePrefix` (config/replacement.ts: `name-prefix`): the provider
   * completes it, e.g. `mina-staging-db-20250101120000000000000001`.
   */
  readonly dbSecurityGroupPrefix: string;
  /** Stem of the parameter group's name prefix; see `dbParameterGroupPrefix`. */
  readonly dbParameterGroup: string;
  /** Final snapshot taken when a protected instance is deleted. */
  readonly dbFinalSnapshot: string;
  /** S3 bucket for audio, e.g. `mina-audio-staging`. */
  readonly bucket: string;
  /** IAM path of every environment's IAM users, groups and policies (`/mina/`): the app env secret's policy denies every other user on it. */
  readonly iamRootPath: string;
  /** IAM path of this environment's IAM users, groups and policies, e.g. `/mina/staging/`: its deploy role may create IAM entities only here. */
  readonly iamPath: string;
  /** The permissions boundary every IAM user of the environment carries (created in bootstrap, under iamPath), e.g. `mina-staging-app-boundary`. */
  readonly appBoundaryPolicy: string;
  /** IAM user whose access key the app uses for the bucket, and to read its env secret. */
  readonly bucketUser: string;
  /** IAM group that carries the bucket policy (policies attach to groups, not users). */
  readonly bucketGroup: string;
  readonly bucketPolicy: string;
  /** Secrets Manager secret holding the app's env (its env file's text), e.g. `mina/staging/app-env`. */
  readonly appEnvSecret: string;
  /** The app user's inline policy that reads that secret, e.g. `mina-staging-app-env-read`. */
  readonly appEnvPolicy: string;
  /** Upstash Redis database, e.g. `mina-staging`. */
  readonly redisDatabase: string;
  /** Sentry environment tag. */
  readonly sentryEnvironment: string;
  /** The environment's own Sentry project (slug and name) and key name, e.g. `mina-staging`. */
  readonly sentryProject: string;
  /** Default Slack alert channel. */
  readonly slackChannel: string;
}

/** The ARN of an environment's app permissions boundary in `account`. */
export function appBoundaryArn(names: Pick<Names, "iamPath" | "appBoundaryPolicy">, account: string): string {
  return `arn:aws:iam::${account}:policy${names.iamPath}${names.appBoundaryPolicy}`;
}

/** Turns `staging-blue` into `staging_blue` for PostgreSQL identifiers. */
function pgIdent(s: string): string {
  return s.replace(/-/g, "_");
}

/**
 * Derives every physical name of one environment.
 * @param environment The environment (= stack) name, already validated.
 * @param overrides Optional overrides (validated to still carry the environment).
 */
export function deriveNames(environment: string, overrides: { bucket?: string } = {}): Names {
  const prefix = `${APP}-${environment}`;
  return {
    app: APP,
    environment,
    tags: { environment, app: APP, "managed-by": "pulumi" },
    prefix,
    databaseName: pgIdent(`${APP}_${environment}`),
    databaseRole: pgIdent(`${APP}_${environment}_app`),
    databaseMasterUser: pgIdent(`${APP}_${environment}_admin`),
    rdsIdentifier: prefix,
    dbSubnetGroup: `${prefix}-db`,
    dbSecurityGroupPrefix: `${prefix}-db-`,
    dbParameterGroup: `${prefix}-pg`,
    dbFinalSnapshot: `${prefix}-final`,
    bucket: overrides.bucket ?? `${APP}-audio-${environment}`,
    iamRootPath: `/${APP}/`,
    iamPath: `/${APP}/${environment}/`,
    appBoundaryPolicy: `${prefix}-app-boundary`,
    bucketUser: `${APP}-audio-${environment}`,
    bucketGroup: `${APP}-audio-${environment}`,
    bucketPolicy: `${APP}-audio-${environment}-rw`,
    appEnvSecret: `${APP}/${environment}/app-env`,
    appEnvPolicy: `${prefix}-app-env-read`,
    redisDatabase: prefix,
    sentryEnvironment: environment,
    sentryProject: prefix,
    slackChannel: environment === "production" ? `#${APP}-alerts` : `#${APP}-${environment}-alerts`,
  };
}

/**
 * The RDS parameter group's `namePrefix` for an engine version: its stem and the major
 * version (`mina-staging-pg16-`), completed by the provider (config/replacement.ts).
 */
export function dbParameterGroupPrefix(n: Names, engineVersion: string): string {
  return `${n.dbParameterGroup}${engineVersion.split(".")[0]}-`;
}

/** Physical names that must be unique to one environment, by kind (used by audits). */
export function isolationCriticalNames(n: Names): Record<string, string> {
  return {
    databaseName: n.databaseName,
    databaseRole: n.databaseRole,
    rdsIdentifier: n.rdsIdentifier,
    bucket: n.bucket,
    bucketUser: n.bucketUser,
    appEnvSecret: n.appEnvSecret,
    redisDatabase: n.redisDatabase,
    slackChannel: n.slackChannel,
    sentryEnvironment: n.sentryEnvironment,
  };
}

/** Returns one message per derived name that breaks its provider's limits; empty when all fit. */
export function checkNameLimits(n: Names): string[] {
  const problems: string[] = [];
  const check = (what: string, value: string, max: number, pattern?: RegExp, rule?: string) => {
    if (value.length > max) problems.push(`${what} "${value}" is ${value.length} characters; the limit is ${max}`);
    if (pattern && !pattern.test(value)) problems.push(`${what} "${value}" ${rule}`);
  };
  check(
    "bucket name",
    n.bucket,
    NAME_LIMITS.bucket,
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit",
  );
  check(
    "RDS identifier",
    n.rdsIdentifier,
    NAME_LIMITS.rdsIdentifier,
    /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$/,
    "must start with a letter and have no double or trailing hyphen",
  );
  check("database name", n.databaseName, NAME_LIMITS.postgresIdentifier, /^[a-z_][a-z0-9_]*$/, "must be a lowercase PostgreSQL identifier");
  check("database role", n.databaseRole, NAME_LIMITS.postgresIdentifier, /^[a-z_][a-z0-9_]*$/, "must be a lowercase PostgreSQL identifier");
  check("IAM user", n.bucketUser, NAME_LIMITS.iamUser);
  check("IAM policy", n.appEnvPolicy, NAME_LIMITS.iamPolicy);
  check("secret name", n.appEnvSecret, NAME_LIMITS.secret, /^[A-Za-z0-9/_+=.@-]+$/, "may hold only letters, digits and / _ + = . @ -");
  check("security group name prefix", n.dbSecurityGroupPrefix, NAME_LIMITS.securityGroup - NAME_PREFIX_SUFFIX_LENGTH);
  // The prefix carries the major version only; a three-digit major is the longest it will see.
  check(
    "parameter group name prefix",
    dbParameterGroupPrefix(n, "100"),
    NAME_LIMITS.dbParameterGroup - NAME_PREFIX_SUFFIX_LENGTH,
    /^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*-$/,
    "must start with a letter and have no double hyphen",
  );
  check("Redis database", n.redisDatabase, NAME_LIMITS.upstashDatabase);
  return problems;
}
