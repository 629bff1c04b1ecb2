/**
 * The data-safety gate on recorded `pulumi preview --json` documents and on
 * offline plan diffs; the deploy guard; the AWS account check.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  checkCommitApproval,
  dangerousFromPlanDiff,
  dangerousFromPreview,
  decide,
  GateInputError,
  parseLabels,
  parsePreview,
  parseUrn,
  type PreviewDigest,
  type PreviewStep,
  previewProblems,
  readPlanDiff,
  renderDecisionMarkdown,
  renderDecisionText,
  STEP_OPS,
} from "../gate/gate";
import { allowedAccountIds, checkAccount, guardDeploy } from "../gate/deploy";
import type { Plan, PlannedResource, StackPlan } from "../plan/plan";
import { diffPlans } from "../plan/diff";
import { CREDENTIAL_TYPES, holdsNoData, NO_DATA_TYPES, STATEFUL_TYPES } from "../config/protection";
import { run, spawnCli } from "./cli";
import { missingStack, PRODUCTION_ACCOUNT, REPO, STAGING_ACCOUNT } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures", "preview");
const fixture = (name: string) => path.join(FIXTURES, name);
const preview = (name: string): PreviewDigest => parsePreview(JSON.parse(fs.readFileSync(fixture(name), "utf8")), name);
const gate = (...args: string[]) => run("gate", args);

/** The gate as the workflow runs it, in-process: preview(s) → decision. */
function decideOn(files: string[], labels: string[] = [], approvalLabel?: string) {
  const ps = files.map(preview);
  return decide(
    ps.flatMap((p) => dangerousFromPreview(p)),
    labels,
    { approvalLabel, incomplete: ps.flatMap((p, i) => previewProblems(p, files[i])) },
  );
}

