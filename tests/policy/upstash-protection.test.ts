import * as assert from "node:assert/strict";
import { STATEFUL_TYPES } from "../../config/protection";
import { protectStatefulInProduction } from "../../policy/rules/protection";
import { upstashTls } from "../../policy/rules/upstash";
import type { PlannedResource } from "../../policy/rules";
import { assertNoViolations, contextOf, only, recorded, run, runOn, withProps } from "./helpers";

describe("policy: Upstash and protection rules", () => {
  const staging = contextOf("staging");
  const production = contextOf("production");

  describe("#upstashTls", () => {
    const rule = upstashTls();
    const happyPath = async (stack: "staging" | "production") => only(await recorded(stack), "upstash:index/redisDatabase:RedisDatabase");

    it("passes on the Redis database of both committed stacks", async () => {
      assertNoViolations(runOn(rule, await happyPath("staging"), staging));
      assertNoViolations(runOn(rule, await happyPath("production"), production));
    });

    it("fails when tls is false", async () => {
      assert.deepEqual(runOn(rule, withProps(await happyPath("staging"), { tls: false }), staging), [
        "tls is false; the Redis database accepts TLS connections only (rediss://)",
      ]);
    });

    it("fails when tls is not set", async () => {
      assert.deepEqual(runOn(rule, withProps(await happyPath("production"), { tls: undefined }), production), [
        "tls is not set; the Redis database accepts TLS connections only (rediss://)",
      ]);
    });
  });

  describe("#protectStatefulInProduction", () => {
    const rule = protectStatefulInProduction();
    const unprotected = "is not protected; in production a resource that holds data is declared with protect: true";

    it("passes on both committed stacks", async () => {
      assertNoViolations(run(rule, await recorded("staging"), staging));
      assertNoViolations(run(rule, await recorded("production"), production));
    });

    for (const type of ["aws:rds/instance:Instance", "aws:s3/bucket:Bucket", "upstash:index/redisDatabase:RedisDatabase"]) {
      it(`fails in production when the ${type} is not protected`, async () => {
        const r = only(await recorded("production"), type);
        assert.equal(r.protect, true);
        assert.deepEqual(runOn(rule, { ...r, protect: false }, production), [unprotected]);
      });
    }

    for (const type of ["postgresql:index/database:Database", "postgresql:index/role:Role"]) {
      it(`fails for an unprotected ${type} in a production-profile stack (server mode)`, async () => {
        const r = only(await recorded("staging"), type);
        assert.equal(r.protect, false);
        assert.deepEqual(runOn(rule, r, { ...staging, profile: "production" }), [unprotected]);
      });
    }

    it("fails for an unprotected hosted zone in production", () => {
      const zone: PlannedResource = { type: "aws:route53/zone:Zone", name: "zone", props: { name: "mina.app" }, protect: false };
      assert.deepEqual(runOn(rule, zone, production), [unprotected]);
    });

    it("does not apply outside production, nor to stateless resources", async () => {
      assertNoViolations(runOn(rule, only(await recorded("staging"), "aws:s3/bucket:Bucket"), staging));
      assertNoViolations(runOn(rule, only(await recorded("production"), "aws:iam/user:User"), production));
    });

    it("covers the stateful types the brief names", () => {
      for (const type of [
        "aws:rds/instance:Instance",
        "aws:s3/bucket:Bucket",
        "upstash:index/redisDatabase:RedisDatabase",
        "postgresql:index/database:Database",
        "postgresql:index/role:Role",
        "aws:route53/zone:Zone",
      ]) {
        assert.ok((STATEFUL_TYPES as readonly string[]).includes(type), type);
      }
    });
  });
});
