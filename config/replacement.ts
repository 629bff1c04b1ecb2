/**
 * What a replacement of each resource type does, decided in plain code so it can be
 * unit-tested (the mock runtime's `newResource` does not see resource options; the
 * program test reads `deleteBeforeReplace` from the registration requests instead).
 *
 * Pulumi replaces a resource create-first: the new one is created, then the old one
 * deleted. A resource with a fixed physical name cannot be created while the old one
 * still holds the name, so such a replacement fails ("already exists") before anything
 * is deleted. That failure is what we want for a resource that holds data; for the
 * others the decision below makes a replacement work.
 */

/**
 * - `delete-first`: `deleteBeforeReplace`. Holds no data; keyed by a fixed name (or by the
 *   resource it belongs to), and nothing else must release it before it can be deleted.
 * - `name-prefix`: created first under a name Pulumi completes from a derived prefix
 *   (`namePrefix`), so the old one can be released by the resource that uses it, then deleted.
 * - `create-first`: the engine's default, kept: a replacement either always brings a new
 *   key (its name is its only replacing input), or has no name to collide on, or a
 *   collision is the safe outcome.
 * - `migration`: holds data. Created first on purpose: under the same name the
 *   replacement fails before the old one is deleted. Replacing it needs a new name and a
 *   data migration, and the data-safety gate says so.
 */
export type ReplacementKind = "delete-first" | "name-prefix" | "create-first" | "migration";

export interface ReplacementDecision {
  readonly kind: ReplacementKind;
  /**
   * Inputs (as Pulumi names them) whose change makes the provider replace the resource
   * (ForceNew in its schema); `*` is every input. Read from the providers' sources; see
   * `unverified` for what was not.
   */
  readonly replacingInputs: readonly string[];
  /** The input that holds the resource's physical name, when it has one. */
  readonly nameInput?: string;
  /** Why this kind, in one sentence. */
  readonly why: string;
  /** What of `replacingInputs` is from memory or an older provider version rather than the provider this project pins. */
  readonly unverified?: string;
  /** False for a type nobody reviewed: the engine's default then applies. */
  readonly reviewed: boolean;
}

type Entry = Omit<ReplacementDecision, "reviewed">;

/**
 * The reviewed table: every custom resource type the program declares. A type missing
 * here fails the program test ("every declared type has a replacement decision").
 */
