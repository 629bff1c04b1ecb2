/**
 * npm run bench -- [--runs N] [--json]
 *
 * Prints the wall time of the offline plan for all stacks next to a floor (the
 * same SDK and providers under the same mock runtime, declaring nothing), and how
 * long the program takes to load through Pulumi's ts-node with and without
 * type-checking. Medians of several runs.
 */
import { spawnSync } from "child_process";
import * as path from "path";
import { runMain, UsageError, newCommand } from "./lib/run";

const root = path.resolve(__dirname, "..");
const tsx = path.join(root, "node_modules", ".bin", "tsx");

function wall(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(tsx, args, { cwd: root, encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && !(args[0].endsWith("plan.ts") && r.status === 1)) {
    throw new Error(`${args.join(" ")} exited ${r.status}: ${(r.stderr || "").trim().split("\n")[0]}`);
  }
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const program = newCommand("bench")
  .description("Time the offline plan against a floor, and program load with and without type-checking (medians).")
  .option("--runs <n>", "runs per measurement", "5")
  .option("--json", "print figures as JSON");

runMain(async () => {
  program.parse();
  const opts = program.opts<{ runs: string; json?: boolean }>();
  const runs = Number(opts.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`--runs must be a whole number >= 1, got "${opts.runs}"`);
  const plan: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < runs; i++) {
    floor.push(wall(["cli/lib/floor.ts"]));
    plan.push(wall(["cli/plan.ts", "--json"]));
  }
  const load = (check: boolean) => {
    const xs: number[] = [];
    for (let i = 0; i < Math.max(1, Math.min(runs, 3)); i++) {
      const r = spawnSync(process.execPath, ["-r", "tsx/cjs", "cli/lib/tsnodeLoad.ts", ...(check ? ["--check"] : [])], { cwd: root, encoding: "utf8" });
      if (r.status !== 0) throw new Error(`program load failed: ${(r.stderr || "").trim().split("\n")[0]}`);
      xs.push(JSON.parse(r.stdout).loadMs);
    }
    return median(xs);
  };
  const figures = {
    runs,
    planMs: Math.round(median(plan)),
    floorMs: Math.round(median(floor)),
    ratio: Number((median(plan) / median(floor)).toFixed(2)),
    target: 1.5,
    programLoadTranspileOnlyMs: Math.round(load(false)),
    programLoadTypeCheckedMs: Math.round(load(true)),
  };
  if (opts.json) {
    process.stdout.write(JSON.stringify(figures, null, 2) + "\n");
    return;
  }
  process.stdout.write(
    [
      `plan, all stacks (median of ${runs}):   ${figures.planMs} ms`,
      `floor, SDK + providers, no resources: ${figures.floorMs} ms`,
      `ratio plan / floor:                   ${figures.ratio} (target <= ${figures.target}) ${figures.ratio <= figures.target ? "✓" : "✗"}`,
      `program load as pulumi up does it (Pulumi's ts-node, this tsconfig):`,
      `  transpile-only (tsconfig noCheck): ${figures.programLoadTranspileOnlyMs} ms`,
      `  type-checked:                      ${figures.programLoadTypeCheckedMs} ms`,
    ].join("\n") + "\n",
  );
});
