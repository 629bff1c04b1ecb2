/**
 * npm run gate -- --preview FILE... | --plan-diff FILE
 *                 [--labels a,b] [--approval-label NAME]          (pull requests: approval by label)
 *                 [--commit SHA --approved-commit SHA]             (deploys: approval by commit)
 *                 [--json | --format text|markdown|json]
 * npm run gate -- --guard-command CMD --stack NAME
 *
 * The data-safety gate, deny by default: exit 1 when a preview (or the offline plan
 * diff) deletes or replaces a resource whose type is not on the reviewed list of
 * types that hold no data and no credential (NO_DATA_TYPES in config/protection.ts),
 * rotates a credential, or (offline) may replace resources under a changed provider,
 * and the approval is missing. What needs approval is printed first, with its kind.
 * A document that does not add up blocks even with approval.
 * With --guard-command: exit 1 when a deploy command destroys a stack or bypasses protection.
 */
import { Option } from "commander";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  type DangerousOp,
  dangerousFromPreview,
  decide,
  DEFAULT_APPROVAL_LABEL,
  GateInputError,
  parseLabels,
  parsePreview,
  type PreviewDigest,
  previewProblems,
  readPlanDiff,
  renderDecisionMarkdown,
  renderDecisionText,
  sumChangeSummaries,
} from "../gate/gate";
import { guardDeploy } from "../gate/deploy";
import { command, commandHint, runCli, UsageError } from "./lib/run";

/** Reads a JSON document; `shown` is how the user named the file. */
function readJson(file: string, what: string, shown: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`${what} ${shown}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (text.trim() === "") throw new UsageError(`${what} ${shown} is empty (did the command that writes it fail?)`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${what} ${shown} is not JSON: ${(e as Error).message.split("\n")[0]}`);
  }
}

export const main = command<{
  preview?: string[];
  planDiff?: string;
  labels: string[];
  approvalLabel: string;
  commit?: string;
  approvedCommit?: string;
  format: string;
  json?: boolean;
  guardCommand?: string;
  stack?: string;
}>(
  "gate",
  (c) =>
    c
      .description(
        "Data-safety gate, deny by default: fail when a change deletes or replaces a resource whose type is not on the reviewed list of types that hold no data and no credential (NO_DATA_TYPES in config/protection.ts), rotates a credential (a random secret or access key replaced or deleted, a password set anew), or, in the offline plan diff, may replace the resources of a provider whose inputs change; unless approved. Approval by label is for pull requests (--labels); approval by commit is for deploys (--commit with --approved-commit). A document that does not add up (an error diagnostic, an unknown step op, a changeSummary counting deletions or replacements its steps do not show, maybeCorrupt, an invalid stack) blocks even with approval.",
      )
      .option("--preview <file...>", "JSON of `pulumi preview --json` (one file per stack)")
      .option("--plan-diff <file>", "JSON of `npm run plan -- --base REF --json`")
      .option("--labels <labels...>", "pull requests: the pull request's labels, comma-separated or a JSON array", [])
      .option("--approval-label <name>", "pull requests: the label that approves", DEFAULT_APPROVAL_LABEL)
      .option("--commit <sha>", "deploys: the full SHA of the commit being deployed")
      .option(
        "--approved-commit <sha>",
        'deploys: the full SHA a person approved; approves only when it equals --commit (40 hex, any case). When given, labels do not approve; empty ("") means no approval',
      )
      .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
      .option("--json", "same as --format json")
      .option("--guard-command <command>", "instead: refuse a deploy command that destroys the stack or bypasses protection")
      .option("--stack <name>", "the stack --guard-command deploys"),
  async ({ opts, io }) => {
    const format = opts.json ? "json" : opts.format;

    if (opts.guardCommand !== undefined) {
      if (!opts.stack) throw new UsageError("--guard-command needs --stack NAME");
      const reasons = guardDeploy(opts.stack, opts.guardCommand, io.env);
      if (format === "json") io.stdout.write(`${JSON.stringify({ ok: reasons.length === 0, reasons }, null, 2)}\n`);
      else if (reasons.length > 0) io.stderr.write(`${reasons.map((r) => `✗ ${r}`).join("\n")}\n`);
      else io.stdout.write(`✓ deploy guard: "pulumi ${opts.guardCommand.trim()}" of stack ${opts.stack} neither destroys nor bypasses protection\n`);
      return reasons.length === 0 ? 0 : 1;
    }

    if (!opts.preview?.length && !opts.planDiff)
      throw new UsageError(`give --preview FILE (pulumi preview --json) and/or --plan-diff FILE (${commandHint(io.env, "plan", "--base REF --json")})`);
    try {
      const dangerous: DangerousOp[] = [];
      const incomplete: string[] = [];
      const previews: PreviewDigest[] = [];
      for (const file of opts.preview ?? []) {
        const p = parsePreview(readJson(path.resolve(io.cwd, file), "preview", file), file);
        previews.push(p);
        dangerous.push(...dangerousFromPreview(p));
        incomplete.push(...previewProblems(p, file));
      }
      if (opts.planDiff) {
        const fromDiff = readPlanDiff(readJson(path.resolve(io.cwd, opts.planDiff), "plan diff", opts.planDiff));
        dangerous.push(...fromDiff.dangerous);
        incomplete.push(...fromDiff.incomplete);
      }
      const decision = decide(dangerous, parseLabels(opts.labels), {
        approvalLabel: opts.approvalLabel,
        incomplete,
        changeSummary: sumChangeSummaries(previews),
        ...(opts.commit !== undefined ? { commit: opts.commit } : {}),
        ...(opts.approvedCommit !== undefined ? { approvedCommit: opts.approvedCommit } : {}),
      });
      io.stdout.write(
        format === "json" ? `${JSON.stringify(decision, null, 2)}\n` : format === "markdown" ? renderDecisionMarkdown(decision) : renderDecisionText(decision),
      );
      return decision.ok ? 0 : 1;
    } catch (e) {
      if (e instanceof GateInputError) throw new UsageError(e.message);
      throw e;
    }
  },
);

if (require.main === module) runCli(main);
