/**
 * The staging guide's safety checklist, automated for one env file: each item a
 * line with ✓ or ✗ and the reason. Secret values are never shown, only key names
 * and short fingerprints.
 */
import * as fs from "node:fs";
import type { Expected } from "../config/expectations";
import { MARKABLE_VARIABLES, mayShareKey } from "../config/tiers";
import { gitStatusOf } from "../lib/git";
import { parsePostgresUrl, parseRedisUrl, tryParse } from "../lib/connectionUrl";
import { fingerprint } from "../lib/fingerprint";
import { EMAIL_ADDRESS, productionDomainOf } from "../lib/email";
import { foreignProblemsIn } from "../config/foreign";
import { LOCAL_ENVIRONMENT, LOOPBACK_ADDRESSES, plainTransportAccepted } from "../lib/loopback";
import { auditEnvs, comparableValue } from "./audit";
import type { CheckResult } from "./live";

export type { CheckResult };

export interface ChecklistInput {
  readonly file: string;
  readonly env: Readonly<Record<string, string>>;
  readonly expected: Expected;
  /**
   * Another environment's env file to compare credentials with (`--against`); its environment
   * (default: its ENVIRONMENT) tells what the two may share (config/tiers.ts).
   */
  readonly against?: { readonly file: string; readonly env: Readonly<Record<string, string>>; readonly environment?: string };
}

/**
 * Keys whose values must never be the same in two environments. `--against`
 * compares their parsed, normalised parts (see verify/audit.ts): servers,
 * databases, roles, and passwords wherever they appear.
 */
export const CREDENTIAL_KEYS = [
  "DATABASE_URL",
  "REDIS_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "SECRET_KEY",
  "SESSION_SECRET",
  "OPENAI_API_KEY",
  "SENDGRID_API_KEY",
  "SLACK_WEBHOOK_URL",
  "SENTRY_DSN",
] as const;

export const ITEMS = {
  environment: "ENVIRONMENT matches the stack",
  database: "DATABASE_URL is this environment's database",
  redis: "REDIS_URL is this environment's Redis, over TLS",
  bucket: "AWS_S3_BUCKET is this environment's bucket",
  share: "SHARE_BASE_URL is this environment's share domain",
  sentry: "SENTRY_ENVIRONMENT is this environment",
  slack: "SLACK_CHANNEL is this environment's channel",
  email: "email disabled, or a SendGrid key of its own and, outside production, one catch-all inbox",
  openai: "OPENAI_API_KEY is not another environment's",
  credentials: "no credential shared with the other environment",
  gitignored: "file is ignored by git",
  mode: "file mode is 0600",
  stackFiles: "every stack file can be read",
} as const;

/** Runs every offline item of the checklist. */
export function offlineChecklist(input: ChecklistInput): CheckResult[] {
  const results: CheckResult[] = [];
  const c = startChecklist(input, results);
  // Fail closed: another stack file that cannot be read hides identifiers this file must not carry.
  const { unreadable } = input.expected;
  if (unreadable && unreadable.length > 0) c.add(ITEMS.stackFiles, false, `cannot check against ${unreadable.join("; ")}: fix or remove that file first`);
  environmentItem(c);
  databaseItem(c);
  redisItem(c);
  namedResourceItems(c);
  c.add(ITEMS.email, ...emailItem(input, c.own, c.otherEnvironment, c.sharedWithinTier, c.withinTier));
  if (input.against) {
    openaiItem(c, input.against);
    credentialsItem(c, input.against);
  } else {
    c.add(ITEMS.openai, true, "not compared: pass --against OTHER_FILE to compare with another environment");
  }
  gitignoredItem(c);
  const mode = fs.statSync(input.file).mode & 0o777;
  c.add(ITEMS.mode, mode === 0o600, mode === 0o600 ? "0600" : `mode is 0${mode.toString(8)}; run chmod 600 ${input.file}`);
  return results;
}

