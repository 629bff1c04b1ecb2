import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StackConfig } from "../config/stackConfig";
import { secretInput } from "./secretInput";

export interface SecretsArgs {
  /** Supplied per-environment secrets, from secret config. */
  readonly supplied: StackConfig["secrets"];
}

/**
 * Generated app secrets (`SECRET_KEY`, `SESSION_SECRET`: 32 random bytes as 64 hex
 * characters, like `secrets.token_hex(32)`) and the supplied ones, all secret.
 * `RandomBytes` is used, not `RandomId`, whose value would be its resource id and so not secret.
 */
export class Secrets extends pulumi.ComponentResource {
  readonly secretKey: pulumi.Output<string>;
  readonly sessionSecret: pulumi.Output<string>;
  readonly openaiApiKey: pulumi.Output<string>;
  readonly sendgridApiKey: pulumi.Output<string>;
  readonly slackWebhookUrl: pulumi.Output<string>;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Secrets", name, {}, opts);
    const hex = (suffix: string) => pulumi.secret(new random.RandomBytes(`${name}-${suffix}`, { length: 32 }, { parent: this }).hex);
    this.secretKey = hex("secret-key");
    this.sessionSecret = hex("session-secret");
    const s = args.supplied;
    const optional = (x: typeof s.sendgridApiKey) => (x ? secretInput(x) : pulumi.secret(""));
    this.openaiApiKey = secretInput(s.openaiApiKey);
    this.sendgridApiKey = optional(s.sendgridApiKey);
    this.slackWebhookUrl = optional(s.slackWebhookUrl);
    this.registerOutputs({});
  }
}
