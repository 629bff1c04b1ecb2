/**
 * The deploy job's own steps around `pulumi up`: the RDS snapshot before a
 * production deploy (AWS behind a recorded fake: the decisions, not AWS), and the
 * migrations after it (a real shell, in a real directory).
 */
import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { clients } from "../cli/snapshot";
import { snapshotName, SnapshotClients, SnapshotError, takeSnapshot } from "../gate/snapshot";
import { run } from "./cli";
import { PRODUCTION_ACCOUNT, STAGING_ACCOUNT } from "./helpers";

const SHA = "0123456789abcdef0123456789abcdef01234567";

/** A fake AWS: the account, and snapshot statuses in the order they are asked for; records every call. */
function fakeAws(account: string, statuses: (string | undefined)[]): SnapshotClients & { calls: string[] } {
  const calls: string[] = [];
  let i = 0;
  return {
    calls,
    async accountId() {
      calls.push("sts:GetCallerIdentity");
      return account;
    },
    async snapshotStatus(s) {
      calls.push(`rds:DescribeDBSnapshots ${s}`);
      return statuses[Math.min(i++, statuses.length - 1)];
    },
    async createSnapshot(s, instance, tags) {
      calls.push(`rds:CreateDBSnapshot ${s} of ${instance} tagged commit=${tags.commit}`);
    },
  };
}

describe("the snapshot before a production deploy", () => {
  const req = { stack: "production", instance: "mina-production", allowedAccountIds: [PRODUCTION_ACCOUNT], commit: SHA, pollMs: 0 };

  it("is named after the commit, taken, and waited for until available", async () => {
    const aws = fakeAws(PRODUCTION_ACCOUNT, [undefined, "creating", "creating", "available"]);
    const r = await takeSnapshot(aws, req);
    assert.deepEqual(r, { snapshot: "mina-production-pre-0123456789ab", created: true });
    assert.deepEqual(aws.calls, [
      "sts:GetCallerIdentity",
      "rds:DescribeDBSnapshots mina-production-pre-0123456789ab",
      "rds:CreateDBSnapshot mina-production-pre-0123456789ab of mina-production tagged commit=" + SHA,
      "rds:DescribeDBSnapshots mina-production-pre-0123456789ab",
      "rds:DescribeDBSnapshots mina-production-pre-0123456789ab",
      "rds:DescribeDBSnapshots mina-production-pre-0123456789ab",
    ]);
  });

  it("refuses credentials of another account before any RDS call", async () => {
    const aws = fakeAws(STAGING_ACCOUNT, [undefined]);
    await assert.rejects(takeSnapshot(aws, req), (e: Error) => e instanceof SnapshotError && /AWS account mismatch for stack production: the credentials are for account 210987654321/.test(e.message));
    assert.deepEqual(aws.calls, ["sts:GetCallerIdentity"]);
  });

  it("reuses this commit's snapshot on a re-run, and stops on a failed or late one", async () => {
    assert.deepEqual(await takeSnapshot(fakeAws(PRODUCTION_ACCOUNT, ["available"]), req), { snapshot: "mina-production-pre-0123456789ab", created: false });
    await assert.rejects(takeSnapshot(fakeAws(PRODUCTION_ACCOUNT, [undefined, "failed"]), req), /is failed, not available: the deploy stops here, before pulumi up/);
    await assert.rejects(takeSnapshot(fakeAws(PRODUCTION_ACCOUNT, [undefined, "creating"]), { ...req, timeoutMs: -1 }), /was not available in time \(still creating\)/);
    assert.throws(() => snapshotName("mina-production", "abc123"), /--commit must be a full 40-hex commit SHA/);
  });

  it("runs as a command on the stack's own instance, and refuses a stack without one", async () => {
    const aws = fakeAws(PRODUCTION_ACCOUNT, [undefined, "available"]);
    const make = clients.make;
    clients.make = () => aws;
    try {
      const ok = await run("snapshot", ["--stack", "production", "--commit", SHA, "--poll", "0"]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /^✓ snapshot mina-production-pre-0123456789ab of mina-production is available; to roll back: restore it/);
      const server = await run("snapshot", ["--stack", "staging", "--commit", SHA]);
      assert.equal(server.status, 1);
      assert.equal(server.stderr, "error: staging has no RDS instance of its own (server mode): back its database up on the shared server instead\n");
    } finally {
      clients.make = make;
    }
  });
});

describe("the migrations after pulumi up", () => {
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-migrate-"));
    fs.mkdirSync(path.join(work, "app"));
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("runs the stack's command in the app checkout with the env file as its environment", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "mina-migrate-project-"));
    try {
      const { REPO } = require("./helpers") as typeof import("./helpers");
      for (const f of ["Pulumi.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(project, f));
      fs.writeFileSync(path.join(project, "Pulumi.staging.yaml"), fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8") + '  mina:migrateCommand: echo "migrating $ENVIRONMENT in $(basename "$PWD")" > migrated.txt\n');
      fs.writeFileSync(path.join(work, ".env.staging.local"), "ENVIRONMENT=staging\n", { mode: 0o600 });
      const r = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", ".env.staging.local", "--dir", project], { cwd: work });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(work, "app", "migrated.txt"), "utf8"), "migrating staging in app\n");
      assert.match(r.stdout, /✓ migrations of staging ran: echo/);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it("refuses another environment's env file, and stops on a failing command naming it", async () => {
    fs.writeFileSync(path.join(work, "prod.env"), "ENVIRONMENT=production\n", { mode: 0o600 });
    const wrong = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", "prod.env"], { cwd: work });
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr, 'error: prod.env is "production"\'s env file, not staging\'s: refusing to migrate with it\n');
    fs.writeFileSync(path.join(work, "staging.env"), "ENVIRONMENT=staging\n", { mode: 0o600 });
    const failing = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", "staging.env"], { cwd: work, env: { PATH: "/nonexistent" } });
    assert.equal(failing.status, 1);
    assert.match(failing.stderr, /^error: the migrations of staging failed \(flask db upgrade, exit 127\): /);
  });
});
