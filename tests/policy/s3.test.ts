import * as assert from "node:assert/strict";
import { s3Encryption, s3PublicAccessBlock, s3TlsOnly, s3VersioningInProduction } from "../../policy/rules/s3";
import { type PlannedResource, UNKNOWN } from "../../policy/rules";
import { assertNoViolations, contextOf, only, recorded, replaced, run, withProps, without } from "./helpers";

const BUCKET = "aws:s3/bucket:Bucket";
const PUBLIC_ACCESS = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";
const ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration";
const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";

/** The production stack with one resource's props patched. */
async function productionWith(type: string, patch: Record<string, unknown>): Promise<PlannedResource[]> {
  const stack = await recorded("production");
  return replaced(stack, withProps(only(stack, type), patch));
}

describe("policy: S3 rules", () => {
  const staging = contextOf("staging");
  const production = contextOf("production");

  describe("#s3PublicAccessBlock", () => {
    const rule = s3PublicAccessBlock();

    it("passes on both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when the bucket has no public access block", async () => {
      const stack = without(await recorded("production"), PUBLIC_ACCESS);
      assert.deepEqual(run(rule, stack, production), ['bucket "mina-audio-production" has no public access block (aws:s3/bucketPublicAccessBlock)']);
    });

    for (const setting of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) {
      it(`fails when ${setting} is false`, async () => {
        const stack = await productionWith(PUBLIC_ACCESS, { [setting]: false });
        assert.deepEqual(run(rule, stack, production), [`public access block leaves ${setting} not true; all four settings must be true`]);
      });
    }

    it("fails when settings are left unset", async () => {
      const stack = await productionWith(PUBLIC_ACCESS, { ignorePublicAcls: undefined, restrictPublicBuckets: undefined });
      assert.deepEqual(run(rule, stack, production), [
        "public access block leaves ignorePublicAcls, restrictPublicBuckets not true; all four settings must be true",
      ]);
    });

    it("fails when the only public access block configures another bucket", async () => {
      const stack = await productionWith(PUBLIC_ACCESS, { bucket: "some-other-bucket" });
      assert.deepEqual(run(rule, stack, production), ['bucket "mina-audio-production" has no public access block (aws:s3/bucketPublicAccessBlock)']);
    });

    it("relates a block to its bucket through property dependencies when the bucket id is unknown (preview)", async () => {
      const stack = await recorded("production");
      const bucket = { ...only(stack, BUCKET), urn: "urn:pulumi:production::mina::aws:s3/bucket:Bucket::b" };
      const block = { ...withProps(only(stack, PUBLIC_ACCESS), { bucket: UNKNOWN }), dependencies: { bucket: [bucket.urn] } };
      assertNoViolations(run(rule, replaced(replaced(stack, bucket), block), production));
      const unrelated = { ...block, dependencies: {} };
      assert.deepEqual(run(rule, replaced(replaced(stack, bucket), unrelated), production), [
        'bucket "mina-audio-production" has no public access block (aws:s3/bucketPublicAccessBlock)',
      ]);
    });
  });

  describe("#s3Encryption", () => {
    const rule = s3Encryption();

    it("passes on both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails when the bucket has no server-side encryption configuration", async () => {
      const stack = without(await recorded("staging"), ENCRYPTION);
      assert.deepEqual(run(rule, stack, staging), [
        'bucket "mina-audio-staging" has no server-side encryption configuration (aws:s3/bucketServerSideEncryptionConfiguration)',
      ]);
    });

    it("fails when the configuration sets no default algorithm", async () => {
      const stack = await productionWith(ENCRYPTION, { rules: [{ bucketKeyEnabled: true }] });
      assert.deepEqual(run(rule, stack, production), ["server-side encryption configuration sets no default algorithm (one of AES256, aws:kms, aws:kms:dsse)"]);
    });

    it("passes with KMS", async () => {
      const stack = await productionWith(ENCRYPTION, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }] });
      assertNoViolations(run(rule, stack, production));
    });
  });

  describe("#s3TlsOnly", () => {
    const rule = s3TlsOnly();
    const missing =
      'bucket "mina-audio-production" has no bucket policy denying requests without TLS (Deny s3:* to * on the bucket and its objects when aws:SecureTransport is false)';

    async function policyDoc() {
      const stack = await recorded("production");
      return JSON.parse(String(only(stack, BUCKET_POLICY).props.policy));
    }

    it("passes on both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("passes with the policy as an object instead of a JSON string", async () => {
      assertNoViolations(run(rule, await productionWith(BUCKET_POLICY, { policy: await policyDoc() }), production));
    });

    it("fails when the bucket has no bucket policy", async () => {
      assert.deepEqual(run(rule, without(await recorded("production"), BUCKET_POLICY), production), [missing]);
    });

    it("fails when the statement allows instead of denying", async () => {
      const doc = await policyDoc();
      doc.Statement[0].Effect = "Allow";
      assert.deepEqual(run(rule, await productionWith(BUCKET_POLICY, { policy: JSON.stringify(doc) }), production), [missing]);
    });

    it("fails when the condition is aws:SecureTransport true", async () => {
      const doc = await policyDoc();
      doc.Statement[0].Condition = { Bool: { "aws:SecureTransport": "true" } };
      assert.deepEqual(run(rule, await productionWith(BUCKET_POLICY, { policy: JSON.stringify(doc) }), production), [missing]);
    });

    it("fails when the deny leaves the objects out", async () => {
      const doc = await policyDoc();
      doc.Statement[0].Resource = ["arn:aws:s3:::mina-audio-production"];
      assert.deepEqual(run(rule, await productionWith(BUCKET_POLICY, { policy: JSON.stringify(doc) }), production), [missing]);
    });

    it("fails when the policy is not JSON", async () => {
      assert.deepEqual(run(rule, await productionWith(BUCKET_POLICY, { policy: "{not json" }), production), [missing, "bucket policy is not valid JSON"]);
    });

    it("does not judge a policy unknown during preview", async () => {
      assertNoViolations(run(rule, await productionWith(BUCKET_POLICY, { policy: UNKNOWN }), production));
    });
  });

  describe("#s3VersioningInProduction", () => {
    const rule = s3VersioningInProduction();

    it("passes on both committed stacks (staging declares no versioning)", async () => {
      const stagingStack = await recorded("staging");
      assert.equal(stagingStack.filter((r) => r.type === VERSIONING).length, 0);
      assertNoViolations(run(rule, stagingStack, staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    it("fails in production when the bucket has no versioning", async () => {
      assert.deepEqual(run(rule, without(await recorded("production"), VERSIONING), production), [
        'bucket "mina-audio-production" has no versioning; production buckets keep every object version (aws:s3/bucketVersioning with status Enabled)',
      ]);
    });

    it("fails in production when versioning is suspended", async () => {
      const stack = await productionWith(VERSIONING, { versioningConfiguration: { status: "Suspended" } });
      assert.deepEqual(run(rule, stack, production), ['versioning status is "Suspended"; production buckets keep every object version (status Enabled)']);
    });

    it("applies to a stack whose profile is production", async () => {
      const stack = without(await recorded("production"), VERSIONING);
      assert.equal(run(rule, stack, { ...staging, profile: "production" }).length, 1);
    });
  });
});
