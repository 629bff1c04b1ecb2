/**
 * The snapshot a production deploy takes first: an RDS snapshot of the stack's own
 * instance, named after the commit being deployed, waited for until it is
 * available, with the stack's account guard (the credentials must be for the
 * account the stack file pins). It speaks to AWS through the SDK's own clients;
 * tests mock them with aws-sdk-client-mock, and run the command against a local
 * AWS API server (moto).
 */
import { CreateDBSnapshotCommand, DescribeDBInstancesCommand, DescribeDBSnapshotsCommand, RDSClient } from "@aws-sdk/client-rds";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { setTimeout as sleep } from "node:timers/promises";
import { firstLine } from "../lib/errors";
import { checkAccount } from "../gate/deploy";

/** The AWS SDK clients the snapshot uses, in the stack's region. */
export interface SnapshotClients {
  readonly rds: RDSClient;
  readonly sts: STSClient;
}

export interface SnapshotRequest {
  readonly stack: string;
  /** The stack's RDS instance identifier (derived names). */
  readonly instance: string;
  readonly allowedAccountIds: readonly string[];
  /** The full SHA of the commit about to be deployed. */
  readonly commit: string;
  /** Give up waiting after this long (default 60 min). */
  readonly timeoutMs?: number;
  /** Between status checks (default 15 s). */
  readonly pollMs?: number;
}

export class SnapshotError extends Error {}

/** `mina-production-pre-<12 hex>`: one snapshot per deployed commit, within RDS's 255 characters. */
export function snapshotName(instance: string, commit: string): string {
  if (!/^[0-9a-f]{40}$/i.test(commit)) throw new SnapshotError(`--commit must be a full 40-hex commit SHA, got "${commit}"`);
  return `${instance}-pre-${commit.slice(0, 12).toLowerCase()}`;
}

/** What the snapshot step did: a snapshot that is available, or nothing to snapshot yet. */
export type SnapshotResult =
  | { readonly snapshot: string; readonly created: boolean; readonly skipped?: undefined }
  | { readonly snapshot: string; readonly skipped: string };

/**
 * Takes (or finds, on a re-run of the same commit) the snapshot and waits until it
 * is available. Refuses credentials of another account before any other call. A
 * stack whose instance does not exist yet (its first deploy creates it) has
 * nothing to snapshot: that is reported, not refused. An instance that exists but
 * cannot be snapshotted stops the deploy.
 */
export async function takeSnapshot(clients: SnapshotClients, req: SnapshotRequest, say: (line: string) => void = () => undefined): Promise<SnapshotResult> {
  const snapshot = snapshotName(req.instance, req.commit);
  const account = (await clients.sts.send(new GetCallerIdentityCommand({}))).Account ?? "";
  const mismatch = checkAccount(req.stack, account, req.allowedAccountIds);
  if (mismatch) throw new SnapshotError(mismatch);
  const instance = await instanceStatus(clients.rds, req.instance);
  if (instance === undefined) {
    return { snapshot, skipped: `instance ${req.instance} does not exist yet (this deploy creates it): nothing to snapshot` };
  }
  let status = await snapshotStatus(clients.rds, snapshot);
  const created = status === undefined;
  if (created) {
    say(`creating snapshot ${snapshot} of ${req.instance} (instance ${instance})…`);
    const tags = { stack: req.stack, commit: req.commit.toLowerCase(), "created-by": "mina-infra snapshot" };
    try {
      await clients.rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: snapshot,
          DBInstanceIdentifier: req.instance,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    } catch (e) {
      throw new SnapshotError(`instance ${req.instance} (${instance}) cannot be snapshotted: ${firstLine(e)}: the deploy stops here, before pulumi up`);
    }
    status = "creating";
  } else say(`snapshot ${snapshot} exists (${status}): this commit's deploy ran before`);
  const deadline = Date.now() + (req.timeoutMs ?? 60 * 60_000);
  for (;;) {
    if (status === "available") return { snapshot, created };
    if (status !== "creating" && status !== "pending" && status !== "backing-up") {
      throw new SnapshotError(`snapshot ${snapshot} is ${status ?? "gone"}, not available: the deploy stops here, before pulumi up`);
    }
    if (Date.now() > deadline)
      throw new SnapshotError(`snapshot ${snapshot} was not available in time (still ${status}): the deploy stops here, before pulumi up`);
    // A referenced timer: the wait keeps the process alive until the next check.
    await sleep(req.pollMs ?? 15_000);
    status = await snapshotStatus(clients.rds, snapshot);
    say(`snapshot ${snapshot}: ${status ?? "gone"}`);
  }
}

/** The instance's status, or undefined when there is no instance of that name. */
async function instanceStatus(rds: RDSClient, instance: string): Promise<string | undefined> {
  try {
    const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: instance }));
    return out.DBInstances?.[0]?.DBInstanceStatus ?? "unknown";
  } catch (e) {
    if ((e as { name?: string }).name === "DBInstanceNotFoundFault") return undefined;
    throw e;
  }
}

/** The snapshot's status, or undefined when there is none of that name. */
async function snapshotStatus(rds: RDSClient, snapshot: string): Promise<string | undefined> {
  try {
    const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshot }));
    return out.DBSnapshots?.[0]?.Status;
  } catch (e) {
    if ((e as { name?: string }).name === "DBSnapshotNotFoundFault") return undefined;
    throw e;
  }
}

/** The AWS SDK's RDS and STS clients, in the stack's region (credentials and endpoints from the environment, as the AWS CLI reads them). */
export function awsSnapshotClients(region: string): SnapshotClients {
  return { rds: new RDSClient({ region }), sts: new STSClient({ region }) };
}
