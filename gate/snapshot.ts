/**
 * The snapshot a production deploy takes first: an RDS snapshot of the stack's own
 * instance, named after the commit being deployed, waited for until it is
 * available, with the stack's account guard (the credentials must be for the
 * account the stack file pins). The AWS calls sit behind a small interface so the
 * decisions are tested without AWS; `awsSnapshotClients` is the real one.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkAccount } from "./deploy";

/** What the snapshot needs from AWS. */
export interface SnapshotClients {
  /** The account of the credentials in use (STS GetCallerIdentity). */
  accountId(): Promise<string>;
  /** The snapshot's status, or undefined when there is none of that name. */
  snapshotStatus(snapshot: string): Promise<string | undefined>;
  /** Starts a manual snapshot of `instance`. */
  createSnapshot(snapshot: string, instance: string, tags: Record<string, string>): Promise<void>;
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

/**
 * Takes (or finds, on a re-run of the same commit) the snapshot and waits until it
 * is available. Refuses credentials of another account before any other call.
 */
export async function takeSnapshot(
  clients: SnapshotClients,
  req: SnapshotRequest,
  say: (line: string) => void = () => undefined,
): Promise<{ snapshot: string; created: boolean }> {
  const snapshot = snapshotName(req.instance, req.commit);
  const mismatch = checkAccount(req.stack, await clients.accountId(), req.allowedAccountIds);
  if (mismatch) throw new SnapshotError(mismatch);
  let status = await clients.snapshotStatus(snapshot);
  const created = status === undefined;
  if (created) {
    say(`creating snapshot ${snapshot} of ${req.instance}…`);
    await clients.createSnapshot(snapshot, req.instance, { stack: req.stack, commit: req.commit.toLowerCase(), "created-by": "mina-infra snapshot" });
    status = "creating";
  } else say(`snapshot ${snapshot} exists (${status}): this commit's deploy ran before`);
  const deadline = Date.now() + (req.timeoutMs ?? 60 * 60_000);
  for (;;) {
    if (status === "available") return { snapshot, created };
    if (status !== "creating" && status !== "pending" && status !== "backing-up") {
      throw new SnapshotError(`snapshot ${snapshot} is ${status ?? "gone"}, not available: the deploy stops here, before pulumi up`);
    }
    if (Date.now() > deadline) throw new SnapshotError(`snapshot ${snapshot} was not available in time (still ${status}): the deploy stops here, before pulumi up`);
    await sleep(req.pollMs ?? 15_000, undefined, { ref: false });
    status = await clients.snapshotStatus(snapshot);
    say(`snapshot ${snapshot}: ${status ?? "gone"}`);
  }
}

/** The AWS SDK's STS and RDS clients behind the interface, in the stack's region. */
export function awsSnapshotClients(region: string): SnapshotClients {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const rds = require("@aws-sdk/client-rds") as typeof import("@aws-sdk/client-rds");
  const sts = require("@aws-sdk/client-sts") as typeof import("@aws-sdk/client-sts");
  const rdsClient = new rds.RDSClient({ region });
  const stsClient = new sts.STSClient({ region });
  return {
    async accountId() {
      return (await stsClient.send(new sts.GetCallerIdentityCommand({}))).Account ?? "";
    },
    async snapshotStatus(snapshot) {
      try {
        const out = await rdsClient.send(new rds.DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshot }));
        return out.DBSnapshots?.[0]?.Status;
      } catch (e) {
        if ((e as { name?: string }).name === "DBSnapshotNotFoundFault") return undefined;
        throw e;
      }
    },
    async createSnapshot(snapshot, instance, tags) {
      await rdsClient.send(
        new rds.CreateDBSnapshotCommand({ DBSnapshotIdentifier: snapshot, DBInstanceIdentifier: instance, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
      );
    },
  };
}
