/**
 * The stack config schema: every key the program reads, its type, whether it is
 * secret, and what it is for. Config is validated once, as a whole, before any
 * resource is declared; components never read config themselves. Each kind has a
 * small parser of its own (the checks are all this program's own rules, so no
 * schema library sits in between: every command starts faster without one).
 */
import { LOG_LEVELS, PROFILES } from "./defaults";
import { SecureValue } from "./raw";

export type KeyKind = "string" | "int" | "bool" | "list" | "enum" | "flags" | "secret";

export interface KeySpec {
  readonly kind: KeyKind;
  /** When the key must be set: always, never (optional), or in one database mode. */
  readonly required: "always" | "optional" | "instance" | "server";
  readonly description: string;
  /** The default, in words, for the docs. */
  readonly default?: string;
  readonly values?: readonly string[];
}

export const DATABASE_MODES = ["instance", "server"] as const;
export type DatabaseMode = (typeof DATABASE_MODES)[number];

/** How an environment gets its Redis: `database`, an Upstash database of its own, is the only mode. */
export const REDIS_MODES = ["database"] as const;
/** The staging guide's "option 2", one Redis server with another DB number per environment: refused, under either name. */
export const REFUSED_REDIS_MODES = ["shared-server", "db-number"] as const;

/** Why one Redis server (another DB number per environment) is no isolation: config validation, `audit` and `verify --against` give these reasons. */
export const SHARED_REDIS_REASONS =
  "one memory limit and eviction policy for both, a FLUSHALL or a runaway key space in staging hits production, one password for both";

