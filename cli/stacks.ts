/**
 * mina-infra stacks [--matrix [--dispatched NAME]] [--json] [--dir DIR]
 *
 * The project's stacks as the workflows see them: one per Pulumi.<stack>.yaml
 * (templates left out), each with its tier. `--matrix` prints the job matrices as
 * `name=JSON` lines for $GITHUB_OUTPUT: `all` (previews), `other` (deploys on push),
 * `production` (the production-tier stack a dispatch names, deployed last), each
 * entry with its `runner` labels for `runs-on`; and `review`, the review template's
 * runner labels (review.yml and sweep.yml run there).
 */
import { matrices, matrixOutputs, reviewRunner, StackListError, workflowStacks } from "../config/workflowStacks";
import { projectDir } from "./lib/project";
import { command, runCli, UsageError } from "./lib/run";

export const main = command<{ matrix?: boolean; dispatched?: string; json?: boolean; dir?: string }>(
  "stacks",
  (c) =>
    c
      .description(
        "List the stack files and their tier (production: mina:profile: production, or named production); --matrix: the job matrices the workflows read.",
      )
      .option("--matrix", "print all=, other=, production= and review= lines of JSON for $GITHUB_OUTPUT")
      .option("--dispatched <name>", "with --matrix: the stack a deploy dispatch names; a production-tier one is deployed after all the others")
      .option("--json", "print the stacks as JSON")
      .option("--dir <dir>", "project directory holding Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    if (o.dispatched !== undefined && !o.matrix) throw new UsageError("--dispatched goes with --matrix");
    if (o.matrix && o.json) throw new UsageError("--matrix prints name=JSON lines for $GITHUB_OUTPUT, --json the stacks as JSON: give one");
    const dir = projectDir(io, o.dir);
    let stacks;
    let m;
    try {
      stacks = workflowStacks(dir);
      if (stacks.length === 0) throw new StackListError("no stack files (Pulumi.<stack>.yaml): nothing to preview or deploy");
      m = matrices(stacks, o.dispatched);
    } catch (e) {
      if (e instanceof StackListError) throw new UsageError(e.message);
      throw e;
    }
    if (o.matrix) {
      let review;
      try {
        review = reviewRunner(dir);
      } catch (e) {
        if (e instanceof StackListError) throw new UsageError(e.message);
        throw e;
      }
      io.stdout.write(matrixOutputs(m, review));
    } else if (o.json) io.stdout.write(`${JSON.stringify(stacks, null, 2)}\n`);
    else {
      const width = Math.max(...stacks.map((s) => s.stack.length));
      for (const s of stacks) io.stdout.write(`${s.stack.padEnd(width)}  ${s.tier}${s.why ? ` (${s.why})` : ""}\n`);
    }
    return 0;
  },
);

if (require.main === module) runCli(main);
