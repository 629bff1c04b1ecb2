import * as assert from "node:assert/strict";
import { loadStackOffline, readAllStacks } from "../../config";
import { ALL_RULES, checkResources, contextForConfig, type PlannedResource, STACK_SUBJECT } from "../../policy/rules";
import { contextOf, only, recorded, replaced, ROOT, withProps } from "./helpers";

/** Every string in a value, with `from` replaced by `to` (a bucket name moved everywhere). */
function renamed<T>(v: T, from: RegExp, to: string): T {
  if (typeof v === "string") return v.replace(from, to) as T;
  if (Array.isArray(v)) return v.map((x) => renamed(x, from, to)) as T;
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renamed(x, from, to)])) as T;
  return v;
}

describe("policy: the committed stacks", () => {
  for (const stack of ["staging", "production"] as const) {
    it(`${stack}: every rule passes on every resource Pulumi.${stack}.yaml declares`, async () => {
      const resources = await recorded(stack);
      assert.ok(resources.length > 20, "the stack declares its resources");
      assert.deepEqual(checkResources(resources, contextOf(stack)), []);
    });

    it(`${stack}: the plan's context (from the validated StackConfig) agrees`, async () => {
      const { config } = loadStackOffline(ROOT, stack);
      const ctx = contextForConfig(config, readAllStacks(ROOT));
      assert.equal(ctx.profile, stack);
      assert.equal(ctx.names?.bucket, `mina-audio-${stack}`);
      assert.deepEqual(checkResources(await recorded(stack), ctx), []);
    });
  }

  it("production's bucket renamed to carry staging is an isolation violation", async () => {
    const stack = await recorded("production");
    const bucket = only(stack, "aws:s3/bucket:Bucket");
    const violations = checkResources(replaced(stack, withProps(bucket, { bucket: "mina-audio-staging" })), contextOf("production"));
    assert.deepEqual(
      violations.filter((v) => v.rule.startsWith("isolation-")),
      [
        {
          rule: "isolation-physical-names",
          resource: "mina-production-bucket-bucket",
          message: 'bucket "mina-audio-staging" carries staging\'s bucket "mina-audio-staging"',
        },
      ],
    );
  });

  it("production's bucket renamed everywhere it is named (as a bad override would) is caught on every resource", async () => {
    const stack = renamed(await recorded("production"), /mina-audio-production/g, "mina-audio-staging") as PlannedResource[];
    const violations = checkResources(stack, contextOf("production"));
    const byRule = (rule: string) => [...new Set(violations.filter((v) => v.rule === rule).map((v) => v.resource))].sort();
    // Names: the bucket, its IAM user and group, and every sub-resource naming the bucket.
    assert.deepEqual(byRule("isolation-physical-names"), [
      "mina-production-bucket-bucket",
      "mina-production-bucket-encryption",
      "mina-production-bucket-group",
      "mina-production-bucket-group-policy",
      "mina-production-bucket-lifecycle",
      "mina-production-bucket-ownership",
      "mina-production-bucket-public-access",
      "mina-production-bucket-tls-only",
      "mina-production-bucket-user",
      "mina-production-bucket-versioning",
    ]);
    // References: group memberships, the access key's user, the ARNs in both policies, and the app user
    // named by the app env secret's policy and its read policy.
    assert.deepEqual(byRule("isolation-foreign-identifiers"), [
      "mina-production-app-env-policy",
      "mina-production-app-env-read",
      "mina-production-bucket-group-policy",
      "mina-production-bucket-key",
      "mina-production-bucket-membership",
      "mina-production-bucket-tls-only",
    ]);
    assert.ok(
      violations.every((v) => v.message.includes("mina-audio-staging")),
      "every message names the offending identifier",
    );
  });

  it("a violation of the stack as a whole is reported on the stack", async () => {
    const stack = await recorded("staging");
    const user = only(stack, "aws:iam/user:User");
    const violations = checkResources(replaced(stack, withProps(user, { tags: { environment: "production" } })), contextOf("staging"), ALL_RULES);
    assert.deepEqual(
      violations.filter((v) => v.resource === STACK_SUBJECT),
      [
        {
          rule: "isolation-one-environment",
          resource: STACK_SUBJECT,
          message: 'the staging stack holds resources tagged environment "production" (mina-staging-bucket-user): a stack holds one environment',
        },
      ],
    );
  });
});
