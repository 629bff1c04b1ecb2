/**
 * Sentry, declared per environment: a project and a key of its own (or, in the
 * non-production tier, a key of its own in a shared project the config names),
 * through the stack's own Sentry provider; SENTRY_DSN is the key's DSN, secret,
 * never a pasted value. Without Sentry config, no Sentry resource and an empty DSN.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { SecureValue } from "../config/raw";
import { validateStack } from "../config/validation/validate";
import type { ConfigErrors } from "../config/raw";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { productionRaw, stagingRaw } from "./helpers";

async function declare(raw: ReturnType<typeof stagingRaw>, siblings: ReturnType<typeof stagingRaw>[]) {
  const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
  const { config } = validateStack(raw, { siblings, requireSecrets: true });
  const { result, resources } = await runUnderMocks("mina", raw.stack, () => defineEnvironment(config));
  return { env: await promiseOf(result.env), envSecret: await pulumi.isSecret(result.env), resources };
}

const errorsOf = (raw: ReturnType<typeof stagingRaw>, siblings: ReturnType<typeof stagingRaw>[]) => {
  try {
    validateStack(raw, { siblings, requireSecrets: true });
    return [];
  } catch (e) {
    return (e as ConfigErrors).errors.map((x) => x.message);
  }
};

describe("Sentry per environment", function () {
  this.timeout(30000);

  it("declares production's own project and key through its own provider; SENTRY_DSN is that key's DSN", async () => {
    const { env, resources } = await declare(productionRaw(), [stagingRaw(), productionRaw()]);
    const project = resources.find((r) => r.type === "sentry:index/sentryProject:SentryProject")!;
    const key = resources.find((r) => r.type === "sentry:index/sentryKey:SentryKey")!;
    const provider = resources.find((r) => r.type === "pulumi:providers:sentry")!;
    assert.deepEqual([project.inputs.organization, project.inputs.slug, project.inputs.teams], ["mina", "mina-production", ["platform"]]);
    assert.equal(project.protect, true, "production's project is protected");
    assert.deepEqual([key.inputs.organization, key.inputs.project, key.inputs.name], ["mina", "mina-production", "mina-production"]);
    for (const r of [project, key]) assert.match(r.provider, new RegExp(`::${provider.name}::`), `${r.type} uses the stack's own provider`);
    assert.match(env.SENTRY_DSN, /^https:\/\/mock[0-9a-f]+@sentry\.invalid\/\d+$/);
  });

  it("declares nothing and leaves SENTRY_DSN empty when the stack has no Sentry organization", async () => {
    const { env, resources } = await declare(stagingRaw(), [stagingRaw(), productionRaw()]);
    assert.equal(env.SENTRY_DSN, "");
    assert.deepEqual(
      resources.filter((r) => r.type.startsWith("sentry:") || r.type === "pulumi:providers:sentry"),
      [],
    );
  });

  it("gives two non-production environments keys of their own in a project they both name and mark shared", async () => {
    const shared = {
      "mina:sentryOrganization": "mina",
      "mina:sentryTeam": "platform",
      "mina:sentryToken": new SecureValue("t"),
      "mina:sentrySharedProject": "mina-nonprod",
      "mina:shareWithinTier": ["mina:sentrySharedProject"],
    };
    const staging = stagingRaw(shared);
    const blue = stagingRaw({ ...shared, "aws:allowedAccountIds": ["333333333333"], "mina:appHost": "203.0.113.77" }, "staging-blue");
    const siblings = [staging, blue, productionRaw()];
    const a = await declare(staging, siblings);
    const b = await declare(blue, siblings);
    for (const r of [a, b])
      assert.deepEqual(
        r.resources.filter((x) => x.type === "sentry:index/sentryProject:SentryProject"),
        [],
        "a shared project is not declared by its users",
      );
    const keyOf = (r: typeof a) => r.resources.find((x) => x.type === "sentry:index/sentryKey:SentryKey")!;
    assert.deepEqual([keyOf(a).inputs.project, keyOf(b).inputs.project], ["mina-nonprod", "mina-nonprod"]);
    assert.notEqual(a.env.SENTRY_DSN, b.env.SENTRY_DSN, "each environment has a key of its own");
    assert.notEqual(a.env.SENTRY_ENVIRONMENT, b.env.SENTRY_ENVIRONMENT);
    // Unmarked on one side, the same shared project is refused.
    const unmarked = stagingRaw(
      { ...shared, "mina:shareWithinTier": undefined, "aws:allowedAccountIds": ["333333333333"], "mina:appHost": "203.0.113.77" },
      "staging-blue",
    );
    assert.ok(errorsOf(unmarked, [staging, unmarked, productionRaw()]).some((l) => l.startsWith("Pulumi.staging-blue.yaml: mina:sentrySharedProject: holds")));
  });

  it("refuses a shared project in production, a pasted DSN, and an organization without its team or token", () => {
    const siblings = [stagingRaw(), productionRaw()];
    assert.ok(
      errorsOf(productionRaw({ "mina:sentrySharedProject": "mina-nonprod" }), siblings).includes(
        "Pulumi.production.yaml: mina:sentrySharedProject: is refused in production: production has a Sentry project and key of its own, shared with no environment",
      ),
    );
    const pasted = errorsOf(stagingRaw({ "mina:sentryDsn": new SecureValue("https://abc@o1.ingest.sentry.io/2") }), siblings);
    assert.deepEqual(pasted, [
      "Pulumi.staging.yaml: mina:sentryDsn: is no longer read: a DSN is not pasted any more; each environment declares its own Sentry project and key (mina:sentryOrganization, mina:sentryTeam, mina:sentryToken); remove it",
    ]);
    const half = errorsOf(stagingRaw({ "mina:sentryOrganization": "mina" }), siblings);
    assert.ok(
      half.some((l) => l.startsWith("Pulumi.staging.yaml: mina:sentryTeam: is required with mina:sentryOrganization")),
      half.join("\n"),
    );
    assert.ok(
      half.some((l) => l.startsWith("Pulumi.staging.yaml: mina:sentryToken: is required with mina:sentryOrganization")),
      half.join("\n"),
    );
    assert.ok(
      errorsOf(stagingRaw({ "mina:sentryTeam": "platform" }), siblings).includes(
        "Pulumi.staging.yaml: mina:sentryTeam: is set without mina:sentryOrganization: Sentry is off for this stack",
      ),
    );
  });
});
