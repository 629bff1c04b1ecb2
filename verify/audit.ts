/**
 * Compares the env files of many environments and reports every isolation-critical
 * value that two or more of them share. Values are indexed once (a map from facet and
 * normalised value to environments), so hundreds of files cost one pass, not all pairs.
 *
 * Values are compared as parsed, normalised parts, not as text, with the
 * normaliser of their kind that the config checks use too: the same Redis server
 * under another database index or user, spelt with capitals or a trailing dot, or
 * named by a wildcard DNS name of its address (lib/hosts.ts), is the same server;
 * `mina-alerts` and `#mina-alerts` are one Slack channel; every spelling of a Sentry
 * DSN's project is one project (lib/connectionUrl.ts); a password is a password
 * wherever it appears (DATABASE_URL's password equal to another environment's
 * REDIS_URL password, or to its SECRET_KEY, is shared).
 *
 * Tiers (config/tiers.ts): the audit cannot see config, so each source may carry
 * what its environment may share, read from its stack file. Two environments of
 * the non-production tier may hold the same database server (each with its own
 * database and role), and the same OPENAI_API_KEY, SENDGRID_API_KEY, SENTRY_DSN
 * project or SLACK_WEBHOOK_URL when both stack files list the key in
 * `mina:shareWithinTier`, in that variable only; such values are reported apart,
 * not as failures. Everything else, and anything a production environment or one
 * without a known stack file holds in common with another, fails.
 */
import { MARKABLE_VARIABLES, mayShareKey, type Sharing, tierMates } from "../config/tiers";
import { httpEndpoint, normaliseHttpUrl, parsePostgresUrl, parseRedisUrl, parseSentryDsn, tryParse } from "../lib/connectionUrl";
import { hostIdentity } from "../lib/hosts";
import { normalizeSlackChannel } from "../config/validation/checks";
import { fingerprint } from "../lib/fingerprint";
import { SHARED_REDIS_REASONS } from "../config/schema";

/** Why sharing a facet breaks isolation, for the report. */
function reasonOf(labels: ReadonlySet<string>): { reason?: string } {
  const reason = [...labels].map((l) => SHARED_REASONS[l]).find((r) => r !== undefined);
  return reason === undefined ? {} : { reason };
}

const SHARED_REASONS: Readonly<Record<string, string>> = {
  "REDIS_URL server": `one Redis server for two environments, whatever the DB number: ${SHARED_REDIS_REASONS.replace("in staging hits production", "in one hits the other")}`,
};

export interface EnvSource {
  /** The environment (ENVIRONMENT, else the file's stack name). */
  readonly environment: string;
  /** Where it came from, for messages (a file path or `stack:NAME`). */
  readonly source: string;
  readonly env: Readonly<Record<string, string>>;
  /** What the environment may share (its tier and marked keys, from its stack file); absent: nothing. */
  readonly sharing?: Sharing;
}

export interface SharedValue {
  /** What is shared: a key, a part of one (`REDIS_URL server`), or equal parts of several (`DATABASE_URL password = REDIS_URL password`). */
  readonly key: string;
  /** The variables the shared value was found in. */
  readonly keys: readonly string[];
  readonly fingerprint: string;
  readonly environments: readonly string[];
  /** Why sharing it breaks isolation, where a reason is known (the same Redis server). */
  readonly reason?: string;
}

/** A value that cannot be compared reliably (a connection URL the strict parser refuses). */
export interface AuditProblem {
  readonly environment: string;
  readonly source: string;
  readonly problem: string;
}

export interface AuditResult {
  readonly ok: boolean;
  readonly files: number;
  readonly shared: readonly SharedValue[];
  /** Values environments of the non-production tier share as both their stack files allow: not failures. */
  readonly withinTier: readonly SharedValue[];
  readonly problems: readonly AuditProblem[];
}

