/**
 * A new environment is a file: the README's recipe (copy a stack file, give the
 * copy an account, Upstash account, zone, domain and app host of its own) in a
 * project of the committed stack files, after which the plan passes, isolation
 * audit included, with no code change. That the whole suite passes with extra
 * stack files is proven by `.ci/extra-stacks`, which `.ci/run` runs after `npm test`.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { newEnvironment } from "../config/template";
import { planAll } from "../plan/plan";
import { REPO, tempProject } from "./helpers";

const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");

/** The README's recipe: `cp Pulumi.FROM.yaml Pulumi.NAME.yaml`, then give the copy identifiers of its own. */
function newEnvironmentFile(dir: string, from: string, name: string, own: Record<string, unknown>): void {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(dir, `Pulumi.${from}.yaml`), "utf8"));
  for (const [key, value] of Object.entries(own)) doc.setIn(["config", key], value);
  doc.commentBefore = ` The ${name} environment.`;
  fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), doc.toString());
}

/** Exactly the committed staging and production stack files and the review template, whatever else this checkout holds. */
const committed = () =>
  tempProject({
    "Pulumi.yaml": read("Pulumi.yaml"),
    "Pulumi.staging.yaml": read("Pulumi.staging.yaml"),
    "Pulumi.production.yaml": read("Pulumi.production.yaml"),
    "Pulumi.review.template.yaml": read("Pulumi.review.template.yaml"),
  });

describe("a new environment is a file (the README's recipe)", function () {
  this.timeout(60000);

  it("a copy of staging with identifiers of its own plans with the others, and the isolation audit passes", async () => {
    const { dir, cleanup } = committed();
    try {
      newEnvironmentFile(dir, "staging", "qa", {
        "aws:allowedAccountIds": ["567890123456"],
        "upstash:email": "upstash-qa@mina.app",
        "mina:shareDomain": "qa.mina.app",
        "mina:dnsZoneName": "qa.mina.app",
        "mina:dnsZoneId": "Z0QA0EXAMPLE",
        "mina:appHost": "203.0.113.57",
      });
      const plan = await planAll(dir);
      assert.deepEqual(
        plan.stacks.map((s) => [s.stack, s.ok, s.errors]),
        [
          ["production", true, []],
          ["qa", true, []],
          ["staging", true, []],
        ],
      );
      assert.deepEqual(plan.audit, { ok: true, conflicts: [], unaudited: [] });
      assert.equal(plan.ok, true);
    } finally {
      cleanup();
    }
  });

  it("so does a production-tier copy of production that shares nothing, and a review stack env:new writes", async () => {
    const { dir, cleanup } = committed();
    try {
      newEnvironmentFile(dir, "production", "demo", {
        "mina:profile": "production",
        "aws:allowedAccountIds": ["678901234567"],
        "upstash:email": "upstash-demo@mina.app",
        "mina:deployRunner": ["self-hosted", "mina-demo"],
        "mina:vpcId": "vpc-0a1b2c3d4e5f60007",
        "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60071", "subnet-0a1b2c3d4e5f60072"],
        "mina:dbAllowedCidrs": ["10.70.0.0/16"],
        "mina:shareDomain": "demo.mina.app",
        "mina:dnsZoneId": "Z0DEMO0EXAMPLE",
        "mina:appHost": "203.0.113.67",
      });
      newEnvironment(dir, "pr-7", "review");
      const plan = await planAll(dir);
      assert.deepEqual(
        plan.stacks.map((s) => [s.stack, s.ok, s.errors]),
        [
          ["demo", true, []],
          ["pr-7", true, []],
          ["production", true, []],
          ["staging", true, []],
        ],
      );
      assert.equal(plan.stacks.find((s) => s.stack === "demo")?.profile, "production");
      assert.deepEqual(plan.audit, { ok: true, conflicts: [], unaudited: [] });
    } finally {
      cleanup();
    }
  });

  it("a copy that keeps staging's domain is caught by the plan, not by a test that lists the stacks", async () => {
    const { dir, cleanup } = committed();
    try {
      newEnvironmentFile(dir, "staging", "qa", {
        "aws:allowedAccountIds": ["567890123456"],
        "upstash:email": "upstash-qa@mina.app",
        "mina:appHost": "203.0.113.57",
      });
      const plan = await planAll(dir);
      assert.equal(plan.ok, false);
      assert.ok(
        plan.stacks.some((s) => !s.ok && s.errors.some((e) => /mina:shareDomain/.test(e))),
        JSON.stringify(plan.stacks.map((s) => s.errors)),
      );
    } finally {
      cleanup();
    }
  });
});

describe("a review stack's file is never committed, and CI runs the suite with extra stack files", () => {
  it("git ignores Pulumi.pr-*.yaml (written by env:new in the review workflow's checkout)", () => {
    for (const file of ["Pulumi.pr-7.yaml", "Pulumi.pr-1234.yaml"]) {
      const r = spawnSync("git", ["check-ignore", "--no-index", "-q", file], { cwd: REPO });
      assert.equal(r.status, 0, `${file} is not ignored`);
    }
    for (const file of ["Pulumi.staging.yaml", "Pulumi.production.yaml", "Pulumi.prod-eu.yaml", "Pulumi.review.template.yaml"]) {
      const r = spawnSync("git", ["check-ignore", "--no-index", "-q", file], { cwd: REPO });
      assert.equal(r.status, 1, `${file} is ignored`);
    }
  });

  it(".ci/run runs .ci/extra-stacks after npm test; it adds a staging copy, a production-tier copy and an env:new review stack", () => {
    const ci = read(".ci/run");
    const main = ci.indexOf("\nnpm test\n");
    const extra = ci.indexOf("\n.ci/extra-stacks\n");
    assert.ok(main > 0, "`npm test` on a line of its own");
    assert.ok(extra > main, ".ci/extra-stacks on a line of its own, after npm test");
    const script = read(".ci/extra-stacks");
    assert.match(script, /environment\("staging", "qa",/);
    assert.match(script, /environment\("production", "demo",/);
    assert.match(script, /env:new pr-7 --from review/);
    assert.match(script, /\n {2}npm test\n/);
    assert.ok((fs.statSync(path.join(REPO, ".ci", "extra-stacks")).mode & 0o111) !== 0, ".ci/extra-stacks is executable");
  });
});
