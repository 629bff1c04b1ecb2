/**
 * Validates one stack's raw config as a whole and returns the typed config the
 * program is built from. Every problem becomes a one-line `ConfigError` naming the
 * stack file and the key; all problems are reported together.
 */
import { BUILTIN_ENVIRONMENTS, type EnvironmentIdentity, identity, type Identifier, IdentityIndex } from "../isolation";
import { deriveNames } from "../naming";
import { normalizeHost, normalizeSlackChannel, normalizeZoneId } from "./checks";
import { checkReviewProfile } from "./review";
import { ConfigErrors, type RawStackConfig } from "../raw";
import type { ValidatedStack, ValidateOptions } from "../stackConfig";
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
