/**
 * The RDS snapshot a production deploy takes before `pulumi up`. The decisions
 * (names, waiting, the account guard, the first deploy) in-process with the AWS
 * SDK's clients mocked by aws-sdk-client-mock; the command end to end through the
 * compiled bin against moto's local AWS API, where its exit code is what a deploy
 * job sees.
 */
import {
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  DBInstanceNotFoundFault,
  DBSnapshotNotFoundFault,
  InvalidDBInstanceStateFault,
  RDSClient,
} from "@aws-sdk/client-rds";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { strict as assert } from "node:assert";
import { snapshotName, SnapshotError, takeSnapshot } from "../ops/snapshot";
import { run, spawnCliAsync } from "./cli";
import { PRODUCTION_ACCOUNT, STAGING_ACCOUNT } from "./helpers";
import { type Moto, startMoto } from "./moto";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const SNAPSHOT = "mina-production-pre-0123456789ab";
const meta = { $metadata: {} };

describe("the snapshot before a production deploy: decisions (SDK clients mocked)", () => {
  const rds = mockClient(RDSClient);
  const sts = mockClient(STSClient);
  const clients = () => ({ rds: new RDSClient({ region: "us-east-1" }), sts: new STSClient({ region: "us-east-1" }) });
  const req = { stack: "production", instance: "mina-production", allowedAccountIds: [PRODUCTION_ACCOUNT], commit: SHA, pollMs: 0 };
  const notFound = new DBSnapshotNotFoundFault({ message: "not found", $metadata: {} });

  beforeEach(() => {
    rds.reset();
    sts.reset();
    sts.on(GetCallerIdentityCommand).resolves({ Account: PRODUCTION_ACCOUNT });
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceIdentifier: "mina-production", DBInstanceStatus: "available" }] });
  });
  after(() => {
    rds.restore();
    sts.restore();
  });

  it("is named after the commit, taken with the commit's tags, and waited for until available", async () => {
    rds
      .on(DescribeDBSnapshotsCommand)
      .rejectsOnce(notFound)
      .resolvesOnce({ DBSnapshots: [{ Status: "creating" }] })
      .resolves({ DBSnapshots: [{ Status: "available" }] });
    rds.on(CreateDBSnapshotCommand).resolves(meta);
    assert.deepEqual(await takeSnapshot(clients(), req), { snapshot: SNAPSHOT, created: true });
    const create = rds.commandCalls(CreateDBSnapshotCommand);
    assert.equal(create.length, 1);
    assert.equal(create[0].args[0].input.DBSnapshotIdentifier, SNAPSHOT);
    assert.equal(create[0].args[0].input.DBInstanceIdentifier, "mina-production");
    assert.deepEqual(create[0].args[0].input.Tags, [
      { Key: "stack", Value: "production" },
      { Key: "commit", Value: SHA },
      { Key: "created-by", Value: "mina-infra snapshot" },
    ]);
    assert.equal(rds.commandCalls(DescribeDBSnapshotsCommand).length, 3, "asked until available");
  });

  it("refuses credentials of another account before any RDS call", async () => {
    sts.on(GetCallerIdentityCommand).resolves({ Account: STAGING_ACCOUNT });
    await assert.rejects(
      takeSnapshot(clients(), req),
      (e: Error) => e instanceof SnapshotError && /AWS account mismatch for stack production: the credentials are for account 210987654321/.test(e.message),
    );
    assert.equal(rds.calls().length, 0);
  });

  it("before the first deploy (no instance yet) takes nothing and says so", async () => {
    rds.on(DescribeDBInstancesCommand).rejects(new DBInstanceNotFoundFault({ message: "DBInstance mina-production not found.", $metadata: {} }));
    const r = await takeSnapshot(clients(), req);
    assert.deepEqual(r, { snapshot: SNAPSHOT, skipped: "instance mina-production does not exist yet (this deploy creates it): nothing to snapshot" });
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 0);
  });

  it("stops when the instance exists but cannot be snapshotted, and on any other describe error", async () => {
    rds.on(DescribeDBSnapshotsCommand).rejects(notFound);
    rds
      .on(CreateDBSnapshotCommand)
      .rejects(new InvalidDBInstanceStateFault({ message: "Instance mina-production is not currently in the available state.", $metadata: {} }));
    rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: "storage-full" }] });
    await assert.rejects(
      takeSnapshot(clients(), req),
      /^Error: instance mina-production \(storage-full\) cannot be snapshotted: Instance mina-production is not currently in the available state\.: the deploy stops here, before pulumi up$/,
    );
    rds.on(DescribeDBInstancesCommand).rejects(new Error("AccessDenied: not authorized to perform rds:DescribeDBInstances"));
    await assert.rejects(takeSnapshot(clients(), req), /AccessDenied/);
  });

  it("reuses this commit's snapshot on a re-run, and stops on a failed or late one", async () => {
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: "available" }] });
    assert.deepEqual(await takeSnapshot(clients(), req), { snapshot: SNAPSHOT, created: false });
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: "failed" }] });
    await assert.rejects(takeSnapshot(clients(), req), /is failed, not available: the deploy stops here, before pulumi up/);
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [{ Status: "creating" }] });
    await assert.rejects(takeSnapshot(clients(), { ...req, timeoutMs: -1 }), /was not available in time \(still creating\)/);
    assert.throws(() => snapshotName("mina-production", "abc123"), /--commit must be a full 40-hex commit SHA/);
  });

  it("refuses a stack without an instance of its own", async () => {
    const server = await run("snapshot", ["--stack", "staging", "--commit", SHA]);
    assert.equal(server.status, 1);
    assert.equal(server.stderr, "error: staging has no RDS instance of its own (server mode): back its database up on the shared server instead\n");
  });
});

