/**
 * `npm run plan -- --base REF`: the pure diff of two plans, and the real thing on
 * a temporary git repository (a copy of this project, with its own commits) whose
 * base commit is planned in a git worktree by its own `cli/plan.ts`. The command
 * runs as a child process, as `npm run plan` runs it (under tsx).
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dangerousFromPlanDiff, decide, renderDecisionMarkdown, renderDecisionText } from "../gate/gate";
import { type Plan, type PlannedResource, planStack, type StackPlan } from "../plan/plan";
import {
  computePlanDiff,
  diffPlans,
  sameCodeAsCommit,
  type PlanDiff,
  providerInputChanges,
  renderPlanDiff,
  renderPlanDiffMarkdown,
  renderPlanDiffText,
} from "../plan/diff";
import { SecureValue } from "../config/raw";
import { run } from "./cli";
import { GIT_ENV, missingStack, productionRaw, PROJECT_SOURCES, REPO, stagingRaw } from "./helpers";

// ---------------------------------------------------------------- pure diff

function res(type: string, name: string, extra: Partial<PlannedResource> = {}): PlannedResource {
  return { type, name, protected: false, stateful: false, custom: true, inputsHash: "aaaaaaaaaaaaaaaa", ...extra };
}

function stackPlan(
  stack: string,
  resources: PlannedResource[],
  variables: string[] = ["ENVIRONMENT", "DATABASE_URL"],
  extra: Partial<StackPlan> = {},
): StackPlan {
  return {
    stack,
    file: `Pulumi.${stack}.yaml`,
    ok: true,
    errors: [],
    environment: stack,
    profile: stack,
    databaseMode: "server",
    resources,
    variables: variables.map((name) => ({ name, secret: name.endsWith("_URL") })),
    missingSecrets: [],
    outputs: {},
    violations: [],
    ...extra,
  };
}

function plan(stacks: StackPlan[], extra: Partial<Plan> = {}): Plan {
  const ok = stacks.every((s) => s.ok && s.violations.length === 0);
  return { note: "offline", stacks, audit: { ok: true, conflicts: [], unaudited: [] }, ok, ...extra };
}

const BUCKET = "aws:s3/bucket:Bucket";
const RDS = "aws:rds/instance:Instance";
const ROLE = "postgresql:index/role:Role";
const GRANT = "postgresql:index/grant:Grant";

describe("diffPlans (pure)", () => {
  const base = plan([
    stackPlan("production", [res(RDS, "mina-production-database-instance", { stateful: true, protected: true, physicalName: "mina-production" })]),
    stackPlan("staging", [
      res(BUCKET, "mina-staging-bucket-bucket", { stateful: true, physicalName: "mina-audio-staging" }),
      res(ROLE, "mina-staging-database-role", { stateful: true, physicalName: "mina_staging_app" }),
      res(GRANT, "mina-staging-database-revoke-public-connect"),
      res("aws:s3/bucketPolicy:BucketPolicy", "mina-staging-bucket-tls-only", { physicalName: "mina-audio-staging" }),
    ]),
    stackPlan("staging-old", [res(BUCKET, "mina-staging-old-bucket-bucket", { stateful: true, physicalName: "mina-audio-staging-old" })]),
  ]);
  const head = plan([
    stackPlan("production", [res(RDS, "mina-production-database-instance", { stateful: true, protected: false, physicalName: "mina-production" })]),
    stackPlan(
      "staging",
      [
        res(BUCKET, "mina-staging-bucket-bucket", { stateful: true, physicalName: "mina-audio-staging-media", inputsHash: "bbbbbbbbbbbbbbbb" }),
        res("aws:s3/bucketPolicy:BucketPolicy", "mina-staging-bucket-tls-only", { physicalName: "mina-audio-staging-media", inputsHash: "cccccccccccccccc" }),
        res(RDS, "mina-staging-database-instance", { stateful: true, physicalName: "mina-staging" }),
      ],
      ["ENVIRONMENT", "DATABASE_URL", "FEATURE_NEW_PLAYER"],
    ),
    stackPlan("staging-blue", [res(BUCKET, "mina-staging-blue-bucket-bucket", { stateful: true, physicalName: "mina-audio-staging-blue" })]),
  ]);
  const diff = diffPlans(base, head, { base: "origin/main" });

  it("finds stacks added and removed", async () => {
    assert.deepEqual(diff.stacksAdded, ["staging-blue"]);
    assert.deepEqual(diff.stacksRemoved, ["staging-old"]);
    assert.deepEqual(
      diff.stacks.map((s) => [s.stack, s.status]),
      [
        ["production", "changed"],
        ["staging", "changed"],
        ["staging-blue", "added"],
        ["staging-old", "removed"],
      ],
    );
  });

  it("finds resources added, removed and changed (inputs, physical name, protection)", async () => {
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(
      staging.added.map((r) => r.name),
      ["mina-staging-database-instance"],
    );
    assert.deepEqual(
      staging.removed.map((r) => r.name),
      ["mina-staging-database-revoke-public-connect", "mina-staging-database-role"],
    );
    assert.deepEqual(
      staging.changed.map((c) => [c.name, c.fields]),
      [
        ["mina-staging-bucket-bucket", ["inputs", "physicalName"]],
        ["mina-staging-bucket-tls-only", ["inputs", "physicalName"]],
      ],
    );
    const production = diff.stacks.find((s) => s.stack === "production")!;
    assert.deepEqual(
      production.changed.map((c) => [c.name, c.fields]),
      [["mina-production-database-instance", ["protected"]]],
    );
    assert.deepEqual(
      production.unprotected.map((c) => c.name),
      ["mina-production-database-instance"],
    );
  });

  it("finds env variable names added and removed", async () => {
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(staging.variablesAdded, ["FEATURE_NEW_PLAYER"]);
    assert.deepEqual(staging.variablesRemoved, []);
    const old = diff.stacks.find((s) => s.stack === "staging-old")!;
    assert.deepEqual(old.variablesRemoved, ["DATABASE_URL", "ENVIRONMENT"]);
  });

  it("reads removals as deletions and renames as replacements, except for the reviewed types that hold no data", async () => {
    assert.deepEqual(
      diff.needsApproval.map((d) => [d.stack, d.kind, d.type, d.name]),
      [
        // Production's instance loses protect: nothing is deleted today, the guard against it goes.
        ["production", "loses data over time", RDS, "mina-production-database-instance"],
        ["staging", "delete", ROLE, "mina-staging-database-role"],
        ["staging", "replace", BUCKET, "mina-staging-bucket-bucket"],
        ["staging-old", "delete", BUCKET, "mina-staging-old-bucket-bucket"],
      ],
    );
    assert.equal(
      diff.needsApproval[2].reason,
      "physical name mina-audio-staging → mina-audio-staging-media: the new one starts empty and the old one is deleted with its data: migrate the data first",
    );
  });

  it("lets a changed app env secret version pass: a config change is no rotation (a rotated password is judged on its own resource)", async () => {
    const version = "aws:secretsmanager/secretVersion:SecretVersion";
    const b = plan([stackPlan("staging", [res(version, "mina-staging-app-env-version")])]);
    const h = plan([stackPlan("staging", [res(version, "mina-staging-app-env-version", { inputsHash: "bbbbbbbbbbbbbbbb" })])]);
    assert.deepEqual(
      diffPlans(b, h, { base: "main" }).needsApproval.map((d) => [d.kind, d.reason]),
      [],
    );
  });

  it("says what a rename costs only for what holds data: a security group moving to a name prefix is just a replacement", async () => {
    const sg = "aws:ec2/securityGroup:SecurityGroup";
    const b = plan([stackPlan("production", [res(sg, "mina-production-database-sg", { physicalName: "mina-production-db" })])]);
    const h = plan([stackPlan("production", [res(sg, "mina-production-database-sg", { physicalName: "mina-production-db-" })])]);
    assert.deepEqual(
      diffPlans(b, h, { base: "main" }).needsApproval.map((d) => [d.kind, d.reason]),
      [["replace", "physical name mina-production-db → mina-production-db-"]],
    );
  });

  it("lists what needs approval first, with a warning, in markdown and text", async () => {
    const md = renderPlanDiffMarkdown(diff);
    const warning = md.indexOf("[!WARNING]");
    assert.ok(warning > 0, md);
    for (const s of ["### `production`", "### `staging`", "### `staging-blue`", "### `staging-old`"]) {
      assert.ok(md.indexOf(s) > warning, `${s} comes after the data-loss warning`);
    }
    assert.match(
      md,
      /\*\*Needs approval: 4 changes would delete or replace a resource that may hold data, lose data over time, rotate a credential, change what a deploy runs, or may replace resources\.\*\*/,
    );
    assert.match(md, /`allow-data-loss`/);
    const staging = md.slice(md.indexOf("### `staging`"), md.indexOf("### `staging-blue`"));
    const firstRow = staging.indexOf("| ➖ remove");
    assert.ok(staging.indexOf("**delete** `postgresql:Role` mina-staging-database-role") < firstRow, staging);
    assert.ok(staging.indexOf("**replace** `aws:s3:Bucket` mina-staging-bucket-bucket") < firstRow, staging);
    assert.match(staging, /\| ➖ remove \| `postgresql:Grant` \| mina-staging-database-revoke-public-connect/);
    assert.match(
      staging,
      /\| ✏️ change \| `aws:s3:BucketPolicy` \| mina-staging-bucket-tls-only \| `mina-audio-staging-media` \| physical name mina-audio-staging → mina-audio-staging-media; inputs changed \|/,
    );
    assert.match(staging, /\| ➕ add \| `aws:rds:Instance` \| mina-staging-database-instance \| `mina-staging` \| stateful \|/);
    assert.match(staging, /\*\*Env variables added:\*\* `FEATURE_NEW_PLAYER`/);
    assert.match(md, /Protection removed:\*\* `aws:rds:Instance` mina-production-database-instance/);
    assert.match(md, /\*\*Stacks added:\*\* `staging-blue`/);
    assert.match(md, /\*\*Stacks removed:\*\* `staging-old`/);

    const text = renderPlanDiffText(diff);
    assert.ok(text.indexOf("!! NEEDS APPROVAL: 3 changes") < text.indexOf("== production"), text);
    assert.match(text, / {3}staging: delete postgresql:Role mina-staging-database-role \(mina_staging_app\): no longer declared/);
    assert.match(text, / {3}\+ aws:rds:Instance mina-staging-database-instance \(mina-staging\)/);
    assert.match(text, / {3}- postgresql:Grant mina-staging-database-revoke-public-connect/);
  });

  it("has a json rendering that is the diff itself", async () => {
    const parsed = JSON.parse(renderPlanDiff(diff, "json")) as PlanDiff;
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(diff)));
  });

  it("reports no changes between equal plans", async () => {
    const d = diffPlans(base, base);
    assert.equal(d.changed, false);
    assert.deepEqual(d.needsApproval, []);
    assert.match(renderPlanDiffMarkdown(d), /No stack changes/);
    assert.match(renderPlanDiffText(d), /== staging: no changes/);
  });

  it("does not call everything removed when the head config of a stack is invalid; the head's problems fail it", async () => {
    const broken = plan([
      base.stacks[0],
      stackPlan("staging", [], [], {
        ok: false,
        errors: ['Pulumi.staging.yaml: mina:bucketName: "mina-audio-prod" does not contain the environment name "staging"'],
      }),
      base.stacks[2],
    ]);
    const d = diffPlans(base, broken);
    const staging = d.stacks.find((s) => s.stack === "staging")!;
    assert.equal(staging.status, "invalid");
    assert.deepEqual([staging.removed, staging.needsApproval], [[], []]);
    assert.equal(d.head.ok, false);
    assert.match(d.head.problems[0], /^staging: invalid config: .*mina:bucketName/);
    assert.match(renderPlanDiffMarkdown(d), /❌ this commit's plan fails/);
  });

  it("names policy violations and isolation conflicts of the head as problems", async () => {
    const bad = plan(
      [stackPlan("staging", [], [], { violations: [{ rule: "bucket-encrypted", resource: "mina-staging-bucket-bucket", message: "no encryption" }] })],
      {
        audit: { ok: false, conflicts: [{ kind: "AWS account id", value: "210987654321", stacks: ["staging", "staging-blue"] }], unaudited: [] },
      },
    );
    const d = diffPlans(plan([]), bad);
    assert.deepEqual(d.head.problems, [
      "staging: policy [bucket-encrypted] mina-staging-bucket-bucket: no encryption",
      'isolation: AWS account id "210987654321" is shared by staging, staging-blue',
    ]);
  });

  it("names a stack the head's audit could not cover as a problem", async () => {
    const unaudited = [{ stack: "qa", file: "Pulumi.qa.yaml", reason: "not valid YAML: x" }];
    const bad = plan([stackPlan("staging", [])], { audit: { ok: false, conflicts: [], unaudited }, ok: false });
    const d = diffPlans(plan([]), bad);
    assert.equal(d.head.ok, false);
    assert.deepEqual(d.head.problems, ["isolation: not audited: Pulumi.qa.yaml (not valid YAML: x)"]);
  });
});

