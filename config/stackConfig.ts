/**
 * The typed config the program is built from: what validation (validation/validate.ts)
 * returns for one stack, and the options it takes.
 */
import type { LogLevel, Profile } from "./defaults";
import type { Names } from "./naming";
import type { ProjectFile } from "./project";
import type { Protection } from "./protection";
import type { RawStackConfig } from "./raw";

/** A secret config value. `plaintext` is known only under the Pulumi engine. */
export interface Secret {
  readonly key: string;
  readonly plaintext?: string;
}

export interface InstanceDatabaseConfig {
  readonly mode: "instance";
  readonly instanceClass: string;
  readonly allocatedStorageGb: number;
  readonly engineVersion: string;
  readonly backupRetentionDays: number;
  readonly multiAz: boolean;
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly allowedCidrs: readonly string[];
}

export interface ServerDatabaseConfig {
  readonly mode: "server";
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: Secret;
  readonly sslMode: string;
}

export type DatabaseConfig = InstanceDatabaseConfig | ServerDatabaseConfig;

/** A blue/green front: the share domain's weighted records point at the two colours' hosts. */
export interface Front {
  readonly live: "blue" | "green";
  /** Share of traffic (0-50) the other colour gets. */
  readonly canaryPercent: number;
  /** Each colour's stack and host (`blue.<share domain>`). */
  readonly colours: Readonly<Record<"blue" | "green", { readonly stack: string; readonly host: string }>>;
}

export interface StackConfig {
  readonly stack: string;
  readonly file: string;
  readonly environment: string;
  readonly profile: Profile;
  readonly names: Names;
  readonly protection: Protection;
  readonly aws: { readonly region: string; readonly allowedAccountIds: readonly string[] };
  readonly database: DatabaseConfig;
  readonly cache: {
    readonly primaryRegion: string;
    readonly upstashEmail: string;
    readonly upstashApiKey: Secret;
    /** Upstash monthly budget in US dollars: the bill's cap; once spent, the database is throttled. */
    readonly budget: number;
  };
  readonly bucket: { readonly expireDays?: number };
  /**
   * Sentry, when on: the environment's own project (or, in the non-production tier, a
   * shared one the config names) and its own key, whose DSN is SENTRY_DSN.
   */
  readonly sentry?: {
    readonly organization: string;
    readonly team: string;
    readonly token: Secret;
    /** The project's slug: `mina-<environment>`, or the shared project's. */
    readonly project: string;
    /** Whether the project is a shared one that this stack does not declare. */
    readonly shared: boolean;
  };
  /** What the deploy job runs after pulumi up (npm run migrate). */
  readonly deploy: { readonly migrateCommand: string };
  readonly dns: {
    readonly shareDomain: string;
    readonly zoneId: string;
    readonly zoneName: string;
    /** Empty on a blue/green front, whose share domain points at the colours instead. */
    readonly appHost: string;
    readonly front?: Front;
  };
  readonly secrets: {
    readonly openaiApiKey: Secret;
    readonly sendgridApiKey?: Secret;
    readonly slackWebhookUrl?: Secret;
  };
  readonly settings: {
    readonly logLevel: LogLevel;
    readonly rateLimitPerMinute: number;
    readonly rateLimitPerHour: number;
    readonly emailEnabled: boolean;
    /** The one inbox every message goes to (a non-production environment with email on); empty otherwise. */
    readonly emailRedirectTo: string;
    readonly slackChannel: string;
    readonly sentryEnvironment: string;
    readonly featureFlags: Readonly<Record<string, boolean>>;
  };
}

export interface ValidateOptions {
  /** The other stacks of the project (their files): their identifiers are foreign to this one. */
  readonly siblings?: readonly RawStackConfig[];
  /**
   * Under the engine every required secret must be set. Offline (plan), secrets are
   * ciphertext or missing; missing ones are listed instead of refused.
   */
  readonly requireSecrets: boolean;
  /** The project file (`Pulumi.yaml`): its problems and project-level config are every stack's. */
  readonly project?: ProjectFile;
}

export interface ValidatedStack {
  readonly config: StackConfig;
  /** Required secret keys that are not set yet (offline mode only). */
  readonly missingSecrets: readonly string[];
}
