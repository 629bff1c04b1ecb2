/**
 * The review profile: staging's settings, shorter-lived data, no protection, and a
 * bucket `pulumi destroy` can remove with its objects; production's protections
 * never, and only a review stack's bucket is force-destroyed.
 */
import { strict as assert } from "node:assert";
import { defaultsFor, PROFILES } from "../config/defaults";
import { protectionFor } from "../config/protection";
import { productionEnvironmentNamed } from "../config/validation/review";
import { KEYS } from "../config/schema";
import type { StackConfig } from "../config/stackConfig";
import { validateStack } from "../config/validation/validate";
import { promiseOf, type RecordedResource, runUnderMocks } from "../plan/mockRuntime";
import { productionRaw, STAGING_ACCOUNT, stagingRaw, validationErrors } from "./helpers";

const REVIEW_ACCOUNT = "345678901234";

/** A review stack, as env:new writes one (secrets decrypted, as under `pulumi up`). */
function reviewRaw(overrides: Record<string, unknown> = {}, stack = "pr-7") {
  return stagingRaw(
    {
      "mina:profile": "review",
      "aws:allowedAccountIds": [REVIEW_ACCOUNT],
      "mina:dbServerHost": "pg-review.internal.mina.app",
      "mina:dbServerAdminUser": "mina_review_provisioner",
      "mina:shareDomain": `${stack}.review.mina.app`,
      "mina:dnsZoneName": "review.mina.app",
      "mina:appHost": "203.0.113.30",
      ...overrides,
    },
    stack,
  );
}

const siblings = (...more: ReturnType<typeof stagingRaw>[]) => [stagingRaw(), productionRaw(), ...more];

describe("review profile: the decisions", () => {
  it("is a profile mina:profile accepts", () => {
    assert.deepEqual([...PROFILES], ["production", "staging", "review"]);
    assert.deepEqual(KEYS["mina:profile"].values, PROFILES);
  });

  it("force-destroys the bucket of a review environment only, and protects nothing of it", () => {
    assert.deepEqual(protectionFor("review"), {
      protect: false,
      deletionProtection: false,
      finalSnapshot: false,
      versioning: false,
      forceDestroy: true,
      secretRecoveryDays: 0,
    });
    assert.equal(protectionFor("staging").forceDestroy, false);
    assert.equal(protectionFor("production").forceDestroy, false);
    assert.equal(protectionFor("production").protect, true);
  });

  it("force-deletes a review environment's app env secret (recovery window 0), so the next one of that name can be made at once", () => {
    assert.equal(protectionFor("review").secretRecoveryDays, 0);
    assert.equal(protectionFor("staging").secretRecoveryDays, 7, "the shortest window AWS allows besides 0");
    assert.equal(protectionFor("production").secretRecoveryDays, 30, "AWS's default");
  });

  it("has staging's settings, one day of backups, audio kept a week and a smaller Redis budget", () => {
    const review = defaultsFor("review");
    const staging = defaultsFor("staging");
    const differs = { dbBackupRetentionDays: 0, bucketExpireDays: 0, redisBudget: 0 };
    assert.deepEqual({ ...review, ...differs }, { ...staging, ...differs });
    assert.equal(review.dbBackupRetentionDays, 1);
    assert.equal(review.bucketExpireDays, 7);
    assert.ok(review.redisBudget < staging.redisBudget, "a throwaway environment's cache costs less than staging's");
    assert.equal(review.dbMultiAz, false);
  });

  it("is only ever chosen explicitly", () => {
    const { config } = validateStack(reviewRaw(), { siblings: siblings(reviewRaw()), requireSecrets: true });
    assert.equal(config.profile, "review");
    assert.equal(config.protection.forceDestroy, true);
    assert.equal(config.bucket.expireDays, 7);
    const plain = validateStack(stagingRaw({ "aws:allowedAccountIds": ["333333333333"], "mina:appHost": "203.0.113.88" }, "pr-8"), {
      siblings: siblings(),
      requireSecrets: true,
    }).config;
    assert.equal(plain.profile, "staging");
    assert.equal(plain.protection.forceDestroy, false);
  });
});

describe("review profile: never on a production name", () => {
  it("names production by its name, its aliases and every production-profile stack, on word boundaries", () => {
    const eu = { ...productionRaw(), stack: "eu", file: "Pulumi.eu.yaml", values: { ...productionRaw().values, "mina:profile": "production" } };
    for (const [name, expected] of [
      ["production", "production"],
      ["prod", "production"],
      ["prd", "production"],
      ["prod-fix", "production"],
      ["fix-production-2", "production"],
      ["eu", "eu"],
      ["eu-hotfix", "eu"],
      ["reproduce", undefined],
      ["pr-7", undefined],
      ["staging-2", undefined],
    ] as const) {
      assert.equal(productionEnvironmentNamed(name, [stagingRaw(), productionRaw(), eu]), expected, name);
    }
  });

  it("refuses the review profile on a stack that names production, in one line", () => {
    const prod = reviewRaw({}, "prod-fix");
    assert.deepEqual(
      validationErrors(prod, siblings(prod)).filter((l) => l.includes("mina:profile")),
      [
        'Pulumi.prod-fix.yaml: mina:profile: is review, but the stack name "prod-fix" names the production environment "production": a throwaway environment never carries a production name',
      ],
    );
  });
});

