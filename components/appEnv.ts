import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Names } from "../config/naming";
import type { Protection } from "../config/protection";
import { replacementOptions } from "../config/replacement";
import { renderStoredEnvFile } from "../envfiles/export";
import type { PolicyDocument } from "./bucket";

export interface AppEnvArgs {
  readonly names: Names;
  readonly protection: Protection;
  /** Every emitted variable, name to value; secret as a whole. */
  readonly env: pulumi.Output<Record<string, string>>;
  /** The app's IAM user: the only identity that reads the secret. */
  readonly appUser: { readonly name: pulumi.Input<string>; readonly arn: pulumi.Input<string> };
  /** The stack's own AWS accounts: the secret's policy denies every principal of any other. */
  readonly accountIds: readonly string[];
  readonly awsProvider: aws.Provider;
}

/** The secret's arguments, decided in plain code: its derived name, and the profile's recovery window. */
export function appEnvSecretArgs(names: Names, protection: Protection) {
  return {
    name: names.appEnvSecret,
    description: `The Mina app's env for ${names.environment}, as its env file's text; the app host reads it at start`,
    recoveryWindowInDays: protection.secretRecoveryDays,
    tags: { ...names.tags },
  };
}

/** The app user's inline policy: read this one secret's value; nothing else. */
export function buildAppEnvReadPolicy(secretArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [{ Sid: "ReadOwnEnv", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn }],
  };
}

/**
 * The secret's resource policy, a second fence behind IAM (which grants only the app
 * user): deny every principal outside the stack's own accounts, and deny reading the
 * value to every other user on the app's IAM path (another environment's app user in a
 * shared account). The deployer is neither, so `pulumi up` still writes and reads it.
 */
export function buildAppEnvSecretPolicy(appUserArn: string, accountIds: readonly string[], iamPath: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyOtherAccounts",
        Effect: "Deny",
        Principal: "*",
        Action: "secretsmanager:*",
        Resource: "*",
        Condition: { StringNotEquals: { "aws:PrincipalAccount": [...accountIds] } },
      },
      {
        Sid: "DenyOtherAppUsers",
        Effect: "Deny",
        Principal: "*",
        Action: "secretsmanager:GetSecretValue",
        Resource: "*",
        Condition: { ArnLike: { "aws:PrincipalArn": `arn:*:iam::*:user${iamPath}*` }, ArnNotEquals: { "aws:PrincipalArn": appUserArn } },
      },
    ],
  };
}

/**
 * The app's env, delivered: a Secrets Manager secret of the stack's own account
 * (`mina/<environment>/app-env`) whose current version is the env file's text, built
 * from the same `env` output `npm run env` writes. Only the app's IAM user may read it.
 * A changed env is a new version (the data-safety gate: "rotates a credential"); the
 * app picks it up when it restarts.
 */
export class AppEnv extends pulumi.ComponentResource {
  readonly secretName: string;
  readonly secretArn: pulumi.Output<string>;

  constructor(name: string, args: AppEnvArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:AppEnv", name, {}, opts);
    const { names, protection } = args;
    const child = { parent: this, provider: args.awsProvider };
    const secret = new aws.secretsmanager.Secret(`${name}-secret`, appEnvSecretArgs(names, protection), {
      ...child,
      protect: protection.protect,
    });
    new aws.secretsmanager.SecretVersion(
      `${name}-version`,
      {
        secretId: secret.id,
        secretString: pulumi.secret(args.env.apply((env) => renderStoredEnvFile(env, names.environment, names.appEnvSecret))),
      },
      { ...child, additionalSecretOutputs: ["secretString"] },
    );
    new aws.iam.UserPolicy(
      `${name}-read`,
      { name: names.appEnvPolicy, user: args.appUser.name, policy: secret.arn.apply((arn) => JSON.stringify(buildAppEnvReadPolicy(arn))) },
      { ...child, ...replacementOptions("aws:iam/userPolicy:UserPolicy") },
    );
    new aws.secretsmanager.SecretPolicy(
      `${name}-policy`,
      {
        secretArn: secret.arn,
        policy: pulumi.output(args.appUser.arn).apply((arn) => JSON.stringify(buildAppEnvSecretPolicy(arn, args.accountIds, names.iamRootPath))),
        blockPublicPolicy: true,
      },
      { ...child, ...replacementOptions("aws:secretsmanager/secretPolicy:SecretPolicy") },
    );
    this.secretName = names.appEnvSecret;
    this.secretArn = secret.arn;
    this.registerOutputs({ secretName: this.secretName, secretArn: this.secretArn });
  }
}
