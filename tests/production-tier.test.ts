/**
 * One definition of "production": a stack is production's when its file says
 * `mina:profile: production` or its name reads as production (`readsAsProduction`),
 * and validation, the tiers, the workflows' stack list, the sweeper and the review
 * profile all ask the same two functions, so they cannot disagree.
 */
import { strict as assert } from "node:assert";
import { profileFor, readsAsProduction } from "../config/defaults";
import { type RawStackConfig, SecureValue } from "../config/raw";
import { tierOfRaw } from "../config/tiers";
import { validateStack } from "../config/validation/validate";
import { decideSweep } from "../ops/sweep";
import { euRaw, productionRaw, stagingRaw, validationErrors } from "./helpers";

const named = (raw: RawStackConfig, stack: string): RawStackConfig => ({ ...raw, stack, file: `Pulumi.${stack}.yaml` });
const errorsOf = (raw: RawStackConfig, others: RawStackConfig[]) => validationErrors(raw, [raw, ...others]);

describe("one definition of production", () => {
  it("reads a name as production by its words: production and its aliases, on word boundaries only", () => {
    for (const name of ["production", "prod", "prd", "prod-eu", "eu-prod", "eu-prd-2", "fix-production-2"]) assert.equal(readsAsProduction(name), true, name);
    for (const name of ["staging", "reproduce", "products", "prodigy", "pr-7", "eu", "preprod"]) assert.equal(readsAsProduction(name), false, name);
  });

  it("gives such a stack production's profile and tier without a declaration, and refuses another profile", () => {
    assert.equal(profileFor("prod-eu"), "production");
    const prodEu = euRaw({ "mina:profile": undefined, "mina:sentryToken": new SecureValue("sntrys_eu_token") }, "prod-eu");
    assert.equal(tierOfRaw(prodEu), "production");
    const { config } = validateStack(prodEu, { siblings: [prodEu, stagingRaw(), productionRaw()], requireSecrets: false });
    assert.equal(config.profile, "production");
    assert.equal(config.protection.deletionProtection, true);
    const declaredStaging = named({ ...prodEu, values: { ...prodEu.values, "mina:profile": "staging" } }, "prod-eu");
    assert.equal(tierOfRaw(declaredStaging), "production", "its tier stays production while the file is wrong");
    assert.ok(
      errorsOf(declaredStaging, [stagingRaw(), productionRaw()]).includes(
        'Pulumi.prod-eu.yaml: mina:profile: is staging, but the stack name "prod-eu" reads as production (it has one of the words production, prod, prd): such a stack is production\'s everywhere, so it carries the production profile; set mina:profile: production, or choose a name without those words',
      ),
    );
  });

  it("makes a prod-named stack share nothing with staging: staging's account, zone and server are refused", () => {
    const prodEu = named(stagingRaw({ "mina:deployRunner": ["self-hosted", "mina-prod-eu"] }, "prod-eu"), "prod-eu");
    const lines = errorsOf(prodEu, [stagingRaw()]);
    assert.ok(lines.includes(`Pulumi.prod-eu.yaml: aws:allowedAccountIds: carries staging's account id "210987654321"`), lines.join("\n"));
    assert.ok(
      lines.some(
        (l) => l.startsWith("Pulumi.prod-eu.yaml: mina:dbServerHost: holds ") && l.endsWith("production shares no supplied value with another environment"),
      ),
      lines.join("\n"),
    );
  });

  it("keeps the sweeper's rule the same: a prod-named review stack is kept, one whose name only contains the letters is swept", () => {
    const NOW = Date.parse("2026-12-04T00:00:00Z");
    const old = NOW - 10 * 24 * 3_600_000;
    const tags = { "mina:created-by": "env:new" };
    const plan = decideSweep(
      [
        { name: "pr-12-reproduce", lastUpdate: old, tags },
        { name: "pr-13", lastUpdate: old, tags: {} },
        { name: "prod-eu", lastUpdate: old, tags: {} },
      ],
      { now: NOW, ttlMs: 72 * 3_600_000, productionStackFiles: [] },
    );
    const decisions = Object.fromEntries(plan.rows.map((r) => [r.stack, [r.decision, r.reason]]));
    assert.deepEqual(decisions["pr-12-reproduce"][0], "destroy");
    assert.deepEqual(decisions["prod-eu"], ["keep", "production tier (its name reads as production)"]);
    const marked = decideSweep([{ name: "pr-7-prod-fix", lastUpdate: old, tags }], { now: NOW, ttlMs: 72 * 3_600_000 });
    assert.equal(marked.refused.length, 1, "a marked stack whose name reads as production stops the sweep: never destroyed");
  });
});
