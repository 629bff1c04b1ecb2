import * as assert from "node:assert/strict";
import { readAllStacks } from "../../config";
import { iamBucketPolicyOwnBucket, iamNoWildcards } from "../../policy/rules/iam";
import { type PlannedResource, ruleContext } from "../../policy/rules";
import { assertNoViolations, contextOf, only, recorded, ROOT, runOn, withProps } from "./helpers";

const GROUP_POLICY = "aws:iam/groupPolicy:GroupPolicy";

interface Doc {
  Version: string;
  Statement: Record<string, unknown>[];
}

describe("policy: IAM rules", () => {
  const staging = contextOf("staging");
  const production = contextOf("production");

  /** The bucket group's policy a committed stack really declares, and its parsed document. */
  async function happyPath(stack: "staging" | "production"): Promise<{ policy: PlannedResource; doc: Doc }> {
    const policy = only(await recorded(stack), GROUP_POLICY);
    return { policy, doc: JSON.parse(String(policy.props.policy)) as Doc };
  }

  const withDoc = (policy: PlannedResource, doc: Doc) => withProps(policy, { policy: JSON.stringify(doc) });

  describe("#iamNoWildcards", () => {
    const rule = iamNoWildcards();

    it("passes on the bucket group's policy of both committed stacks", async () => {
      assertNoViolations(runOn(rule, (await happyPath("staging")).policy, staging));
      assertNoViolations(runOn(rule, (await happyPath("production")).policy, production));
    });

    it('fails on Action "*"', async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement[0].Action = "*";
      assert.deepEqual(runOn(rule, withDoc(policy, doc), production), [
        'statement "ListOwnBucket" allows the wildcard action "*"; list the actions the app needs',
      ]);
    });

    it('fails on a whole-service wildcard "s3:*"', async () => {
      const { policy, doc } = await happyPath("staging");
      doc.Statement[1].Action = ["s3:GetObject", "s3:*"];
      assert.deepEqual(runOn(rule, withDoc(policy, doc), staging), [
        'statement "ReadWriteOwnObjects" allows the wildcard action "s3:*"; list the actions the app needs',
      ]);
    });

    it('fails on Resource "*"', async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement[1].Resource = "*";
      assert.deepEqual(runOn(rule, withDoc(policy, doc), production), [
        'statement "ReadWriteOwnObjects" allows on the wildcard resource "*"; name the environment\'s own resources',
      ]);
    });

    it('fails on every bucket "arn:aws:s3:::*"', async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement[0].Resource = ["arn:aws:s3:::mina-audio-production", "arn:aws:s3:::*"];
      assert.deepEqual(runOn(rule, withDoc(policy, doc), production), [
        'statement "ListOwnBucket" allows on the wildcard resource "arn:aws:s3:::*"; name the environment\'s own resources',
      ]);
    });

    it("fails on NotAction and NotResource in an Allow", async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement = [{ Effect: "Allow", NotAction: "iam:*", NotResource: "arn:aws:s3:::mina-audio-staging" }];
      assert.deepEqual(runOn(rule, withDoc(policy, doc), production), [
        "statement #1 allows with NotAction, which grants every other action; list the actions the app needs",
        "statement #1 allows with NotResource, which grants every other resource; name the environment's own resources",
      ]);
    });

    it("passes on wildcards in a Deny statement", async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement.push({
        Sid: "DenyAllElse",
        Effect: "Deny",
        Action: "*",
        NotResource: ["arn:aws:s3:::mina-audio-production", "arn:aws:s3:::mina-audio-production/*"],
      });
      assertNoViolations(runOn(rule, withDoc(policy, doc), production));
    });

    for (const type of ["aws:iam/policy:Policy", "aws:iam/userPolicy:UserPolicy", "aws:iam/rolePolicy:RolePolicy"]) {
      it(`applies to ${type}, with the document as an object too`, async () => {
        const { policy, doc } = await happyPath("staging");
        doc.Statement[0].Action = "*";
        const other: PlannedResource = { ...policy, type, props: { name: "x-staging", policy: doc } };
        assert.deepEqual(runOn(rule, other, staging), ['statement "ListOwnBucket" allows the wildcard action "*"; list the actions the app needs']);
      });
    }

    it("fails when the policy is not JSON", async () => {
      const { policy } = await happyPath("staging");
      assert.deepEqual(runOn(rule, withProps(policy, { policy: "{" }), staging), ["policy is not valid JSON"]);
    });
  });

  describe("#iamBucketPolicyOwnBucket", () => {
    const rule = iamBucketPolicyOwnBucket();

    it("passes on the bucket group's policy of both committed stacks", async () => {
      assertNoViolations(runOn(rule, (await happyPath("staging")).policy, staging));
      assertNoViolations(runOn(rule, (await happyPath("production")).policy, production));
    });

    it("fails when the policy names another environment's bucket", async () => {
      const { policy, doc } = await happyPath("production");
      doc.Statement[1].Resource = "arn:aws:s3:::mina-audio-staging/*";
      assert.deepEqual(runOn(rule, withDoc(policy, doc), production), [
        'statement "ReadWriteOwnObjects" names "arn:aws:s3:::mina-audio-staging/*"; the bucket group\'s policy names only its own bucket arn:aws:s3:::mina-audio-production and its objects',
      ]);
    });

    it("fails when the policy names its bucket as a prefix of another (no slash)", async () => {
      const { policy, doc } = await happyPath("staging");
      doc.Statement[0].Resource = "arn:aws:s3:::mina-audio-staging-old";
      assert.deepEqual(runOn(rule, withDoc(policy, doc), staging), [
        'statement "ListOwnBucket" names "arn:aws:s3:::mina-audio-staging-old"; the bucket group\'s policy names only its own bucket arn:aws:s3:::mina-audio-staging and its objects',
      ]);
    });

    it("fails on NotResource", async () => {
      const { policy, doc } = await happyPath("staging");
      doc.Statement.push({ Sid: "Else", Effect: "Deny", Action: "s3:*", NotResource: "arn:aws:s3:::mina-audio-staging/*" });
      assert.deepEqual(runOn(rule, withDoc(policy, doc), staging), [
        'statement "Else" uses NotResource; the bucket group\'s policy names only its own bucket arn:aws:s3:::mina-audio-staging and its objects',
      ]);
    });

    it("follows a bucket name override of the stack file", async () => {
      const stacks = readAllStacks(ROOT).map((s) => (s.stack === "staging" ? { ...s, values: { ...s.values, "mina:bucketName": "mina-staging-audio-2" } } : s));
      const ctx = ruleContext("staging", stacks);
      const { policy } = await happyPath("staging");
      assert.equal(runOn(rule, policy, ctx).length, 2);
      const moved = withProps(policy, { policy: String(policy.props.policy).replace(/mina-audio-staging/g, "mina-staging-audio-2") });
      assertNoViolations(runOn(rule, moved, ctx));
    });

    it("does not apply to other group policies", async () => {
      const { policy, doc } = await happyPath("staging");
      doc.Statement[0].Resource = "arn:aws:s3:::somewhere-else";
      assertNoViolations(runOn(rule, withProps(withDoc(policy, doc), { name: "mina-staging-ops", group: "mina-staging-ops" }), staging));
    });
  });
});
