import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { auditPlans, type Plan, planAll, planStack, type StackPlan } from "../plan/plan";
import { policyChecker } from "../plan/policyCheck";
import { renderMarkdown, renderText } from "../plan/render";
import { SecureValue } from "../config/raw";
import { run, spawnCli } from "./cli";
import { missingStack, productionRaw, REPO, stacksOf, stagingRaw, tempProject } from "./helpers";

const plan = (...args: string[]) => run("plan", args);

const stackFile = (name: string) => fs.readFileSync(path.join(REPO, name), "utf8");

describe("npm run plan (offline, under the mock runtime)", function () {
  this.timeout(60000);

  it("plans the committed stacks, lists missing secrets, and passes the audit (end to end, through the bin)", async () => {
    const r = spawnCli("plan", ["--json"]);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as Plan;
    assert.match(p.note, /not a diff against deployed state/);
    assert.deepEqual(
      p.stacks.map((s) => s.stack),
      stacksOf(),
    );
    assert.equal(p.audit.ok, true);
    const staging = p.stacks.find((s) => s.stack === "staging")!;
    assert.ok(staging.missingSecrets.some((m) => m.command === "pulumi config set --secret mina:openaiApiKey <value> --stack staging"));
    assert.ok(staging.resources.some((x) => x.type === "aws:s3/bucket:Bucket" && x.physicalName === "mina-audio-staging" && !x.protected));
    const production = p.stacks.find((s) => s.stack === "production")!;
    assert.ok(production.resources.some((x) => x.type === "aws:rds/instance:Instance" && x.physicalName === "mina-production" && x.protected));
    assert.ok(staging.variables.some((v) => v.name === "DATABASE_URL" && v.secret));
  });

  it("never prints a secret value", async () => {
    for (const format of ["text", "markdown", "json"]) {
      const out = (await plan("--format", format)).stdout;
      assert.doesNotMatch(out, /[0-9a-f]{64}/, format);
      assert.doesNotMatch(out, /postgresql:\/\/|rediss:\/\/|AKIA/, format);
    }
  });

  it("records each explicit provider's inputs (a secret one as a fingerprint, never its value) and each resource's provider", async () => {
    const plan = async (adminPassword: string) =>
      planStack(REPO, "staging", [stagingRaw({ "mina:dbServerAdminPassword": new SecureValue(adminPassword) }), productionRaw()]);
    const s = await await plan("first admin secret");
    const byName = (n: string) => s.resources.find((r) => r.name === n)!;
    assert.deepEqual(byName("mina-staging-aws").providerInputs!.region, { value: "us-east-1" });
    assert.deepEqual(byName("mina-staging-aws").providerInputs!.allowedAccountIds, { value: '["210987654321"]' });
    const password = byName("mina-staging-database-admin").providerInputs!.password;
    assert.ok("secret" in password && /^[0-9a-f]{32}$/.test(password.fingerprint), JSON.stringify(password));
    assert.ok("secret" in byName("mina-staging-cache-upstash").providerInputs!.apiKey);
    assert.equal(byName("mina-staging-bucket-bucket").provider, "pulumi:providers:aws::mina-staging-aws");
    assert.equal(byName("mina-staging-database-role").provider, "pulumi:providers:postgresql::mina-staging-database-admin");
    assert.equal(byName("mina-staging-cache-redis").provider, "pulumi:providers:upstash::mina-staging-cache-upstash");
    assert.equal(byName("mina-staging-secrets-secret-key").provider, undefined, "random uses its default provider");
    assert.equal(byName("mina-staging-bucket-bucket").providerInputs, undefined, "only providers carry their inputs");
    const json = JSON.stringify(s);
    for (const secret of ["first admin secret", "upstash-staging-key", "sk-staging-openai"]) assert.ok(!json.includes(secret), secret);
    const again = await await plan("first admin secret");
    const other = await await plan("second admin secret");
    const fingerprint = (p: StackPlan) => JSON.stringify(p.resources.find((r) => r.name === "mina-staging-database-admin")!.providerInputs!.password);
    assert.equal(fingerprint(again), fingerprint(s), "the same value gives the same fingerprint");
    assert.notEqual(fingerprint(other), fingerprint(s), "another value gives another fingerprint");
  });

  it("says plainly that it is not a diff against deployed state, in text and markdown", async () => {
    assert.match((await plan()).stdout, /it is not a diff against deployed state/);
    const md = (await plan("--format", "markdown")).stdout;
    assert.match(md, /^## mina-infra plan/);
    assert.match(md, /\| `aws:s3:Bucket` \| mina-production-bucket-bucket \| `mina-audio-production` \| 🔒 yes \|/);
  });

  it("plans a third stack file with no code change", async () => {
    const blue = stackFile("Pulumi.staging.yaml")
      .replace(/staging/g, "staging-blue")
      .replace("210987654321", "333333333333")
      .replace("Z0STAGING0EXAMPLE", "Z0BLUE0EXAMPLE")
      .replace("203.0.113.20", "203.0.113.30");
    const { dir, cleanup } = tempProject({
      "Pulumi.staging.yaml": stackFile("Pulumi.staging.yaml"),
      "Pulumi.production.yaml": stackFile("Pulumi.production.yaml"),
      "Pulumi.staging-blue.yaml": blue,
    });
    try {
      const r = await plan("--json", "--dir", dir);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const p = JSON.parse(r.stdout) as Plan;
      const s = p.stacks.find((x) => x.stack === "staging-blue")!;
      assert.equal(s.outputs.bucketName, "mina-audio-staging-blue");
      assert.equal(s.outputs.databaseName, "mina_staging_blue");
    } finally {
      cleanup();
    }
  });

  it("exits non-zero on an invalid config, with the file and the key", async () => {
    const { dir, cleanup } = tempProject({
      "Pulumi.staging.yaml": stackFile("Pulumi.staging.yaml").replace("pg-shared.internal.mina.app", "pg-production.internal"),
      "Pulumi.production.yaml": stackFile("Pulumi.production.yaml"),
    });
    try {
      const r = await plan("--dir", dir);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /Pulumi\.staging\.yaml: mina:dbServerHost: names environment "production" \("production"\)/);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, "no stack trace");
    } finally {
      cleanup();
    }
  });

  it("refuses an unknown stack with one line and exit 2", async () => {
    const missing = missingStack();
    const r = await plan("--stack", missing);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim(), `error: no stack named ${missing} (stacks: ${stacksOf().join(", ")})`);
  });

  it("has --help", async () => {
    const r = await plan("--help");
    assert.equal(r.status, 0);
    assert.match(r.stdout, /--stack <name\.\.\.>/);
    assert.match(r.stdout, /--format <format>/);
  });
});

