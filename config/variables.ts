/**
 * The environment variables every stack emits in its `env` output, in the order
 * env files list them. The program, the env-file templates, the exporter and the
 * README table are all generated from this one list.
 */
export type VariableSource = "generated" | "derived" | "config" | "secret config";

export interface VariableSpec {
  readonly name: string;
  /** Whether the value is a credential; the whole `env` output is secret either way. */
  readonly secret: boolean;
  readonly source: VariableSource;
  /** Where the value comes from, in words (templates and README). */
  readonly from: string;
}

export const VARIABLES: readonly VariableSpec[] = [
  { name: "ENVIRONMENT", secret: false, source: "derived", from: "the stack name" },
  {
    name: "DATABASE_URL",
    secret: true,
    source: "generated",
    from: "Database component: postgresql://role:password@host:port/db?sslmode=..., credentials URL-encoded",
  },
  { name: "REDIS_URL", secret: true, source: "generated", from: "Cache component: rediss://default:password@endpoint:port (Upstash, TLS)" },
  { name: "AWS_S3_BUCKET", secret: false, source: "derived", from: "Bucket component: mina-audio-<environment>" },
  { name: "AWS_REGION", secret: false, source: "config", from: "aws:region" },
  { name: "AWS_ACCESS_KEY_ID", secret: true, source: "generated", from: "Bucket component: access key of the IAM user scoped to this bucket" },
  { name: "AWS_SECRET_ACCESS_KEY", secret: true, source: "generated", from: "Bucket component: secret of that access key" },
  { name: "SECRET_KEY", secret: true, source: "generated", from: "Secrets component: 32 random bytes as 64 hex characters" },
  { name: "SESSION_SECRET", secret: true, source: "generated", from: "Secrets component: 32 random bytes as 64 hex characters" },
  { name: "OPENAI_API_KEY", secret: true, source: "secret config", from: "mina:openaiApiKey" },
  { name: "SENTRY_DSN", secret: true, source: "generated", from: "Sentry component: the DSN of this environment's own Sentry key (empty: Sentry off)" },
  { name: "SENTRY_ENVIRONMENT", secret: false, source: "derived", from: "the environment name" },
  { name: "EMAIL_ENABLED", secret: false, source: "config", from: "mina:emailEnabled (production true, others false)" },
  { name: "SENDGRID_API_KEY", secret: true, source: "secret config", from: "mina:sendgridApiKey (empty when email is disabled)" },
  {
    name: "EMAIL_REDIRECT_TO",
    secret: false,
    source: "config",
    from: "mina:emailRedirectTo: one inbox that receives every message (non-production with email on; empty in production and when email is off)",
  },
  { name: "SLACK_WEBHOOK_URL", secret: true, source: "secret config", from: "mina:slackWebhookUrl (empty: no Slack alerts)" },
  { name: "SLACK_CHANNEL", secret: false, source: "config", from: "mina:slackChannel (#mina-alerts / #mina-<environment>-alerts)" },
  { name: "SHARE_BASE_URL", secret: false, source: "derived", from: "Dns component: https://<mina:shareDomain>" },
  { name: "JSON_LOGS", secret: false, source: "derived", from: "always true" },
  { name: "LOG_LEVEL", secret: false, source: "config", from: "mina:logLevel (INFO)" },
  { name: "RATE_LIMIT_PER_MINUTE", secret: false, source: "config", from: "mina:rateLimitPerMinute (100 / 200)" },
  { name: "RATE_LIMIT_PER_HOUR", secret: false, source: "config", from: "mina:rateLimitPerHour (1000 / 2000)" },
];

/** Feature flags become `FEATURE_<NAME>` variables, after the fixed ones, sorted. */
export const FEATURE_PREFIX = "FEATURE_";

export function featureVariable(flag: string): string {
  return FEATURE_PREFIX + flag.toUpperCase();
}

/** Every variable name a stack with these flags emits, in file order. */
export function variableNames(flags: Readonly<Record<string, boolean>>): string[] {
  return [...VARIABLES.map((v) => v.name), ...Object.keys(flags).sort().map(featureVariable)];
}

/** Whether a variable's value is a credential (feature flags are not). */
export function isSecretVariable(name: string): boolean {
  return VARIABLES.find((v) => v.name === name)?.secret ?? false;
}