export const REPLACEMENTS: Readonly<Record<string, Entry>> = {
  // ---- data
  "aws:rds/instance:Instance": {
    kind: "migration",
    replacingInputs: [
      "identifier",
      "identifierPrefix",
      "engine",
      "dbName",
      "username",
      "storageEncrypted",
      "kmsKeyId",
      "availabilityZone",
      "characterSetName",
      "ncharCharacterSetName",
      "timezone",
      "snapshotIdentifier",
      "restoreToPointInTime",
      "customIamInstanceProfile",
    ],
    nameInput: "identifier",
    why: "holds the environment's database: a replacement under the same identifier must fail before the old instance is deleted",
    unverified: "the list is from an older upstream schema; newer provider versions may add replacing inputs (the engine's preview names them)",
  },
  "aws:s3/bucket:Bucket": {
    kind: "migration",
    replacingInputs: ["bucket", "bucketPrefix", "objectLockEnabled"],
    nameInput: "bucket",
    why: "holds the audio: a replacement must not empty it",
    unverified: "from memory of the upstream schema",
  },
  "upstash:index/redisDatabase:RedisDatabase": {
    kind: "migration",
    replacingInputs: ["databaseName", "region", "primaryRegion", "consistent"],
    nameInput: "databaseName",
    why: "holds the cache and its password: a replacement starts empty with a new REDIS_URL",
    unverified: "primaryRegion is assumed replacing; the upstream source read here predates it (and tls true to false is refused, not replaced)",
  },
  "postgresql:index/database:Database": {
    kind: "migration",
    replacingInputs: ["template", "encoding", "lcCollate", "lcCtype"],
    nameInput: "name",
    why: "holds the environment's tables (server mode); its name is renamed in place (ALTER DATABASE ... RENAME)",
  },
  "postgresql:index/role:Role": {
    kind: "migration",
    replacingInputs: [],
    nameInput: "name",
    why: "owns the database and carries the app's password (server mode); renamed in place",
    unverified: "no replacing input is assumed (ALTER ROLE covers every input we set); not read from the provider's source",
  },
  "sentry:index/sentryProject:SentryProject": {
    kind: "migration",
    replacingInputs: ["organization"],
    nameInput: "slug",
    why: "holds the environment's issues and events",
    unverified: "not read from the provider's source",
  },
  // ---- the app's env, delivered
  "aws:secretsmanager/secret:Secret": {
    kind: "create-first",
    replacingInputs: ["name", "namePrefix"],
    nameInput: "name",
    why: "its name is its only replacing input, so a replacement always brings a new name; a deleted secret's name stays reserved for its recovery window, so delete-first could not reuse it anyway",
  },
  "aws:secretsmanager/secretVersion:SecretVersion": {
    kind: "create-first",
    replacingInputs: ["secretId", "secretString", "secretBinary", "secretStringWoVersion"],
    why: "every new env is a new version: created first, it takes the AWSCURRENT label from the old one, whose deletion only removes its other labels",
  },
  "aws:secretsmanager/secretPolicy:SecretPolicy": {
    kind: "delete-first",
    replacingInputs: ["secretArn"],
    why: "one policy per secret: created first on the same secret, the new document would be written and then deleted with the old one",
  },
  // ---- network and database settings
  "aws:ec2/securityGroup:SecurityGroup": {
    kind: "name-prefix",
    replacingInputs: ["name", "namePrefix", "description", "vpcId"],
    nameInput: "namePrefix",
    why: "a new description or VPC replaces it under the same name; deleted first it would fail while the instance still uses it, so the new one is made under a new name, the instance moved to it, then the old one deleted",
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    kind: "name-prefix",
    replacingInputs: ["name", "namePrefix", "family", "description"],
    nameInput: "namePrefix",
    why: "a new family or description replaces it under the same name; deleted first it would fail while the instance still uses it, so the new one is made under a new name, the instance switched to it, then the old one deleted",
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    kind: "create-first",
    replacingInputs: ["name", "namePrefix"],
    nameInput: "name",
    why: "its name is its only replacing input (subnets and description update in place), so a replacement always brings a new name; deleted first it would fail while the instance uses it",
  },
  // ---- the app's IAM identity
  "aws:iam/user:User": {
    kind: "delete-first",
    replacingInputs: [],
    nameInput: "name",
    why: "no input replaces it (renamed in place); a forced replacement can only work delete-first: the provider removes its group memberships, and its key, inline policy and membership are replaced with it (the new key is a rotated credential the gate names)",
  },
  "aws:iam/group:Group": {
    kind: "create-first",
    replacingInputs: [],
    nameInput: "name",
    why: "no input replaces it (renamed in place); deleted first it would fail while the user is a member, after its policy was already deleted, cutting the app's access; created first a forced replacement fails on the name before anything is deleted",
  },
  "aws:iam/groupPolicy:GroupPolicy": {
    kind: "delete-first",
    replacingInputs: ["group", "name", "namePrefix"],
    nameInput: "name",
    why: "an inline policy is keyed by its group and name: created first under the same key, the new document would be written and then deleted with the old one",
  },
  "aws:iam/userPolicy:UserPolicy": {
    kind: "delete-first",
    replacingInputs: ["user", "name", "namePrefix"],
    nameInput: "name",
    why: "an inline policy is keyed by its user and name: created first under the same key, the new document would be written and then deleted with the old one",
  },
  "aws:iam/userGroupMembership:UserGroupMembership": {
    kind: "delete-first",
    replacingInputs: ["user"],
    why: "created first for the same user, the new memberships would be added and then removed with the old ones",
  },
  "aws:iam/accessKey:AccessKey": {
    kind: "create-first",
    replacingInputs: ["user", "pgpKey"],
    why: "IAM allows a user two keys: the new key exists before the old one is deleted (a replacement is a rotation the gate names)",
  },
  // ---- the bucket's settings, each keyed by the bucket
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    kind: "create-first",
    replacingInputs: ["bucket"],
    why: "its only replacing input is the bucket it configures, so a replacement configures another bucket; deleted first, a bucket kept because it is not empty would lose its setting",
  },
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    kind: "create-first",
    replacingInputs: ["bucket"],
    why: "its only replacing input is the bucket it configures; deleted first, a bucket kept because it is not empty would be left without its public access block",
  },
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    kind: "create-first",
    replacingInputs: ["bucket", "expectedBucketOwner"],
    why: "its replacing inputs name the bucket it configures, so a replacement configures another bucket",
  },
  "aws:s3/bucketVersioning:BucketVersioning": {
    kind: "create-first",
    replacingInputs: ["bucket", "expectedBucketOwner"],
    why: "its replacing inputs name the bucket it configures; deleted first, a kept bucket's versioning would be suspended",
  },
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    kind: "create-first",
    replacingInputs: ["bucket", "expectedBucketOwner"],
    why: "its replacing inputs name the bucket it configures, so a replacement configures another bucket",
  },
  "aws:s3/bucketPolicy:BucketPolicy": {
    kind: "create-first",
    replacingInputs: ["bucket"],
    why: "its only replacing input is the bucket it protects; deleted first, a kept bucket would lose its TLS-only policy",
  },
  // ---- DNS
  "aws:route53/record:Record": {
    kind: "create-first",
    replacingInputs: ["zoneId", "name", "type", "setIdentifier"],
    nameInput: "name",
    why: "a record of the same name and type cannot be created twice, so a replacement under the same name and type fails before the old one is deleted; a switch between A and CNAME at one name fails too (delete-first would work, with a moment without the record)",
    unverified: "from memory of the upstream schema",
  },
  // ---- generated secrets and keys: no physical name
  "random:index/randomPassword:RandomPassword": {
    kind: "create-first",
    replacingInputs: ["*"],
    why: "no physical name to collide on; a replacement is a new password the gate names as a rotated credential",
  },
  "random:index/randomBytes:RandomBytes": {
    kind: "create-first",
    replacingInputs: ["*"],
    why: "no physical name to collide on; a replacement is a new secret the gate names as a rotated credential",
  },
  "postgresql:index/grant:Grant": {
    kind: "create-first",
    replacingInputs: ["*"],
    why: "the only grant declared here revokes CONNECT from PUBLIC, which a create-first replacement states again before the old one is removed",
    unverified:
      "every input is assumed replacing; the grants of the privileges work need their own decision (a create-first replacement of a grant to the same role revokes what it just granted)",
  },
  "postgresql:index/grantRole:GrantRole": {
    kind: "delete-first",
    replacingInputs: ["role", "grantRole", "withAdminOption"],
    why: "created first, the new membership would be the same GRANT as the old one, and deleting the old one would then revoke it: the admin would lose the app role's rights; deleted first, it is revoked and granted again",
    unverified: "every input ForceNew, from the provider's resource_postgresql_grant_role.go as of its 1.x releases",
  },
  "sentry:index/sentryKey:SentryKey": {
    kind: "create-first",
    replacingInputs: ["organization", "project"],
    why: "keys are not unique by name: the new key and DSN exist before the old ones are deleted",
    unverified: "not read from the provider's source",
  },
};

