/**
 * IAM rules: no credential of an environment can act on everything, and the bucket
 * group's policy reaches only the environment's own bucket.
 */
import { namesOf } from "./context";
import { parseDocument, s3Arn } from "./document";
import type { Rule } from "./types";

/** Types that carry an inline or managed policy document in `policy`. */
export const IAM_POLICY_TYPES = [
  "aws:iam/groupPolicy:GroupPolicy",
  "aws:iam/policy:Policy",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/rolePolicy:RolePolicy",
  // A secret's resource policy (the app env secret's): no Allow in it may grant everything either.
  "aws:secretsmanager/secretPolicy:SecretPolicy",
] as const;

const isPolicyType = (type: string) => (IAM_POLICY_TYPES as readonly string[]).includes(type);

/** `*`, or a whole service: `s3:*`. */
function isWildcardAction(a: string): boolean {
  return a === "*" || /^[a-z0-9-]+:\*$/i.test(a);
}

/** `*`, or an ARN whose resource part is `*` (every resource of a service: `arn:aws:s3:::*`). */
function isWildcardResource(res: string): boolean {
  if (res === "*") return true;
  const parts = res.split(":");
  return parts.length >= 6 && parts[0] === "arn" && parts.slice(5).join(":") === "*";
}

/** Allow statements grant no `*` or `service:*` action and no `*` resource (nor NotAction / NotResource). */
export function iamNoWildcards(): Rule {
  return {
    name: "iam-no-wildcards",
    description: "No Allow statement of an IAM policy grants every action (*, service:*) or every resource (*).",
    scope: "resource",
    checkResource(r) {
      if (!isPolicyType(r.type)) return [];
      const doc = parseDocument(r.props.policy);
      if (doc.kind === "invalid") return [`policy ${doc.reason}`];
      if (doc.kind !== "ok") return [];
      const out: string[] = [];
      for (const s of doc.statements) {
        if (s.effect !== "Allow") continue;
        for (const a of s.actions.filter(isWildcardAction)) out.push(`statement ${s.label} allows the wildcard action "${a}"; list the actions the app needs`);
        if (s.notActions.length > 0) out.push(`statement ${s.label} allows with NotAction, which grants every other action; list the actions the app needs`);
        for (const res of s.resources.filter(isWildcardResource))
          out.push(`statement ${s.label} allows on the wildcard resource "${res}"; name the environment's own resources`);
        if (s.notResources.length > 0)
          out.push(`statement ${s.label} allows with NotResource, which grants every other resource; name the environment's own resources`);
      }
      return out;
    },
  };
}

/**
 * The bucket group's policy (named `names.bucketPolicy`, attached to `names.bucketGroup`)
 * names only the environment's own bucket and its objects.
 */
export function iamBucketPolicyOwnBucket(): Rule {
  return {
    name: "iam-bucket-policy-own-bucket",
    description: "The bucket group's IAM policy names only the environment's own bucket ARN and its objects.",
    scope: "resource",
    checkResource(r, ctx) {
      if (r.type !== "aws:iam/groupPolicy:GroupPolicy") return [];
      const names = namesOf(ctx);
      if (r.props.name !== names.bucketPolicy && r.props.group !== names.bucketGroup) return [];
      const doc = parseDocument(r.props.policy);
      if (doc.kind === "invalid") return [`policy ${doc.reason}`];
      if (doc.kind !== "ok") return [];
      const own = s3Arn(names.bucket);
      const out: string[] = [];
      for (const s of doc.statements) {
        for (const res of s.resources) {
          if (res !== own && !res.startsWith(`${own}/`)) {
            out.push(`statement ${s.label} names "${res}"; the bucket group's policy names only its own bucket ${own} and its objects`);
          }
        }
        if (s.notResources.length > 0)
          out.push(`statement ${s.label} uses NotResource; the bucket group's policy names only its own bucket ${own} and its objects`);
      }
      return out;
    },
  };
}
