/**
 * mina-infra plan [--stack NAME]... [--json | --format text|markdown] [--dir DIR] [--base REF]
 *
 * Runs the real program for each stack under Pulumi's mock runtime, offline.
 */
import { Option } from "commander";
import { renderMarkdown, renderText } from "../plan/render";
import { projectDir, requireStacks, stackNames } from "./lib/project";
import { command, progress, runCli, UsageError } from "./lib/run";

export const main = command<{ stack?: string[]; format: string; json?: boolean; dir?: string; base?: string }>(
  "plan",
  (c) =>
    c
      .description(
        "Plan every stack offline: resources each declares, env variables it emits (names only), secret config still to set, policy violations, and an isolation audit across all stacks. Not a diff against deployed state.",
      )
      .option("--stack <name...>", "plan only these stacks (several, or comma-separated; the isolation audit still covers every stack file)")
      .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
      .option("--json", "same as --format json")
      .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)")
      .option("--base <ref>", "also show what changed against the plan of git REF (see README)"),
  async ({ opts, io }) => {
    const format = opts.json ? "json" : opts.format;
    const dir = projectDir(io, opts.dir);
    const stacks = stackNames(opts.stack);
    // A typo'd stack or a folder without stack files says so (a base may still have the stack: checked there).
    if (!opts.base) requireStacks(io, dir, stacks ?? []);
    if (opts.base) {
      // Loaded only for --base.
      const { computePlanDiff, renderPlanDiff } = require("../plan/diff") as typeof import("../plan/diff");
      const { diff, head } = await computePlanDiff(dir, opts.base, stacks, io);
      io.stdout.write(renderPlanDiff(diff, format, head));
      return diff.head.ok ? 0 : 1;
    }
    progress(io, format === "json")(`planning ${stacks?.length ? stacks.join(", ") : "every stack"} under the mock runtime…`);
    // Loaded only to plan: --help and usage errors do not wait for the Pulumi SDK.
    const { planAll } = require("../plan/plan") as typeof import("../plan/plan");
    const { policyChecker } = require("../plan/policyCheck") as typeof import("../plan/policyCheck");
    let plan;
    try {
      plan = await planAll(dir, stacks, policyChecker(dir));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    io.stdout.write(format === "json" ? `${JSON.stringify(plan, null, 2)}\n` : format === "markdown" ? renderMarkdown(plan) : renderText(plan));
    return plan.ok ? 0 : 1;
  },
);

if (require.main === module) runCli(main);
