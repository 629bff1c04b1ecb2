import * as pulumi from "@pulumi/pulumi";
import * as sentry from "@pulumiverse/sentry";
import type { StackConfig } from "../config/stackConfig";
import type { Protection } from "../config/protection";
import { secretInput } from "./secretInput";

export interface SentryArgs {
  /** The stack's Sentry settings (organization, team, token, project). */
  readonly sentry: NonNullable<StackConfig["sentry"]>;
  /** The environment's own project and key name (`mina-<environment>`). */
  readonly name: string;
  readonly protection: Protection;
}

/** The project's arguments, decided in plain code. */
export function sentryProjectArgs(args: Pick<SentryArgs, "sentry" | "name">) {
  return { organization: args.sentry.organization, name: args.name, slug: args.name, teams: [args.sentry.team], platform: "python-flask" };
}

/**
 * The environment's Sentry: its own project (unless the non-production tier shares
 * one the config names) and its own client key, whose DSN becomes `SENTRY_DSN`,
 * secret. Everything goes through this stack's own Sentry provider and token.
 */
export class Sentry extends pulumi.ComponentResource {
  /** The key's DSN, secret. */
  readonly dsn: pulumi.Output<string>;
  readonly projectSlug: pulumi.Output<string>;

  constructor(name: string, args: SentryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Sentry", name, {}, opts);
    const provider = new sentry.Provider(`${name}-provider`, { token: secretInput(args.sentry.token) }, { parent: this });
    const child = { parent: this, provider };
    const projectSlug = args.sentry.shared
      ? pulumi.output(args.sentry.project)
      : new sentry.SentryProject(`${name}-project`, sentryProjectArgs(args), { ...child, protect: args.protection.protect }).slug;
    const key = new sentry.SentryKey(
      `${name}-key`,
      { organization: args.sentry.organization, project: projectSlug, name: args.name },
      { ...child, additionalSecretOutputs: ["dsnPublic", "dsnSecret", "dsnCsp", "secret"] },
    );
    this.dsn = pulumi.secret(key.dsnPublic);
    this.projectSlug = projectSlug;
    this.registerOutputs({ dsn: this.dsn, projectSlug: this.projectSlug });
  }
}