describe("data-safety gate: pulumi preview --json", () => {
  it("parses URNs, with parent types and names holding '::'", async () => {
    assert.deepEqual(parseUrn("urn:pulumi:staging::mina::mina:index:Environment$mina:index:Bucket$aws:s3/bucket:Bucket::mina-staging-bucket-bucket"), {
      stack: "staging",
      project: "mina",
      type: "aws:s3/bucket:Bucket",
      name: "mina-staging-bucket-bucket",
    });
    assert.equal(parseUrn("urn:pulumi:production::mina::pulumi:pulumi:Stack::a::b")!.name, "a::b");
    assert.equal(parseUrn("not-a-urn"), undefined);
  });

  it("lets a harmless update through", async () => {
    const d = decideOn(["harmless-update.json"]);
    assert.deepEqual([d.ok, d.dangerous, d.incomplete], [true, [], []]);
    assert.match(renderDecisionText(d), /^✓ data-safety gate: nothing is deleted or replaced that needs approval, and no credential is rotated\./);
  });

  it("blocks a bucket replacement (its three replacement steps count once; the ownership controls, on the reviewed list, do not count)", async () => {
    const d = decideOn(["bucket-replace.json"], ["infra", "needs-review"]);
    assert.equal(d.ok, false);
    assert.deepEqual(d.dangerous, [
      {
        stack: "staging",
        kind: "replace",
        op: "replace",
        type: "aws:s3/bucket:Bucket",
        name: "mina-staging-bucket-bucket",
        source: "preview",
        detail: "replaced because of: bucket; the new one starts empty and the old one is deleted with its data: migrate the data first",
      },
    ]);
    const text = renderDecisionText(d);
    assert.match(
      text.split("\n")[1],
      /^ {2}staging: REPLACE aws:s3:Bucket mina-staging-bucket-bucket \(replaced because of: bucket; the new one starts empty and the old one is deleted with its data: migrate the data first\)$/,
    );
    assert.match(text, /✗ BLOCKED: add the label "allow-data-loss" to the pull request/);
  });

  it("blocks an RDS deletion, and names the deleted master password as a rotated credential (the subnet group, on the reviewed list, passes)", async () => {
    const d = decideOn(["rds-delete.json"]);
    assert.equal(d.ok, false);
    assert.deepEqual(
      d.dangerous.map((o) => [o.stack, o.kind, o.op, o.type, o.name]),
      [
        ["production", "delete", "delete", "aws:rds/instance:Instance", "mina-production-database-instance"],
        ["production", "rotates a credential", "delete", "random:index/randomPassword:RandomPassword", "mina-production-database-master-password"],
      ],
    );
  });

  it("lets the operations through with the approval label, saying so", async () => {
    const d = decideOn(["bucket-replace.json", "rds-delete.json"], ["allow-data-loss"]);
    assert.deepEqual([d.ok, d.approved, d.approvalBy, d.dangerous.length], [true, true, "label", 3]);
    assert.deepEqual(
      d.dangerous.map((o) => o.kind),
      ["delete", "replace", "rotates a credential"],
      "deletions first, then replacements, then credentials",
    );
    assert.match(renderDecisionText(d), /⚠ APPROVED by the label "allow-data-loss"/);
    assert.match(renderDecisionMarkdown(d), /\| production \| \*\*delete\*\* \| `aws:rds:Instance` \| mina-production-database-instance \|/);
    assert.match(
      renderDecisionMarkdown(d),
      /\| production \| \*\*rotates a credential\*\* \| `random:RandomPassword` \| mina-production-database-master-password \|/,
    );
  });

  it("takes a configurable approval label", async () => {
    assert.equal(decideOn(["rds-delete.json"], ["allow-data-loss"], "dba-approved").ok, false);
    assert.equal(decideOn(["rds-delete.json"], ["dba-approved"], "dba-approved").ok, true);
  });

  it("blocks a failed preview even with the label: its step list may be incomplete", async () => {
    const d = decideOn(["protected-delete-failed.json"], ["allow-data-loss"]);
    assert.equal(d.ok, false);
    assert.match(d.incomplete[0], /the preview reported an error: unable to delete resource "urn:pulumi:production::mina::/);
    assert.match(renderDecisionText(d), /no approval overrides this/);
  });

  it("refuses documents that are not a preview", async () => {
    assert.throws(() => parsePreview([]), GateInputError);
    assert.throws(() => parsePreview({ hello: 1 }), /no "steps" and no "changeSummary"/);
    assert.throws(() => parsePreview({ steps: [{ op: "delete" }] }), /steps\[0\] has no "op" and "urn"/);
    assert.deepEqual(parsePreview({ changeSummary: { same: 3 } }).steps, []);
  });

  it("reads labels as a comma-separated list or as the JSON array of the event's label names", async () => {
    assert.deepEqual(parseLabels(["infra, allow-data-loss", "x"]), ["infra", "allow-data-loss", "x"]);
    assert.deepEqual(parseLabels(['["allow-data-loss","needs, comma"]']), ["allow-data-loss", "needs, comma"]);
    assert.deepEqual(parseLabels(["[]", ""]), []);
    assert.throws(() => parseLabels(["[oops"]), GateInputError);
  });
});

/** A preview of one stack made of the given steps; `changeSummary` counts them unless given. */
function previewOf(steps: Partial<PreviewStep>[], extra: Record<string, unknown> = {}): PreviewDigest {
  const full = steps.map((s) => ({ op: "delete", urn: "", ...s })) as PreviewStep[];
  const changeSummary: Record<string, number> = {};
  for (const s of full) changeSummary[s.op] = (changeSummary[s.op] ?? 0) + 1;
  return parsePreview({ steps: full, changeSummary, ...extra });
}
const urn = (type: string, name: string, stack = "production") => `urn:pulumi:${stack}::mina::mina:index:Environment$${type}::${name}`;

describe("data-safety gate: deny by default", () => {
  it("needs approval to delete any type not on the reviewed list: Aurora, DynamoDB, ElastiCache, EFS, KMS", async () => {
    const types = [
      "aws:rds/cluster:Cluster",
      "aws:dynamodb/table:Table",
      "aws:elasticache/cluster:Cluster",
      "aws:efs/fileSystem:FileSystem",
      "aws:kms/key:Key",
      "aws:iam/user:User",
      "some:future/thing:Thing",
    ];
    const d = decide(dangerousFromPreview(previewOf(types.map((t, i) => ({ op: "delete", urn: urn(t, `r${i}`) })))), []);
    assert.equal(d.ok, false);
    assert.deepEqual(d.dangerous.map((o) => [o.kind, o.type]).sort(), types.map((t) => ["delete", t]).sort());
  });

  it("lets deletions and replacements of the reviewed types through", async () => {
    const steps = [
      { op: "replace", urn: urn("pulumi:providers:aws", "mina-production-aws") },
      { op: "delete", urn: "urn:pulumi:production::mina::pulumi:pulumi:Stack::mina-production" },
      { op: "delete", urn: urn("mina:index:Database", "mina-production-database") },
      { op: "delete", urn: urn("aws:route53/record:Record", "mina-production-dns-share") },
      { op: "replace", urn: urn("aws:s3/bucketPolicy:BucketPolicy", "mina-production-bucket-tls-only") },
      { op: "delete", urn: urn("aws:iam/groupPolicy:GroupPolicy", "mina-production-bucket-group-policy") },
      { op: "replace", urn: urn("aws:rds/parameterGroup:ParameterGroup", "mina-production-database-params") },
      { op: "delete", urn: urn("postgresql:index/grant:Grant", "mina-production-database-revoke-public-connect") },
    ];
    const d = decide(dangerousFromPreview(previewOf(steps)), []);
    assert.deepEqual([d.ok, d.dangerous], [true, []]);
  });

  it("keeps the reviewed list apart from the types that hold data or credentials, each entry with its reason", async () => {
    for (const t of [...STATEFUL_TYPES, ...CREDENTIAL_TYPES]) assert.equal(holdsNoData(t), false, t);
    assert.equal(new Set(NO_DATA_TYPES).size, NO_DATA_TYPES.length);
    const source = fs.readFileSync(path.join(REPO, "config", "protection.ts"), "utf8");
    const list = source.slice(source.indexOf("export const NO_DATA_TYPES"), source.indexOf("];", source.indexOf("export const NO_DATA_TYPES")));
    const lines = list
      .split("\n")
      .slice(1)
      .map((l) => l.trim())
      .filter(Boolean);
    lines.forEach((l, i) => {
      if (l.startsWith('"')) assert.ok(lines[i - 1]?.startsWith("//"), `${l} has a comment line saying why it holds no data`);
    });
    assert.equal(lines.filter((l) => l.startsWith('"')).length, NO_DATA_TYPES.length);
    assert.doesNotMatch(fs.readFileSync(path.join(REPO, "gate", "gate.ts"), "utf8"), /STATEFUL_TYPES/, "the gate does not read the stateful list");
  });

  it("names a replaced or deleted random secret or access key as a rotated credential (SECRET_KEY, passwords, the S3 key)", async () => {
    const d = decide(
      dangerousFromPreview(
        previewOf([
          { op: "replace", urn: urn("random:index/randomBytes:RandomBytes", "mina-production-secrets-secret-key"), replaceReasons: ["length"] },
          { op: "replace", urn: urn("aws:iam/accessKey:AccessKey", "mina-production-bucket-key") },
          { op: "delete", urn: urn("random:index/randomString:RandomString", "s") },
          { op: "delete", urn: urn("random:index/randomId:RandomId", "i") },
          { op: "replace", urn: urn("random:index/randomPassword:RandomPassword", "p") },
        ]),
      ),
      [],
    );
    assert.equal(d.ok, false);
    assert.deepEqual(
      d.dangerous.map((o) => [o.kind, o.op, o.name]),
      [
        ["rotates a credential", "replace", "mina-production-bucket-key"],
        ["rotates a credential", "replace", "mina-production-secrets-secret-key"],
        ["rotates a credential", "delete", "i"],
        ["rotates a credential", "replace", "p"],
        ["rotates a credential", "delete", "s"],
      ],
    );
    assert.match(
      renderDecisionText(d),
      /^ {2}production: ROTATES A CREDENTIAL random:RandomBytes mina-production-secrets-secret-key \(replaced because of: length\)$/m,
    );
  });

  it("lets a new version of the app's env secret pass (its credentials are judged on their own resources), and its policies; the secret itself needs approval", async () => {
    const d = decide(
      dangerousFromPreview(
        previewOf([
          { op: "replace", urn: urn("aws:secretsmanager/secretVersion:SecretVersion", "mina-production-app-env-version"), replaceReasons: ["secretString"] },
          { op: "update", urn: urn("aws:secretsmanager/secretVersion:SecretVersion", "v2"), diffReasons: ["secretString"] },
          { op: "replace", urn: urn("aws:secretsmanager/secretPolicy:SecretPolicy", "mina-production-app-env-policy") },
          { op: "delete", urn: urn("aws:iam/userPolicy:UserPolicy", "mina-production-app-env-read") },
          { op: "delete", urn: urn("aws:secretsmanager/secret:Secret", "mina-production-app-env-secret") },
        ]),
      ),
      [],
    );
    assert.deepEqual(
      d.dangerous.map((o) => [o.kind, o.op, o.name, o.detail]),
      [["delete", "delete", "mina-production-app-env-secret", undefined]],
    );
  });

  it("names an update that sets a password anew as a rotated credential; other updates pass", async () => {
    const rds = urn("aws:rds/instance:Instance", "mina-production-database-instance");
    const role = urn("postgresql:index/role:Role", "mina-production-database-role");
    const cluster = urn("aws:rds/cluster:Cluster", "aurora");
    const d = decide(
      dangerousFromPreview(
        previewOf([
          { op: "update", urn: rds, diffReasons: ["password"] },
          { op: "update", urn: role, detailedDiff: { password: { kind: "update", inputDiff: true } } },
          { op: "update", urn: cluster, oldState: { inputs: { masterPassword: "a" } }, newState: { inputs: { masterPassword: "b" } } },
          {
            op: "update",
            urn: urn("aws:rds/instance:Instance", "other"),
            diffReasons: ["tags", "backupRetentionPeriod"],
            detailedDiff: { "tags.Name": { kind: "update" } },
          },
          { op: "update", urn: urn("aws:s3/bucket:Bucket", "b"), diffReasons: ["password"] },
        ]),
      ),
      [],
    );
    assert.deepEqual(
      d.dangerous.map((o) => [o.kind, o.op, o.name, o.detail]),
      [
        ["rotates a credential", "update", "aurora", "sets masterPassword anew"],
        ["rotates a credential", "update", "mina-production-database-instance", "sets password anew"],
        ["rotates a credential", "update", "mina-production-database-role", "sets password anew"],
      ],
    );
  });

  it("says plainly that replacing what holds data under its own name needs a new name and a migration", async () => {
    const d = dangerousFromPreview(
      previewOf([
        { op: "replace", urn: urn("aws:rds/instance:Instance", "mina-production-database-instance"), replaceReasons: ["engine"] },
        { op: "replace", urn: urn("upstash:index/redisDatabase:RedisDatabase", "mina-production-cache-redis") },
        { op: "replace", urn: urn("aws:s3/bucket:Bucket", "mina-production-bucket-bucket"), replaceReasons: ["bucket"] },
        { op: "delete", urn: urn("aws:rds/instance:Instance", "other") },
        { op: "replace", urn: urn("aws:iam/group:Group", "mina-production-bucket-group") },
      ]),
    );
    const detail = (name: string) => d.find((o) => o.name === name)?.detail;
    assert.equal(
      detail("mina-production-database-instance"),
      "replaced because of: engine; it holds data and keeps its name, so the replacement fails (already exists) before the old one is deleted: replacing it needs a new name and a data migration",
    );
    assert.match(detail("mina-production-cache-redis")!, /^it holds data and keeps its name, so the replacement fails \(already exists\)/);
    assert.match(
      detail("mina-production-bucket-bucket")!,
      /^replaced because of: bucket; the new one starts empty and the old one is deleted with its data: migrate the data first$/,
    );
    assert.equal(detail("other"), undefined, "a deletion is a deletion");
    assert.equal(detail("mina-production-bucket-group"), undefined, "a group holds no data");
  });

  it("takes the type that needs approval when the URN and the state disagree", async () => {
    const d = dangerousFromPreview(previewOf([{ op: "delete", urn: urn("aws:rds/instance:Instance", "db"), oldState: { type: "aws:route53/record:Record" } }]));
    assert.deepEqual(
      d.map((o) => o.type),
      ["aws:rds/instance:Instance"],
    );
    assert.equal(dangerousFromPreview(previewOf([{ op: "delete", urn: "not-a-urn" }]))[0].kind, "delete", "an unknown type needs approval");
  });
});

describe("data-safety gate: documents that do not add up block, even with approval", () => {
  const approved = (p: PreviewDigest) => decide(dangerousFromPreview(p), ["allow-data-loss"], { incomplete: previewProblems(p, "p.json") });

  it("blocks a changeSummary that counts deletions or replacements the steps do not show, naming the counts", async () => {
    const hidden = parsePreview({
      steps: [{ op: "delete", urn: urn("aws:route53/record:Record", "r") }],
      changeSummary: { delete: 3, replace: 1, "delete-replaced": 1, discard: 2, same: 40, update: 5 },
    });
    const d = approved(hidden);
    assert.equal(d.ok, false);
    assert.deepEqual(d.incomplete, [
      "p.json: changeSummary counts 3 delete but the steps show 1: the step list is incomplete",
      "p.json: changeSummary counts 1 replace but the steps show 0: the step list is incomplete",
      "p.json: changeSummary counts 1 delete-replaced but the steps show 0: the step list is incomplete",
      "p.json: changeSummary counts 2 discard but the steps show 0: the step list is incomplete",
    ]);
    assert.deepEqual(previewProblems(parsePreview({ changeSummary: { same: 3, update: 2, create: 1 } })), [], "uncounted same/update/create steps are fine");
    assert.deepEqual(previewProblems(preview("bucket-replace.json")), []);
    assert.deepEqual(previewProblems(parsePreview({ changeSummary: { delete: 1 } }), "x"), [
      "x: changeSummary counts 1 delete but the steps show 0: the step list is incomplete",
    ]);
    assert.match(previewProblems(parsePreview({ steps: [], changeSummary: { obliterate: 1 } }))[0], /changeSummary counts "obliterate", not a Pulumi step op/);
    assert.match(previewProblems(parsePreview({ steps: [], changeSummary: { delete: "2" } }))[0], /count of delete is not a count/);
    assert.match(previewProblems(parsePreview({ steps: [], changeSummary: [1] }))[0], /"changeSummary" is not an object/);
  });

  it("blocks error diagnostics of any shape without a crash; an unknown severity counts as an error", async () => {
    const p = parsePreview({
      steps: [],
      changeSummary: {},
      diagnostics: [
        "boom",
        null,
        42,
        { severity: "error" },
        { severity: "error", message: 42 },
        { severity: "error", message: "first line\nsecond line" },
        { severity: "fatal", message: "the engine gave up" },
        { message: "no severity at all" },
        { severity: 3, message: "numeric severity" },
        { severity: "warning", message: "just a warning" },
        { severity: "info", message: "fyi" },
        { severity: "info#err", message: "stderr chatter" },
        { severity: "debug", message: "noise" },
      ],
    });
    const problems = previewProblems(p, "p.json");
    assert.deepEqual(problems, [
      "p.json: diagnostics[0] is not an object (counted as an error)",
      "p.json: diagnostics[1] is not an object (counted as an error)",
      "p.json: diagnostics[2] is not an object (counted as an error)",
      "p.json: the preview reported an error: (no message)",
      "p.json: the preview reported an error: (no message)",
      "p.json: the preview reported an error: first line",
      'p.json: a diagnostic with severity "fatal" (counted as an error): the engine gave up',
      "p.json: a diagnostic with no severity (counted as an error): no severity at all",
      'p.json: a diagnostic with severity "3" (counted as an error): numeric severity',
    ]);
    assert.equal(approved(p).ok, false);
  });

  it("blocks a step whose op is not a Pulumi step op", async () => {
    assert.equal(STEP_OPS.length, 15);
    const p = parsePreview({
      steps: [
        { op: "obliterate", urn: urn("aws:s3/bucket:Bucket", "b") },
        { op: "same", urn: urn("aws:s3/bucket:Bucket", "c") },
      ],
    });
    const d = approved(p);
    assert.equal(d.ok, false);
    assert.deepEqual(d.incomplete, ['p.json: steps[0] has op "obliterate", not a Pulumi step op']);
  });

  it("blocks a preview that says it may be corrupt", async () => {
    for (const maybeCorrupt of [true, "yes", 1]) assert.equal(approved(previewOf([], { maybeCorrupt })).ok, false, String(maybeCorrupt));
    assert.match(approved(previewOf([], { maybeCorrupt: true })).incomplete[0], /may be corrupt/);
    assert.equal(approved(previewOf([], { maybeCorrupt: false })).ok, true);
  });
});

describe("data-safety gate: approval by commit (deploys)", () => {
  const A = "0123456789abcdef0123456789abcdef01234567";
  const B = "fedcba9876543210fedcba9876543210fedcba98";
  const rds = () => dangerousFromPreview(preview("rds-delete.json"));

  it("approves when the approved commit is this commit, in any case", async () => {
    assert.deepEqual(checkCommitApproval(A, A.toUpperCase()), { approved: true });
    const d = decide(rds(), [], { commit: A, approvedCommit: A });
    assert.deepEqual([d.ok, d.approved, d.approvalBy], [true, true, "commit"]);
    assert.match(renderDecisionText(d), /⚠ APPROVED for commit 0123456789ab:/);
  });

  it("does not approve another commit, saying so in one line with both short SHAs", async () => {
    const d = decide(rds(), ["allow-data-loss"], { commit: A, approvedCommit: B });
    assert.deepEqual([d.ok, d.approved], [false, false]);
    assert.equal(d.approvalProblem, "the approval is for commit fedcba987654, but this is commit 0123456789ab: no approval");
    const text = renderDecisionText(d);
    assert.ok(text.includes("✗ the approval is for commit fedcba987654, but this is commit 0123456789ab: no approval\n"), text);
    assert.match(text, /✗ BLOCKED: deploy again with --approved-commit set to this commit's full SHA \(0123456789abcdef0123456789abcdef01234567\)/);
  });

  it("does not approve a malformed SHA (short, not hex, or no --commit)", async () => {
    for (const [commit, approvedCommit, why] of [
      [A, A.slice(0, 7), /is not a full 40-hex commit SHA/],
      [A, A.replace("a", "g"), /is not a full 40-hex commit SHA/],
      [A.slice(0, 12), A.slice(0, 12), /is not a full 40-hex commit SHA/],
      [undefined, A, /needs --commit/],
    ] as const) {
      const d = decide(rds(), [], { commit, approvedCommit });
      assert.deepEqual([d.ok, d.approved], [false, false], `${commit} ${approvedCommit}`);
      assert.match(d.approvalProblem!, why);
    }
  });

  it("reads an empty approved commit as no approval, and then labels do not approve either", async () => {
    const d = decide(rds(), ["allow-data-loss"], { commit: A, approvedCommit: "" });
    assert.deepEqual([d.ok, d.approved, d.approvalBy, d.approvalProblem], [false, false, "commit", undefined]);
    assert.equal(decide([], [], { commit: A, approvedCommit: "" }).ok, true, "nothing to approve");
  });
});

describe("data-safety gate: offline plan diff", () => {
  const r = (type: string, name: string, stateful: boolean, physicalName?: string): PlannedResource => ({
    type,
    name,
    physicalName,
    protected: false,
    stateful,
    custom: true,
    inputsHash: physicalName ?? "0",
  });
  const sp = (stack: string, resources: PlannedResource[]): StackPlan => ({
    stack,
    file: `Pulumi.${stack}.yaml`,
    ok: true,
    errors: [],
    resources,
    variables: [],
    missingSecrets: [],
    outputs: {},
    violations: [],
  });
  const plan = (stacks: StackPlan[]): Plan => ({ note: "", stacks, audit: { ok: true, conflicts: [], unaudited: [] }, ok: true });
  const base = plan([
    sp("staging", [
      r("aws:s3/bucket:Bucket", "mina-staging-bucket-bucket", true, "mina-audio-staging"),
      r("postgresql:index/database:Database", "mina-staging-database-db", true, "mina_staging"),
      r("aws:iam/user:User", "mina-staging-bucket-user", false, "mina-audio-staging"),
    ]),
  ]);
  const head = plan([
    sp("staging", [
      r("aws:s3/bucket:Bucket", "mina-staging-bucket-bucket", true, "mina-audio-staging-media"),
      r("aws:iam/user:User", "mina-staging-bucket-user", false, "mina-audio-staging-media"),
    ]),
  ]);
  const diff = diffPlans(base, head, { base: "origin/main" });

  it("reads a removal as a delete and a new physical name as a replace, for every type not on the reviewed list", async () => {
    assert.deepEqual(
      dangerousFromPlanDiff(diff).map((o) => [o.stack, o.kind, o.type, o.name]),
      [
        ["staging", "delete", "postgresql:index/database:Database", "mina-staging-database-db"],
        ["staging", "replace", "aws:iam/user:User", "mina-staging-bucket-user"],
        ["staging", "replace", "aws:s3/bucket:Bucket", "mina-staging-bucket-bucket"],
      ],
    );
    assert.equal(decide(dangerousFromPlanDiff(diff), []).ok, false);
    assert.equal(decide(dangerousFromPlanDiff(diff), ["allow-data-loss"]).ok, true);
    assert.deepEqual(dangerousFromPlanDiff(diffPlans(base, base)), []);
  });

  it("does not trust the diff's own flags: it reads types, so a removed type marked not stateful still needs approval", async () => {
    const forged = JSON.parse(JSON.stringify(diff));
    for (const s of forged.stacks) for (const r of s.removed) r.stateful = false;
    forged.stacks[0].needsApproval = [];
    forged.needsApproval = [];
    assert.deepEqual(dangerousFromPlanDiff(forged), dangerousFromPlanDiff(diff));
    assert.equal(dangerousFromPlanDiff(forged).length, 3);
  });

  it("reads a changed random secret as a rotated credential, and a stack with an invalid config as incomplete", async () => {
    const secret = (hash: string) => ({ ...r("random:index/randomBytes:RandomBytes", "mina-staging-secrets-secret-key", false), inputsHash: hash });
    const d = diffPlans(plan([sp("staging", [secret("1")])]), plan([sp("staging", [secret("2")])]));
    assert.deepEqual(
      dangerousFromPlanDiff(d).map((o) => [o.kind, o.name]),
      [["rotates a credential", "mina-staging-secrets-secret-key"]],
    );
    const invalid = diffPlans(base, plan([{ ...sp("staging", []), ok: false, errors: ["Pulumi.staging.yaml: broken"] }]));
    const read = readPlanDiff(JSON.parse(JSON.stringify(invalid)));
    assert.deepEqual(read.incomplete, ["plan diff: stack staging has an invalid config at this commit, so it has no resource diff"]);
    assert.equal(decide(read.dangerous, ["allow-data-loss"], { incomplete: read.incomplete }).ok, false);
  });

  it("refuses a document that is not a plan diff", async () => {
    assert.throws(() => readPlanDiff({ stacks: [{ stack: "staging", removed: [] }] }), /stacks\[0\]\.changed is not a list of resources/);
    assert.throws(() => readPlanDiff({ stacks: [{ stack: "staging", removed: [{ name: 1 }], changed: [], mayBeReplaced: [] }] }), /stacks\[0\]\.removed/);
    assert.throws(() => readPlanDiff([]), GateInputError);
  });

  it("turns resources under a provider whose inputs change into operations that may replace them", async () => {
    const aws = (region: string): PlannedResource => ({
      ...r("pulumi:providers:aws", "mina-staging-aws", false),
      providerInputs: { region: { value: region }, allowedAccountIds: { value: '["210987654321"]' } },
    });
    const under = (res: PlannedResource): PlannedResource => ({ ...res, provider: "pulumi:providers:aws::mina-staging-aws" });
    const resources = [
      under(r("aws:s3/bucket:Bucket", "mina-staging-bucket-bucket", true, "mina-audio-staging")),
      under(r("aws:route53/record:Record", "mina-staging-dns-share", false)),
    ];
    const d = diffPlans(plan([sp("staging", [aws("us-east-1"), ...resources])]), plan([sp("staging", [aws("eu-west-1"), ...resources])]));
    const ops = dangerousFromPlanDiff(d);
    assert.deepEqual(
      ops.map((o) => [o.kind, o.type, o.detail]),
      [
        ["may be replaced", "aws:route53/record:Record", "aws provider mina-staging-aws changes: region us-east-1 -> eu-west-1"],
        ["may be replaced", "aws:s3/bucket:Bucket", "aws provider mina-staging-aws changes: region us-east-1 -> eu-west-1"],
      ],
    );
    const decision = decide(ops, []);
    assert.equal(decision.ok, false);
    assert.match(
      renderDecisionText(decision),
      /^ {2}staging: MAY BE REPLACED aws:s3:Bucket mina-staging-bucket-bucket \(aws provider mina-staging-aws changes: region us-east-1 -> eu-west-1\)$/m,
    );
    assert.equal(decide(ops, ["allow-data-loss"]).ok, true);
  });

  it("prefers the preview's finding over the plan diff's for the same resource", async () => {
    const fromPreview = dangerousFromPreview(preview("bucket-replace.json"));
    const d = decide([...dangerousFromPlanDiff(diff), ...fromPreview], []);
    const bucket = d.dangerous.filter((o) => o.name === "mina-staging-bucket-bucket");
    assert.deepEqual(
      bucket.map((o) => o.source),
      ["preview"],
    );
    assert.equal(d.dangerous.length, 3);
  });

  describe("npm run gate (CLI)", function () {
    this.timeout(60000);
    let tmp: string;
    before(async () => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mina-gate-"));
      fs.writeFileSync(path.join(tmp, "diff.json"), JSON.stringify(diff));
      fs.writeFileSync(path.join(tmp, "empty.json"), "");
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("exits 0 on a harmless preview (end to end, through the bin)", () => {
      const g = spawnCli("gate", ["--preview", fixture("harmless-update.json")]);
      assert.equal(g.status, 0, g.stderr);
      assert.match(g.stdout, /changes: same 27, update 1/);
    });

    it("exits 1 on a dangerous preview, printing what needs approval first, with its kind", async () => {
      const g = await gate("--preview", fixture("rds-delete.json"), fixture("harmless-update.json"), "--labels", '["infra"]');
      assert.equal(g.status, 1, g.stderr);
      const lines = g.stdout.split("\n");
      assert.equal(lines[0], "2 operations need approval:");
      assert.equal(lines[1], "  production: DELETE aws:rds:Instance mina-production-database-instance");
      assert.equal(lines[2], "  production: ROTATES A CREDENTIAL random:RandomPassword mina-production-database-master-password");
      assert.match(g.stdout, /✗ BLOCKED/);
    });

    it("exits 0 with the approval label, and gives the decision as JSON", async () => {
      const g = await gate("--preview", fixture("bucket-replace.json"), "--labels", "infra,allow-data-loss", "--json");
      assert.equal(g.status, 0, g.stderr);
      const d = JSON.parse(g.stdout);
      assert.deepEqual([d.ok, d.approved, d.dangerous.length, d.dangerous[0].kind, d.dangerous[0].op], [true, true, 1, "replace", "replace"]);
    });

    it("approves a deploy by commit: equal SHAs pass; a different, malformed or empty one does not, and labels do not count", async () => {
      const sha = "89abcdef0123456789abcdef0123456789abcdef";
      const other = "1111111111111111111111111111111111111111";
      const rds = fixture("rds-delete.json");
      const ok = await gate("--preview", rds, "--commit", sha, "--approved-commit", sha.toUpperCase());
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /⚠ APPROVED for commit 89abcdef0123/);
      const wrong = await gate("--preview", rds, "--commit", sha, "--approved-commit", other, "--labels", "allow-data-loss");
      assert.equal(wrong.status, 1);
      assert.equal(wrong.stdout.split("\n").filter((l) => l.includes("111111111111") && l.includes("89abcdef0123")).length, 1, wrong.stdout);
      const bad = await gate("--preview", rds, "--commit", sha, "--approved-commit", "89abcde");
      assert.equal(bad.status, 1);
      assert.match(bad.stdout, /--approved-commit "89abcde" is not a full 40-hex commit SHA/);
      const empty = await gate("--preview", rds, "--commit", sha, "--approved-commit", "", "--labels", "allow-data-loss", "--json");
      assert.equal(empty.status, 1, empty.stderr);
      assert.deepEqual([JSON.parse(empty.stdout).approved, JSON.parse(empty.stdout).approvalBy], [false, "commit"]);
    });

    it("blocks, without a crash, a preview whose diagnostics have odd shapes or whose summary hides steps", async () => {
      fs.writeFileSync(
        path.join(tmp, "odd.json"),
        JSON.stringify({
          steps: [{ op: "teleport", urn: "urn:pulumi:staging::mina::aws:s3/bucket:Bucket::b" }],
          diagnostics: [null, { severity: "error", message: { nested: true } }, { severity: "panic" }],
          changeSummary: { delete: 2 },
          maybeCorrupt: true,
        }),
      );
      const g = await gate("--preview", path.join(tmp, "odd.json"), "--labels", "allow-data-loss");
      assert.equal(g.status, 1, g.stderr);
      assert.equal(g.stderr, "");
      for (const re of [
        /diagnostics\[0\] is not an object/,
        /reported an error: \(no message\)/,
        /severity "panic"/,
        /op "teleport"/,
        /counts 2 delete but the steps show 0/,
        /may be corrupt/,
        /no approval overrides this/,
      ]) {
        assert.match(g.stdout, re);
      }
    });

    it("reads the plan diff with --plan-diff", async () => {
      const g = await gate("--plan-diff", path.join(tmp, "diff.json"), "--format", "markdown");
      assert.equal(g.status, 1, g.stderr);
      assert.match(g.stdout, /\| staging \| \*\*delete\*\* \| `postgresql:Database` \| mina-staging-database-db \|/);
      assert.equal((await gate("--plan-diff", path.join(tmp, "diff.json"), "--labels", "allow-data-loss")).status, 0);
    });

    it("fails in one line (exit 2) on a missing, empty or foreign input", async () => {
      for (const [args, msg] of [
        [["--preview", path.join(tmp, "nope.json")], /^error: preview .*nope\.json: no such file\n$/],
        [["--preview", path.join(tmp, "empty.json")], /^error: preview .*empty\.json is empty/],
        [["--preview", path.join(REPO, "package.json")], /^error: .*package\.json: not a pulumi preview --json document/],
        [[], /^error: give --preview FILE/],
      ] as const) {
        const g = await gate(...args);
        assert.equal(g.status, 2, g.stdout);
        assert.match(g.stderr, msg);
        assert.equal(g.stderr.trim().split("\n").length, 1);
      }
    });
  });
});

describe("deploy guard", () => {
  it("allows up and preview", async () => {
    assert.deepEqual(guardDeploy("production", "up", { PULUMI_ACCESS_TOKEN: "x" }), []);
    assert.deepEqual(guardDeploy("staging", "preview"), []);
    // The command as a workflow writes it, with the leading `pulumi`, is the same command.
    assert.deepEqual(guardDeploy("production", "pulumi up --yes"), []);
    assert.ok(guardDeploy("production", "pulumi destroy --yes").some((r) => /command "pulumi destroy --yes" asks for destroy/.test(r)));
    assert.match(guardDeploy("production", "pulumi stack rm production")[0], /is not one of up, update, preview/);
  });

  it("refuses destroy, protection bypasses and forced replacements, for production above all", async () => {
    for (const cmd of [
      "destroy",
      "up --yes && pulumi destroy --yes",
      "up --ignore-protect",
      "state unprotect urn",
      "destroy --exclude-protected",
      "up --replace urn:x",
      "stack rm production",
    ]) {
      const reasons = guardDeploy("production", cmd);
      assert.ok(reasons.length > 0, cmd);
      assert.match(reasons[0], /^refusing to deploy stack production: .* \(production least of all\)$/);
    }
    assert.match(guardDeploy("production", "up", { PULUMI_IGNORE_PROTECT: "true" })[0], /environment variable PULUMI_IGNORE_PROTECT is set/);
    assert.deepEqual(guardDeploy("production", "up", { PULUMI_IGNORE_PROTECT: "false" }), []);
  });

  it("runs as npm run gate -- --guard-command CMD --stack NAME", async function () {
    this.timeout(60000);
    assert.equal((await gate("--guard-command", "up", "--stack", "production")).status, 0);
    const g = await gate("--guard-command", "destroy", "--stack", "production");
    assert.equal(g.status, 1);
    assert.match(g.stderr, /refusing to deploy stack production: command "destroy"/);
  });
});

describe("AWS account check", () => {
  it("reads the pinned account ids from the stack files", async () => {
    assert.deepEqual(allowedAccountIds(REPO, "production"), [PRODUCTION_ACCOUNT]);
    assert.deepEqual(allowedAccountIds(REPO, "staging"), [STAGING_ACCOUNT]);
    const missing = missingStack();
    assert.throws(() => allowedAccountIds(REPO, missing), new RegExp(`no stack file Pulumi\\.${missing}\\.yaml`));
  });

  it("names both accounts on a mismatch", async () => {
    assert.equal(checkAccount("production", `${PRODUCTION_ACCOUNT}\n`, [PRODUCTION_ACCOUNT]), null);
    assert.equal(
      checkAccount("production", STAGING_ACCOUNT, [PRODUCTION_ACCOUNT]),
      `AWS account mismatch for stack production: the credentials are for account ${STAGING_ACCOUNT}, but Pulumi.production.yaml pins aws:allowedAccountIds ${PRODUCTION_ACCOUNT}`,
    );
  });

  it("runs as cli/account-check.ts, exit 1 on a mismatch", async function () {
    this.timeout(60000);
    const check = (...args: string[]) => run("account-check", args);
    const ok = await check("--stack", "staging", "--account", STAGING_ACCOUNT);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = await check("--stack", "staging", "--account", PRODUCTION_ACCOUNT);
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      new RegExp(`credentials are for account ${PRODUCTION_ACCOUNT}, but Pulumi\\.staging\\.yaml pins aws:allowedAccountIds ${STAGING_ACCOUNT}`),
    );
  });
});