// ---------------------------------------------------------------- provider inputs

describe("provider inputs: what the offline diff cannot clear", function () {
  this.timeout(120000);

  it("names changed provider inputs: old -> new when not secret, only 'changed' when secret", async () => {
    assert.deepEqual(
      providerInputChanges(
        {
          region: { value: "us-east-1" },
          endpoint: { value: "https://a" },
          token: { secret: true, fingerprint: "aa" },
          same: { value: 1 },
          gone: { value: ["x"] },
        },
        {
          region: { value: "eu-west-1" },
          endpoint: { secret: true, fingerprint: "bb" },
          token: { secret: true, fingerprint: "cc" },
          same: { value: 1 },
          added: { value: true },
        },
      ),
      [
        { input: "added", secret: false, after: "true" },
        { input: "endpoint", secret: true },
        { input: "gone", secret: false, before: '["x"]' },
        { input: "region", secret: false, before: "us-east-1", after: "eu-west-1" },
        { input: "token", secret: true },
      ],
    );
    assert.deepEqual(providerInputChanges({ t: { secret: true, fingerprint: "aa" } }, { t: { secret: true, fingerprint: "aa" } }), []);
  });

  const planOf = async (overrides: Record<string, unknown> = {}) => plan([await planStack(REPO, "staging", [stagingRaw(overrides), productionRaw()])]);
  const AWS = "pulumi:providers:aws::mina-staging-aws";

  it("lists every resource under a provider whose region changes as 'may be replaced', and the gate holds them", async () => {
    const base = await planOf();
    const head = await planOf({ "aws:region": "eu-west-1" });
    const diff = diffPlans(base, head, { base: "origin/main" });
    const staging = diff.stacks[0];
    assert.deepEqual(staging.providerChanges, [
      { type: "pulumi:providers:aws", name: "mina-staging-aws", inputs: [{ input: "region", secret: false, before: "us-east-1", after: "eu-west-1" }] },
    ]);
    const underAws = head.stacks[0].resources
      .filter((r) => r.provider === AWS)
      .map((r) => r.name)
      .sort();
    assert.ok(underAws.includes("mina-staging-bucket-bucket") && underAws.includes("mina-staging-dns-share"), underAws.join(","));
    assert.deepEqual(staging.mayBeReplaced.map((m) => m.name).sort(), underAws);
    assert.ok(
      !staging.mayBeReplaced.some((m) => m.type.startsWith("upstash:") || m.type.startsWith("postgresql:")),
      "other providers' resources are not touched",
    );
    const mayBe = staging.needsApproval.filter((a) => a.kind === "may be replaced");
    // The app env secret's version is under the provider too: it may be replaced like the rest.
    assert.deepEqual(mayBe.map((a) => a.name).sort(), underAws);
    assert.deepEqual(
      staging.needsApproval.filter((a) => a.name === "mina-staging-app-env-version").map((a) => a.kind),
      ["may be replaced"],
    );
    assert.match(mayBe[0].reason, /^aws provider mina-staging-aws changes: region us-east-1 -> eu-west-1$/);

    const text = renderPlanDiffText(diff);
    assert.match(text, /!! aws provider mina-staging-aws inputs change: region us-east-1 -> eu-west-1/);
    assert.match(
      text,
      /!! may be replaced aws:s3:Bucket mina-staging-bucket-bucket \(mina-audio-staging\): aws provider mina-staging-aws changes: region us-east-1 -> eu-west-1/,
    );
    const md = renderPlanDiffMarkdown(diff);
    assert.match(
      md,
      /\*\*Provider inputs change\*\* \(every resource under the provider may be replaced\):\n\n- aws provider mina-staging-aws: region us-east-1 -&gt; eu-west-1/,
    );

    const d = decide(dangerousFromPlanDiff(JSON.parse(JSON.stringify(diff))), []);
    assert.equal(d.ok, false);
    assert.ok(d.dangerous.filter((o) => o.kind === "may be replaced").length >= mayBe.length);
    assert.equal(decide(dangerousFromPlanDiff(diff), ["allow-data-loss"]).ok, true);
    assert.deepEqual(diffPlans(base, base).needsApproval, [], "the same plan twice needs nothing");
  });

  it("says a secret provider input changed without printing its value, in any format", async () => {
    const before = "admin pass/with@odd:chars";
    const after = "an entirely new admin secret";
    const base = await planOf();
    const head = await planOf({ "mina:dbServerAdminPassword": new SecureValue(after) });
    const diff = diffPlans(base, head, { base: "origin/main" });
    const staging = diff.stacks[0];
    assert.deepEqual(
      staging.providerChanges.map((p) => [p.name, p.inputs]),
      [["mina-staging-database-admin", [{ input: "password", secret: true }]]],
    );
    assert.deepEqual(staging.mayBeReplaced.map((m) => m.type).sort(), [
      "postgresql:index/database:Database",
      "postgresql:index/grant:Grant",
      "postgresql:index/grantRole:GrantRole",
      "postgresql:index/role:Role",
    ]);
    assert.match(renderPlanDiffText(diff), /postgresql provider mina-staging-database-admin inputs change: password changed/);
    const decision = decide(dangerousFromPlanDiff(diff), []);
    const outputs = [
      JSON.stringify(base),
      JSON.stringify(head),
      ...["text", "markdown", "json"].map((f) => renderPlanDiff(diff, f, head)),
      renderDecisionText(decision),
      renderDecisionMarkdown(decision),
      JSON.stringify(decision),
    ];
    for (const out of outputs) {
      for (const secret of [before, after, "upstash-staging-key"]) assert.ok(!out.includes(secret), `no secret value in: ${out.slice(0, 80)}`);
    }
  });
});

