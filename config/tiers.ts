/**
 * Tiers: the one rule set for what environments may share.
 *
 * Every environment belongs to a tier. `production` (a stack whose profile is
 * production, and the stack named `production` whatever its profile) shares
 * nothing with any other environment. Every other profile is `non-production`,
 * and environments of that tier may share, with each other only:
 *
 * - an AWS account, a hosted zone and, in server mode, a database server
 *   ({@link TIER_SHARED_KEYS}; as identifiers, {@link TIER_SHARED_KINDS});
 * - a supplied key that both stack files list in `mina:shareWithinTier`, which
 *   may name only the short reviewed list {@link TIER_MARKABLE_KEYS}.
 *
 * Nothing else: generated secrets, databases, roles, Redis databases, buckets,
 * IAM users and keys, share domains and Slack channels stay one per environment.
 * Config validation, the policy pack, env export, `verify` and `audit` all ask
 * this module.
 */
import { profileFor, readsAsProduction, REVIEW_PROFILE } from "./defaults";
import type { RawStackConfig } from "./raw";
import { KEYS } from "./schema";

export type Tier = "production" | "non-production";

/** The config key listing the supplied keys a stack shares within its tier. */
export const SHARE_WITHIN_TIER = "mina:shareWithinTier";

/** A profile's tier: `production` for the production profile, `non-production` for every other. */
export function tierOf(profile: string): Tier {
  return profile === "production" ? "production" : "non-production";
}

/**
 * Config keys whose values environments of the non-production tier may hold in
 * common without marking them: one AWS account, one hosted zone (each environment
 * keeps its own records and share domain in it), one database server in server
 * mode (each keeps its own database and role), one catch-all test inbox (production
 * refuses `mina:emailRedirectTo` altogether).
 */
export const TIER_SHARED_KEYS: readonly string[] = [
  "aws:allowedAccountIds",
  "mina:dnsZoneId",
  "mina:dnsZoneName",
  "mina:dbServerHost",
  "mina:dbServerPort",
  "mina:dbServerAdminUser",
  "mina:emailRedirectTo",
];

/** Identifier kinds (config/isolation.ts) that environments of the non-production tier may both own. */
export const TIER_SHARED_KINDS: readonly string[] = ["account id", "hosted zone"];

/**
 * Supplied keys a non-production stack may list in `mina:shareWithinTier`: one
 * Upstash account managing separate Redis databases, one OpenAI, Sentry, SendGrid
 * and Slack webhook key, one app host. A short list, reviewed: any other key in
 * `mina:shareWithinTier` is refused by name.
 */
export const TIER_MARKABLE_KEYS: readonly string[] = [
  "upstash:email",
  "upstash:apiKey",
  "mina:openaiApiKey",
  "mina:sentrySharedProject",
  "mina:sendgridApiKey",
  "mina:slackWebhookUrl",
  "mina:appHost",
];

/** The env-file variables that carry a markable key's value (what `audit` and `verify --against` compare). */
export const MARKABLE_VARIABLES: Readonly<Record<string, string>> = {
  OPENAI_API_KEY: "mina:openaiApiKey",
  SENTRY_DSN: "mina:sentrySharedProject",
  SENDGRID_API_KEY: "mina:sendgridApiKey",
  SLACK_WEBHOOK_URL: "mina:slackWebhookUrl",
};

/**
 * Who may share with whom: production shares with no one; review environments (pull
 * request code, deployed unreviewed) share only with each other; the other
 * non-production environments only with each other. A review environment and a
 * long-lived one share no account, server, admin role, zone or credential.
 */
export type ShareGroup = "production" | "non-production" | "review";

/** What an environment may share: its tier, its share group and the keys it marks shareable within it. */
export interface Sharing {
  readonly tier: Tier;
  readonly group: ShareGroup;
  /** Markable keys listed in `mina:shareWithinTier`; always empty in production. */
  readonly marked: readonly string[];
}

/**
 * The tier of a raw stack, read leniently: its declared profile's tier, else its
 * default profile's. A declared profile that is not one of the schema's counts as
 * production (its value is refused by validation; until then it shares nothing),
 * and so does the stack named `production`.
 */
export function tierOfRaw(raw: Pick<RawStackConfig, "stack" | "values">): Tier {
  // A name that reads as production is production's whatever its file says (validation refuses another profile).
  if (readsAsProduction(raw.stack)) return "production";
  const declared = raw.values["mina:profile"];
  if (declared === undefined) return tierOf(profileFor(raw.stack));
  const known: readonly string[] = KEYS["mina:profile"].values;
  return typeof declared === "string" && known.includes(declared) ? tierOf(declared) : "production";
}

/** The share group of a raw stack: production's tier, else review for the review profile, else non-production. */
export function shareGroupOfRaw(raw: Pick<RawStackConfig, "stack" | "values">): ShareGroup {
  if (tierOfRaw(raw) === "production") return "production";
  return raw.values["mina:profile"] === REVIEW_PROFILE ? "review" : "non-production";
}

/** The entries of a raw `mina:shareWithinTier` (a list, or one key name), unchecked. */
export function shareWithinTierEntries(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** What a raw stack may share: its tier and the markable keys it lists; nothing marked counts in production. */
export function sharingOfRaw(raw: Pick<RawStackConfig, "stack" | "values">): Sharing {
  const tier = tierOfRaw(raw);
  const group = shareGroupOfRaw(raw);
  if (tier === "production") return { tier, group, marked: [] };
  const marked = shareWithinTierEntries(raw.values[SHARE_WITHIN_TIER]).filter((k): k is string => typeof k === "string" && TIER_MARKABLE_KEYS.includes(k));
  return { tier, group, marked: [...new Set(marked)] };
}

/**
 * Whether two environments may share anything at all: both of the same share group,
 * and that group not production's. Two review environments are tier-mates; a review
 * environment and staging are not.
 */
export function tierMates(a: Sharing | ShareGroup | undefined, b: Sharing | ShareGroup | undefined): boolean {
  const group = (s: Sharing | ShareGroup | undefined) => (typeof s === "string" ? s : s?.group);
  return group(a) !== undefined && group(a) !== "production" && group(a) === group(b);
}

/** Whether an identifier of `kind` that an environment of group `b` owns may also be one of group `a`'s. */
export function mayShareKind(kind: string, a: ShareGroup | undefined, b: ShareGroup | undefined): boolean {
  return tierMates(a, b) && TIER_SHARED_KINDS.includes(kind);
}

/** Whether two environments may hold the same value of config key `key`: tier-mates, and the key shared by the tier or marked by both. */
export function mayShareKey(key: string, a: Sharing | undefined, b: Sharing | undefined): boolean {
  if (!a || !b || !tierMates(a, b)) return false;
  return TIER_SHARED_KEYS.includes(key) || (a.marked.includes(key) && b.marked.includes(key));
}
