/**
 * Which resources are protected, decided in plain code so it can be unit-tested
 * (the mock runtime does not expose `protect`).
 */
import type { Profile } from "./defaults";

/** Kinds of resource that hold data: deleting or replacing one loses it. */
export const STATEFUL_KINDS = ["database", "bucket", "cache", "dnsZone"] as const;
export type StatefulKind = (typeof STATEFUL_KINDS)[number];

export interface Protection {
  /** Pulumi `protect`: the engine refuses to delete the resource. */
  readonly protect: boolean;
  /** Provider-side deletion protection (RDS `deletionProtection`). */
  readonly deletionProtection: boolean;
  /** Take a final snapshot before deletion (RDS). */
  readonly finalSnapshot: boolean;
  /** Keep every object version (S3). */
  readonly versioning: boolean;
}

/** Production's stateful resources are protected in every way; other profiles stay cheap to tear down. */
export function protectionFor(profile: Profile): Protection {
  const production = profile === "production";
  return { protect: production, deletionProtection: production, finalSnapshot: production, versioning: production };
}
