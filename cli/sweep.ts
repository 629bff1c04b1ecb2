/**
 * mina-infra sweep [--ttl 72h] [--max N] [--name-prefix P] [--stack NAME...] [--dry-run | --yes] [--json] [--dir DIR]
 *
 * Destroys review stacks nobody uses any more. Lists the project's stacks with
 * `pulumi stack ls --json` (and each one's tags with `pulumi stack tag ls --json`),
 * decides with `decideSweep` (ops/sweep.ts) which go, prints that as a table, and
 * only with --yes runs `pulumi destroy --yes` then `pulumi stack rm --yes` for
 * each, one by one, stopping at the first failure. Without --yes it is a dry run.
 */
import { destroyStacks, planSweep, renderSweepTable, type SweepOutcome, type SweepPlan, type SweepRequest, type SweepRow } from "../ops/sweep";
import { projectDir, stackNames } from "./lib/project";
import { command, durationValue, type Io, progress, runCli, UsageError } from "./lib/run";

interface Opts {
  ttl?: string;
  max?: string;
  namePrefix?: string;
  stack?: string[];
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  dir?: string;
}

const rowJson = (r: SweepRow) => ({ ...r, lastUpdate: r.lastUpdate === undefined ? null : new Date(r.lastUpdate).toISOString(), ageMs: r.ageMs ?? null });

export const main = command<Opts>(
  "sweep",
  (c) =>
    c
      .description(
        "Destroy review stacks (tagged mina:created-by=env:new) idle past the TTL, counted from their last update, or beyond --max. Never a production-tier stack, never one tagged mina:keep. Prints the plan first; a dry run unless --yes (in CI too).",
      )
      .option("--ttl <duration>", "idle time after the last update before a review stack goes, at least 1m: 90m, 72h, 3d (default: 72h)")
      .option("--max <n>", "at most N review stacks stay idle within the TTL; beyond that the oldest-updated go first")
      .option("--name-prefix <prefix>", "only stacks whose name starts with this (the workflows: pr-)")
      .option("--stack <name...>", "tear down these review stacks now, whatever their age (every other rule still applies)")
      .option("--dry-run", "print the plan and destroy nothing (the default)")
      .option("--yes", "destroy: pulumi destroy --yes, then pulumi stack rm --yes, one stack at a time")
      .option("--json", "print the plan and what was done as JSON")
      .option("--dir <dir>", "project directory, where the Pulumi CLI runs (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const req = sweepRequest(o);
    const dryRun = o.yes !== true;
    const dir = projectDir(io, o.dir);
    const note = progress(io, o.json === true);
    const out = { note, warn: (line: string) => io.stderr.write(`warning: ${line}\n`) };
    const plan = planSweep(dir, req, io.env, out);
    const outcome: SweepOutcome = { destroyed: [] };
    const finish = (code: number) => {
      if (o.json) io.stdout.write(`${JSON.stringify(sweepJson(req, dryRun, plan, outcome), null, 2)}\n`);
      return code;
    };
    if (!o.json) printPlan(io, req, dryRun, plan);

    if (plan.refused.length > 0) {
      io.stderr.write(
        `error: refusing to sweep: ${plan.refused.map((r) => `${r.stack} is of the production tier yet carries the review marker`).join("; ")}; nothing was destroyed\n`,
      );
      return finish(1);
    }
    const names = plan.destroy.map((r) => r.stack);
    if (names.length === 0) {
      if (!o.json) io.stdout.write("nothing to destroy\n");
      return finish(0);
    }
    if (dryRun) {
      if (!o.json)
        io.stdout.write(
          `dry run: would destroy ${names.length} stack${names.length === 1 ? "" : "s"} (${names.join(", ")}), oldest-updated first; nothing was destroyed. Pass --yes to destroy them.\n`,
        );
      return finish(0);
    }

    const done = (stack: string) => {
      if (!o.json) io.stdout.write(`✓ ${stack}: destroyed and removed\n`);
    };
    destroyStacks(dir, names, io.env, outcome, { ...out, done });
    const { destroyed, failed } = outcome;
    if (failed) {
      const rest = names.slice(names.indexOf(failed.stack) + 1);
      io.stderr.write(`error: ${failed.problem}; stopped there (destroyed: ${destroyed.join(", ") || "none"}; not attempted: ${rest.join(", ") || "none"})\n`);
      return finish(1);
    }
    if (!o.json) io.stdout.write(`destroyed ${destroyed.length} stack${destroyed.length === 1 ? "" : "s"}\n`);
    return finish(0);
  },
);

/** The flags, checked: the TTL, the cap, the prefix, and the stacks of a teardown. */
function sweepRequest(o: Opts): SweepRequest {
  if (o.yes && o.dryRun) throw new UsageError("--yes and --dry-run contradict each other: give one");
  if (o.stack && (o.ttl !== undefined || o.max !== undefined))
    throw new UsageError("--stack tears the named stacks down whatever their age: --ttl and --max do not apply to it");
  const ttlText = o.ttl ?? "72h";
  const ttlMs = durationValue("--ttl", ttlText, 60_000);
  let max: number | undefined;
  if (o.max !== undefined) {
    if (!/^\d{1,6}$/.test(o.max.trim())) throw new UsageError(`--max must be a whole number >= 0, got "${o.max}"`);
    max = Number(o.max);
  }
  if (o.namePrefix !== undefined && !/^[a-z][a-z0-9-]*$/.test(o.namePrefix))
    throw new UsageError(`--name-prefix must be the start of a stack name (lower case letters, digits, hyphens), got "${o.namePrefix}"`);
  const only = stackNames(o.stack);
  return { ttlText, ttlMs, max, prefix: o.namePrefix, only };
}

/** The plan as a table, with what it covers. */
function printPlan(io: Io, req: SweepRequest, dryRun: boolean, plan: SweepPlan): void {
  const { only, max } = req;
  const scope = only
    ? `teardown of ${only.join(", ")}`
    : `TTL ${req.ttlText}${max !== undefined ? `, at most ${max} review stack${max === 1 ? "" : "s"}` : ""}${req.prefix ? `, ${req.prefix}* stacks only` : ""}`;
  io.stdout.write(`sweep (${scope}${dryRun ? ", dry run" : ""}): ${plan.rows.length} stack${plan.rows.length === 1 ? "" : "s"}\n`);
  if (plan.rows.length > 0) io.stdout.write(renderSweepTable(plan.rows));
  for (const m of plan.missing) io.stdout.write(`${m}: no such stack; nothing to tear down\n`);
}

/** The plan and what was done, for machines. */
function sweepJson(req: SweepRequest, dryRun: boolean, plan: SweepPlan, outcome: SweepOutcome) {
  const { only } = req;
  return {
    dryRun,
    ttl: only ? null : req.ttlText,
    max: only ? null : (req.max ?? null),
    namePrefix: req.prefix ?? null,
    only: only ?? null,
    stacks: plan.rows.map(rowJson),
    missing: plan.missing,
    refused: plan.refused.map((r) => r.stack),
    destroy: plan.destroy.map((r) => r.stack),
    destroyed: outcome.destroyed,
    failed: outcome.failed ?? null,
  };
}

if (require.main === module) runCli(main);
