import * as assert from "node:assert/strict";
import { readAllStacks } from "../../config";
import {
  isolationEnvironmentTag,
  isolationForeignIdentifiers,
  isolationOneEnvironment,
  isolationPhysicalNames,
  isolationStackReferences,
} from "../../policy/rules/isolation";
import { type PlannedResource, ruleContext, UNKNOWN } from "../../policy/rules";
import { assertHasViolation, assertNoViolations, contextOf, only, recorded, replaced, ROOT, run, runOn, withProps } from "./helpers";
import { missingStack } from "../helpers";

describe("policy: isolation rules", () => {
  const staging = contextOf("staging");
  const production = contextOf("production");

  describe("#isolationPhysicalNames", () => {
    const rule = isolationPhysicalNames();

    it("passes on every resource of both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when production's bucket carries staging's bucket name", async () => {
      const bucket = withProps(only(await recorded("production"), "aws:s3/bucket:Bucket"), { bucket: "mina-audio-staging" });
      assert.deepEqual(runOn(rule, bucket, production), ['bucket "mina-audio-staging" carries staging\'s bucket "mina-audio-staging"']);
    });

    it("fails when a name uses an alias of another environment", async () => {
      const redis = withProps(only(await recorded("staging"), "upstash:index/redisDatabase:RedisDatabase"), { databaseName: "mina-prod" });
      assert.deepEqual(runOn(rule, redis, staging), ['databaseName "mina-prod" names environment "production" ("prod")']);
    });

    it("fails when the RDS identifier, or a dbName (the program sets none), is production's in another stack", async () => {
      const db = withProps(only(await recorded("production"), "aws:rds/instance:Instance"), { identifier: "mina-production", dbName: "mina_production" });
      assert.deepEqual(runOn(rule, db, staging), [
        'identifier "mina-production" carries production\'s RDS instance "mina-production"',
        'dbName "mina_production" carries production\'s database name "mina_production"',
      ]);
    });

    it("fails when a name carries no environment at all", async () => {
      const role = withProps(only(await recorded("staging"), "postgresql:index/role:Role"), { name: "mina_app" });
      assert.deepEqual(runOn(rule, role, staging), ['name "mina_app" does not carry the environment "staging"']);
    });

    it("tells staging-blue's names from staging's (longest match)", async () => {
      const stacks = [...readAllStacks(ROOT), { stack: "staging-blue", file: "Pulumi.staging-blue.yaml", values: {} }];
      const bucket = withProps(only(await recorded("staging"), "aws:s3/bucket:Bucket"), { bucket: "mina-audio-staging-blue" });
      assertNoViolations(runOn(rule, bucket, ruleContext("staging-blue", stacks)));
      assert.deepEqual(runOn(rule, bucket, ruleContext("staging", stacks)), [
        'bucket "mina-audio-staging-blue" carries staging-blue\'s bucket "mina-audio-staging-blue"',
      ]);
    });

    it("does not judge a name unknown during preview", async () => {
      const block = withProps(only(await recorded("staging"), "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), { bucket: UNKNOWN });
      assertNoViolations(runOn(rule, block, staging));
    });
  });

  describe("#isolationEnvironmentTag", () => {
    const rule = isolationEnvironmentTag();

    it("passes on every resource of both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when a resource is tagged with another environment", async () => {
      const bucket = only(await recorded("production"), "aws:s3/bucket:Bucket");
      const tagged = withProps(bucket, { tags: { ...(bucket.props.tags as object), environment: "staging" } });
      assert.deepEqual(runOn(rule, tagged, production), ['tags.environment is "staging" but this is the production stack']);
    });

    it("fails when a tagged type has no environment tag", async () => {
      const user = withProps(only(await recorded("staging"), "aws:iam/user:User"), { tags: { app: "mina" } });
      assert.deepEqual(runOn(rule, user, staging), ['tags has no environment tag; it must be "staging"']);
      const untagged = withProps(only(await recorded("production"), "aws:rds/instance:Instance"), { tags: undefined });
      assert.deepEqual(runOn(rule, untagged, production), ['tags has no environment tag; it must be "production"']);
    });

    it("fails when the AWS provider's default tags name another environment (JSON-encoded, as the engine passes them)", async () => {
      const provider = withProps(only(await recorded("staging"), "pulumi:providers:aws"), {
        defaultTags: JSON.stringify({ tags: { environment: "production", app: "mina", "managed-by": "pulumi" } }),
      });
      assert.deepEqual(runOn(rule, provider, staging), ['defaultTags.tags.environment is "production" but this is the staging stack']);
    });
  });

  describe("#isolationForeignIdentifiers", () => {
    const rule = isolationForeignIdentifiers();

    it("passes on every resource of both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when a record points into another environment's hosted zone", async () => {
      const record = withProps(only(await recorded("production"), "aws:route53/record:Record"), { zoneId: "Z0STAGING0EXAMPLE" });
      assert.deepEqual(runOn(rule, record, production), ['zoneId carries staging\'s hosted zone "Z0STAGING0EXAMPLE"']);
    });

    it("fails when an IAM policy (a JSON string) names another environment's bucket", async () => {
      const policy = only(await recorded("staging"), "aws:iam/groupPolicy:GroupPolicy");
      const leaked = withProps(policy, { policy: String(policy.props.policy).replace(/mina-audio-staging/g, "mina-audio-production") });
      assert.deepEqual(runOn(rule, leaked, staging), ['policy carries production\'s bucket "mina-audio-production"']);
    });

    it("fails when a security group sits in another environment's VPC", async () => {
      const sg = withProps(only(await recorded("production"), "aws:ec2/securityGroup:SecurityGroup"), {
        name: "mina-staging-db",
        description: "PostgreSQL for staging only",
        tags: { environment: "staging", app: "mina", "managed-by": "pulumi" },
      });
      assert.deepEqual(runOn(rule, sg, staging), ['vpcId carries production\'s VPC "vpc-0a1b2c3d4e5f60001"']);
    });

    it("never reads credentials, secrets or values unknown during preview", async () => {
      const provider: PlannedResource = withProps(only(await recorded("staging"), "pulumi:providers:upstash"), { apiKey: "production-key" });
      assertNoViolations(runOn(rule, provider, staging));
      const record = withProps(only(await recorded("staging"), "aws:route53/record:Record"), { zoneId: UNKNOWN });
      assertNoViolations(runOn(rule, record, staging));
    });
  });

  describe("#isolationStackReferences", () => {
    const rule = isolationStackReferences();
    const ref = (name: string): PlannedResource => ({ type: "pulumi:pulumi:StackReference", name: "ref", props: { name }, protect: false });

    it("passes for a reference to the stack's own environment or another project's stack of the same environment", () => {
      assertNoViolations(runOn(rule, ref("acme/mina/staging"), staging));
      assertNoViolations(runOn(rule, ref("acme/network/staging"), staging));
    });

    it("fails for a reference to another environment's stack", () => {
      assert.deepEqual(runOn(rule, ref("acme/mina/production"), staging), [
        'StackReference "acme/mina/production" names environment "production" ("production"): a stack reads no other environment\'s outputs',
      ]);
      assert.deepEqual(runOn(rule, ref("acme/network/prod"), staging), [
        'StackReference "acme/network/prod" names environment "production" ("prod"): a stack reads no other environment\'s outputs',
      ]);
    });

    it("fails for a reference to any other stack of this project", () => {
      // A name no stack file has: a stack of this project that names no environment known here.
      const other = missingStack(ROOT);
      assert.deepEqual(runOn(rule, ref(`acme/mina/${other}`), staging), [
        `StackReference "acme/mina/${other}" reads the mina stack "${other}": a stack reads no other environment's outputs`,
      ]);
    });
  });

  describe("#isolationOneEnvironment", () => {
    const rule = isolationOneEnvironment();

    it("passes on both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when one resource of the stack is tagged with another environment", async () => {
      const stack = await recorded("production");
      const bucket = only(stack, "aws:s3/bucket:Bucket");
      const mixed = replaced(stack, withProps(bucket, { tags: { ...(bucket.props.tags as object), environment: "staging" } }));
      assert.deepEqual(rule.checkStack?.(mixed, production), [
        'the production stack holds resources tagged environment "staging" (mina-production-bucket-bucket): a stack holds one environment',
      ]);
      assertHasViolation(
        run(rule, mixed, production),
        'the production stack holds resources tagged environment "staging" (mina-production-bucket-bucket): a stack holds one environment',
      );
    });
  });
});
