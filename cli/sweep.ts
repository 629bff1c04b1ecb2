/**
 * mina-infra sweep [--ttl 72h] [--max N] [--name-prefix P] [--stack NAME...] [--dry-run | --yes] [--json] [--dir DIR]
 *
 * Destroys review stacks nobody uses any more. Lists the project's stacks with
 * `pulumi stack ls --json` (and each one's tags with `pulumi stack tag ls --json`),
 * decides with `decideSweep` (gate/sweep.ts) which go, prints that as a table, and
 * only with --yes runs `pulumi destroy --yes` then `pulumi stack rm --yes` for
 * each, one by one, stopping at the first failure. Without --yes it is a dry run.
 */
import { decideSweep, type ListedStack, parseStackList, parseTags, renderSweepTable, type SweepPlan, type SweepRow } from "../gate/sweep";
import { productionStackFiles } from "../gate/stacks";
import { projectDir, stackNames } from "./lib/project";
import { runPulumi, shownCommand } from "./lib/pulumi";
import { command, CommandError, durationValue, progress, runCli, UsageError } from "./lib/run";

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
    const dryRun = o.yes !== true;
    const dir = projectDir(io, o.dir);
    const note = progress(io, o.json === true);

    // The repository's stack files: a stack production's file describes is never swept.
    let production: string[];
    try {
      production = productionStackFiles(dir);
    } catch (e) {
      throw new CommandError(
        `cannot read the stack files, so production's stacks are unknown; refusing to sweep: ${String((e as Error).message).split("\n")[0]}`,
      );
    }

    note("listing stacks with pulumi stack ls…");
    const listed = runPulumi(["stack", "ls", "--json"], dir, io.env, 120_000);
    if (!listed.ok) throw new CommandError(listed.problem);
    let doc: unknown;
    try {
      doc = JSON.parse(listed.stdout);
    } catch {
      throw new CommandError("pulumi stack ls --json did not print JSON");
    }
    let parsed;
    try {
      parsed = parseStackList(doc);
    } catch (e) {
      throw new CommandError(`pulumi stack ls --json: ${(e as Error).message}`);
    }
    for (const s of parsed.skipped) io.stderr.write(`warning: pulumi stack ls --json: ${s}; skipped\n`);

    const wanted = (s: ListedStack) => !only || only.includes(s.name) || only.includes(s.name.split("/").pop() ?? s.name);
    const stacks: ListedStack[] = parsed.stacks.filter(wanted).map((s) => {
      if (s.tags) return s;
      note(`reading ${s.name}'s tags…`);
      const r = runPulumi(["stack", "tag", "ls", "--json", "--stack", s.name], dir, io.env, 120_000);
      if (!r.ok) return { ...s, tagsProblem: r.problem };
      let tags;
      try {
        tags = parseTags(JSON.parse(r.stdout));
      } catch {
        tags = undefined;
      }
      return tags ? { ...s, tags } : { ...s, tagsProblem: "pulumi stack tag ls --json did not print an object of tags" };
    });

    const plan: SweepPlan = decideSweep(stacks, { now: Date.now(), ttlMs, ttlText, max, prefix: o.namePrefix, only, productionStackFiles: production });
    const destroyed: string[] = [];
    let failed: { stack: string; problem: string } | undefined;
    const finish = (code: number) => {
      if (o.json) {
        io.stdout.write(
          `${JSON.stringify(
            {
              dryRun,
              ttl: only ? null : ttlText,
              max: only ? null : (max ?? null),
              namePrefix: o.namePrefix ?? null,
              only: only ?? null,
              stacks: plan.rows.map(rowJson),
              missing: plan.missing,
              refused: plan.refused.map((r) => r.stack),
              destroy: plan.destroy.map((r) => r.stack),
              destroyed,
              failed: failed ?? null,
            },
            null,
            2,
          )}\n`,
        );
      }
      return code;
    };

    if (!o.json) {
      const scope = only
        ? `teardown of ${only.join(", ")}`
        : `TTL ${ttlText}${max !== undefined ? `, at most ${max} review stack${max === 1 ? "" : "s"}` : ""}${o.namePrefix ? `, ${o.namePrefix}* stacks only` : ""}`;
      io.stdout.write(`sweep (${scope}${dryRun ? ", dry run" : ""}): ${plan.rows.length} stack${plan.rows.length === 1 ? "" : "s"}\n`);
      if (plan.rows.length > 0) io.stdout.write(renderSweepTable(plan.rows));
      for (const m of plan.missing) io.stdout.write(`${m}: no such stack; nothing to tear down\n`);
    }

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

    for (const [i, stack] of names.entries()) {
      for (const args of [
        ["destroy", "--yes", "--stack", stack],
        ["stack", "rm", "--yes", "--stack", stack],
      ]) {
        note(`${shownCommand(args)} (${i + 1} of ${names.length})…`);
        const r = runPulumi(args, dir, io.env);
        if (!r.ok) {
          failed = { stack, problem: r.problem };
          const rest = names.slice(i + 1);
          io.stderr.write(`error: ${r.problem}; stopped there (destroyed: ${destroyed.join(", ") || "none"}; not attempted: ${rest.join(", ") || "none"})\n`);
          return finish(1);
        }
      }
      destroyed.push(stack);
      if (!o.json) io.stdout.write(`✓ ${stack}: destroyed and removed\n`);
    }
    if (!o.json) io.stdout.write(`destroyed ${destroyed.length} stack${destroyed.length === 1 ? "" : "s"}\n`);
    return finish(0);
  },
);

if (require.main === module) runCli(main);
