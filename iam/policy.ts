/**
 * The deploy role of one stack, as code: its least-privilege permissions policy,
 * its trust policy (GitHub's OIDC provider, the subject pinned to the stack's
 * GitHub environment), and the permissions boundary every IAM user the stack
 * creates must carry.
 *
 * The permissions come from a reviewed table, `DEPLOY_ACTIONS`: for each resource
 * type the program declares, the actions Pulumi's AWS provider calls to create,
 * read, update and delete it, on that stack's own resources only (its derived
 * names, its `/mina/<environment>/` IAM path, its tags, its record names in its
 * zone). A type the program declares without an entry is refused (deny by
 * default), and `WORKFLOW_ACTIONS` adds what the deploy jobs run besides Pulumi
 * (the snapshot, the account check). The role may create IAM users only under the
 * environment's path and only with the boundary attached, and may never change
 * the boundary itself, so it cannot mint an administrator.
 */
import { appBoundaryArn } from "../config/naming";
import type { StackConfig } from "../config/stackConfig";

export type Statement = {
  readonly Sid: string;
  readonly Effect: "Allow" | "Deny";
  readonly Action: readonly string[];
  /** Absent in a trust policy, which names a principal instead. */
  readonly Resource?: readonly string[] | string;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
  readonly Principal?: unknown;
};

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Statement[];
}

/** Where a stack's resources are, for the ARNs of its statements. */
export interface DeployScope {
  readonly environment: string;
  readonly account: string;
  readonly region: string;
  readonly names: StackConfig["names"];
  readonly zoneId: string;
  readonly shareDomain: string;
  /** `owner/repo` of the repository whose workflows assume the role. */
  readonly repository: string;
  /** The GitHub environment the deploy job runs in (the stack's name). */
  readonly githubEnvironment: string;
}

/** The permissions boundary's ARN in the scope's account: created once in bootstrap, never by a stack (its name and path: config/naming.ts). */
const boundaryArn = (s: DeployScope): string => appBoundaryArn(s.names, s.account);

/** GitHub's OIDC identity provider, one per account. */
export const GITHUB_OIDC_HOST = "token.actions.githubusercontent.com";

type Entry = (s: DeployScope) => Statement[];

const arn = {
  bucket: (s: DeployScope) => `arn:aws:s3:::${s.names.bucket}`,
  iamUser: (s: DeployScope) => `arn:aws:iam::${s.account}:user${s.names.iamPath}*`,
  iamGroup: (s: DeployScope) => `arn:aws:iam::${s.account}:group${s.names.iamPath}*`,
  rds: (s: DeployScope, kind: string, name: string) => `arn:aws:rds:${s.region}:${s.account}:${kind}:${name}`,
  zone: (s: DeployScope) => `arn:aws:route53:::hostedzone/${s.zoneId}`,
  secret: (s: DeployScope) => `arn:aws:secretsmanager:${s.region}:${s.account}:secret:mina/${s.environment}/*`,
};

/** Only resources tagged with the stack's environment (EC2 and RDS describe calls cannot be scoped by name). */
const taggedAsMine = (s: DeployScope) => ({ StringEquals: { "aws:ResourceTag/environment": s.environment } });
const taggingAsMine = (s: DeployScope) => ({ StringEquals: { "aws:RequestTag/environment": s.environment } });
const withBoundary = (s: DeployScope) => ({ StringEquals: { "iam:PermissionsBoundary": boundaryArn(s) } });

const S3_BUCKET_CONFIG = [
  "s3:CreateBucket",
  "s3:DeleteBucket",
  "s3:ListBucket",
  "s3:ListBucketVersions",
  "s3:GetBucketLocation",
  "s3:GetBucketTagging",
  "s3:PutBucketTagging",
  "s3:GetBucketAcl",
  "s3:GetBucketCORS",
  "s3:GetBucketWebsite",
  "s3:GetBucketLogging",
  "s3:GetBucketRequestPayment",
  "s3:GetAccelerateConfiguration",
  "s3:GetReplicationConfiguration",
  "s3:GetBucketObjectLockConfiguration",
  "s3:GetBucketPolicy",
  "s3:PutBucketPolicy",
  "s3:DeleteBucketPolicy",
  "s3:GetBucketVersioning",
  "s3:PutBucketVersioning",
  "s3:GetLifecycleConfiguration",
  "s3:PutLifecycleConfiguration",
  "s3:GetBucketOwnershipControls",
  "s3:PutBucketOwnershipControls",
  "s3:GetBucketPublicAccessBlock",
  "s3:PutBucketPublicAccessBlock",
  "s3:GetEncryptionConfiguration",
  "s3:PutEncryptionConfiguration",
];