describe("policy rules inside the plan", function () {
  this.timeout(60000);

  it("runs the policy pack's rules over the planned resources: none violated by the committed stacks", async () => {
    const p = await planAll(REPO, undefined, policyChecker(REPO));
    assert.equal(p.ok, true);
    assert.deepEqual(
      p.stacks.flatMap((s) => s.violations),
      [],
    );
  });

  it("fails the plan and prints a violation the rules report", async () => {
    const checker = policyChecker(REPO);
    const p = await planAll(REPO, ["production"], (resources, config) =>
      checker(
        resources.map((r) => (r.type === "aws:rds/instance:Instance" ? { ...r, inputs: { ...r.inputs, publiclyAccessible: true } } : r)),
        config,
      ),
    );
    assert.equal(p.ok, false);
    const v = p.stacks[0].violations;
    assert.equal(v.length, 1);
    assert.equal(v[0].rule, "rds-not-public");
    assert.match(renderText(p), /✗ Policy violations \(1\):\n {4}\[rds-not-public\] mina-production-database-instance: /);
  });
});

describe("isolation audit across stacks", () => {
  const stack = (name: string, bucket: string): StackPlan => ({
    stack: name,
    file: `Pulumi.${name}.yaml`,
    ok: true,
    errors: [],
    resources: [
      { type: "aws:s3/bucket:Bucket", name: `${name}-bucket`, physicalName: bucket, protected: false, stateful: true, custom: true, inputsHash: "x" },
    ],
    variables: [],
    missingSecrets: [],
    outputs: { bucketName: bucket, databaseName: `mina_${name}` },
    violations: [],
  });

  it("passes when nothing is shared", async () => {
    const a = auditPlans(
      [stack("a", "bucket-a"), stack("b", "bucket-b")],
      new Map([
        ["a", { "aws:allowedAccountIds": ["111111111111"] }],
        ["b", { "aws:allowedAccountIds": ["222222222222"] }],
      ]),
    );
    assert.deepEqual(a, { ok: true, conflicts: [], unaudited: [] });
  });

  it("fails on a shared bucket and a shared account, naming both stacks", async () => {
    const a = auditPlans(
      [stack("a", "shared"), stack("b", "shared")],
      new Map([
        ["a", { "aws:allowedAccountIds": ["111111111111"] }],
        ["b", { "aws:allowedAccountIds": "111111111111", "mina:profile": "production" }],
      ]),
    );
    assert.equal(a.ok, false);
    assert.deepEqual(
      a.conflicts.map((c) => `${c.kind}=${c.value}:${c.stacks.join("+")}`),
      ["physical name (aws:s3/bucket:Bucket)=shared:a+b", "AWS account id=111111111111:a+b", "bucket=shared:a+b"],
    );
  });

  it("lets two non-production stacks share an account and a hosted zone, never a share domain (config/tiers.ts)", async () => {
    const shared = { "aws:allowedAccountIds": ["111111111111"], "mina:dnsZoneId": "Z0SHARED" };
    const tierMates = auditPlans(
      [stack("a", "bucket-a"), stack("b", "bucket-b")],
      new Map<string, Record<string, unknown>>([
        ["a", shared],
        ["b", { ...shared, "mina:profile": "staging" }],
      ]),
    );
    assert.deepEqual(tierMates, { ok: true, conflicts: [], unaudited: [] });
    const domain = auditPlans(
      [stack("a", "bucket-a"), stack("b", "bucket-b")],
      new Map([
        ["a", { ...shared, "mina:shareDomain": "x.mina.app" }],
        ["b", { ...shared, "mina:shareDomain": "x.mina.app" }],
      ]),
    );
    assert.deepEqual(
      domain.conflicts.map((c) => `${c.kind}=${c.value}:${c.stacks.join("+")}`),
      ["share domain=x.mina.app:a+b"],
    );
    const withProduction = auditPlans(
      [stack("a", "bucket-a"), stack("production", "bucket-b")],
      new Map([
        ["a", shared],
        ["production", shared],
      ]),
    );
    assert.deepEqual(
      withProduction.conflicts.map((c) => `${c.kind}:${c.stacks.join("+")}`),
      ["AWS account id:a+production", "hosted zone:a+production"],
    );
  });
});

