/**
 * npx tsx cli/account-check.ts --stack NAME --account ID
 *
 * Stops a workflow before it touches a stack with the wrong cloud credentials:
 * exit 1, naming both account ids, unless ID (from `aws sts get-caller-identity`)
 * is one of the `aws:allowedAccountIds` that Pulumi.<stack>.yaml pins.
 */
import * as path from "path";
import { allowedAccountIds, checkAccount } from "../gate/deploy";
import { GateInputError } from "../gate/gate";
import { runMain, UsageError, newCommand } from "./lib/run";

const program = newCommand("account-check")
  .description("Check that the AWS credentials in use belong to the account the stack file pins (aws:allowedAccountIds).")
  .requiredOption("--stack <name>", "the stack about to be previewed or deployed")
  .requiredOption("--account <id>", "the account of the credentials in use: aws sts get-caller-identity --query Account --output text")
  .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files", path.resolve(__dirname, ".."));

runMain(async () => {
  program.parse();
  const opts = program.opts<{ stack: string; account: string; dir: string }>();
  let allowed: string[];
  try {
    allowed = allowedAccountIds(opts.dir, opts.stack);
  } catch (e) {
    if (e instanceof GateInputError) throw new UsageError(e.message);
    throw e;
  }
  const mismatch = checkAccount(opts.stack, opts.account, allowed);
  if (mismatch) {
    process.stderr.write(`✗ ${mismatch}\n`);
    return 1;
  }
  process.stdout.write(`✓ AWS account ${opts.account.trim()} is the one Pulumi.${opts.stack}.yaml pins\n`);
  return 0;
});