describe("review profile: pull request code never holds a long-lived environment's credential", () => {
  it("refuses a review stack on staging's server (with or without its admin role), its account or its marked keys, naming why", () => {
    for (const [over, key] of [
      [{ "mina:dbServerHost": "pg-shared.internal.mina.app" }, "mina:dbServerHost"],
      // The admin role is staging's only on staging's server (a role of that name elsewhere is another role): the server decides.
      [{ "mina:dbServerHost": "pg-shared.internal.mina.app", "mina:dbServerAdminUser": "mina_provisioner" }, "mina:dbServerHost"],
      [{ "aws:allowedAccountIds": [STAGING_ACCOUNT] }, "aws:allowedAccountIds"],
    ] as const) {
      const pr = reviewRaw(over);
      const lines = validationErrors(pr, siblings(pr)).filter((l) => l.startsWith(`Pulumi.pr-7.yaml: ${key}: `));
      assert.equal(lines.length, 1, `${key}: ${validationErrors(pr, siblings(pr)).join("\n")}`);
      assert.ok(/review environment|carries staging's/.test(lines[0]), lines[0]);
    }
    const shared = reviewRaw({ "upstash:email": "platform@mina.app", "mina:shareWithinTier": ["upstash:email"] });
    const stagingMarks = stagingRaw({ "upstash:email": "platform@mina.app", "mina:shareWithinTier": ["upstash:email"] });
    assert.ok(
      validationErrors(shared, [stagingMarks, productionRaw(), shared]).some((l) =>
        l.includes(
          "pr-7 is a review environment (its deploy runs pull request code), so it shares no account, server, admin role, zone or credential with staging",
        ),
      ),
    );
  });

  it("lets review environments share their own tier's server and account with each other", () => {
    const a = reviewRaw({}, "pr-7");
    const b = reviewRaw({}, "pr-8");
    assert.deepEqual(
      validationErrors(a, siblings(a, b)).filter((l) => /dbServerHost|allowedAccountIds|dbServerAdminUser/.test(l)),
      [],
    );
  });
});

describe("review profile: the program under the mock runtime", function () {
  this.timeout(60000);
  const runs: Record<string, { config: StackConfig; resources: RecordedResource[] }> = {};

  async function run(raw: ReturnType<typeof stagingRaw>, all: ReturnType<typeof stagingRaw>[]) {
    const { config } = validateStack(raw, { siblings: all, requireSecrets: true });
    const { result, resources } = await runUnderMocks("mina", raw.stack, () => {
      const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
      return defineEnvironment(config);
    });
    await promiseOf(result.env);
    return { config, resources };
  }

  const instanceReview = () =>
    reviewRaw(
      {
        "mina:databaseMode": "instance",
        "mina:vpcId": "vpc-0a1b2c3d4e5f60099",
        "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60091", "subnet-0a1b2c3d4e5f60092"],
        "mina:dbAllowedCidrs": ["10.30.0.0/16"],
        "mina:dbServerHost": undefined,
        "mina:dbServerAdminPassword": undefined,
      },
      "pr-9",
    );

  before(async () => {
    runs.review = await run(reviewRaw(), siblings(reviewRaw()));
    runs.staging = await run(stagingRaw(), siblings());
    runs.production = await run(productionRaw(), siblings());
    runs.instance = await run(instanceReview(), siblings(instanceReview()));
  });

  const bucketOf = (stack: string) => {
    const found = runs[stack].resources.filter((r) => r.type === "aws:s3/bucket:Bucket");
    assert.equal(found.length, 1);
    return found[0];
  };

  it("gives the review stack's bucket forceDestroy, and staging's and production's not", () => {
    assert.equal(bucketOf("review").inputs.forceDestroy, true);
    assert.equal(bucketOf("review").inputs.bucket, "mina-audio-pr-7");
    assert.equal(bucketOf("staging").inputs.forceDestroy, false);
    assert.equal(bucketOf("production").inputs.forceDestroy, false);
  });

  it("protects nothing of a review stack, expires its audio after a week, and keeps no versions", () => {
    const r = runs.review.resources;
    assert.ok(r.length >= 10);
    for (const x of r) assert.equal(x.protect, false, `${x.type} ${x.name}`);
    assert.equal(r.filter((x) => x.type === "aws:s3/bucketVersioning:BucketVersioning").length, 0);
    const rules = r.find((x) => x.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")!.inputs.rules as {
      expiration?: { days: number };
    }[];
    assert.ok(rules.some((x) => x.expiration?.days === 7));
  });

  it("in instance mode, gives a review stack's RDS instance no deletion protection, no final snapshot and one day of backups", () => {
    const db = runs.instance.resources.find((x) => x.type === "aws:rds/instance:Instance")!.inputs;
    assert.equal(db.identifier, "mina-pr-9");
    assert.equal(db.deletionProtection, false);
    assert.equal(db.skipFinalSnapshot, true);
    assert.equal(db.finalSnapshotIdentifier, undefined);
    assert.equal(Number(db.backupRetentionPeriod), 1);
    assert.equal(db.multiAz, false);
  });
});