/** Every config key this program reads. Keys of the `mina:` namespace not listed here are refused. */
export const KEYS = {
  "aws:region": { kind: "string", required: "always", description: "AWS region of the stack's resources." },
  "aws:allowedAccountIds": {
    kind: "list",
    required: "always",
    description: "The AWS account ids this stack may touch (12 digits each); the provider refuses any other account.",
  },
  "upstash:email": { kind: "string", required: "always", description: "Upstash account email for this stack's Redis." },
  "upstash:apiKey": { kind: "secret", required: "always", description: "Upstash API key for this stack's Redis." },
  "mina:environment": {
    kind: "string",
    required: "optional",
    default: "the stack name",
    description: "The environment; if set it must equal the stack name.",
  },
  "mina:profile": {
    kind: "enum",
    values: PROFILES,
    required: "optional",
    default: "`production` for the production stack, else `staging`",
    description: "Which defaults and protections apply; `review` (throwaway, one per pull request) only when set.",
  },
  "mina:databaseMode": {
    kind: "enum",
    values: DATABASE_MODES,
    required: "always",
    description: "`instance`: an RDS instance of its own. `server`: a database and role of its own on an existing server.",
  },
  "mina:dbInstanceClass": { kind: "string", required: "optional", default: "db.t4g.medium / db.t4g.micro", description: "RDS instance class (instance mode)." },
  "mina:dbAllocatedStorageGb": { kind: "int", required: "optional", default: "50 / 20", description: "RDS storage in GB (instance mode)." },
  "mina:dbEngineVersion": { kind: "string", required: "optional", default: "16", description: "PostgreSQL major version (instance mode)." },
  "mina:dbBackupRetentionDays": {
    kind: "int",
    required: "optional",
    default: "14 / 1",
    description: "RDS backup retention; production needs at least 7 (instance mode).",
  },
  "mina:dbMultiAz": { kind: "bool", required: "optional", default: "true / false", description: "RDS Multi-AZ; required in production (instance mode)." },
  "mina:vpcId": { kind: "string", required: "instance", description: "VPC of the RDS instance." },
  "mina:dbSubnetIds": { kind: "list", required: "instance", description: "Private subnets (at least two AZs) for the RDS subnet group." },
  "mina:dbAllowedCidrs": {
    kind: "list",
    required: "instance",
    description: "CIDRs of the app hosts allowed to reach PostgreSQL on 5432; never 0.0.0.0/0.",
  },
  "mina:deployRunner": {
    kind: "list",
    required: "always",
    description:
      "The runner labels of this stack's deploy, verify, migration and teardown jobs (`runs-on`), e.g. [self-hosted, mina-staging]: runners inside the environment's network, since its database is at a private address. A production-tier stack's labels are its own; a review stack shares none with a long-lived one; a GitHub-hosted label only for a server-mode stack whose server is public.",
  },
  "mina:dbServerHost": { kind: "string", required: "server", description: "Host of the existing PostgreSQL server (server mode)." },
  "mina:dbServerPort": { kind: "int", required: "optional", default: "5432", description: "Port of the existing server (server mode)." },
  "mina:dbServerAdminUser": {
    kind: "string",
    required: "server",
    description:
      "Admin role that creates this environment's database and role (server mode): a non-superuser with LOGIN CREATEDB CREATEROLE (README, Database modes); never the server's superuser (postgres).",
  },
  "mina:dbServerAdminPassword": { kind: "secret", required: "server", description: "Password of the admin role (server mode)." },
  "mina:dbServerSslMode": {
    kind: "enum",
    values: ["require", "verify-ca", "verify-full", "disable"],
    required: "optional",
    default: "require",
    description: "sslmode for the admin connection and for DATABASE_URL (server mode).",
  },
  "mina:redisMode": {
    kind: "enum",
    values: REDIS_MODES,
    required: "optional",
    default: "database",
    description:
      "`database`: an Upstash Redis database of its own, the only mode. `shared-server` / `db-number` (one Redis server, another DB number per environment) are refused.",
  },
  "mina:redisPrimaryRegion": { kind: "string", required: "optional", default: "us-east-1", description: "Upstash primary region of the Redis database." },
  "mina:redisBudget": {
    kind: "int",
    required: "optional",
    default: "100 / 20 (review: 10)",
    description:
      "Monthly budget of the Upstash Redis database, in whole US dollars (1-1000): the most its pay-as-you-go bill may reach in a month; once it is spent, Upstash throttles the database until the next month.",
  },
  "mina:bucketName": {
    kind: "string",
    required: "optional",
    default: "mina-audio-<environment>",
    description: "Override of the audio bucket name; must still contain the environment.",
  },
  "mina:bucketExpireDays": {
    kind: "int",
    required: "optional",
    default: "none / 30 (review: 7)",
    description: "Days after which audio objects expire; refused in production.",
  },
  "mina:shareDomain": { kind: "string", required: "always", description: "The environment's own share domain, e.g. mina.app or staging.mina.app." },
  "mina:dnsZoneId": { kind: "string", required: "always", description: "Route53 hosted zone of the share domain (one per environment)." },
  "mina:dnsZoneName": { kind: "string", required: "optional", default: "the share domain", description: "Name of that hosted zone." },
  "mina:appHost": {
    kind: "string",
    required: "always",
    description:
      "Where the share domain points: an IPv4 address (A record) or a hostname (CNAME, not at the zone apex). Not set on a blue/green front (mina:liveColour).",
  },
  "mina:migrateCommand": {
    kind: "string",
    required: "optional",
    default: "flask db upgrade",
    description:
      "The app's migration command, run by the deploy job after pulumi up in a checkout of the app at the deployed version, with the environment's env file (npm run migrate).",
  },
  "mina:liveColour": {
    kind: "enum",
    values: ["blue", "green"],
    required: "optional",
    description:
      "Makes this non-production stack the blue/green front: its share domain points at the live colour's stack (<stack>-blue or <stack>-green, at blue.<share domain> / green.<share domain>) through weighted records. Changed by npm run swap.",
  },
  "mina:canaryPercent": {
    kind: "int",
    required: "optional",
    default: "0",
    description: "On a blue/green front: the share of traffic (0-50) the other colour gets.",
  },
  "mina:openaiApiKey": { kind: "secret", required: "always", description: "OpenAI API key of this environment." },
  "mina:sentryOrganization": {
    kind: "string",
    required: "optional",
    description:
      "Sentry organization slug: turns Sentry on; the environment declares its own project and key there, and SENTRY_DSN is that key's DSN. Absent: Sentry is off.",
  },
  "mina:sentryTeam": {
    kind: "string",
    required: "optional",
    description: "Sentry team slug that owns the environment's project (required with mina:sentryOrganization).",
  },
  "mina:sentryToken": {
    kind: "secret",
    required: "optional",
    description: "Sentry auth token for this stack's Sentry provider (required with mina:sentryOrganization).",
  },
  "mina:sentrySharedProject": {
    kind: "string",
    required: "optional",
    description:
      "Non-production only: the slug of an existing project shared within the tier; the environment gets its own key in it and is told apart by SENTRY_ENVIRONMENT. Both stacks list it in mina:shareWithinTier.",
  },
  "mina:sendgridApiKey": { kind: "secret", required: "optional", description: "SendGrid API key; required when email is enabled." },
  "mina:emailEnabled": { kind: "bool", required: "optional", default: "true / false", description: "Whether the app sends email." },
  "mina:emailRedirectTo": {
    kind: "string",
    required: "optional",
    description:
      "One inbox that receives every message the environment sends (EMAIL_REDIRECT_TO); required when a non-production stack sets mina:emailEnabled true; refused in production.",
  },
  "mina:slackWebhookUrl": { kind: "secret", required: "optional", description: "Slack incoming webhook for alerts." },
  "mina:slackChannel": {
    kind: "string",
    required: "optional",
    default: "#mina-alerts / #mina-<environment>-alerts",
    description: "Slack alert channel.",
  },
  "mina:logLevel": {
    kind: "enum",
    values: LOG_LEVELS,
    required: "optional",
    default: "INFO",
    description: "LOG_LEVEL; every profile logs at INFO unless the stack sets another level.",
  },
  "mina:rateLimitPerMinute": { kind: "int", required: "optional", default: "100 / 200", description: "RATE_LIMIT_PER_MINUTE." },
  "mina:rateLimitPerHour": { kind: "int", required: "optional", default: "1000 / 2000", description: "RATE_LIMIT_PER_HOUR." },
  "mina:featureFlags": {
    kind: "flags",
    required: "optional",
    default: "beta_features: false / true, debug_toolbar: false, new_ai_insights: false / true",
    description: "Feature flags (name: true|false), merged over the profile's; each becomes FEATURE_<NAME>.",
  },
  "mina:refreshFrom": {
    kind: "string",
    required: "optional",
    description:
      "The stack whose data npm run refresh may copy (anonymized) into this stack's database, e.g. production; must name another stack file; refused in a production-tier stack.",
  },
  "mina:shareWithinTier": {
    kind: "list",
    required: "optional",
    description:
      "Supplied keys this non-production stack shares with the others that list them too: only upstash:email, upstash:apiKey, mina:openaiApiKey, mina:sentrySharedProject, mina:sendgridApiKey, mina:slackWebhookUrl, mina:appHost; refused in production.",
  },
} as const satisfies Record<string, KeySpec>;

