/**
 * Which resources are protected, decided in plain code so it can be unit-tested
 * (the mock runtime does not expose `protect`).
 */
import type { Profile } from "./defaults";

/**
 * Resource types that hold data and that production protects (`protect: true`):
 * the policy pack's protection rule and the plan's "stateful" marker. The
 * data-safety gate does not use this list: it denies by default (see NO_DATA_TYPES).
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

/**
 * The data-safety gate's reviewed list: resource types known to hold no data and no
 * credential, so deleting or replacing one needs no approval. Every other type does
 * (deny by default): a type missing here costs an approval, a type wrongly here
 * loses data. An entry ending in `*` covers every type with that prefix. Left off
 * on purpose: IAM users and groups (they carry access keys and memberships),
 * security groups (a replacement cuts live connections), bucket versioning
 * (deleting it suspends versioning).
 */
export const NO_DATA_TYPES: readonly string[] = [
  // The stack: a container in Pulumi's state, nothing in a cloud.
  "pulumi:pulumi:Stack",
  // Provider configurations: engine records; what a change does to resources shows as those resources' own steps.
  "pulumi:providers:*",
  // This project's components (Environment, Database, Bucket...): groupings with no cloud state.
  "mina:*",
  // A managed IAM policy: a document, recreated from code.
  "aws:iam/policy:Policy",
  // An inline group policy: a document, recreated from code.
  "aws:iam/groupPolicy:GroupPolicy",
  // A policy attached to a group: a link, recreated from code.
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  // A policy attached to a role: a link, recreated from code.
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  // A user's group memberships: links, recreated from code.
  "aws:iam/userGroupMembership:UserGroupMembership",
  // An inline user policy (the app user reads its env secret): a document, recreated from code.
  "aws:iam/userPolicy:UserPolicy",
  // A secret's resource policy: a document, recreated from code (the secret itself is not on this list).
  "aws:secretsmanager/secretPolicy:SecretPolicy",
  // A version of the app's env secret: the env file's text, derived from the other resources' outputs.
  // It generates no credential: a credential inside it changes only when its own resource (a random
  // password, an access key) is replaced, and the gate asks for that one. Every config change (a log
  // level, a feature flag) makes a new version; holding each for approval would make the approval routine.
  "aws:secretsmanager/secretVersion:SecretVersion",
  // A DNS record: recreated from code (the hosted zone is what holds records of others).
  "aws:route53/record:Record",
  // Security group rules: firewall entries, recreated from code.
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  // An ingress rule of a security group: a firewall entry.
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  // An egress rule of a security group: a firewall entry.
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  // A bucket's public access block: a setting, no objects.
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  // A bucket's ownership controls: a setting, no objects.
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  // A bucket's default encryption: applies to new objects; stored objects keep theirs.
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  // A bucket's lifecycle rules: removing them expires nothing.
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  // A bucket's access policy: a document, recreated from code.
  "aws:s3/bucketPolicy:BucketPolicy",
  // RDS parameter group: server settings, recreated from code.
  "aws:rds/parameterGroup:ParameterGroup",
  // RDS subnet group: which subnets an instance may use.
  "aws:rds/subnetGroup:SubnetGroup",
  // A PostgreSQL grant: privileges, granted again from code; no rows, no password.
  "postgresql:index/grant:Grant",
  // A PostgreSQL role membership (the admin's of the app role): a link, granted again from code; no rows, no password.
  "postgresql:index/grantRole:GrantRole",
];

/**
 * Types whose deletion or replacement issues a new secret or removes one: the app's
 * SECRET_KEY, a database password, the S3 access key. The gate calls these "rotates a
 * credential" and asks for approval (the running app breaks, or runs on the old
 * values, until it gets the new ones).
 */
export const CREDENTIAL_TYPES: readonly string[] = [
  "random:index/randomPassword:RandomPassword",
  "random:index/randomBytes:RandomBytes",
  "random:index/randomString:RandomString",
  "random:index/randomId:RandomId",
  "aws:iam/accessKey:AccessKey",
];

