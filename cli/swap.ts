/**
 * mina-infra swap --to blue|green [--stack FRONT] [--canary N] [--env-file FILE] [--url URL]
 *                 [--other-env-file FILE] [--other-url URL] [--json]
 *
 * Blue/green: proves every colour that would take traffic (its env file's
 * `verify --live` checklist and the smoke check on its own host), refuses when
 * any fails, then writes the front's `mina:liveColour` (and `mina:canaryPercent`)
 * into its committed stack file, changing nothing else in it, and prints how the
 * change reaches the front: a commit, a pull request, and the deploy workflow
 * (preview, data-safety gate, `pulumi up --plan`). It never runs pulumi.
 */
import { Option } from "commander";
import { readAllStacks, stackFilePath } from "../config";
import { tierOfRaw } from "../config/tiers";
import { shownPath } from "../lib/root";
import {
  type Colour,
  decideSwap,
  frontOf,
  type KeyChange,
  nextSteps,
  otherColour,
  type Proof,
  proveColours,
  type SwapDecision,
  swapEdit,
  swapTarget,
  writeSwap,
} from "../ops/swap";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, durationOption, type Io, progress, runCli, UsageError, wholeNumberOption } from "./lib/run";

interface Opts {
  to: string;
  stack: string;
  envFile?: string;
  url?: string;
  otherEnvFile?: string;
  otherUrl?: string;
  canary?: string;
  timeout: number;
  retries: string;
  yes?: boolean;
  json?: boolean;
  dir?: string;
}

/** `--yes` ran pulumi up on the front; now the deploy workflow does, from a commit. */
const YES_REFUSED =
  "--yes is refused: swap no longer runs pulumi; it writes the front's stack file, and the swap deploys through a commit of it (pull request, merge, the deploy workflow's gate); run it without --yes";

const changeText = (c: KeyChange) => `${c.key} ${c.from ?? "(unset)"} → ${c.to}`;