describe("isolation audit: a stack that did not plan is named as not audited, and fails the audit", function () {
  this.timeout(60000);

  const project = (qa: string) =>
    tempProject({
      "Pulumi.yaml": stackFile("Pulumi.yaml"),
      "Pulumi.staging.yaml": stackFile("Pulumi.staging.yaml"),
      "Pulumi.production.yaml": stackFile("Pulumi.production.yaml"),
      "Pulumi.qa.yaml": qa,
    });
  /** A copy of staging with identifiers of its own, and one key no stack may set. */
  const invalidQa = () =>
    stackFile("Pulumi.staging.yaml")
      .replace(/staging\.mina\.app/g, "qa.mina.app")
      .replace("upstash-staging@", "upstash-qa@")
      .replace("203.0.113.20", "203.0.113.77")
      .replace("Z0STAGING0EXAMPLE", "Z0QA0EXAMPLE")
      .replace("config:\n", "config:\n  mina:colour: blue\n");

  it("auditPlans: a stack that did not plan is listed with its first error, and the audit fails", () => {
    const ok: StackPlan = {
      stack: "a",
      file: "Pulumi.a.yaml",
      ok: true,
      errors: [],
      resources: [],
      variables: [],
      missingSecrets: [],
      outputs: {},
      violations: [],
    };
    const bad: StackPlan = { ...ok, stack: "b", file: "Pulumi.b.yaml", ok: false, errors: ["Pulumi.b.yaml: not valid YAML: x", "Pulumi.b.yaml: y"] };
    assert.deepEqual(auditPlans([ok, bad], new Map()), {
      ok: false,
      conflicts: [],
      unaudited: [{ stack: "b", file: "Pulumi.b.yaml", reason: "not valid YAML: x (and 1 more)" }],
    });
  });

  it("an unreadable stack file: the plan of another stack fails its audit, naming the file and why (text, markdown, JSON)", async () => {
    const { dir, cleanup } = project("config:\n  aws:region: [\n");
    try {
      const p = await planAll(dir, ["staging"]);
      assert.equal(p.ok, false);
      assert.equal(p.audit.ok, false);
      const qa = p.audit.unaudited.find((u) => u.stack === "qa");
      assert.equal(qa?.file, "Pulumi.qa.yaml");
      assert.match(qa!.reason, /^not valid YAML: /);
      const text = renderText(p);
      assert.match(text, /== Isolation audit across all stacks: ✗\n(.*\n)* {2}✗ not audited: Pulumi\.qa\.yaml \(not valid YAML: /);
      assert.doesNotMatch(text, /✓ no two stacks/);
      const markdown = renderMarkdown(p);
      assert.match(markdown, /❌ Not audited:\n\n(.*\n)*- Pulumi\.qa\.yaml: `not valid YAML: /);
      assert.doesNotMatch(markdown, /✅ No two stacks/);
    } finally {
      cleanup();
    }
  });

  it("a stack file with an invalid config: the other stacks plan, but the audit does not pass them over it", async () => {
    const { dir, cleanup } = project(invalidQa());
    try {
      const p = await planAll(dir, ["staging"]);
      assert.deepEqual(
        p.stacks.map((s) => [s.stack, s.ok]),
        [["staging", true]],
      );
      assert.deepEqual(
        p.audit.unaudited.map((u) => u.file),
        ["Pulumi.qa.yaml"],
      );
      assert.match(p.audit.unaudited[0].reason, /mina:colour/);
      assert.deepEqual(p.audit.conflicts, []);
      assert.equal(p.audit.ok, false);
      assert.equal(p.ok, false);
    } finally {
      cleanup();
    }
  });

  it("exits 1 through the bin, its JSON saying ok: false and naming the stack not audited", () => {
    const { dir, cleanup } = project("config:\n  aws:region: [\n");
    try {
      const r = spawnCli("plan", ["--json", "--dir", dir, "--stack", "staging"]);
      assert.equal(r.status, 1, r.stderr);
      const p = JSON.parse(r.stdout) as Plan;
      assert.equal(p.ok, false);
      assert.equal(p.audit.ok, false);
      assert.ok(
        p.audit.unaudited.some((u) => u.file === "Pulumi.qa.yaml" && u.reason.startsWith("not valid YAML")),
        JSON.stringify(p.audit),
      );
    } finally {
      cleanup();
    }
  });
});

describe("the benchmark's generated project (npm run bench)", function () {
  this.timeout(60000);

  it("plans clean, so the benchmark times a plan that succeeds (it refuses one that fails)", async () => {
    const { syntheticProject } = require("../cli/bench") as typeof import("../cli/bench");
    const dir = syntheticProject(2);
    try {
      const plan = await planAll(dir, undefined, policyChecker(dir));
      assert.deepEqual(
        plan.stacks.map((s) => [s.stack, s.ok, s.errors]),
        [
          ["env01", true, []],
          ["env02", true, []],
        ],
      );
      assert.equal(plan.ok, true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
