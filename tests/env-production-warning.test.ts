import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isProductionTier } from "../config/workflowStacks";
import { REPO } from "./helpers";

describe("npm run env: which stacks get the production warning", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-env-tier-"));
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, "Pulumi.eu.yaml"), "config:\n  mina:profile: production\n");
    fs.writeFileSync(path.join(dir, "Pulumi.pr-7.yaml"), "config:\n  mina:profile: review\n");
    fs.writeFileSync(path.join(dir, "Pulumi.broken.yaml"), "config: [\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("every production-tier stack, and one whose stack file cannot be read; no other", () => {
    const tiers = Object.fromEntries(["production", "eu", "broken", "staging", "pr-7"].map((s) => [s, isProductionTier(dir, s)]));
    assert.deepEqual(tiers, { production: true, eu: true, broken: true, staging: false, "pr-7": false });
  });
});