/** One run of the checklist: its input, this stack's environment and the other file's, and how items are added. */
interface Checklist {
  readonly input: ChecklistInput;
  readonly env: Readonly<Record<string, string>>;
  readonly x: Expected;
  readonly own: string;
  readonly otherEnvironment: string | undefined;
  readonly add: (item: string, ok: boolean, reason: string) => void;
  /** Adds an item for `key`: missing, foreign, or the given check. */
  readonly item: (label: string, key: string, check: (v: string) => string | undefined, okReason: (v: string) => string) => void;
  /** Whether `variable` may hold the same value as in the other file: both non-production, and both stack files mark its key. */
  readonly sharedWithinTier: (variable: string) => boolean;
  /** The reason of an item whose value is the other file's, as both stack files allow. */
  readonly withinTier: (variable: string, file: string, value: string) => string;
}

/** A checklist run whose items are added to `results`. */
function startChecklist(input: ChecklistInput, results: CheckResult[]): Checklist {
  const { env, expected: x } = input;
  const own = x.environment;
  const add = (item: string, ok: boolean, reason: string) => {
    results.push({ item, ok, reason });
  };
  /** The first identifier of another environment in the value, as written or percent-decoded. */
  const foreignIn = (key: string): string | undefined => {
    const v = env[key];
    if (v === undefined) return undefined;
    return foreignProblemsIn(x.index, key, v, own)[0];
  };
  const otherEnvironment = input.against ? (input.against.environment ?? input.against.env.ENVIRONMENT) : undefined;
  const sharedWithinTier = (variable: string): boolean => {
    const key = MARKABLE_VARIABLES[variable];
    return (
      key !== undefined && otherEnvironment !== undefined && otherEnvironment !== own && mayShareKey(key, x.sharing.get(own), x.sharing.get(otherEnvironment))
    );
  };
  const withinTier = (variable: string, file: string, value: string) =>
    `the same as in ${file} (${fingerprint(value)}), which both stack files allow (${MARKABLE_VARIABLES[variable]} in mina:shareWithinTier, non-production tier)`;
  const item = (label: string, key: string, check: (v: string) => string | undefined, okReason: (v: string) => string) => {
    const v = env[key];
    if (v === undefined) return add(label, false, `${key} is missing`);
    const problem = foreignIn(key) ?? check(v);
    add(label, problem === undefined, problem ?? okReason(v));
  };
  return { input, env, x, own, otherEnvironment, add, item, sharedWithinTier, withinTier };
}

function environmentItem({ item, own }: Checklist): void {
  item(
    ITEMS.environment,
    "ENVIRONMENT",
    (v) => (v === own ? undefined : `ENVIRONMENT is "${v}", the stack is "${own}"`),
    () => `ENVIRONMENT=${own}`,
  );
}

function databaseItem({ item, x }: Checklist): void {
  item(
    ITEMS.database,
    "DATABASE_URL",
    (v) => {
      const db = tryParse(parsePostgresUrl, v, "DATABASE_URL");
      if (!db.ok) return db.problem;
      return db.url.database === x.databaseName ? undefined : `DATABASE_URL names database "${db.url.database}", expected "${x.databaseName}"`;
    },
    (v) => `database ${x.databaseName} on ${parsePostgresUrl(v).hostPort} (${fingerprint(v)})`,
  );
}

function redisItem({ item, own }: Checklist): void {
  item(
    ITEMS.redis,
    "REDIS_URL",
    (v) => {
      const redis = tryParse(parseRedisUrl, v, "REDIS_URL");
      if (!redis.ok) return redis.problem;
      if (redis.url.tls || plainTransportAccepted(own, redis.url.host)) return undefined;
      return own === LOCAL_ENVIRONMENT
        ? `REDIS_URL uses redis:// (no TLS) to ${redis.url.hostPort}, which is not a loopback address (${LOOPBACK_ADDRESSES}): plain redis:// is accepted only for the local environment on this machine`
        : "REDIS_URL uses redis:// (no TLS); Upstash databases are reached with rediss://";
    },
    (v) => {
      const redis = parseRedisUrl(v);
      // only the local environment on a loopback host gets here without TLS
      return `${redis.hostPort} (${fingerprint(v)})${redis.tls ? "" : "; plain redis:// accepted: local environment on a loopback address"}`;
    },
  );
}