export const main = command<Opts>(
  "swap",
  (c) =>
    c
      .description(
        "Blue/green: prove every colour that would take traffic (verify --live and the smoke check), then write the front's mina:liveColour / mina:canaryPercent into its stack file; a commit of it deploys through the deploy workflow (never runs pulumi).",
      )
      .requiredOption("--to <colour>", "the colour to make live: blue or green")
      .option("--stack <name>", "the front stack (mina:liveColour)", "staging")
      .option("--canary <percent>", "also set the share of traffic (0-50) the other colour keeps; it must then prove itself too")
      .option("--env-file <file>", "the target colour's env file (default: .env.<front>-<colour>.local)")
      .option("--url <url>", "the target colour's smoke check URL (default: https://<colour host>/api/version)")
      .option("--other-env-file <file>", "with a canary share: the other colour's env file (default: .env.<front>-<other colour>.local)")
      .option("--other-url <url>", "with a canary share: the other colour's smoke check URL (default: https://<its host>/api/version)")
      .addOption(durationOption("--timeout <duration>", "bound of each connection and request", { default: "5s", min: 100 }))
      .option("--retries <n>", "smoke check attempts after a failure, with backoff", "2")
      .option("--json", "print the decision and the change as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)")
      .addOption(new Option("--yes", "refused: a swap deploys through a commit").hideHelp()),
  async ({ opts: o, io }) => {
    const { to, timeoutMs, retries, canary } = swapFlags(o);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const siblings = readAllStacks(dir);
    const own = siblings.find((s) => s.stack === o.stack)!;
    const front = frontOf(dir, o.stack, siblings);

    const request = {
      front: o.stack,
      current: front.live,
      to,
      currentCanary: front.canaryPercent,
      canary,
      canarySet: own.values["mina:canaryPercent"] !== undefined,
    };
    const target = swapTarget(request);
    const other = otherColour(to);
    if (!target.serving.includes(other) && (o.otherEnvFile !== undefined || o.otherUrl !== undefined)) {
      throw new UsageError(`--other-env-file and --other-url are for a canary share, and ${other} would take no traffic`);
    }
    const file = stackFilePath(dir, o.stack)!;
    const shown = shownPath(file, io.cwd);
    const say = progress(io, o.json === true);
    if (target.changes.length === 0) {
      const reason = `${to} is already ${o.stack}'s live colour with ${target.canary}% canary: nothing to change`;
      if (o.json)
        io.stdout.write(`${JSON.stringify({ front: o.stack, file: shown, ok: true, reasons: [reason], changes: [], written: false, next: [] }, null, 2)}\n`);
      else io.stdout.write(`✓ ${reason}\n`);
      return 0;
    }

    // Before any check: the file must be committed as it is, and the change must keep it valid.
    const edit = swapEdit(dir, o.stack, siblings, file, shown, target.changes);
    const proofs = await proveColours(io.cwd, dir, front, to, target.serving, { ...o, timeoutMs, retries }, say);
    const decision = decideSwap(request, proofs);
    const from = { liveColour: front.live, canaryPercent: front.canaryPercent };
    const report = { front: o.stack, file: shown, from, to: { liveColour: to, canaryPercent: target.canary }, proofs, ...decision };
    if (!decision.ok) {
      if (o.json) io.stdout.write(`${JSON.stringify({ ...report, written: false, next: [] }, null, 2)}\n`);
      else io.stderr.write(`${decision.reasons.map((r) => `✗ ${r}`).join("\n")}\n`);
      const stacks = target.serving.map((c) => front.colours[c].stack).join(" and ");
      throw new CommandError(
        `refusing to swap ${o.stack} to ${to}: ${stacks} did not prove ${target.serving.length > 1 ? "themselves" : "itself"} (${decision.reasons.length} problem${decision.reasons.length === 1 ? "" : "s"}${o.json ? " in the JSON" : " above"}); ${shown} is unchanged`,
      );
    }

    writeSwap(edit);
    const next = nextSteps({ front: o.stack, to, canary: target.canary, file: shown, productionTier: tierOfRaw(own) === "production" });
    if (o.json) io.stdout.write(`${JSON.stringify({ ...report, written: true, next }, null, 2)}\n`);
    else
      printSwapped(
        io,
        target.serving.map((c) => proofs[c]!),
        decision,
        shown,
        next,
      );
    return 0;
  },
);

/** The flags, checked: the colour, the bounds, the canary share. */
function swapFlags(o: Opts): { to: Colour; timeoutMs: number; retries: number; canary?: number } {
  if (o.yes) throw new UsageError(YES_REFUSED);
  if (o.to !== "blue" && o.to !== "green") throw new UsageError(`--to must be blue or green, got "${o.to}"`);
  const to = o.to as Colour;
  const timeoutMs = o.timeout;
  const retries = wholeNumberOption("--retries", o.retries, 0);
  const canary = o.canary === undefined ? undefined : wholeNumberOption("--canary", o.canary, 0, "percent");
  if (canary !== undefined && canary > 50) throw new UsageError(`--canary must be at most 50 (above that, swap instead), got "${o.canary}"`);
  return { to, timeoutMs, retries, canary };
}

/** What was proved, what changed in the file, and how the change deploys. */
function printSwapped(io: Io, proofs: readonly Proof[], decision: SwapDecision, shown: string, next: readonly string[]): void {
  for (const p of proofs) io.stdout.write(`✓ ${p.stack}: all ${p.checklist.length} checklist items passed\n✓ ${p.smoke.reason}\n`);
  io.stdout.write(`${decision.reasons.map((r) => `→ ${r}`).join("\n")}\n`);
  io.stdout.write(`✓ wrote ${shown}: ${decision.changes.map(changeText).join(", ")} (nothing else in it changed)\n`);
  io.stdout.write(`Nothing is deployed yet. Review, commit and merge the change; the deploy workflow deploys it:\n${next.map((l) => `  ${l}`).join("\n")}\n`);
}

if (require.main === module) runCli(main);
