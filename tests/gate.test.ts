/**
 * The data-safety gate on recorded `pulumi preview --json` documents and on
 * offline plan diffs; the deploy guard; the AWS account check.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  allowedAccountIds,
  checkAccount,
  dangerousFromPlanDiff,
  dangerousFromPreview,
  decide,
  GateInputError,
  guardDeploy,
  parseLabels,
  parsePreview,
  parseUrn,
  PreviewDigest,
  previewProblems,
  renderDecisionMarkdown,
  renderDecisionText,
} from "../cli/lib/gate";
import type { Plan, PlannedResource, StackPlan } from "../cli/lib/plan";
import { diffPlans } from "../cli/lib/planDiff";
import { PRODUCTION_ACCOUNT, REPO, STAGING_ACCOUNT } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures", "preview");
const fixture = (name: string) => path.join(FIXTURES, name);
const preview = (name: string): PreviewDigest => parsePreview(JSON.parse(fs.readFileSync(fixture(name), "utf8")), name);
const tsx = path.join(REPO, "node_modules", ".bin", "tsx");
const gate = (...args: string[]) => spawnSync(tsx, [path.join(REPO, "cli", "gate.ts"), ...args], { cwd: REPO, encoding: "utf8" });

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
  it("parses URNs, with parent types and names holding '::'", () => {
    assert.deepEqual(parseUrn("urn:pulumi:staging::mina::mina:index:Environment$mina:index:Bucket$aws:s3/bucket:Bucket::mina-staging-bucket-bucket"), {
      stack: "staging",
      project: "mina",
      type: "aws:s3/bucket:Bucket",
      name: "mina-staging-bucket-bucket",
    });
    assert.equal(parseUrn("urn:pulumi:production::mina::pulumi:pulumi:Stack::a::b")!.name, "a::b");
    assert.equal(parseUrn("not-a-urn"), undefined);
  });

  it("lets a harmless update through", () => {
    const d = decideOn(["harmless-update.json"]);
    assert.deepEqual([d.ok, d.dangerous, d.incomplete], [true, [], []]);
    assert.match(renderDecisionText(d), /^✓ data-safety gate: no stateful resource is deleted or replaced\./);
  });

  it("blocks a bucket replacement (its three replacement steps count once; stateless replacements do not count)", () => {
    const d = decideOn(["bucket-replace.json"], ["infra", "needs-review"]);
    assert.equal(d.ok, false);
    assert.deepEqual(d.dangerous, [
      { stack: "staging", op: "replace", type: "aws:s3/bucket:Bucket", name: "mina-staging-bucket-bucket", source: "preview", detail: "replaced because of: bucket" },
    ]);
    const text = renderDecisionText(d);
    assert.match(text.split("\n")[1], /^  staging: REPLACE aws:s3:Bucket mina-staging-bucket-bucket \(replaced because of: bucket\)$/);
    assert.match(text, /✗ BLOCKED: add the label "allow-data-loss"/);
  });

  it("blocks an RDS deletion", () => {
    const d = decideOn(["rds-delete.json"]);
    assert.equal(d.ok, false);
    assert.deepEqual(
      d.dangerous.map((o) => [o.stack, o.op, o.type, o.name]),
      [["production", "delete", "aws:rds/instance:Instance", "mina-production-database-instance"]],
    );
  });

  it("lets a dangerous operation through with the approval label, saying so", () => {
    const d = decideOn(["bucket-replace.json", "rds-delete.json"], ["allow-data-loss"]);
    assert.deepEqual([d.ok, d.approved, d.dangerous.length], [true, true, 2]);
    assert.equal(d.dangerous[0].op, "delete", "deletions are listed before replacements");
    assert.match(renderDecisionText(d), /⚠ APPROVED by the label "allow-data-loss"/);
    assert.match(renderDecisionMarkdown(d), /\| production \| \*\*delete\*\* \| `aws:rds:Instance` \| mina-production-database-instance \|/);
  });

  it("takes a configurable approval label", () => {
    assert.equal(decideOn(["rds-delete.json"], ["allow-data-loss"], "dba-approved").ok, false);
    assert.equal(decideOn(["rds-delete.json"], ["dba-approved"], "dba-approved").ok, true);
  });

  it("blocks a failed preview even with the label: its step list may be incomplete", () => {
    const d = decideOn(["protected-delete-failed.json"], ["allow-data-loss"]);
    assert.equal(d.ok, false);
    assert.match(d.incomplete[0], /the preview reported an error: unable to delete resource "urn:pulumi:production::mina::/);
    assert.match(renderDecisionText(d), /an approval label does not override this/);
  });

  it("refuses documents that are not a preview", () => {
    assert.throws(() => parsePreview([]), GateInputError);
    assert.throws(() => parsePreview({ hello: 1 }), /no "steps" and no "changeSummary"/);
    assert.throws(() => parsePreview({ steps: [{ op: "delete" }] }), /steps\[0\] has no "op" and "urn"/);
    assert.deepEqual(parsePreview({ changeSummary: { same: 3 } }).steps, []);
  });

  it("reads labels as a comma-separated list or as the JSON array of the event's label names", () => {
    assert.deepEqual(parseLabels(["infra, allow-data-loss", "x"]), ["infra", "allow-data-loss", "x"]);
    assert.deepEqual(parseLabels(['["allow-data-loss","needs, comma"]']), ["allow-data-loss", "needs, comma"]);
    assert.deepEqual(parseLabels(["[]", ""]), []);
    assert.throws(() => parseLabels(["[oops"]), GateInputError);
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
  const plan = (stacks: StackPlan[]): Plan => ({ note: "", stacks, audit: { ok: true, conflicts: [] }, ok: true });
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

  it("reads a removed stateful resource as a delete and a stateful rename as a replace", () => {
    assert.deepEqual(
      dangerousFromPlanDiff(diff).map((o) => [o.stack, o.op, o.type, o.name]),
      [
        ["staging", "delete", "postgresql:index/database:Database", "mina-staging-database-db"],
        ["staging", "replace", "aws:s3/bucket:Bucket", "mina-staging-bucket-bucket"],
      ],
    );
    assert.equal(decide(dangerousFromPlanDiff(diff), []).ok, false);
    assert.equal(decide(dangerousFromPlanDiff(diff), ["allow-data-loss"]).ok, true);
    assert.deepEqual(dangerousFromPlanDiff(diffPlans(base, base)), []);
  });

  it("prefers the preview's finding over the plan diff's for the same resource", () => {
    const fromPreview = dangerousFromPreview(preview("bucket-replace.json"));
    const d = decide([...dangerousFromPlanDiff(diff), ...fromPreview], []);
    const bucket = d.dangerous.filter((o) => o.name === "mina-staging-bucket-bucket");
    assert.deepEqual(bucket.map((o) => o.source), ["preview"]);
    assert.equal(d.dangerous.length, 2);
  });

  describe("npm run gate (CLI)", function () {
    this.timeout(60000);
    let tmp: string;
    before(() => {
      tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mina-gate-"));
      fs.writeFileSync(path.join(tmp, "diff.json"), JSON.stringify(diff));
      fs.writeFileSync(path.join(tmp, "empty.json"), "");
    });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("exits 0 on a harmless preview", () => {
      const g = gate("--preview", fixture("harmless-update.json"));
      assert.equal(g.status, 0, g.stderr);
      assert.match(g.stdout, /changes: same 27, update 1/);
    });

    it("exits 1 on a dangerous preview, printing the dangerous operations first", () => {
      const g = gate("--preview", fixture("rds-delete.json"), fixture("harmless-update.json"), "--labels", '["infra"]');
      assert.equal(g.status, 1, g.stderr);
      const lines = g.stdout.split("\n");
      assert.equal(lines[0], "1 operation would delete or replace a stateful resource (its data is lost):");
      assert.equal(lines[1], "  production: DELETE aws:rds:Instance mina-production-database-instance");
      assert.match(g.stdout, /✗ BLOCKED/);
    });

    it("exits 0 with the approval label, and gives the decision as JSON", () => {
      const g = gate("--preview", fixture("bucket-replace.json"), "--labels", "infra,allow-data-loss", "--json");
      assert.equal(g.status, 0, g.stderr);
      const d = JSON.parse(g.stdout);
      assert.deepEqual([d.ok, d.approved, d.dangerous.length, d.dangerous[0].op], [true, true, 1, "replace"]);
    });

    it("reads the plan diff with --plan-diff", () => {
      const g = gate("--plan-diff", path.join(tmp, "diff.json"), "--format", "markdown");
      assert.equal(g.status, 1, g.stderr);
      assert.match(g.stdout, /\| staging \| \*\*delete\*\* \| `postgresql:Database` \| mina-staging-database-db \|/);
      assert.equal(gate("--plan-diff", path.join(tmp, "diff.json"), "--labels", "allow-data-loss").status, 0);
    });

    it("fails in one line (exit 2) on a missing, empty or foreign input", () => {
      for (const [args, msg] of [
        [["--preview", path.join(tmp, "nope.json")], /^error: preview .*nope\.json: no such file\n$/],
        [["--preview", path.join(tmp, "empty.json")], /^error: preview .*empty\.json is empty/],
        [["--preview", path.join(REPO, "package.json")], /^error: .*package\.json: not a pulumi preview --json document/],
        [[], /^error: give --preview FILE/],
      ] as const) {
        const g = gate(...args);
        assert.equal(g.status, 2, g.stdout);
        assert.match(g.stderr, msg);
        assert.equal(g.stderr.trim().split("\n").length, 1);
      }
    });
  });
});

describe("deploy guard", () => {
  it("allows up and preview", () => {
    assert.deepEqual(guardDeploy("production", "up", { PULUMI_ACCESS_TOKEN: "x" }), []);
    assert.deepEqual(guardDeploy("staging", "preview"), []);
  });

  it("refuses destroy, protection bypasses and forced replacements, for production above all", () => {
    for (const cmd of ["destroy", "up --yes && pulumi destroy --yes", "up --ignore-protect", "state unprotect urn", "destroy --exclude-protected", "up --replace urn:x", "stack rm production"]) {
      const reasons = guardDeploy("production", cmd);
      assert.ok(reasons.length > 0, cmd);
      assert.match(reasons[0], /^refusing to deploy stack production: .* \(production least of all\)$/);
    }
    assert.match(guardDeploy("production", "up", { PULUMI_IGNORE_PROTECT: "true" })[0], /environment variable PULUMI_IGNORE_PROTECT is set/);
    assert.deepEqual(guardDeploy("production", "up", { PULUMI_IGNORE_PROTECT: "false" }), []);
  });

  it("runs as npm run gate -- --guard-command CMD --stack NAME", function () {
    this.timeout(60000);
    assert.equal(gate("--guard-command", "up", "--stack", "production").status, 0);
    const g = gate("--guard-command", "destroy", "--stack", "production");
    assert.equal(g.status, 1);
    assert.match(g.stderr, /refusing to deploy stack production: command "destroy"/);
  });
});

describe("AWS account check", () => {
  it("reads the pinned account ids from the stack files", () => {
    assert.deepEqual(allowedAccountIds(REPO, "production"), [PRODUCTION_ACCOUNT]);
    assert.deepEqual(allowedAccountIds(REPO, "staging"), [STAGING_ACCOUNT]);
    assert.throws(() => allowedAccountIds(REPO, "qa"), /no stack file Pulumi\.qa\.yaml/);
  });

  it("names both accounts on a mismatch", () => {
    assert.equal(checkAccount("production", `${PRODUCTION_ACCOUNT}\n`, [PRODUCTION_ACCOUNT]), null);
    assert.equal(
      checkAccount("production", STAGING_ACCOUNT, [PRODUCTION_ACCOUNT]),
      `AWS account mismatch for stack production: the credentials are for account ${STAGING_ACCOUNT}, but Pulumi.production.yaml pins aws:allowedAccountIds ${PRODUCTION_ACCOUNT}`,
    );
  });

  it("runs as cli/account-check.ts, exit 1 on a mismatch", function () {
    this.timeout(60000);
    const check = (...args: string[]) => spawnSync(tsx, [path.join(REPO, "cli", "account-check.ts"), ...args], { cwd: REPO, encoding: "utf8" });
    const ok = check("--stack", "staging", "--account", STAGING_ACCOUNT);
    assert.equal(ok.status, 0, ok.stderr);
    const bad = check("--stack", "staging", "--account", PRODUCTION_ACCOUNT);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, new RegExp(`credentials are for account ${PRODUCTION_ACCOUNT}, but Pulumi\\.staging\\.yaml pins aws:allowedAccountIds ${STAGING_ACCOUNT}`));
  });
});
