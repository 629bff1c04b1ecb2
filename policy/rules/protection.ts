/** Protection rule: in production, the resources that hold data cannot be deleted by a Pulumi run. */
import { Rule } from "./types";

/** Types that hold data: deleting or replacing one loses it. */
export const STATEFUL_TYPES = [
  "aws:rds/instance:Instance",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "upstash:index/redisDatabase:RedisDatabase",
  "postgresql:index/database:Database",
  "postgresql:index/role:Role",
  "aws:route53/zone:Zone",
] as const;

/** In production every stateful resource has `protect: true`. */
export function protectStatefulInProduction(): Rule {
  return {
    name: "protect-stateful-production",
    description: "In production every stateful resource (database, bucket, cache, role, hosted zone) is protected.",
    scope: "resource",
    checkResource(r, ctx) {
      if (ctx.profile !== "production" || !(STATEFUL_TYPES as readonly string[]).includes(r.type) || r.protect) return [];
      return ["is not protected; in production a resource that holds data is declared with protect: true"];
    },
  };
}
