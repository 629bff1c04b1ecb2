/**
 * npm run gate -- --preview FILE... | --plan-diff FILE  [--labels a,b] [--approval-label NAME] [--json | --format text|markdown|json]
 * npm run gate -- --guard-command CMD --stack NAME
 *
 * The data-safety gate: exit 1 when a preview (or the offline plan diff) would
 * delete or replace a stateful resource and the approval label is not among the
 * pull request's labels. The dangerous operations are printed first.
 * With --guard-command: exit 1 when a deploy command destroys a stack or bypasses protection.
 */
import { Option } from "commander";
import * as fs from "fs";
import {
  DangerousOp,
  dangerousFromPlanDiff,
  dangerousFromPreview,
  decide,
  DEFAULT_APPROVAL_LABEL,
  GateInputError,
  guardDeploy,
  parseLabels,
  parsePreview,
  PreviewDigest,
  previewProblems,
  renderDecisionMarkdown,
  renderDecisionText,
  sumChangeSummaries,
} from "./lib/gate";
import type { PlanDiff } from "./lib/planDiff";
import { runMain, UsageError, newCommand } from "./lib/run";

const program = newCommand("gate")
  .description(
    "Data-safety gate: fail when a change would delete or replace a stateful resource (RDS instance, S3 bucket, Upstash Redis database, PostgreSQL database or role, Route53 zone), unless the approval label is present.",
  )
  .option("--preview <file...>", "JSON of `pulumi preview --json` (one file per stack)")
  .option("--plan-diff <file>", "JSON of `npm run plan -- --base REF --json`")
  .option("--labels <labels...>", "the pull request's labels: comma-separated, or a JSON array", [])
  .option("--approval-label <name>", "the label that approves data loss", DEFAULT_APPROVAL_LABEL)
  .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
  .option("--json", "same as --format json")
  .option("--guard-command <command>", "instead: refuse a deploy command that destroys the stack or bypasses protection")
  .option("--stack <name>", "the stack --guard-command deploys");

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`${what} ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (text.trim() === "") throw new UsageError(`${what} ${file} is empty (did the command that writes it fail?)`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${file} is not JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

runMain(async () => {
  program.parse();
  const opts = program.opts<{
    preview?: string[];
    planDiff?: string;
    labels: string[];
    approvalLabel: string;
    format: string;
    json?: boolean;
    guardCommand?: string;
    stack?: string;
  }>();
  const format = opts.json ? "json" : opts.format;

  if (opts.guardCommand !== undefined) {
    if (!opts.stack) throw new UsageError("--guard-command needs --stack NAME");
    const reasons = guardDeploy(opts.stack, opts.guardCommand, process.env);
    if (format === "json") process.stdout.write(JSON.stringify({ ok: reasons.length === 0, reasons }, null, 2) + "\n");
    else if (reasons.length > 0) process.stderr.write(reasons.map((r) => `✗ ${r}`).join("\n") + "\n");
    else process.stdout.write(`✓ deploy guard: "pulumi ${opts.guardCommand.trim()}" of stack ${opts.stack} neither destroys nor bypasses protection\n`);
    return reasons.length === 0 ? 0 : 1;
  }

  if (!opts.preview?.length && !opts.planDiff) throw new UsageError("give --preview FILE (pulumi preview --json) and/or --plan-diff FILE (npm run plan -- --base REF --json)");
  try {
    const dangerous: DangerousOp[] = [];
    const incomplete: string[] = [];
    const previews: PreviewDigest[] = [];
    for (const file of opts.preview ?? []) {
      const p = parsePreview(readJson(file, "preview"), file);
      previews.push(p);
      dangerous.push(...dangerousFromPreview(p));
      incomplete.push(...previewProblems(p, file));
    }
    if (opts.planDiff) dangerous.push(...dangerousFromPlanDiff(readJson(opts.planDiff, "plan diff") as PlanDiff));
    const decision = decide(dangerous, parseLabels(opts.labels), {
      approvalLabel: opts.approvalLabel,
      incomplete,
      changeSummary: sumChangeSummaries(previews),
    });
    process.stdout.write(
      format === "json" ? JSON.stringify(decision, null, 2) + "\n" : format === "markdown" ? renderDecisionMarkdown(decision) : renderDecisionText(decision),
    );
    return decision.ok ? 0 : 1;
  } catch (e) {
    if (e instanceof GateInputError) throw new UsageError(e.message);
    throw e;
  }
});