/**
 * For each AWS resource type the program declares: the actions Pulumi's AWS
 * provider needs for it, on this stack's resources only. Reviewed by hand; a type
 * missing here makes `deployPolicy` refuse.
 */
export const DEPLOY_ACTIONS: Readonly<Record<string, Entry>> = {
  "aws:s3/bucket:Bucket": (s) => [{ Sid: "Bucket", Effect: "Allow", Action: S3_BUCKET_CONFIG, Resource: [arn.bucket(s)] }],
  "aws:s3/bucketPolicy:BucketPolicy": (s) => [
    { Sid: "BucketPolicy", Effect: "Allow", Action: ["s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], Resource: [arn.bucket(s)] },
  ],
  "aws:s3/bucketVersioning:BucketVersioning": (s) => [
    { Sid: "BucketVersioning", Effect: "Allow", Action: ["s3:GetBucketVersioning", "s3:PutBucketVersioning"], Resource: [arn.bucket(s)] },
  ],
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (s) => [
    { Sid: "BucketLifecycle", Effect: "Allow", Action: ["s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration"], Resource: [arn.bucket(s)] },
  ],
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (s) => [
    { Sid: "BucketOwnership", Effect: "Allow", Action: ["s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"], Resource: [arn.bucket(s)] },
  ],
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (s) => [
    { Sid: "BucketPublicAccessBlock", Effect: "Allow", Action: ["s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"], Resource: [arn.bucket(s)] },
  ],
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (s) => [
    { Sid: "BucketEncryption", Effect: "Allow", Action: ["s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"], Resource: [arn.bucket(s)] },
  ],
  "aws:iam/user:User": (s) => [
    {
      Sid: "UserCreateWithBoundary",
      Effect: "Allow",
      Action: ["iam:CreateUser", "iam:PutUserPermissionsBoundary"],
      Resource: [arn.iamUser(s)],
      Condition: withBoundary(s),
    },
    {
      Sid: "User",
      Effect: "Allow",
      Action: [
        "iam:GetUser",
        "iam:UpdateUser",
        "iam:DeleteUser",
        "iam:TagUser",
        "iam:UntagUser",
        "iam:ListUserTags",
        "iam:ListGroupsForUser",
        "iam:ListAttachedUserPolicies",
        "iam:ListUserPolicies",
        "iam:ListMFADevices",
        "iam:ListSigningCertificates",
        "iam:ListSSHPublicKeys",
        "iam:ListServiceSpecificCredentials",
        "iam:DeleteLoginProfile",
        "iam:GetLoginProfile",
      ],
      Resource: [arn.iamUser(s)],
    },
  ],
  // Inline policies on the environment's own users only (capped by the boundary they all carry).
  "aws:iam/userPolicy:UserPolicy": (s) => [
    {
      Sid: "UserPolicy",
      Effect: "Allow",
      Action: ["iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy", "iam:ListUserPolicies"],
      Resource: [arn.iamUser(s)],
    },
  ],
  "aws:iam/accessKey:AccessKey": (s) => [
    {
      Sid: "AccessKey",
      Effect: "Allow",
      Action: ["iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey", "iam:GetAccessKeyLastUsed"],
      Resource: [arn.iamUser(s)],
    },
  ],
  "aws:iam/group:Group": (s) => [
    {
      Sid: "Group",
      Effect: "Allow",
      Action: ["iam:CreateGroup", "iam:GetGroup", "iam:UpdateGroup", "iam:DeleteGroup", "iam:ListAttachedGroupPolicies", "iam:ListGroupPolicies"],
      Resource: [arn.iamGroup(s)],
    },
  ],
  "aws:iam/groupPolicy:GroupPolicy": (s) => [
    {
      Sid: "GroupPolicy",
      Effect: "Allow",
      Action: ["iam:PutGroupPolicy", "iam:GetGroupPolicy", "iam:DeleteGroupPolicy", "iam:ListGroupPolicies"],
      Resource: [arn.iamGroup(s)],
    },
  ],
  "aws:iam/userGroupMembership:UserGroupMembership": (s) => [
    { Sid: "GroupMembership", Effect: "Allow", Action: ["iam:AddUserToGroup", "iam:RemoveUserFromGroup"], Resource: [arn.iamGroup(s)] },
    { Sid: "GroupMembershipRead", Effect: "Allow", Action: ["iam:ListGroupsForUser"], Resource: [arn.iamUser(s)] },
  ],
  "aws:ec2/securityGroup:SecurityGroup": (s) => [
    {
      Sid: "SecurityGroupCreate",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
      Resource: [`arn:aws:ec2:${s.region}:${s.account}:security-group/*`],
      Condition: taggingAsMine(s),
    },
    { Sid: "SecurityGroupInVpc", Effect: "Allow", Action: ["ec2:CreateSecurityGroup"], Resource: [`arn:aws:ec2:${s.region}:${s.account}:vpc/*`] },
    {
      Sid: "SecurityGroup",
      Effect: "Allow",
      Action: [
        "ec2:DeleteSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:CreateTags",
        "ec2:DeleteTags",
      ],
      Resource: [`arn:aws:ec2:${s.region}:${s.account}:security-group/*`],
      Condition: taggedAsMine(s),
    },
    {
      Sid: "Ec2Describe",
      Effect: "Allow",
      Action: ["ec2:DescribeSecurityGroups", "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeNetworkInterfaces"],
      Resource: "*",
    },
  ],
  "aws:rds/subnetGroup:SubnetGroup": (s) => [
    {
      Sid: "DbSubnetGroup",
      Effect: "Allow",
      Action: [
        "rds:CreateDBSubnetGroup",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
        "rds:DescribeDBSubnetGroups",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
        "rds:ListTagsForResource",
      ],
      Resource: [arn.rds(s, "subgrp", `${s.names.dbSubnetGroup}*`)],
    },
  ],
  "aws:rds/parameterGroup:ParameterGroup": (s) => [
    {
      Sid: "DbParameterGroup",
      Effect: "Allow",
      Action: [
        "rds:CreateDBParameterGroup",
        "rds:ModifyDBParameterGroup",
        "rds:DeleteDBParameterGroup",
        "rds:DescribeDBParameterGroups",
        "rds:DescribeDBParameters",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
        "rds:ListTagsForResource",
      ],
      Resource: [arn.rds(s, "pg", `${s.names.dbParameterGroup}*`)],
    },
  ],
  "aws:rds/instance:Instance": (s) => [
    {
      Sid: "DbInstance",
      Effect: "Allow",
      Action: [
        "rds:CreateDBInstance",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:RebootDBInstance",
        "rds:DescribeDBInstances",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
        "rds:ListTagsForResource",
      ],
      Resource: [arn.rds(s, "db", s.names.rdsIdentifier)],
    },
    // CreateDBInstance also names the instance's subnet group, parameter group and (final) snapshot.
    {
      Sid: "DbInstanceParts",
      Effect: "Allow",
      Action: ["rds:CreateDBInstance", "rds:ModifyDBInstance"],
      Resource: [arn.rds(s, "subgrp", `${s.names.dbSubnetGroup}*`), arn.rds(s, "pg", `${s.names.dbParameterGroup}*`)],
    },
    // Deleting a protected instance takes its final snapshot.
    {
      Sid: "DbFinalSnapshot",
      Effect: "Allow",
      Action: ["rds:CreateDBSnapshot", "rds:AddTagsToResource"],
      Resource: [arn.rds(s, "snapshot", `${s.names.dbFinalSnapshot}*`)],
    },
  ],
  "aws:route53/record:Record": (s) => [
    {
      Sid: "ShareRecord",
      Effect: "Allow",
      Action: ["route53:ChangeResourceRecordSets"],
      Resource: [arn.zone(s)],
      // Only the stack's own names, in a zone the non-production tier may share.
      Condition: { "ForAllValues:StringEquals": { "route53:ChangeResourceRecordSetsNormalizedRecordNames": [s.shareDomain.toLowerCase()] } },
    },
    { Sid: "ShareRecordRead", Effect: "Allow", Action: ["route53:ListResourceRecordSets", "route53:GetHostedZone"], Resource: [arn.zone(s)] },
    { Sid: "Route53Change", Effect: "Allow", Action: ["route53:GetChange"], Resource: ["arn:aws:route53:::change/*"] },
  ],
  "aws:secretsmanager/secret:Secret": (s) => [
    {
      Sid: "AppEnvSecret",
      Effect: "Allow",
      Action: [
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:DeleteSecret",
        "secretsmanager:UpdateSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
        "secretsmanager:GetResourcePolicy",
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
      ],
      Resource: [arn.secret(s)],
    },
  ],
  "aws:secretsmanager/secretVersion:SecretVersion": (s) => [
    {
      Sid: "AppEnvSecretVersion",
      Effect: "Allow",
      Action: ["secretsmanager:PutSecretValue", "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecretVersionStage"],
      Resource: [arn.secret(s)],
    },
  ],
  "aws:secretsmanager/secretPolicy:SecretPolicy": (s) => [
    {
      Sid: "AppEnvSecretPolicy",
      Effect: "Allow",
      Action: ["secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy"],
      Resource: [arn.secret(s)],
    },
  ],
};

/** Types that hold nothing in AWS (components, providers) or live outside AWS: no IAM action. */
const NOT_AWS = /^(pulumi:|mina:|random:|postgresql:|upstash:|sentry:)/;

/** What the deploy jobs run besides Pulumi: the account check, and the snapshot before a production deploy. */
const WORKFLOW_ACTIONS: Entry = (s) => [
  {
    Sid: "SnapshotBeforeDeploy",
    Effect: "Allow",
    Action: ["rds:CreateDBSnapshot", "rds:DescribeDBSnapshots", "rds:AddTagsToResource"],
    Resource: [arn.rds(s, "snapshot", `${s.names.rdsIdentifier}-pre-*`), arn.rds(s, "db", s.names.rdsIdentifier)],
  },
  { Sid: "SnapshotInstanceLookup", Effect: "Allow", Action: ["rds:DescribeDBInstances"], Resource: [arn.rds(s, "db", s.names.rdsIdentifier)] },
];

/** Guard rails: whatever an Allow above says, these are never allowed. */
const GUARD_RAILS: Entry = (s) => [
  // An IAM user without the boundary, or with another one, is never created or changed.
  {
    Sid: "NoUserWithoutBoundary",
    Effect: "Deny",
    Action: ["iam:CreateUser", "iam:PutUserPermissionsBoundary"],
    Resource: "*",
    Condition: { StringNotEquals: { "iam:PermissionsBoundary": boundaryArn(s) } },
  },
  { Sid: "BoundaryStays", Effect: "Deny", Action: ["iam:DeleteUserPermissionsBoundary"], Resource: "*" },
  // The boundary policy itself is bootstrap's: the role can neither change nor delete it.
  {
    Sid: "BoundaryUntouchable",
    Effect: "Deny",
    Action: ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion"],
    Resource: [boundaryArn(s)],
  },
  // No role, no managed policy attached to a user or group: policies live inline, on the environment's own (bounded) users and group.
  {
    Sid: "NoRolesNoManagedPolicies",
    Effect: "Deny",
    Action: [
      "iam:CreateRole",
      "iam:AttachUserPolicy",
      "iam:AttachGroupPolicy",
      "iam:AttachRolePolicy",
      "iam:PutRolePolicy",
      "iam:PassRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:CreatePolicy",
    ],
    Resource: "*",
  },
];

export class UnknownResourceTypes extends Error {}

/**
 * The deploy role's permissions for a stack that declares `types`. Refuses a type
 * it has no reviewed entry for.
 */
export function deployPolicy(scope: DeployScope, types: Iterable<string>): PolicyDocument {
  const all = [...new Set(types)].sort();
  const unknown = all.filter((t) => !NOT_AWS.test(t) && !(t in DEPLOY_ACTIONS));
  if (unknown.length > 0) {
    throw new UnknownResourceTypes(
      `no reviewed IAM actions for ${unknown.join(", ")}: add them to DEPLOY_ACTIONS in iam/policy.ts before the program declares them`,
    );
  }
  const statements = all.filter((t) => t in DEPLOY_ACTIONS).flatMap((t) => DEPLOY_ACTIONS[t](scope));
  // Sids are unique in a policy: entries that share a statement (the bucket's parts) keep the first.
  const seen = new Set<string>();
  const unique = [...statements, ...WORKFLOW_ACTIONS(scope), ...GUARD_RAILS(scope)].filter((st) => !seen.has(st.Sid) && seen.add(st.Sid));
  return { Version: "2012-10-17", Statement: unique };
}

/** The role's trust policy: only GitHub Actions jobs of `repository` running in the stack's GitHub environment. */
export function trustPolicy(scope: DeployScope): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GithubDeployJobOfThisEnvironment",
        Effect: "Allow",
        Principal: { Federated: `arn:aws:iam::${scope.account}:oidc-provider/${GITHUB_OIDC_HOST}` },
        Action: ["sts:AssumeRoleWithWebIdentity"],
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: "sts.amazonaws.com",
            [`${GITHUB_OIDC_HOST}:sub`]: `repo:${scope.repository}:environment:${scope.githubEnvironment}`,
          },
        },
      },
    ],
  };
}

/**
 * The permissions boundary of the environment's app user: at most its own bucket's
 * objects and its own env secret, whatever a policy on its group says.
 */
export function boundaryPolicy(scope: DeployScope): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "OwnBucketObjects", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: [`${arn.bucket(scope)}/*`] },
      { Sid: "OwnBucket", Effect: "Allow", Action: ["s3:ListBucket", "s3:GetBucketLocation"], Resource: [arn.bucket(scope)] },
      { Sid: "OwnEnvSecret", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: [arn.secret(scope)] },
    ],
  };
}