export type ConfigKey = keyof typeof KEYS;

/** Describes a non-secret input for an error message. */
function shown(v: unknown): string {
  if (v instanceof SecureValue) return "a secret";
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  if (typeof v === "object") return "a mapping";
  return String(v);
}

/** One key's parser: the typed value, or why not (one line, never the secret). */
type Parser = (v: unknown) => { ok: true; value: unknown } | { ok: false; message: string };
const ok = (value: unknown) => ({ ok: true as const, value });
const bad = (message: string) => ({ ok: false as const, message });

const text = (): Parser => (v) => {
  if (typeof v === "string" && v.trim() !== "") return ok(v.trim());
  if (typeof v === "number") return ok(String(v));
  return bad(v === "" ? "must not be empty" : `expected a string, got ${shown(v)}`);
};

const int = (): Parser => (v) => {
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? ok(n) : bad(`expected a whole number >= 0, got ${shown(v)}`);
};

const bool = (): Parser => (v) => {
  if (v === true || v === "true") return ok(true);
  if (v === false || v === "false") return ok(false);
  return bad(`expected true or false, got ${shown(v)}`);
};

const list = (): Parser => (v) => {
  const items = Array.isArray(v) ? v : typeof v === "string" && v.trim() !== "" ? [v] : undefined;
  if (items && items.length > 0 && items.every((x) => (typeof x === "string" && x.trim() !== "") || typeof x === "number")) {
    return ok(items.map((x) => String(x).trim()));
  }
  return bad(`expected a non-empty list of strings, got ${shown(v)}`);
};

