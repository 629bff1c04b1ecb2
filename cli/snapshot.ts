/**
 * mina-infra snapshot --stack NAME --commit SHA [--timeout 60m] [--poll 15s] [--json]
 *
 * Before a production deploy: an RDS snapshot of the stack's own instance, named
 * after the commit, waited for until available; refused when the credentials are
 * not for the account the stack file pins. The deploy stops when it fails. Before
 * the stack's first deploy there is no instance yet: that is said, and exit 0.
 */
import { loadStackOffline, readAllStacks } from "../config";
import { awsSnapshotClients, SnapshotError, takeSnapshot } from "../ops/snapshot";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, durationOption, progress, runCli } from "./lib/run";

export const main = command<{ stack: string; commit: string; timeout: number; poll: number; json?: boolean; dir?: string }>(
  "snapshot",
  (c) =>
    c
      .description(
        "Take an RDS snapshot of the stack's instance, named after the commit, and wait until it is available (production deploys run it before pulumi up).",
      )
      .requiredOption("--stack <name>", "the stack (instance mode)")
      .requiredOption("--commit <sha>", "the full SHA of the commit about to be deployed")
      .addOption(durationOption("--timeout <duration>", "give up waiting for the snapshot after this long", { default: "60m", min: 1000 }))
      .addOption(durationOption("--poll <duration>", "between status checks", { default: "15s" }))
      .option("--json", "print the result as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
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
          timeoutMs: o.timeout,
          pollMs: o.poll,
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