/** The decision for `type`; a type not in the table gets the engine's default, marked unreviewed. */
export function replacementFor(type: string): ReplacementDecision {
  const entry = REPLACEMENTS[type];
  if (entry) return { ...entry, reviewed: true };
  return { kind: "create-first", replacingInputs: [], why: "not reviewed: the engine's default (create first) applies", reviewed: false };
}

/** The resource options a component passes for `type`: `deleteBeforeReplace` for a `delete-first` type, nothing otherwise. */
export function replacementOptions(type: string): { deleteBeforeReplace?: true } {
  return replacementFor(type).kind === "delete-first" ? { deleteBeforeReplace: true } : {};
}

/** Whether one of `changed` (input names or paths) replaces a resource of `type`. */
export function replacesResource(type: string, changed: readonly string[]): boolean {
  const inputs = replacementFor(type).replacingInputs;
  return changed.some((c) => inputs.includes("*") || inputs.includes(c.split(/[.[]/)[0]));
}

/**
 * What the data-safety gate and the plan diff add to a replacement of `type`, in one
 * clause; undefined unless it holds data. `reasons` are the inputs that cause it (the
 * engine's replace reasons), when known; `renamed` says the plan gives it a new name.
 */
export function replacementNote(type: string, opts: { reasons?: readonly string[]; renamed?: boolean } = {}): string | undefined {
  const d = replacementFor(type);
  if (d.kind !== "migration") return undefined;
  const renamed = opts.renamed ?? (d.nameInput !== undefined && (opts.reasons ?? []).some((r) => r.split(/[.[]/)[0] === d.nameInput));
  if (renamed) return "the new one starts empty and the old one is deleted with its data: migrate the data first";
  return "it holds data and keeps its name, so the replacement fails (already exists) before the old one is deleted: replacing it needs a new name and a data migration";
}
