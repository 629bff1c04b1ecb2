/**
 * mina-infra account-check --stack NAME --account ID [--dir DIR]
 *
 * Stops a workflow before it touches a stack with the wrong cloud credentials:
 * exit 1, naming both account ids, unless ID (from `aws sts get-caller-identity`)
 * is one of the `aws:allowedAccountIds` that Pulumi.<stack>.yaml pins.
 */
import * as path from "node:path";
import { allowedAccountIds, checkAccount } from "../gate/deploy";
import { GateInputError } from "../gate/gate";
import { defaultProjectDir } from "../lib/root";
import { command, runCli, UsageError } from "./lib/run";

export const main = command<{ stack: string; account: string; dir?: string }>(
  "account-check",
  (c) =>
    c
      .description("Check that the AWS credentials in use belong to the account the stack file pins (aws:allowedAccountIds).")
      .requiredOption("--stack <name>", "the stack about to be previewed or deployed")
      .requiredOption("--account <id>", "the account of the credentials in use: aws sts get-caller-identity --query Account --output text")
      .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)"),
  async ({ opts, io }) => {
    const dir = opts.dir ? path.resolve(io.cwd, opts.dir) : defaultProjectDir(io.cwd);
    let allowed: string[];
    try {
      allowed = allowedAccountIds(dir, opts.stack);
    } catch (e) {
      if (e instanceof GateInputError) throw new UsageError(e.message);
      throw e;
    }
    const mismatch = checkAccount(opts.stack, opts.account, allowed);
    if (mismatch) {
      io.stderr.write(`✗ ${mismatch}\n`);
      return 1;
    }
    io.stdout.write(`✓ AWS account ${opts.account.trim()} is the one Pulumi.${opts.stack}.yaml pins\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
