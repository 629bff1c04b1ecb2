/**
 * Compares the env files of many environments and reports every isolation-critical
 * value that two or more of them share. Values are indexed once (a map from key and
 * normalised value to environments), so hundreds of files cost one pass, not all pairs.
 */
import { fingerprint, safeUrl } from "./checklist";

export interface EnvSource {
  /** The environment (ENVIRONMENT, else the file's stack name). */
  readonly environment: string;
  /** Where it came from, for messages (a file path or `stack:NAME`). */
  readonly source: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface SharedValue {
  /** What is shared: a key, or a derived value like `DATABASE_URL host+database`. */
  readonly key: string;
  readonly fingerprint: string;
  readonly environments: readonly string[];
}

export interface AuditResult {
  readonly ok: boolean;
  readonly files: number;
  readonly shared: readonly SharedValue[];
}

/** Isolation-critical facets of an env, as (facet, normalised value) pairs. Empty values are skipped. */
export function isolationFacets(env: Readonly<Record<string, string>>): [string, string][] {
  const out: [string, string][] = [];
  const add = (facet: string, v: string | undefined) => {
    if (v !== undefined && v !== "") out.push([facet, v]);
  };
  const db = safeUrl(env.DATABASE_URL);
  if (db) {
    add("DATABASE_URL host+database", `${db.hostname.toLowerCase()}:${db.port || "5432"}/${decodeURIComponent(db.pathname.slice(1))}`);
    add("DATABASE_URL credentials", db.username || db.password ? `${decodeURIComponent(db.username)}:${decodeURIComponent(db.password)}` : undefined);
  } else add("DATABASE_URL", env.DATABASE_URL);
  const redis = safeUrl(env.REDIS_URL);
  if (redis) {
    add("REDIS_URL host+database", `${redis.hostname.toLowerCase()}:${redis.port || "6379"}/${redis.pathname.slice(1) || "0"}`);
    add("REDIS_URL password", redis.password ? decodeURIComponent(redis.password) : undefined);
  } else add("REDIS_URL", env.REDIS_URL);
  add("AWS_S3_BUCKET", env.AWS_S3_BUCKET);
  for (const k of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SECRET_KEY", "SESSION_SECRET", "OPENAI_API_KEY", "SENDGRID_API_KEY", "SLACK_WEBHOOK_URL", "SLACK_CHANNEL", "SENTRY_ENVIRONMENT"]) {
    add(k, env[k]);
  }
  const share = safeUrl(env.SHARE_BASE_URL);
  add("SHARE_BASE_URL host", share ? share.hostname.toLowerCase() : env.SHARE_BASE_URL);
  return out;
}

export function auditEnvs(sources: readonly EnvSource[]): AuditResult {
  const index = new Map<string, { key: string; value: string; environments: Set<string> }>();
  for (const s of sources) {
    for (const [key, value] of isolationFacets(s.env)) {
      const id = `${key}\u0000${value}`;
      let e = index.get(id);
      if (!e) index.set(id, (e = { key, value, environments: new Set() }));
      e.environments.add(s.environment);
    }
  }
  const shared = [...index.values()]
    .filter((e) => e.environments.size > 1)
    .map((e) => ({ key: e.key, fingerprint: fingerprint(e.value), environments: [...e.environments].sort() }))
    .sort((a, b) => a.key.localeCompare(b.key) || a.environments.join().localeCompare(b.environments.join()));
  return { ok: shared.length === 0, files: sources.length, shared };
}