/** One isolation-critical value of an env. */
export interface Facet {
  /** Values are compared within a facet: `secret` pools every password and secret key. */
  readonly facet: string;
  /** How this occurrence is named in the report. */
  readonly label: string;
  /** The variable it comes from. */
  readonly key: string;
  /** The normalised value (never printed; fingerprinted). */
  readonly value: string;
}

/** Keys whose values are secrets compared with each other, whatever key they sit in. */
const SECRET_KEYS = ["AWS_SECRET_ACCESS_KEY", "SECRET_KEY", "SESSION_SECRET", "OPENAI_API_KEY", "SENDGRID_API_KEY"] as const;

/** The host of an http(s) URL as hosts are compared (lib/hosts.ts), with a port other than 80 or 443; undefined when it is not one. */
function httpHost(v: string): string | undefined {
  const normal = normaliseHttpUrl(v);
  if (normal === undefined) return undefined;
  const u = new URL(normal);
  return `${hostIdentity(u.hostname)}${u.port === "" || u.port === "80" || u.port === "443" ? "" : `:${u.port}`}`;
}

/** A server as hosts are compared (lib/hosts.ts: `203-0-113-10.sslip.io` is `203.0.113.10`), with its port. */
function server(host: string, port: number): string {
  const h = hostIdentity(host);
  return `${h.includes(":") ? `[${h}]` : h}:${port}`;
}

/**
 * How audit and verify --against compare a variable that holds one value, after
 * the normalisation the config checks use for its kind: a Slack channel with or
 * without its `#` (config/validation/checks.ts), a bucket or an access key id in any case, a
 * Sentry environment in any case; a secret as the provider reads it (surrounding
 * whitespace is not part of a key). Connection URLs, webhooks and DSNs are
 * compared by their parsed parts instead (`isolationFacets`).
 */
export function comparableValue(variable: string, value: string): string {
  switch (variable) {
    case "SLACK_CHANNEL":
      return normalizeSlackChannel(value);
    case "AWS_S3_BUCKET":
    case "AWS_ACCESS_KEY_ID":
    case "SENTRY_ENVIRONMENT":
      return value.trim().toLowerCase();
    default:
      return value.trim();
  }
}

/**
 * Isolation-critical facets of an env, normalised, and the connection URLs that
 * cannot be compared reliably. Empty values are skipped.
 */
export function isolationFacets(env: Readonly<Record<string, string>>): { facets: Facet[]; problems: string[] } {
  const facets: Facet[] = [];
  const problems: string[] = [];
  const add = (key: string, value: string | undefined, facet = key, label = facet) => {
    const v = value === undefined ? undefined : facet === "secret" ? comparableValue("secret", value) : value;
    if (v !== undefined && v !== "") facets.push({ facet, label, key, value: v });
  };

  if (env.DATABASE_URL) {
    const db = tryParse(parsePostgresUrl, env.DATABASE_URL, "DATABASE_URL");
    if (db.ok) {
      const at = server(db.url.host, db.url.port);
      add("DATABASE_URL", at, "DATABASE_URL server");
      add("DATABASE_URL", `${at}/${db.url.database}`, "DATABASE_URL server+database");
      add("DATABASE_URL", `${db.url.user}@${at}`, "DATABASE_URL role");
      add("DATABASE_URL", db.url.password, "secret", "DATABASE_URL password");
    } else {
      problems.push(db.problem);
      add("DATABASE_URL", env.DATABASE_URL);
    }
  }
  if (env.REDIS_URL) {
    const redis = tryParse(parseRedisUrl, env.REDIS_URL, "REDIS_URL");
    if (redis.ok) {
      add("REDIS_URL", server(redis.url.host, redis.url.port), "REDIS_URL server");
      add("REDIS_URL", redis.url.password, "secret", "REDIS_URL password");
    } else {
      problems.push(redis.problem);
      add("REDIS_URL", env.REDIS_URL);
    }
  }
  for (const k of SECRET_KEYS) add(k, env[k], "secret", k);
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_S3_BUCKET", "SLACK_CHANNEL", "SENTRY_ENVIRONMENT"]) if (env[k] !== undefined) add(k, comparableValue(k, env[k]));
  if (env.SLACK_WEBHOOK_URL) add("SLACK_WEBHOOK_URL", httpEndpoint(env.SLACK_WEBHOOK_URL) ?? env.SLACK_WEBHOOK_URL.trim());
  if (env.SENTRY_DSN && env.SENTRY_DSN.trim() !== "") {
    // Another key for the same project is still the same project; the same key is the same client besides.
    const dsn = parseSentryDsn(env.SENTRY_DSN);
    if (dsn === undefined) {
      problems.push("SENTRY_DSN: is not a Sentry DSN (https://KEY@HOST/PROJECT_ID), so it cannot be compared");
      add("SENTRY_DSN", env.SENTRY_DSN.trim());
    } else {
      add("SENTRY_DSN", dsn.project, "SENTRY_DSN project");
      // A client key is one client wherever it is written (keys are random and Sentry's own).
      add("SENTRY_DSN", dsn.publicKey, "SENTRY_DSN key");
      add("SENTRY_DSN", dsn.secretKey, "secret", "SENTRY_DSN secret key");
    }
  }
  if (env.SHARE_BASE_URL) add("SHARE_BASE_URL", httpHost(env.SHARE_BASE_URL) ?? env.SHARE_BASE_URL.trim(), "SHARE_BASE_URL host");
  return { facets, problems };
}

