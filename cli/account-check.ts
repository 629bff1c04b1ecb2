/**
 * mina-infra account-check --stack NAME --account ID [--dir DIR] [--json]
 *
 * Stops a workflow before it touches a stack with the wrong cloud credentials:
 * exit 1, naming both account ids, unless ID (from `aws sts get-caller-identity`)
 * is one of the `aws:allowedAccountIds` that Pulumi.<stack>.yaml pins.
 */
import { allowedAccountIds, checkAccount } from "../gate/deploy";
import { GateInputError } from "../gate/gate";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, runCli } from "./lib/run";

export const main = command<{ stack: string; account: string; dir?: string; json?: boolean }>(
  "account-check",
  (c) =>
    c
      .description("Check that the AWS credentials in use belong to the account the stack file pins (aws:allowedAccountIds).")
      .requiredOption("--stack <name>", "the stack about to be previewed or deployed")
      .requiredOption("--account <id>", "the account of the credentials in use: aws sts get-caller-identity --query Account --output text")
      .option("--json", "print the result as JSON")
      .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)"),
  async ({ opts, io }) => {
    const dir = projectDir(io, opts.dir);
    requireStacks(io, dir, [opts.stack]);
    let allowed: string[];
    try {
      allowed = allowedAccountIds(dir, opts.stack);
    } catch (e) {
      // The stack file is there (checked above): what is wrong is in it, and the check refuses.
      if (e instanceof GateInputError) throw new CommandError(e.message);
      throw e;
    }
    const mismatch = checkAccount(opts.stack, opts.account, allowed);
    const reason = mismatch ?? `AWS account ${opts.account.trim()} is the one Pulumi.${opts.stack}.yaml pins`;
    if (opts.json) io.stdout.write(`${JSON.stringify({ ok: mismatch === null, stack: opts.stack, account: opts.account.trim(), allowed, reason }, null, 2)}\n`);
    if (mismatch) io.stderr.write(`✗ ${mismatch}\n`);
    else if (!opts.json) io.stdout.write(`✓ ${reason}\n`);
    return mismatch ? 1 : 0;
  },
);

if (require.main === module) runCli(main);
