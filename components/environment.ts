import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/stackConfig";
import { featureVariable } from "../config/variables";
import { AppEnv } from "./appEnv";
import { Bucket } from "./bucket";
import { Cache } from "./cache";
import { Database } from "./database";
import { Dns } from "./dns";
import { Secrets } from "./secrets";
import { Sentry } from "./sentry";

export interface EnvironmentArgs {
  /** The stack's config, validated as a whole before anything is declared. */
  readonly config: StackConfig;
}

/** The AWS provider's arguments: the account guard and the default tags. */
export function awsProviderArgs(config: StackConfig) {
  return {
    region: config.aws.region as aws.Region,
    allowedAccountIds: [...config.aws.allowedAccountIds],
    defaultTags: { tags: { ...config.names.tags } },
  };
}

/**
 * One environment of the Mina app: the only place the parts meet. Every part gets
 * this environment's names and this stack's own providers, so nothing here can
 * point at another environment's resources.
 */
export class Environment extends pulumi.ComponentResource {
  readonly database: Database;
  readonly cache: Cache;
  readonly bucket: Bucket;
  readonly secrets: Secrets;
  /** Present when the stack turns Sentry on. */
  readonly sentry?: Sentry;
  readonly dns: Dns;
  /** Every emitted variable, name to value; secret as a whole. */
  readonly env: pulumi.Output<Record<string, string>>;
  /** The same env, delivered to the app host: a secret of the stack's own account. */
  readonly appEnv: AppEnv;

  constructor(name: string, args: EnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Environment", name, {}, opts);
    const { config } = args;
    const { names, protection } = config;
    const awsProvider = new aws.Provider(`${name}-aws`, awsProviderArgs(config), { parent: this });
    const child = { parent: this };

    this.database = new Database(`${name}-database`, { names, config: config.database, protection, awsProvider }, child);
    this.cache = new Cache(`${name}-cache`, cacheArgs(config), child);
    this.bucket = new Bucket(`${name}-bucket`, bucketArgs(config, awsProvider), child);
    this.secrets = new Secrets(`${name}-secrets`, { supplied: config.secrets }, child);
    if (config.sentry) this.sentry = new Sentry(`${name}-sentry`, { sentry: config.sentry, name: names.sentryProject, protection }, child);
    this.dns = new Dns(`${name}-dns`, dnsArgs(config, awsProvider), child);

    this.env = environmentVariables(config, this);
    this.appEnv = new AppEnv(
      `${name}-app-env`,
      {
        names,
        protection,
        env: this.env,
        appUser: this.bucket.appUser,
        accountIds: config.aws.allowedAccountIds,
        awsProvider,
      },
      child,
    );
    this.registerOutputs({ env: this.env, appEnvSecretName: this.appEnv.secretName });
  }
}

function cacheArgs(config: StackConfig) {
  return {
    names: config.names,
    protection: config.protection,
    primaryRegion: config.cache.primaryRegion,
    upstashEmail: config.cache.upstashEmail,
    upstashApiKey: config.cache.upstashApiKey,
    budget: config.cache.budget,
  };
}

function bucketArgs(config: StackConfig, awsProvider: aws.Provider) {
  return {
    names: config.names,
    protection: config.protection,
    region: config.aws.region,
    expireDays: config.bucket.expireDays,
    awsProvider,
  };
}

function dnsArgs(config: StackConfig, awsProvider: aws.Provider) {
  const { shareDomain, zoneId, appHost, front } = config.dns;
  return { shareDomain, zoneId, appHost, front, awsProvider };
}

/** The parts of an environment whose outputs the app's variables are made of. */
type EnvironmentParts = Pick<Environment, "database" | "cache" | "bucket" | "secrets" | "sentry" | "dns">;

/** Every variable the app reads, name to value, secret as a whole: the parts' outputs, the stack's settings and one per feature flag. */
function environmentVariables(config: StackConfig, parts: EnvironmentParts): pulumi.Output<Record<string, string>> {
  const { database, cache, bucket, secrets, sentry, dns } = parts;
  const s = config.settings;
  const flags = Object.fromEntries(Object.entries(s.featureFlags).map(([k, on]) => [featureVariable(k), String(on)]));
  return pulumi.secret(
    pulumi.all({
      ENVIRONMENT: config.environment,
      DATABASE_URL: database.url,
      REDIS_URL: cache.url,
      AWS_S3_BUCKET: bucket.bucketName,
      AWS_REGION: bucket.region,
      AWS_ACCESS_KEY_ID: bucket.accessKeyId,
      AWS_SECRET_ACCESS_KEY: bucket.secretAccessKey,
      SECRET_KEY: secrets.secretKey,
      SESSION_SECRET: secrets.sessionSecret,
      OPENAI_API_KEY: secrets.openaiApiKey,
      SENTRY_DSN: sentry ? sentry.dsn : pulumi.secret(""),
      SENTRY_ENVIRONMENT: s.sentryEnvironment,
      EMAIL_ENABLED: String(s.emailEnabled),
      SENDGRID_API_KEY: secrets.sendgridApiKey,
      EMAIL_REDIRECT_TO: s.emailRedirectTo,
      SLACK_WEBHOOK_URL: secrets.slackWebhookUrl,
      SLACK_CHANNEL: s.slackChannel,
      SHARE_BASE_URL: dns.shareBaseUrl,
      JSON_LOGS: "true",
      LOG_LEVEL: s.logLevel,
      RATE_LIMIT_PER_MINUTE: String(s.rateLimitPerMinute),
      RATE_LIMIT_PER_HOUR: String(s.rateLimitPerHour),
      ...flags,
    }),
  );
}

/** The stack's outputs: `env` (secret as a whole) and what a reviewer reads in a preview. */
export interface StackOutputs {
  readonly env: pulumi.Output<Record<string, string>>;
  readonly environment: string;
  readonly profile: string;
  readonly awsAccountIds: readonly string[];
  readonly databaseMode: string;
  readonly databaseName: string;
  readonly bucketName: string;
  readonly redisDatabaseName: string;
  /** The Secrets Manager secret the app host reads its env from (`mina/<environment>/app-env`). */
  readonly appEnvSecretName: string;
  readonly shareUrl: string;
  readonly dnsNames: readonly string[];
}

/** Declares one environment and returns the stack outputs. The program is a function of its config. */
export function defineEnvironment(config: StackConfig): StackOutputs {
  const e = new Environment(config.names.prefix, { config });
  return {
    env: e.env,
    environment: config.environment,
    profile: config.profile,
    awsAccountIds: config.aws.allowedAccountIds,
    databaseMode: config.database.mode,
    databaseName: e.database.databaseName,
    bucketName: e.bucket.bucketName,
    redisDatabaseName: e.cache.databaseName,
    appEnvSecretName: e.appEnv.secretName,
    shareUrl: e.dns.shareBaseUrl,
    dnsNames: e.dns.dnsNames,
  };
}
