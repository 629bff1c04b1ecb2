/**
 * What a replacement of each resource type does (config/replacement.ts), as pure
 * decisions; tests/program.test.ts proves the components apply them.
 */
import { strict as assert } from "node:assert";
import { NO_DATA_TYPES, STATEFUL_TYPES, holdsNoData } from "../config/protection";
import { REPLACEMENTS, replacementFor, replacementNote, replacementOptions, replacesResource } from "../config/replacement";

const SG = "aws:ec2/securityGroup:SecurityGroup";
const PARAMS = "aws:rds/parameterGroup:ParameterGroup";
const SUBNETS = "aws:rds/subnetGroup:SubnetGroup";
const RDS = "aws:rds/instance:Instance";
const BUCKET = "aws:s3/bucket:Bucket";
const REDIS = "upstash:index/redisDatabase:RedisDatabase";

describe("replacement decisions (config/replacement.ts)", () => {
  it("keeps what holds data created first, so a replacement under the same name fails before anything is deleted", () => {
    for (const type of [RDS, BUCKET, REDIS, "postgresql:index/database:Database", "postgresql:index/role:Role"]) {
      assert.equal(replacementFor(type).kind, "migration", type);
      assert.deepEqual(replacementOptions(type), {}, `${type} is never deleted first`);
    }
  });

  it("names by prefix what the RDS instance uses and a same-name input replaces: the security group and the parameter group", () => {
    for (const type of [SG, PARAMS]) {
      const d = replacementFor(type);
      assert.equal(d.kind, "name-prefix", type);
      assert.equal(d.nameInput, "namePrefix");
      assert.deepEqual(replacementOptions(type), {}, "created first, beside the one in use");
    }
    assert.ok(replacesResource(SG, ["description"]) && replacesResource(SG, ["vpcId"]));
    assert.ok(replacesResource(PARAMS, ["family"]) && replacesResource(PARAMS, ["description"]));
    assert.ok(!replacesResource(SG, ["ingress", "tags.environment"]));
    assert.ok(!replacesResource(PARAMS, ["parameters"]));
  });

  it("keeps the subnet group created first: its name is its only replacing input", () => {
    assert.equal(replacementFor(SUBNETS).kind, "create-first");
    assert.ok(!replacesResource(SUBNETS, ["subnetIds", "description", "tags"]));
    assert.ok(replacesResource(SUBNETS, ["name"]));
  });

  it("deletes first the IAM user and what is keyed by a fixed name or its target (inline policy, memberships), never the group or the access key", () => {
    for (const type of ["aws:iam/user:User", "aws:iam/groupPolicy:GroupPolicy", "aws:iam/userGroupMembership:UserGroupMembership"]) {
      assert.equal(replacementFor(type).kind, "delete-first", type);
      assert.deepEqual(replacementOptions(type), { deleteBeforeReplace: true });
    }
    assert.equal(replacementFor("aws:iam/group:Group").kind, "create-first", "deleted first it would fail on its member after losing its policy");
    assert.equal(replacementFor("aws:iam/accessKey:AccessKey").kind, "create-first", "two keys at once: the new one before the old is deleted");
    assert.deepEqual(replacementFor("aws:iam/user:User").replacingInputs, [], "a user is renamed in place");
  });

  it("keeps the bucket's settings created first: a replacement configures another bucket, and a kept bucket keeps its settings", () => {
    for (const type of Object.keys(REPLACEMENTS).filter((t) => t.startsWith("aws:s3/bucket") && t !== BUCKET)) {
      assert.equal(replacementFor(type).kind, "create-first", type);
      assert.ok(replacementFor(type).replacingInputs.includes("bucket"), type);
    }
  });

  it("gives a type nobody reviewed the engine's default, marked unreviewed, and no option", () => {
    const d = replacementFor("aws:dynamodb/table:Table");
    assert.deepEqual([d.kind, d.reviewed], ["create-first", false]);
    assert.deepEqual(replacementOptions("aws:dynamodb/table:Table"), {});
    assert.equal(replacementFor(RDS).reviewed, true);
  });

  it("reads the replacing inputs by top-level name, and * as every input", () => {
    assert.ok(replacesResource(RDS, ["engine"]) && replacesResource(RDS, ["identifier"]) && replacesResource(RDS, ["storageEncrypted"]));
    assert.ok(
      !replacesResource(RDS, [
        "instanceClass",
        "allocatedStorage",
        "engineVersion",
        "password",
        "dbSubnetGroupName",
        "parameterGroupName",
        "vpcSecurityGroupIds",
      ]),
    );
    assert.ok(replacesResource("random:index/randomBytes:RandomBytes", ["length"]));
    assert.ok(replacesResource(BUCKET, ["bucket"]) && !replacesResource(BUCKET, ["forceDestroy", "tags.app"]));
  });

  it("is consistent with the gate's lists: nothing that holds data is deleted first or on the no-data list; everything deleted first holds no data", () => {
    for (const [type, d] of Object.entries(REPLACEMENTS)) {
      if (d.kind === "migration") {
        assert.equal(holdsNoData(type), false, `${type} needs approval to be replaced`);
        assert.ok(d.nameInput, `${type}: a migration names the input that needs a new value`);
      }
      if (d.kind === "delete-first" || d.kind === "name-prefix") assert.ok(!STATEFUL_TYPES.includes(type), type);
      if (d.kind === "name-prefix") assert.ok(d.replacingInputs.includes("namePrefix"), type);
      assert.ok(d.why.length > 20, `${type} says why`);
    }
    for (const type of STATEFUL_TYPES.filter((t) => t in REPLACEMENTS)) assert.equal(replacementFor(type).kind, "migration", type);
    assert.ok(NO_DATA_TYPES.length > 0);
  });

  it("says plainly what replacing what holds data takes: a new name and a migration", () => {
    assert.equal(
      replacementNote(RDS, { reasons: ["engine"] }),
      "it holds data and keeps its name, so the replacement fails (already exists) before the old one is deleted: replacing it needs a new name and a data migration",
    );
    assert.equal(replacementNote(RDS), replacementNote(RDS, { reasons: [] }), "no reasons known: the name is kept");
    assert.equal(replacementNote(BUCKET, { reasons: ["bucket"] }), "the new one starts empty and the old one is deleted with its data: migrate the data first");
    assert.equal(replacementNote(REDIS, { renamed: true }), "the new one starts empty and the old one is deleted with its data: migrate the data first");
    assert.equal(replacementNote(SG, { reasons: ["description"] }), undefined);
    assert.equal(replacementNote("aws:iam/user:User"), undefined);
  });
});