/** The bucket, the share domain, the Sentry environment and the Slack channel: each this environment's. */
function namedResourceItems({ item, x }: Checklist): void {
  item(
    ITEMS.bucket,
    "AWS_S3_BUCKET",
    (v) => (v === x.bucket ? undefined : `AWS_S3_BUCKET is "${v}", expected "${x.bucket}"`),
    (v) => v,
  );
  item(
    ITEMS.share,
    "SHARE_BASE_URL",
    (v) => {
      const u = safeUrl(v);
      if (u?.protocol !== "https:") return "SHARE_BASE_URL is not an https:// URL";
      if (x.shareDomain && u.hostname !== x.shareDomain) return `SHARE_BASE_URL host is "${u.hostname}", expected "${x.shareDomain}"`;
      return undefined;
    },
    (v) => v,
  );
  item(
    ITEMS.sentry,
    "SENTRY_ENVIRONMENT",
    (v) => (v === x.sentryEnvironment ? undefined : `SENTRY_ENVIRONMENT is "${v}", expected "${x.sentryEnvironment}"`),
    (v) => v,
  );
  // A channel with or without its `#` is one channel, as the config checks and audit compare it.
  item(
    ITEMS.slack,
    "SLACK_CHANNEL",
    (v) =>
      comparableValue("SLACK_CHANNEL", v) === comparableValue("SLACK_CHANNEL", x.slackChannel)
        ? undefined
        : `SLACK_CHANNEL is "${v}", expected "${x.slackChannel}"`,
    (v) => v,
  );
}

/** The OpenAI key is not the other file's, unless both stack files share it within the tier. */
function openaiItem({ env, add, sharedWithinTier, withinTier }: Checklist, other: NonNullable<ChecklistInput["against"]>): void {
  const o = env.OPENAI_API_KEY;
  const sameOpenai = o !== undefined && sameValue("OPENAI_API_KEY", o, other.env.OPENAI_API_KEY);
  if (o === undefined) add(ITEMS.openai, false, "OPENAI_API_KEY is missing");
  else if (sameOpenai && sharedWithinTier("OPENAI_API_KEY")) add(ITEMS.openai, true, withinTier("OPENAI_API_KEY", other.file, o));
  else if (sameOpenai) add(ITEMS.openai, false, `OPENAI_API_KEY is the same as in ${other.file} (${fingerprint(o)})`);
  else add(ITEMS.openai, true, `differs from ${other.file} (${fingerprint(o)})`);
}

/** No credential is the other file's, beyond what both stack files share within the tier (compared as audit compares them). */
function credentialsItem({ input, env, x, own, otherEnvironment, add }: Checklist, other: NonNullable<ChecklistInput["against"]>): void {
  const credentials = new Set<string>(CREDENTIAL_KEYS);
  // Two names the audit tells apart even when the files claim the same environment; each with its own stack file's sharing.
  const sameEnvironment = otherEnvironment === own;
  const audited = auditEnvs([
    { environment: "this", source: input.file, env, sharing: sameEnvironment ? undefined : x.sharing.get(own) },
    {
      environment: "other",
      source: other.file,
      env: other.env,
      sharing: sameEnvironment || otherEnvironment === undefined ? undefined : x.sharing.get(otherEnvironment),
    },
  ]);
  const shared = audited.shared.filter((s) => s.keys.some((k) => credentials.has(k)));
  const allowed = audited.withinTier.filter((s) => s.keys.some((k) => credentials.has(k)));
  const list = (xs: readonly { key: string; fingerprint: string }[]) => xs.map((s) => `${s.key} (${s.fingerprint})`).join(", ");
  add(
    ITEMS.credentials,
    shared.length === 0,
    shared.length > 0
      ? `shared with ${other.file}: ${list(shared)}` +
          shared
            .filter((s) => s.reason)
            .map((s) => `; ${s.key}: ${s.reason}`)
            .join("")
      : `none of ${CREDENTIAL_KEYS.length} credentials is shared with ${other.file}` +
          (allowed.length > 0 ? ` beyond what both stack files allow within the non-production tier: ${list(allowed)}` : ""),
  );
}

