import { strict as assert } from "node:assert";
import { identity, IdentityIndex } from "../config/isolation";

const index = new IdentityIndex([
  identity("staging", [
    { kind: "share domain", value: "staging.mina.app", hostname: true },
    { kind: "bucket", value: "mina-audio-staging" },
    { kind: "account id", value: "210987654321" },
  ]),
  identity("staging-blue", [{ kind: "bucket", value: "mina-audio-staging-blue" }]),
  identity("production", [
    { kind: "share domain", value: "mina.app", hostname: true },
    { kind: "bucket", value: "mina-audio-production" },
    { kind: "account id", value: "123456789012" },
    { kind: "Slack channel", value: "#mina-alerts" },
  ]),
]);

const foreign = (value: string, own: string) => index.findForeign(value, own).map((m) => `${m.environment}/${m.kind}/${m.identifier}`);

describe("isolation: which environment a value belongs to", () => {
  it("finds another environment's name on word boundaries", () => {
    assert.deepEqual(foreign("pg-production.internal", "staging"), ["production/environment name/production"]);
    assert.deepEqual(foreign("mina_production", "staging"), ["production/environment name/production"]);
    assert.deepEqual(foreign("reproduction", "staging"), []);
  });

  it("knows common aliases", () => {
    assert.deepEqual(foreign("db.prod.example.com", "staging"), ["production/environment name/prod"]);
    assert.deepEqual(foreign("mina-stg", "production"), ["staging/environment name/stg"]);
  });

  it("lets the longest identifier win, so a longer own name is not foreign", () => {
    assert.deepEqual(foreign("mina-audio-staging-blue", "staging-blue"), []);
    assert.deepEqual(foreign("mina-audio-staging-blue", "staging"), ["staging-blue/bucket/mina-audio-staging-blue"]);
    assert.deepEqual(foreign("https://staging.mina.app/s/1", "staging"), []);
  });

  it("matches a domain only as a whole host", () => {
    assert.deepEqual(foreign("https://mina.app/share", "staging"), ["production/share domain/mina.app"]);
    assert.deepEqual(foreign("mina.app", "staging"), ["production/share domain/mina.app"]);
    assert.deepEqual(foreign("api.mina.app", "staging"), []);
    assert.deepEqual(foreign("platform@mina.app", "staging"), []);
  });

  it("finds account ids, channels and buckets", () => {
    assert.deepEqual(foreign("arn:aws:iam::123456789012:role/x", "staging"), ["production/account id/123456789012"]);
    assert.deepEqual(foreign("#mina-alerts", "staging"), ["production/Slack channel/#mina-alerts"]);
    assert.deepEqual(foreign("#mina-alerts-archive", "staging"), []);
    assert.deepEqual(foreign("s3://mina-audio-production/x", "staging"), ["production/bucket/mina-audio-production"]);
  });

  it("reports an identifier two environments both claim", () => {
    const shared = new IdentityIndex([
      identity("staging", [{ kind: "account id", value: "111111111111" }]),
      identity("production", [{ kind: "account id", value: "111111111111" }]),
    ]);
    assert.deepEqual(
      shared.findForeign("111111111111", "staging").map((m) => m.environment),
      ["production"],
    );
  });
});

describe("isolation: an unreadable stack file hides no other environment", () => {
  it("still knows production's account id when a sibling stack file is broken", () => {
    const { tempProject, REPO } = require("./helpers") as typeof import("./helpers");
    const fs = require("node:fs") as typeof import("fs");
    const { expectationsFor } = require("../config/expectations") as typeof import("../config/expectations");
    const { dir, cleanup } = tempProject({
      "Pulumi.production.yaml": fs.readFileSync(`${REPO}/Pulumi.production.yaml`, "utf8"),
      "Pulumi.qa.yaml": "config: [broken",
    });
    try {
      const expected = expectationsFor(dir, "staging");
      const found = expected.index.findForeign("arn:aws:iam::123456789012:user/x", "staging");
      assert.deepEqual(
        found.map((m) => `${m.environment}/${m.kind}`),
        ["production/account id"],
      );
      // And the broken file is named, so env export and verify fail closed on it.
      assert.equal(expected.unreadable?.length, 1);
      assert.match(expected.unreadable![0], /^Pulumi\.qa\.yaml: not valid YAML/);
    } finally {
      cleanup();
    }
  });
});
