/**
 * Every isolation rule, and `checkResources`, which runs them over a stack's
 * resources. The offline plan calls it on the resources the mock runtime records;
 * the policy pack (policy/index.ts) wraps the same rules for the Pulumi engine.
 */
import { iamBucketPolicyOwnBucket, iamNoWildcards } from "./iam";
import { isolationEnvironmentTag, isolationForeignIdentifiers, isolationOneEnvironment, isolationPhysicalNames, isolationStackReferences } from "./isolation";
import { protectStatefulInProduction } from "./protection";
import { rdsBackupRetentionInProduction, rdsDeletionProtectionInProduction, rdsNoDefaultUsername, rdsNotPublic, rdsStorageEncrypted } from "./rds";
import { s3Encryption, s3PublicAccessBlock, s3TlsOnly, s3VersioningInProduction } from "./s3";
import { type PlannedResource, type Rule, type RuleContext, STACK_SUBJECT, type Violation } from "./types";
import { upstashTls } from "./upstash";

export * from "./types";
export { contextForConfig, parseUrn, ruleContext } from "./context";

/** Every rule, in the order violations are reported. */
export const ALL_RULES: readonly Rule[] = [
  isolationPhysicalNames(),
  isolationEnvironmentTag(),
  isolationForeignIdentifiers(),
  isolationStackReferences(),
  isolationOneEnvironment(),
  s3PublicAccessBlock(),
  s3Encryption(),
  s3TlsOnly(),
  s3VersioningInProduction(),
  rdsStorageEncrypted(),
  rdsNotPublic(),
  rdsDeletionProtectionInProduction(),
  rdsBackupRetentionInProduction(),
  rdsNoDefaultUsername(),
  iamNoWildcards(),
  iamBucketPolicyOwnBucket(),
  upstashTls(),
  protectStatefulInProduction(),
];

/** Runs the given rules (all by default) over a stack's resources. Empty when the stack is clean. */
export function checkResources(resources: readonly PlannedResource[], ctx: RuleContext, rules: readonly Rule[] = ALL_RULES): Violation[] {
  const out: Violation[] = [];
  for (const rule of rules) {
    if (rule.checkResource) {
      for (const r of resources) {
        for (const message of rule.checkResource(r, ctx, resources)) out.push({ rule: rule.name, resource: r.name, message });
      }
    }
    if (rule.checkStack) {
      for (const message of rule.checkStack(resources, ctx)) out.push({ rule: rule.name, resource: STACK_SUBJECT, message });
    }
  }
  return out;
}

/** A resource recorded by the mock runtime (`RecordedResource`), as the rules see it. */
export function fromRecorded(r: { type: string; name: string; urn?: string; inputs: Record<string, unknown>; protect: boolean }): PlannedResource {
  return { type: r.type, name: r.name, urn: r.urn, props: r.inputs, protect: r.protect };
}
