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
    const { names, protection } = args;
    const child = { parent: this, provider: args.awsProvider };
    const bucketName = names.bucket;
    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      {
        bucket: bucketName,
        // Decided in protectionFor: only a review environment's bucket is emptied on destroy.
        forceDestroy: protection.forceDestroy,
        tags: { ...names.tags },
      },
      { ...child, protect: protection.protect },
    );
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
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
      },
      child,
    );
    if (protection.versioning) {
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
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucket.id,
        policy: JSON.stringify(buildTlsOnlyPolicy(bucketName)),
      },
      { ...child, dependsOn: [publicAccess, ownership] },
    );

    // Fixed names: what a replacement of each does is decided in config/replacement.ts.
    const group = new aws.iam.Group(`${name}-group`, { name: names.bucketGroup, path: names.iamPath }, child);
    new aws.iam.GroupPolicy(
      `${name}-group-policy`,
      {
        name: names.bucketPolicy,
        group: group.name,
        policy: JSON.stringify(buildBucketAccessPolicy(bucketName)),
      },
      { ...child, ...replacementOptions("aws:iam/groupPolicy:GroupPolicy") },
    );
    // The boundary caps whatever a policy grants the user (bootstrap creates it; the deploy role may create users only with it).
    const account = aws.getCallerIdentityOutput({}, { provider: args.awsProvider, parent: this }).accountId;
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

    this.bucketName = bucketName;
    this.region = args.region;
    this.appUser = { name: user.name, arn: user.arn };
    this.accessKeyId = pulumi.secret(key.id);
    this.secretAccessKey = pulumi.secret(key.secret);
    this.registerOutputs({ bucketName, region: this.region, accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey });
  }
}
