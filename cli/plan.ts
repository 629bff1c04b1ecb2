/**
 * npm run plan -- [--stack NAME]... [--json | --format text|markdown] [--dir DIR]
 *
 * Runs the real program for each stack under Pulumi's mock runtime, offline.
 */
import { Option } from "commander";
import * as path from "path";
import { planAll } from "../plan/plan";
import { renderMarkdown, renderText } from "../plan/render";
import { runMain, UsageError, newCommand } from "./lib/run";
import { policyChecker } from "../plan/policyCheck";

const program = newCommand("plan")
  .description(
    "Plan every stack offline: resources each declares, env variables it emits (names only), secret config still to set, policy violations, and an isolation audit across all stacks. Not a diff against deployed state.",
  )
  .option("--stack <name...>", "plan only these stacks (the isolation audit still covers every stack file)")
  .addOption(new Option("--format <format>", "output format").choices(["text", "markdown", "json"]).default("text"))
  .option("--json", "same as --format json")
  .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files", path.resolve(__dirname, ".."))
  .option("--base <ref>", "also show what changed against the plan of git REF (see README)");

runMain(async () => {
  program.parse();
  const opts = program.opts<{ stack?: string[]; format: string; json?: boolean; dir: string; base?: string }>();
  const format = opts.json ? "json" : opts.format;
  const stacks = opts.stack?.flatMap((s) => s.split(",")).filter(Boolean);
  if (opts.base) {
    const { planDiffMain } = await import("../plan/diff");
    return planDiffMain(opts.dir, opts.base, format, stacks);
  }
  let plan;
  try {
    plan = await planAll(opts.dir, stacks, policyChecker(opts.dir));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  process.stdout.write(format === "json" ? JSON.stringify(plan, null, 2) + "\n" : format === "markdown" ? renderMarkdown(plan) : renderText(plan));
  return plan.ok ? 0 : 1;
});