describe("mina-infra snapshot end to end (the bin against moto's local AWS API)", function () {
  this.timeout(60_000);
  let moto: Moto;
  before(async () => {
    moto = await startMoto();
  });
  after(() => moto?.stop());
  const snapshot = async (account: string, ...extra: string[]) =>
    spawnCliAsync("snapshot", ["--stack", "production", "--commit", SHA, "--poll", "0s", ...extra], { env: await moto.env(account) });

  it("before the first deploy: no instance, a notice (in a workflow, one in its summary too), exit 0", async () => {
    const r = await spawnCliAsync("snapshot", ["--stack", "production", "--commit", SHA], {
      env: { ...(await moto.env(PRODUCTION_ACCOUNT)), GITHUB_ACTIONS: "true" },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      "- no snapshot: instance mina-production does not exist yet (this deploy creates it): nothing to snapshot\n" +
        "::notice title=snapshot of production::no snapshot: instance mina-production does not exist yet (this deploy creates it): nothing to snapshot\n",
    );
  });

  it("refuses another account's credentials with exit 1 and one line", async () => {
    const r = await snapshot(STAGING_ACCOUNT);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: AWS account mismatch for stack production: the credentials are for account 210987654321[^\n]*\n$/);
    assert.equal(r.stdout, "");
  });

  it("takes the snapshot of an existing instance and waits until it is available", async () => {
    const rds = new RDSClient({ region: "us-east-1", endpoint: moto.url, credentials: { accessKeyId: PRODUCTION_ACCOUNT, secretAccessKey: "x" } });
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: "mina-production",
        Engine: "postgres",
        DBInstanceClass: "db.t4g.medium",
        AllocatedStorage: 20,
        MasterUsername: "mina_admin",
        MasterUserPassword: "local-password-1",
      }),
    );
    const r = await snapshot(PRODUCTION_ACCOUNT, "--json");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { stack: "production", instance: "mina-production", snapshot: SNAPSHOT, created: true });
    const again = await snapshot(PRODUCTION_ACCOUNT);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^✓ snapshot mina-production-pre-0123456789ab of mina-production is available \(taken by an earlier run of this commit\)/);
  });

  it("fails in one line, exit 1, when the AWS API cannot be reached", async () => {
    const r = await spawnCliAsync("snapshot", ["--stack", "production", "--commit", SHA], {
      env: { ...(await moto.env(PRODUCTION_ACCOUNT)), AWS_ENDPOINT_URL: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" },
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: snapshot of mina-production failed: [^\n]+\n$/);
  });
});