/** Why a credential type whose inputs change needs approval, in the plan diff's words. */
export function credentialChangeReason(type: string): string {
  return type === "aws:secretsmanager/secretVersion:SecretVersion"
    ? "the env changes: a new version of the app's env secret, which the app loads when it restarts"
    : "inputs changed: the secret is generated anew";
}

/**
 * Inputs whose update sets a new password on a resource that keeps its data: also
 * "rotates a credential". Upstash's RedisDatabase has none (its password is an
 * output only, with no reset input in the provider's schema).
 */
export const CREDENTIAL_INPUTS: Readonly<Record<string, readonly string[]>> = {
  "aws:rds/instance:Instance": ["password", "passwordWo", "passwordWoVersion", "manageMasterUserPassword"],
  "aws:rds/cluster:Cluster": ["masterPassword", "masterPasswordWo", "masterPasswordWoVersion", "manageMasterUserPassword"],
  "postgresql:index/role:Role": ["password", "passwordWo", "passwordWoVersion"],
};

/**
 * Why a change needs approval: it loses data now (delete, replace) or over time (an
 * expiry, fewer backups, a guard against loss removed: config/retention.ts), issues a
 * new credential, changes what a deploy runs or where its data comes from (a config
 * key the workflows and commands act on), or (offline) its provider changed.
 */
export type ApprovalKind = "delete" | "replace" | "loses data over time" | "rotates a credential" | "changes what a deploy runs" | "may be replaced";

/** The order approvals are listed in, the most destructive first (the gate and the plan diff both list them so). */
export const APPROVAL_KIND_RANK: Readonly<Record<ApprovalKind, number>> = {
  delete: 0,
  replace: 1,
  "loses data over time": 2,
  "changes what a deploy runs": 3,
  "rotates a credential": 4,
  "may be replaced": 5,
};

/** Whether `type` is on the reviewed list of types that hold no data and no credential. */
export function holdsNoData(type: string): boolean {
  return NO_DATA_TYPES.some((t) => (t.endsWith("*") ? type.startsWith(t.slice(0, -1)) : type === t));
}

/** The approval a deletion or replacement of `type` needs; undefined when it is on the reviewed list. */
export function approvalKindOf(type: string, op: "delete" | "replace"): ApprovalKind | undefined {
  if (CREDENTIAL_TYPES.includes(type)) return "rotates a credential";
  return holdsNoData(type) ? undefined : op;
}

/** The inputs among `changed` (property names or paths like `password` or `tags.Name`) that set a password of `type`. */
export function credentialInputsChanged(type: string, changed: readonly string[]): string[] {
  const fields = CREDENTIAL_INPUTS[type] ?? [];
  const top = new Set(changed.map((p) => p.split(/[.[]/)[0]));
  return fields.filter((f) => top.has(f));
}

export interface Protection {
  /** Pulumi `protect`: the engine refuses to delete the resource. */
  readonly protect: boolean;
  /** Provider-side deletion protection (RDS `deletionProtection`). */
  readonly deletionProtection: boolean;
  /** Take a final snapshot before deletion (RDS). */
  readonly finalSnapshot: boolean;
  /** Keep every object version (S3). */
  readonly versioning: boolean;
  /**
   * Let `pulumi destroy` delete the bucket with the objects in it (S3 `forceDestroy`).
   * Only a review environment's: elsewhere a bucket that still holds audio is not deleted.
   */
  readonly forceDestroy: boolean;
  /**
   * Days a deleted Secrets Manager secret (the app's env) can still be restored, and its
   * name stays taken: production keeps AWS's default 30, staging the shortest window, 7;
   * a review environment's is deleted at once (0), so its name is free for the next one.
   */
  readonly secretRecoveryDays: number;
}

/**
 * Production's stateful resources are protected in every way; other profiles stay
 * cheap to tear down. A review environment is thrown away with its pull request, so
 * its bucket is emptied on destroy; no other profile's ever is.
 */
export function protectionFor(profile: Profile): Protection {
  const production = profile === "production";
  return {
    protect: production,
    deletionProtection: production,
    finalSnapshot: production,
    versioning: production,
    forceDestroy: profile === "review",
    secretRecoveryDays: production ? 30 : profile === "review" ? 0 : 7,
  };
}