/** The env file is ignored by git, and not tracked. */
function gitignoredItem({ input, add }: Checklist): void {
  const git = gitStatusOf(input.file);
  if (!git.inRepo) add(ITEMS.gitignored, true, "not inside a git repository");
  else if (git.tracked) add(ITEMS.gitignored, false, "the file is tracked by git: git rm --cached it and rotate every secret in it");
  else add(ITEMS.gitignored, git.ignored, git.ignored ? "ignored by git" : "not ignored by git: add it to .gitignore");
}

/**
 * The email item: email off with no SendGrid key and no redirect; or on, with a SendGrid key
 * not --against's (unless both stack files share it within the tier) and, in a non-production
 * environment (any not known to be of the production tier), EMAIL_REDIRECT_TO set to one
 * inbox that is not at a production domain; production redirects nothing.
 */
function emailItem(
  input: ChecklistInput,
  own: string,
  otherEnvironment: string | undefined,
  sharedWithinTier: (variable: string) => boolean,
  withinTier: (variable: string, file: string, value: string) => string,
): [boolean, string] {
  const { env, expected: x } = input;
  const emailOn = env.EMAIL_ENABLED === "true";
  const sendgrid = env.SENDGRID_API_KEY ?? "";
  const redirect = env.EMAIL_REDIRECT_TO ?? "";
  const production = own === "production" || x.sharing.get(own)?.tier === "production";
  if (!emailOn) {
    if (sendgrid !== "") return [false, "EMAIL_ENABLED is not true but SENDGRID_API_KEY is set: remove the key or enable email"];
    if (redirect !== "") return [false, "EMAIL_ENABLED is not true but EMAIL_REDIRECT_TO is set: it is empty when email is off"];
    return [true, "email disabled (EMAIL_ENABLED is not true, no SendGrid key)"];
  }
  if (sendgrid === "") return [false, "EMAIL_ENABLED=true but SENDGRID_API_KEY is empty"];
  let inbox: string;
  if (production) {
    if (redirect !== "") return [false, "EMAIL_REDIRECT_TO is set in a production environment: production sends to its users, never to one inbox"];
    inbox = "";
  } else {
    if (redirect === "")
      return [false, "EMAIL_ENABLED=true in a non-production environment but EMAIL_REDIRECT_TO is empty: every message must go to one catch-all inbox"];
    if (!EMAIL_ADDRESS.test(redirect)) return [false, "EMAIL_REDIRECT_TO is not an email address"];
    const againstDomain =
      input.against && (otherEnvironment === "production" || (otherEnvironment !== undefined && x.sharing.get(otherEnvironment)?.tier === "production"))
        ? safeUrl(input.against.env.SHARE_BASE_URL)?.hostname
        : undefined;
    const domain = productionDomainOf(redirect, [...(x.productionDomains ?? []), ...(againstDomain ? [againstDomain] : [])], x.shareDomain);
    if (domain !== undefined)
      return [false, `EMAIL_REDIRECT_TO is an address at the production domain ${domain}: the catch-all inbox must not be a production mailbox`];
    inbox = `, every message to EMAIL_REDIRECT_TO (${redirect.slice(redirect.lastIndexOf("@"))})`;
  }
  const against = input.against;
  if (against && sameValue("SENDGRID_API_KEY", sendgrid, against.env.SENDGRID_API_KEY)) {
    if (sharedWithinTier("SENDGRID_API_KEY")) return [true, `email enabled with a key ${withinTier("SENDGRID_API_KEY", against.file, sendgrid)}${inbox}`];
    return [false, `SENDGRID_API_KEY is the same as in ${against.file} (${fingerprint(sendgrid)})`];
  }
  return [true, `email enabled with its own key (${fingerprint(sendgrid)})${inbox}${against ? "" : "; pass --against to compare with another environment"}`];
}

/** Whether two environments' values of `variable` are one value, compared as audit compares them. */
function sameValue(variable: string, mine: string, theirs: string | undefined): boolean {
  return theirs !== undefined && comparableValue(variable, mine) === comparableValue(variable, theirs);
}

/** Parses an http(s) URL; undefined when it is not one. */
function safeUrl(v: string | undefined): URL | undefined {
  if (!v) return undefined;
  try {
    return new URL(v);
  } catch {
    return undefined;
  }
}
