/**
 * Which resources are protected, decided in plain code so it can be unit-tested
 * (the mock runtime does not expose `protect`).
 */
import type { Profile } from "./defaults";

/**
 * Resource types that hold data: deleting or replacing one loses it. Shared by
 * the plan, the data-safety gate and the policy pack's protection rule.
 */
export const STATEFUL_TYPES: readonly string[] = [
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "upstash:index/redisDatabase:RedisDatabase",
  "postgresql:index/database:Database",
  "postgresql:index/role:Role",
  "aws:route53/zone:Zone",
];

export interface Protection {
  /** Pulumi `protect`: the engine refuses to delete the resource. */
  readonly protect: boolean;
  /** Provider-side deletion protection (RDS `deletionProtection`). */
  readonly deletionProtection: boolean;
  /** Take a final snapshot before deletion (RDS). */
  readonly finalSnapshot: boolean;
  /** Keep every object version (S3). */
  readonly versioning: boolean;
}

/** Production's stateful resources are protected in every way; other profiles stay cheap to tear down. */
export function protectionFor(profile: Profile): Protection {
  const production = profile === "production";
  return { protect: production, deletionProtection: production, finalSnapshot: production, versioning: production };
}
