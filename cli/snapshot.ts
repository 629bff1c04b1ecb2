/**
 * mina-infra snapshot --stack NAME --commit SHA [--timeout MIN] [--json]
 *
 * Before a production deploy: an RDS snapshot of the stack's own instance, named
 * after the commit, waited for until available; refused when the credentials are
 * not for the account the stack file pins. The deploy stops when it fails. Before
 * the stack's first deploy there is no instance yet: that is said, and exit 0.
 */
import { loadStackOffline, readAllStacks } from "../config";
import { awsSnapshotClients, SnapshotError, takeSnapshot } from "../ops/snapshot";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, progress, runCli, UsageError } from "./lib/run";

export const main = command<{ stack: string; commit: string; timeout: string; poll: string; json?: boolean; dir?: string }>(
  "snapshot",
  (c) =>
    c
      .description(
        "Take an RDS snapshot of the stack's instance, named after the commit, and wait until it is available (production deploys run it before pulumi up).",
      )
      .requiredOption("--stack <name>", "the stack (instance mode)")
      .requiredOption("--commit <sha>", "the full SHA of the commit about to be deployed")
      .option("--timeout <minutes>", "give up waiting after this many minutes", "60")
      .option("--poll <seconds>", "between status checks", "15")
      .option("--json", "print the result as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const timeout = Number(o.timeout);
    const poll = Number(o.poll);
    if (!(timeout > 0)) throw new UsageError(`--timeout must be a number of minutes > 0, got "${o.timeout}"`);
    if (!(poll >= 0)) throw new UsageError(`--poll must be a number of seconds >= 0, got "${o.poll}"`);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const { config } = loadStackOffline(dir, o.stack, readAllStacks(dir));
    if (config.database.mode !== "instance") {
      throw new CommandError(`${o.stack} has no RDS instance of its own (server mode): back its database up on the shared server instead`);
    }
    try {
      const r = await takeSnapshot(
        awsSnapshotClients(config.aws.region),
        {
          stack: o.stack,
          instance: config.names.rdsIdentifier,
          allowedAccountIds: config.aws.allowedAccountIds,
          commit: o.commit,
          timeoutMs: timeout * 60_000,
          pollMs: poll * 1000,
        },
        progress(io, o.json === true),
      );
      const where = config.names.rdsIdentifier;
      if (o.json) io.stdout.write(`${JSON.stringify({ stack: o.stack, instance: where, ...r }, null, 2)}\n`);
      else if (r.skipped !== undefined) {
        io.stdout.write(`- no snapshot: ${r.skipped}\n`);
        // A visible notice in the workflow run's summary, not only in the log.
        if (io.env.GITHUB_ACTIONS === "true") io.stdout.write(`::notice title=snapshot of ${o.stack}::no snapshot: ${r.skipped}\n`);
      } else {
        io.stdout.write(
          `✓ snapshot ${r.snapshot} of ${where} is available${r.created ? "" : " (taken by an earlier run of this commit)"}; to roll back: restore it to a new instance (aws rds restore-db-instance-from-db-snapshot) and point the stack at it\n`,
        );
      }
      return 0;
    } catch (e) {
      if (e instanceof SnapshotError) throw new CommandError(e.message);
      throw new CommandError(`snapshot of ${config.names.rdsIdentifier} failed: ${String((e as Error).message).split("\n")[0]}`);
    }
  },
);

if (require.main === module) runCli(main);
