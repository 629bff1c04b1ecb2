/**
 * S3 rules: every bucket is private, encrypted and TLS-only; production buckets keep
 * every object version. Buckets are configured by separate resources, so these rules
 * look at the whole stack: a sub-resource configures a bucket when its `bucket` is the
 * bucket's name or (during preview, where a new bucket's id is unknown) when the
 * engine reports its `bucket` property depends on the bucket.
 */
import { conditionValues, isEveryone, parseDocument, s3Arn, type Statement } from "./document";
import { isUnknown, type PlannedResource, type Rule } from "./types";

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"] as const;
export const PUBLIC_ACCESS_BLOCK_TYPES = ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"] as const;
export const ENCRYPTION_TYPES = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
] as const;
export const VERSIONING_TYPES = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"] as const;
export const BUCKET_POLICY_TYPES = ["aws:s3/bucketPolicy:BucketPolicy"] as const;

/** The four settings of a public access block; all must be true. */
export const PUBLIC_ACCESS_SETTINGS = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

const SSE_ALGORITHMS = ["AES256", "aws:kms", "aws:kms:dsse"];

const isOneOf = (types: readonly string[], r: PlannedResource) => types.includes(r.type);

function bucketNameOf(bucket: PlannedResource): string | undefined {
  const b = bucket.props.bucket;
  return typeof b === "string" && b !== "" ? b : undefined;
}

/** How messages name a bucket: its physical name, else its logical name. */
function label(bucket: PlannedResource): string {
  return `bucket "${bucketNameOf(bucket) ?? bucket.name}"`;
}

/** True when `sub` (a bucket sub-resource) configures `bucket`. */
export function configures(sub: PlannedResource, bucket: PlannedResource): boolean {
  const target = sub.props.bucket;
  const name = bucketNameOf(bucket);
  if (typeof target === "string" && name !== undefined && target === name) return true;
  return bucket.urn !== undefined && (sub.dependencies?.bucket ?? []).includes(bucket.urn);
}

/** The sub-resources of the given types that configure `bucket`. */
function configuring(types: readonly string[], bucket: PlannedResource, stack: readonly PlannedResource[]): PlannedResource[] {
  return stack.filter((r) => isOneOf(types, r) && configures(r, bucket));
}

/** Every bucket has a public access block with all four settings true. */
export function s3PublicAccessBlock(): Rule {
  return {
    name: "s3-public-access-block",
    description: "Every bucket has a public access block with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets true.",
    scope: "stack",
    checkResource(r, _ctx, stack) {
      if (isOneOf(BUCKET_TYPES, r)) {
        return configuring(PUBLIC_ACCESS_BLOCK_TYPES, r, stack).length === 0 ? [`${label(r)} has no public access block (aws:s3/bucketPublicAccessBlock)`] : [];
      }
      if (isOneOf(PUBLIC_ACCESS_BLOCK_TYPES, r)) {
        const off = PUBLIC_ACCESS_SETTINGS.filter((k) => !isUnknown(r.props[k]) && r.props[k] !== true);
        return off.length > 0 ? [`public access block leaves ${off.join(", ")} not true; all four settings must be true`] : [];
      }
      return [];
    },
  };
}

/** Every bucket has a server-side encryption configuration with a default algorithm. */
export function s3Encryption(): Rule {
  return {
    name: "s3-encryption",
    description: "Every bucket has a server-side encryption configuration (AES256 or KMS by default).",
    scope: "stack",
    checkResource(r, _ctx, stack) {
      if (isOneOf(BUCKET_TYPES, r)) {
        return configuring(ENCRYPTION_TYPES, r, stack).length === 0
          ? [`${label(r)} has no server-side encryption configuration (aws:s3/bucketServerSideEncryptionConfiguration)`]
          : [];
      }
      if (isOneOf(ENCRYPTION_TYPES, r)) {
        const rules = r.props.rules;
        if (isUnknown(rules)) return [];
        const algorithms = (Array.isArray(rules) ? rules : []).map((x) => {
          const d = typeof x === "object" && x !== null ? (x as Record<string, unknown>).applyServerSideEncryptionByDefault : undefined;
          return typeof d === "object" && d !== null ? (d as Record<string, unknown>).sseAlgorithm : undefined;
        });
        if (algorithms.some(isUnknown)) return [];
        return algorithms.some((a) => typeof a === "string" && SSE_ALGORITHMS.includes(a))
          ? []
          : [`server-side encryption configuration sets no default algorithm (one of ${SSE_ALGORITHMS.join(", ")})`];
      }
      return [];
    },
  };
}

/** True when a statement denies every S3 request made without TLS to the bucket and its objects. */
export function deniesInsecureTransport(s: Statement, bucket: string | undefined): boolean {
  if (s.effect !== "Deny" || !isEveryone(s.principal)) return false;
  if (!s.actions.some((a) => a === "*" || a.toLowerCase() === "s3:*")) return false;
  if (!conditionValues(s.condition, "Bool", "aws:SecureTransport").includes("false")) return false;
  if (bucket === undefined) return true;
  return s.resources.includes(s3Arn(bucket)) && s.resources.includes(`${s3Arn(bucket)}/*`);
}

/** Every bucket has a bucket policy that denies requests without TLS. */
export function s3TlsOnly(): Rule {
  return {
    name: "s3-tls-only",
    description: "Every bucket has a bucket policy denying s3:* to everyone when aws:SecureTransport is false.",
    scope: "stack",
    checkResource(r, _ctx, stack) {
      if (isOneOf(BUCKET_POLICY_TYPES, r)) {
        const doc = parseDocument(r.props.policy);
        return doc.kind === "invalid" ? [`bucket policy ${doc.reason}`] : [];
      }
      if (!isOneOf(BUCKET_TYPES, r)) return [];
      const name = isUnknown(r.props.bucket) ? undefined : bucketNameOf(r);
      const docs = configuring(BUCKET_POLICY_TYPES, r, stack).map((p) => parseDocument(p.props.policy));
      if (docs.some((d) => d.kind === "unknown")) return [];
      const ok = docs.some((d) => d.kind === "ok" && d.statements.some((s) => deniesInsecureTransport(s, name)));
      return ok
        ? []
        : [`${label(r)} has no bucket policy denying requests without TLS (Deny s3:* to * on the bucket and its objects when aws:SecureTransport is false)`];
    },
  };
}

/** In production every bucket has versioning Enabled. */
export function s3VersioningInProduction(): Rule {
  return {
    name: "s3-versioning-production",
    description: "In production every bucket keeps every object version (aws:s3/bucketVersioning with status Enabled).",
    scope: "stack",
    checkResource(r, ctx, stack) {
      if (ctx.profile !== "production") return [];
      if (isOneOf(BUCKET_TYPES, r)) {
        return configuring(VERSIONING_TYPES, r, stack).length === 0
          ? [`${label(r)} has no versioning; production buckets keep every object version (aws:s3/bucketVersioning with status Enabled)`]
          : [];
      }
      if (isOneOf(VERSIONING_TYPES, r)) {
        const cfg = r.props.versioningConfiguration;
        if (isUnknown(cfg)) return [];
        const status = typeof cfg === "object" && cfg !== null ? (cfg as Record<string, unknown>).status : undefined;
        if (isUnknown(status) || status === "Enabled") return [];
        return [
          `versioning status is ${status === undefined ? "not set" : `"${String(status)}"`}; production buckets keep every object version (status Enabled)`,
        ];
      }
      return [];
    },
  };
}
