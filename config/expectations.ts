/**
 * What one environment's values must be, from the project's stack files: its
 * database, bucket, channel and share domain, the other environments' databases,
 * the identity index that tells another environment's identifiers apart, and
 * what each environment may share (config/tiers.ts). Env export, verify and
 * audit check values against it.
 */
import { ConfigErrors, readStacksLeniently } from "./index";
import type { IdentityIndex } from "./isolation";
import { deriveNames } from "./naming";
import type { RawStackConfig } from "./raw";
import { type Sharing, sharingOfRaw, tierOfRaw } from "./tiers";
import { normalizeHost } from "./validation/checks";
import { identityIndexFor, validateStack } from "./validation/validate";

/** What this environment's values must be, from its stack file when there is one. */
export interface Expected {
  readonly environment: string;
  readonly databaseName: string;
  readonly bucket: string;
  readonly slackChannel: string;
  readonly sentryEnvironment: string;
  /** Known only from a valid stack file. */
  readonly shareDomain?: string;
  /** Other environments' database names (for `--live`). */
  readonly otherDatabases: readonly string[];
  readonly index: IdentityIndex;
  /** Stack files that cannot be read: their identifiers are unknown, so the checks cannot be complete. */
  readonly unreadable?: readonly string[];
  /** What each environment with a readable stack file may share; an environment not in it shares nothing. */
  readonly sharing: ReadonlyMap<string, Sharing>;
  /** The share domains of the other production-tier environments: no catch-all inbox may be at one. */
  readonly productionDomains?: readonly string[];
}

/** What each environment with a readable stack file may share (its tier and the keys it marks); the others share nothing. */
export function sharingByEnvironment(stacks: readonly RawStackConfig[]): Map<string, Sharing> {
  return new Map(stacks.filter((s) => !s.unreadable).map((s) => [s.stack, sharingOfRaw(s)]));
}

/** Builds expectations for `stack` from the project's stack files (falls back to derived names). */
export function expectationsFor(dir: string, stack: string, stacks: RawStackConfig[] = readStacksLeniently(dir).stacks): Expected {
  const own = stacks.find((s) => s.stack === stack) ?? { stack, file: `Pulumi.${stack}.yaml`, values: {} };
  const index = identityIndexFor(own, stacks);
  const others = [...new Set([...stacks.map((s) => s.stack), "staging", "production"])].filter((s) => s !== stack);
  let names = deriveNames(stack);
  let slackChannel = names.slackChannel;
  let shareDomain: string | undefined;
  try {
    const { config } = validateStack(own, { siblings: stacks, requireSecrets: false });
    names = config.names;
    slackChannel = config.settings.slackChannel;
    shareDomain = config.dns.shareDomain;
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
  }
  return {
    environment: stack,
    databaseName: names.databaseName,
    bucket: names.bucket,
    slackChannel,
    sentryEnvironment: names.sentryEnvironment,
    shareDomain,
    otherDatabases: others.map((o) => deriveNames(o).databaseName),
    index,
    unreadable: stacks.filter((s) => s.unreadable).map((s) => s.unreadable!),
    sharing: sharingByEnvironment(stacks),
    productionDomains: stacks
      .filter((s) => s.stack !== stack && !s.unreadable && tierOfRaw(s) === "production" && typeof s.values["mina:shareDomain"] === "string")
      .map((s) => normalizeHost(s.values["mina:shareDomain"] as string)),
  };
}
