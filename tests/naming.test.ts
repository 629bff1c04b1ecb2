import { strict as assert } from "node:assert";
import { checkNameLimits, dbParameterGroupPrefix, deriveNames, ENVIRONMENT_PATTERN, isolationCriticalNames } from "../config/naming";

describe("naming: every physical name comes from (app, environment)", () => {
  it("derives staging's names", () => {
    const n = deriveNames("staging");
    assert.equal(n.databaseName, "mina_staging");
    assert.equal(n.databaseRole, "mina_staging_app");
    assert.equal(n.bucket, "mina-audio-staging");
    assert.equal(n.redisDatabase, "mina-staging");
    assert.equal(n.rdsIdentifier, "mina-staging");
    assert.equal(n.slackChannel, "#mina-staging-alerts");
    assert.equal(n.sentryEnvironment, "staging");
    assert.deepEqual(n.tags, { environment: "staging", app: "mina", "managed-by": "pulumi" });
  });

  it("gives production the guide's channel and its own names", () => {
    const n = deriveNames("production");
    assert.equal(n.slackChannel, "#mina-alerts");
    assert.equal(n.bucket, "mina-audio-production");
    assert.equal(n.databaseName, "mina_production");
  });

  it("turns hyphens into underscores for PostgreSQL identifiers only", () => {
    const n = deriveNames("staging-blue");
    assert.equal(n.databaseName, "mina_staging_blue");
    assert.equal(n.databaseRole, "mina_staging_blue_app");
    assert.equal(n.bucket, "mina-audio-staging-blue");
  });

  it("puts the environment in every isolation-critical name", () => {
    for (const env of ["staging", "production", "qa-2"]) {
      for (const [kind, value] of Object.entries(isolationCriticalNames(deriveNames(env)))) {
        assert.ok(value.includes(env) || value.includes(env.replace(/-/g, "_")) || (env === "production" && kind === "slackChannel"), `${kind} ${value}`);
      }
    }
  });

  it("derives the name prefixes the provider completes (security group, parameter group by major version)", () => {
    const n = deriveNames("staging-blue");
    assert.equal(n.dbSecurityGroupPrefix, "mina-staging-blue-db-");
    assert.equal(dbParameterGroupPrefix(n, "16"), "mina-staging-blue-pg16-");
    assert.equal(dbParameterGroupPrefix(n, "16.4"), "mina-staging-blue-pg16-");
    assert.equal(dbParameterGroupPrefix(deriveNames("production"), "17.1"), "mina-production-pg17-");
  });

  it("keeps the longest allowed environment inside every provider limit", () => {
    assert.deepEqual(checkNameLimits(deriveNames("a".repeat(24))), []);
    assert.ok(ENVIRONMENT_PATTERN.test("a".repeat(24)));
    assert.ok(!ENVIRONMENT_PATTERN.test("a".repeat(25)));
  });

  it("reports a bucket override that breaks S3's rules", () => {
    assert.deepEqual(checkNameLimits(deriveNames("staging", { bucket: "Mina_Audio_staging" })), [
      'bucket name "Mina_Audio_staging" must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit',
    ]);
  });

  it("accepts only lowercase names with single hyphens as environments", () => {
    for (const ok of ["staging", "production", "staging-blue", "qa2"]) assert.ok(ENVIRONMENT_PATTERN.test(ok), ok);
    for (const bad of ["Staging", "staging--blue", "staging-", "-x", "2fa", "dev_1", "s"]) assert.ok(!ENVIRONMENT_PATTERN.test(bad), bad);
  });
});