/** Facets the non-production tier shares without marking: a database server (config/tiers.ts, mina:dbServerHost). */
const TIER_SHARED_FACETS = ["DATABASE_URL server"];

/** The config key behind a facet label a non-production environment may mark shareable, if any. */
function markableKeyOf(label: string): string | undefined {
  return MARKABLE_VARIABLES[label.replace(/ project$/, "")];
}

export function auditEnvs(sources: readonly EnvSource[]): AuditResult {
  const index = new Map<string, { value: string; labels: Set<string>; keys: Set<string>; environments: Set<string> }>();
  const problems: AuditProblem[] = [];
  const sharing = new Map<string, Sharing | undefined>();
  for (const s of sources) {
    sharing.set(s.environment, s.sharing);
    const { facets, problems: own } = isolationFacets(s.env);
    for (const problem of own) problems.push({ environment: s.environment, source: s.source, problem });
    for (const f of facets) {
      const id = `${f.facet}\u0000${f.value}`;
      let e = index.get(id);
      if (!e) {
        e = { value: f.value, labels: new Set(), keys: new Set(), environments: new Set() };
        index.set(id, e);
      }
      e.labels.add(f.label);
      e.keys.add(f.key);
      e.environments.add(s.environment);
    }
  }
  /**
   * Environments all of the non-production tier, and a value of one facet only: one the tier shares,
   * or one markable variable that every environment holding it marks.
   */
  const allowed = (labels: ReadonlySet<string>, environments: readonly string[]) => {
    if (labels.size !== 1) return false;
    const [label] = labels;
    const first = sharing.get(environments[0]);
    if (TIER_SHARED_FACETS.includes(label)) return environments.every((env) => tierMates(sharing.get(env), first));
    const key = markableKeyOf(label);
    return key !== undefined && environments.every((env) => mayShareKey(key, sharing.get(env), first));
  };
  const all = [...index.values()]
    .filter((e) => e.environments.size > 1)
    .map((e) => ({
      value: {
        key: [...e.labels].sort().join(" = "),
        keys: [...e.keys].sort(),
        fingerprint: fingerprint(e.value),
        environments: [...e.environments].sort(),
        ...reasonOf(e.labels),
      },
      allowed: allowed(e.labels, [...e.environments]),
    }))
    .sort((a, b) => a.value.key.localeCompare(b.value.key) || a.value.environments.join().localeCompare(b.value.environments.join()));
  const shared = all.filter((x) => !x.allowed).map((x) => x.value);
  const withinTier = all.filter((x) => x.allowed).map((x) => x.value);
  return { ok: shared.length === 0 && problems.length === 0, files: sources.length, shared, withinTier, problems };
}