const oneOf =
  (values: readonly string[]): Parser =>
  (v) =>
    typeof v === "string" && values.includes(v) ? ok(v) : bad(`expected one of ${values.join(", ")}, got ${shown(v)}`);

const flags = (): Parser => (v) => {
  if (!(v && typeof v === "object" && !Array.isArray(v) && !(v instanceof SecureValue))) {
    return bad(`expected a mapping of flag names to true or false, got ${shown(v)}`);
  }
  const out: Record<string, boolean> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!/^[a-z][a-z0-9_]*$/.test(k)) return bad(`flag name ${JSON.stringify(k)} must be lowercase letters, digits and underscores`);
    if (x !== true && x !== false && x !== "true" && x !== "false") return bad(`flag ${k}: expected true or false, got ${shown(x)}`);
    out[k] = x === true || x === "true";
  }
  return ok(out);
};

/** A secret must arrive as a secure value: plaintext in a stack file is refused. */
const secret =
  (key: string): Parser =>
  (v) =>
    v instanceof SecureValue ? ok(v) : bad(`is a secret but is stored in plaintext; remove it and run: pulumi config set --secret ${key} <value>`);

function parserFor(key: string, spec: KeySpec): Parser {
  switch (spec.kind) {
    case "string":
      return text();
    case "int":
      return int();
    case "bool":
      return bool();
    case "list":
      return list();
    case "enum":
      return oneOf(spec.values ?? []);
    case "flags":
      return flags();
    case "secret":
      return secret(key);
  }
}

const PARSERS: Readonly<Record<string, Parser>> = Object.fromEntries(Object.entries(KEYS).map(([k, spec]) => [k, parserFor(k, spec)]));

/**
 * Parses the known keys of a stack's raw config, each by its kind, in the schema's
 * order: every problem at once (`issues`), and the typed values when there is none.
 * A key that is absent stays absent; presence is checked per mode afterwards.
 */
export function parseRawConfig(known: Readonly<Record<string, unknown>>): { issues: { key: string; message: string }[]; data?: ParsedValues } {
  const issues: { key: string; message: string }[] = [];
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(KEYS)) {
    if (!(key in known) || known[key] === undefined) continue;
    const r = PARSERS[key](known[key]);
    if (r.ok) data[key] = r.value;
    else issues.push({ key, message: r.message });
  }
  return issues.length > 0 ? { issues } : { issues, data: data as ParsedValues };
}

/** Typed values of the known keys after parsing. */
export type ParsedValues = {
  -readonly [K in ConfigKey]?: (typeof KEYS)[K]["kind"] extends "int"
    ? number
    : (typeof KEYS)[K]["kind"] extends "bool"
      ? boolean
      : (typeof KEYS)[K]["kind"] extends "list"
        ? string[]
        : (typeof KEYS)[K]["kind"] extends "flags"
          ? Record<string, boolean>
          : (typeof KEYS)[K]["kind"] extends "secret"
            ? SecureValue
            : string;
};