// ---------------------------------------------------------------- on a real git repository

const STAGING_BLUE = `config:
  aws:region: us-east-1
  aws:allowedAccountIds:
    - "345678901234"
  upstash:email: platform@mina.app
  mina:deployRunner: [self-hosted, mina-staging-blue]
  mina:databaseMode: server
  mina:dbServerHost: pg-blue.internal.mina.app
  mina:dbServerAdminUser: mina_provisioner
  mina:shareDomain: staging-blue.mina.app
  mina:dnsZoneId: Z0STAGINGBLUE0EXAMPLE
  mina:appHost: 203.0.113.30
  mina:dnsZoneName: staging-blue.mina.app
`;

describe("npm run plan -- --base REF (git worktree of a temporary repository)", function () {
  this.timeout(180000);
  let dir: string;
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, env: GIT_ENV, encoding: "utf8" }).trim();
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", message);
  };
  const edit = (file: string, f: (s: string) => string) => fs.writeFileSync(path.join(dir, file), f(fs.readFileSync(path.join(dir, file), "utf8")));
  const cli = (...args: string[]) => run("plan", ["--dir", dir, ...args], { cwd: dir });
  const diffOf = async (ref: string, ...args: string[]): Promise<PlanDiff> => {
    const r = await await cli("--base", ref, "--json", ...args);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as PlanDiff;
  };
  const worktrees = () =>
    git("worktree", "list", "--porcelain")
      .split("\n")
      .filter((l) => l.startsWith("worktree ")).length;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-plan-diff-repo-"));
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(dir, ".gitignore"), "node_modules/\n");
    for (const f of ["Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
    commit("stack files only, no plan command yet");
    for (const s of PROJECT_SOURCES) {
      if (fs.existsSync(path.join(REPO, s))) fs.cpSync(path.join(REPO, s), path.join(dir, s), { recursive: true });
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"), "dir");
    commit("the program and its plan command");
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("plans a base without cli/plan.ts as empty: every stack is added", async () => {
    const diff = await diffOf("HEAD~1");
    assert.deepEqual(diff.stacksAdded, ["production", "staging"]);
    assert.deepEqual(diff.stacksRemoved, []);
    assert.ok(diff.stacks.every((s) => s.status === "added" && s.added.length > 20));
    assert.equal(worktrees(), 1, "the base worktree is removed");
  });

  it("names the changed bucket (a replacement: data loss) and the added stack", async () => {
    edit("Pulumi.staging.yaml", (s) =>
      s.replace("  mina:appHost: 203.0.113.20\n", "  mina:appHost: 203.0.113.20\n  mina:bucketName: mina-audio-staging-media\n"),
    );
    fs.writeFileSync(path.join(dir, "Pulumi.staging-blue.yaml"), STAGING_BLUE);
    commit("staging: own bucket name; new stack staging-blue");

    // One plan of the base: the markdown is rendered from the same diff (the CLI renders it so; see "gives text")
    const { diff, head } = await computePlanDiff(dir, "HEAD~1");
    assert.equal(diff.baseCommit, git("rev-parse", "HEAD~1"));
    assert.deepEqual(diff.stacksAdded, ["staging-blue"]);
    assert.equal(diff.stacks.find((s) => s.stack === "production")!.status, "unchanged");
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual([staging.added, staging.removed], [[], []]);
    const bucket = staging.changed.find((c) => c.type === "aws:s3/bucket:Bucket")!;
    assert.deepEqual([bucket.before.physicalName, bucket.after.physicalName], ["mina-audio-staging", "mina-audio-staging-media"]);
    assert.deepEqual(
      diff.needsApproval.map((d) => [d.stack, d.kind, d.name]),
      [
        // AWS_S3_BUCKET changes, so the app's env does too: a new version of its secret, which needs no approval of its own.
        ["staging", "replace", "mina-staging-bucket-bucket"],
      ],
    );

    const md = renderPlanDiff(diff, "markdown", head);
    assert.ok(
      md.indexOf(
        "**replace** `aws:s3:Bucket` mina-staging-bucket-bucket (`mina-audio-staging`): physical name mina-audio-staging → mina-audio-staging-media: the new one starts empty and the old one is deleted with its data: migrate the data first",
      ) > 0,
      md,
    );
    assert.ok(md.indexOf("[!WARNING]") < md.indexOf("### `production`"));
    assert.match(md, /\| ✏️ change \| `aws:s3:BucketPolicy` \| mina-staging-bucket-tls-only \| `mina-audio-staging-media` \|/);
    assert.match(md, /### `staging-blue`: new stack/);
    assert.match(md, /\| ➕ add \| `upstash:RedisDatabase` \| mina-staging-blue-cache-redis \| `mina-staging-blue` \| stateful \|/);
    assert.match(md, /### `production`: no changes/);
    assert.match(md, /<details><summary>Full plan of this commit<\/summary>/);
    assert.equal(worktrees(), 1);
  });

  it("plans a base whose code is this checkout's (only stack files differ) in this process; any other difference, committed or not, runs the base's own plan", () => {
    assert.equal(sameCodeAsCommit(dir, "HEAD~1"), true, "HEAD~1 differs only in stack files");
    assert.equal(sameCodeAsCommit(dir, "HEAD~2"), false, "HEAD~2 has no program");
    const naming = path.join(dir, "config", "naming.ts");
    const text = fs.readFileSync(naming, "utf8");
    fs.appendFileSync(naming, "// an uncommitted change\n");
    try {
      assert.equal(sameCodeAsCommit(dir, "HEAD~1"), false, "an uncommitted change to the code");
    } finally {
      fs.writeFileSync(naming, text);
    }
    assert.equal(sameCodeAsCommit(dir, "HEAD~1"), true);
  });

  it("when staging moves to its own RDS instance, its database and role may be replaced (the admin provider now reaches the instance as the master user); staging-blue's removed stateful resources are listed first (markdown and text)", async () => {
    edit("Pulumi.staging.yaml", (s) =>
      s.replace(
        "  mina:databaseMode: server\n  mina:dbServerHost: pg-shared.internal.mina.app\n  mina:dbServerAdminUser: mina_provisioner\n",
        "  mina:databaseMode: instance\n  mina:vpcId: vpc-0a1b2c3d4e5f60002\n  mina:dbSubnetIds:\n    - subnet-0a1b2c3d4e5f60021\n    - subnet-0a1b2c3d4e5f60022\n  mina:dbAllowedCidrs:\n    - 10.30.0.0/16\n",
      ),
    );
    fs.rmSync(path.join(dir, "Pulumi.staging-blue.yaml"));
    commit("staging: RDS instance of its own; staging-blue retired");

    // One plan of the base for both renderings (the CLI renders the same diff; it runs in the other cases).
    const { diff, head } = await computePlanDiff(dir, "HEAD~1");
    const md = renderPlanDiff(diff, "markdown", head);
    assert.match(md, /^## mina-infra plan: changes against `HEAD~1`/);
    assert.match(md, /\*\*Stacks removed:\*\* `staging-blue`/);
    const warning = md.slice(md.indexOf("[!WARNING]"), md.indexOf("### "));
    const admin =
      /postgresql provider mina-staging-database-admin changes: host pg-shared\.internal\.mina\.app -&gt; mina-staging\.[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com; password changed; username mina\\_provisioner -&gt; mina\\_staging\\_admin/
        .source;
    assert.match(
      warning,
      new RegExp(`\`staging\`: \\*\\*may be replaced\\*\\* \`postgresql:Database\` mina-staging-database-db \\(\`mina_staging\`\\): ${admin}`),
    );
    assert.match(
      warning,
      new RegExp(`\`staging\`: \\*\\*may be replaced\\*\\* \`postgresql:Role\` mina-staging-database-role \\(\`mina_staging_app\`\\): ${admin}`),
    );
    for (const line of [
      "`staging-blue`: **delete** `aws:s3:Bucket` mina-staging-blue-bucket-bucket (`mina-audio-staging-blue`): its stack file was removed",
      "`staging-blue`: **delete** `upstash:RedisDatabase` mina-staging-blue-cache-redis (`mina-staging-blue`): its stack file was removed",
    ]) {
      assert.ok(warning.includes(line), `warning lists: ${line}\n${warning}`);
    }
    const staging = md.slice(md.indexOf("### `staging`"), md.indexOf("### `staging-blue`"));
    assert.ok(staging.indexOf("Needs approval:") < staging.indexOf("| Change |"), staging);
    assert.match(staging, /\| ✏️ change \| `pulumi:providers:postgresql` \| mina-staging-database-admin \| - \| inputs changed \|/);
    assert.match(staging, /\| ➕ add \| `aws:rds:Instance` \| mina-staging-database-instance \| `mina-staging` \| stateful \|/);
    assert.match(md, /### `staging-blue`: stack removed/);
    const text = renderPlanDiff(diff, "text", head);
    assert.match(text, /^Plan diff against HEAD~1/);
    assert.match(text, /== production: no changes/);
    assert.equal(worktrees(), 1);
  });

  it("exits 1 when this checkout's plan fails (an uncommitted invalid stack file), as a plain plan does; text by default, only the stacks asked for", async () => {
    edit("Pulumi.staging.yaml", (s) => s.replace("mina:bucketName: mina-audio-staging-media", "mina:bucketName: mina-audio-shared"));
    try {
      const r = await cli("--base", "HEAD", "--stack", "staging");
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stdout, /^Plan diff against HEAD/);
      assert.doesNotMatch(r.stdout, /== production/);
      assert.match(r.stdout, /== staging: invalid config/);
      assert.match(r.stdout, /This commit's plan: ✗ fails:\n {3}staging: invalid config: .*mina:bucketName/);
      assert.equal(worktrees(), 1);
    } finally {
      git("checkout", "--", "Pulumi.staging.yaml");
    }
  });

  it("fails in one line when the base's own plan cannot run, and still removes the worktree", async () => {
    const planTs = path.join(dir, "cli", "plan.ts");
    const good = fs.readFileSync(planTs, "utf8");
    fs.writeFileSync(planTs, `throw new Error("the base plan is broken");\n${good}`);
    commit("a broken plan command");
    fs.writeFileSync(planTs, good);
    commit("the plan command mended");
    const r = await cli("--base", "HEAD~1");
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: the plan of base commit [0-9a-f]{12} failed \(exit 1\): Error: the base plan is broken\n$/);
    assert.equal(worktrees(), 1);
  });

  it("refuses an unknown ref or stack in one line (exit 2)", async () => {
    const r = await cli("--base", "no-such-branch");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --base no-such-branch: no such commit in .*\n$/);
    const missing = missingStack(dir);
    const s = await cli("--base", "HEAD~1", "--stack", missing);
    assert.equal(s.status, 2);
    assert.match(s.stderr, new RegExp(`^error: no stack file for "${missing}"`));
    assert.equal(worktrees(), 1);
  });
});
