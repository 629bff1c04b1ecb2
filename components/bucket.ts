import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { appBoundaryArn, type Names } from "../config/naming";
import type { Protection } from "../config/protection";
import { replacementOptions } from "../config/replacement";

export interface BucketArgs {
  readonly names: Names;
  readonly protection: Protection;
  readonly region: string;
  /** Days after which objects expire (staging); undefined keeps them. */
  readonly expireDays?: number;
  readonly awsProvider: aws.Provider;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly {
    readonly Sid: string;
    readonly Effect: "Allow" | "Deny";
    readonly Principal?: unknown;
    readonly Action: string | readonly string[];
    readonly Resource: string | readonly string[];
    readonly Condition?: unknown;
  }[];
}

export function bucketArn(bucket: string): string {
  return `arn:aws:s3:::${bucket}`;
}

/** Bucket policy: refuse every request that does not use TLS. */
export function buildTlsOnlyPolicy(bucket: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn(bucket), `${bucketArn(bucket)}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** The app's IAM policy: list this bucket, read and write its objects; nothing else. */
export function buildBucketAccessPolicy(bucket: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ListOwnBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: bucketArn(bucket) },
      {
        Sid: "ReadWriteOwnObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
        Resource: `${bucketArn(bucket)}/*`,
      },
    ],
  };
}

/** Lifecycle rules: always clean up abandoned uploads; expire objects only where asked (staging). */
export function buildLifecycleRules(expireDays: number | undefined) {
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    { id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
  ];
  if (expireDays !== undefined) {
    rules.push({ id: `expire-after-${expireDays}-days`, status: "Enabled", filter: {}, expiration: { days: expireDays } });
  }
  return rules;
}

/**
 * The audio bucket of one environment, private, encrypted and TLS-only, and an IAM
 * user whose access key can reach only this bucket (through a group: policies
 * attach to groups, not users).
 */
export class Bucket extends pulumi.ComponentResource {
  readonly bucketName: string;
  readonly region: string;
  /** `AWS_ACCESS_KEY_ID`, secret. */
  readonly accessKeyId: pulumi.Output<string>;
  /** `AWS_SECRET_ACCESS_KEY`, secret. */
  readonly secretAccessKey: pulumi.Output<string>;
  /** The app's IAM user: its name and ARN (it also reads the app env secret). */
  readonly appUser: { readonly name: pulumi.Output<string>; readonly arn: pulumi.Output<string> };

  constructor(name: string, args: BucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Bucket", name, {}, opts);
    const child: ChildOptions = { parent: this, provider: args.awsProvider };
    const bucketName = args.names.bucket;
    const bucket = createStorageBucket(name, args, child);
    const guards = blockPublicAccess(name, bucket, child);
    configureStorage(name, bucket, args, child);
    requireTls(name, bucket, bucketName, guards, child);
    const { user, key } = createAppUser(name, args, child);

    this.bucketName = bucketName;
    this.region = args.region;
    this.appUser = { name: user.name, arn: user.arn };
    this.accessKeyId = pulumi.secret(key.id);
    this.secretAccessKey = pulumi.secret(key.secret);
    this.registerOutputs({ bucketName, region: this.region, accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }
}

/** Options of the resources a Bucket component declares: its children, through the stack's own AWS provider. */
interface ChildOptions {
  readonly parent: pulumi.Resource;
  readonly provider: aws.Provider;
}

/** The bucket itself, named for the environment; whether it is protected or emptied on destroy comes from the protection. */
function createStorageBucket(name: string, args: BucketArgs, child: ChildOptions): aws.s3.Bucket {
  const { names, protection } = args;
  return new aws.s3.Bucket(
    `${name}-bucket`,
    {
      bucket: names.bucket,
      // Decided in protectionFor: only a review environment's bucket is emptied on destroy.
      forceDestroy: protection.forceDestroy,
      tags: { ...names.tags },
    },
    { ...child, protect: protection.protect },
  );
}

/** Objects owned by the bucket owner (no ACLs) and every kind of public access blocked; returned so the bucket policy waits for them. */
function blockPublicAccess(name: string, bucket: aws.s3.Bucket, child: ChildOptions): pulumi.Resource[] {
  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    },
    child,
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child,
  );
  return [publicAccess, ownership];
}

/** Encryption at rest, versioning where the protection asks for it, and the lifecycle rules. */
function configureStorage(name: string, bucket: aws.s3.Bucket, args: BucketArgs, child: ChildOptions): void {
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    },
    child,
  );
  if (args.protection.versioning) {
    new aws.s3.BucketVersioning(
      `${name}-versioning`,
      {
        bucket: bucket.id,
        versioningConfiguration: { status: "Enabled" },
      },
      child,
    );
  }
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: buildLifecycleRules(args.expireDays),
    },
    child,
  );
}

/** The TLS-only bucket policy, applied once the public-access guards are in place. */
function requireTls(name: string, bucket: aws.s3.Bucket, bucketName: string, guards: pulumi.Resource[], child: ChildOptions): void {
  new aws.s3.BucketPolicy(
    `${name}-tls-only`,
    {
      bucket: bucket.id,
      policy: JSON.stringify(buildTlsOnlyPolicy(bucketName)),
    },
    { ...child, dependsOn: guards },
  );
}

/** The app's IAM user and access key: a member of a group whose policy reaches only this bucket. */
function createAppUser(name: string, args: BucketArgs, child: ChildOptions): { user: aws.iam.User; key: aws.iam.AccessKey } {
  const { names } = args;
  // Fixed names: what a replacement of each does is decided in config/replacement.ts.
  const group = new aws.iam.Group(`${name}-group`, { name: names.bucketGroup, path: names.iamPath }, child);
  new aws.iam.GroupPolicy(
    `${name}-group-policy`,
    {
      name: names.bucketPolicy,
      group: group.name,
      policy: JSON.stringify(buildBucketAccessPolicy(names.bucket)),
    },
    { ...child, ...replacementOptions("aws:iam/groupPolicy:GroupPolicy") },
  );
  // The boundary caps whatever a policy grants the user (bootstrap creates it; the deploy role may create users only with it).
  const account = aws.getCallerIdentityOutput({}, { provider: args.awsProvider, parent: child.parent }).accountId;
  const user = new aws.iam.User(
    `${name}-user`,
    {
      name: names.bucketUser,
      path: names.iamPath,
      permissionsBoundary: account.apply((id) => appBoundaryArn(names, id)),
      tags: { ...names.tags },
    },
    {
      ...child,
      ...replacementOptions("aws:iam/user:User"),
    },
  );
  new aws.iam.UserGroupMembership(
    `${name}-membership`,
    { user: user.name, groups: [group.name] },
    {
      ...child,
      ...replacementOptions("aws:iam/userGroupMembership:UserGroupMembership"),
    },
  );
  const key = new aws.iam.AccessKey(`${name}-key`, { user: user.name }, child);
  return { user, key };
}
