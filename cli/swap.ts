/**
 * mina-infra swap --to blue|green [--stack FRONT] [--env-file FILE] [--url URL] [--canary N] [--yes]
 *
 * Blue/green: proves the target colour first (its env file's `verify --live`
 * checklist and the smoke check on its own host), refuses to flip when either
 * fails, then sets the front's `mina:liveColour` (and `mina:canaryPercent`) and
 * runs `pulumi up` on the front. Without --yes it only prints the commands.
 */
import * as path from "path";
import { loadStackOffline, readAllStacks } from "../config";
import { expectationsFor } from "../config/expectations";
import { guardDeploy } from "../gate/deploy";
import { shownPath } from "../lib/root";
import { Colour, decideSwap } from "../bluegreen/swap";
import { offlineChecklist } from "../verify/checklist";
import { checkPostgresLive, checkRedisLive, CheckResult } from "../verify/live";
import { smokeCheck } from "../verify/smoke";
import { readEnvFile } from "./lib/envSource";
import { projectDir, requireStacks } from "./lib/project";
import { runPulumi, shownCommand } from "./lib/pulumi";
import { command, CommandError, progress, runCli, UsageError, wholeNumberOption } from "./lib/run";

interface Opts {
  to: string;
  stack: string;
  envFile?: string;
  url?: string;
  canary?: string;
  timeout: string;
  retries: string;
  yes?: boolean;
  json?: boolean;
  dir?: string;
}

export const main = command<Opts>(
  "swap",
  (c) =>
    c
      .description("Blue/green: prove the target colour (verify --live and the smoke check), then point the front's share domain at it with pulumi up.")
      .requiredOption("--to <colour>", "blue or green")
      .option("--stack <front>", "the front stack (mina:liveColour)", "staging")
      .option("--env-file <file>", "the target colour's env file (default: .env.<front>-<colour>.local)")
      .option("--url <url>", "the smoke check's URL (default: https://<colour host>/api/version)")
      .option("--canary <percent>", "also set the share of traffic (0-50) the other colour keeps")
      .option("--timeout <ms>", "bound of each connection and request", "5000")
      .option("--retries <n>", "smoke check attempts after a failure, with backoff", "2")
      .option("--yes", "apply: run the pulumi commands (default: print them)")
      .option("--json", "print the decision as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    if (o.to !== "blue" && o.to !== "green") throw new UsageError(`--to must be blue or green, got "${o.to}"`);
    const to = o.to as Colour;
    const timeoutMs = wholeNumberOption("--timeout", o.timeout, 100, "milliseconds");
    const retries = wholeNumberOption("--retries", o.retries, 0);
    const canary = o.canary === undefined ? undefined : Number(o.canary);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const { config } = loadStackOffline(dir, o.stack, readAllStacks(dir));
    const front = config.dns.front;
    if (!front) throw new UsageError(`${o.stack} is not a blue/green front: set mina:liveColour in ${config.file} (see README, Blue/green)`);
    const target = front.colours[to];

    const say = progress(io, o.json === true);
    const shown = o.envFile ?? `.env.${target.stack}.local`;
    say(`checking ${target.stack} (${shown}, live) and ${target.host}…`);
    const file = path.resolve(io.cwd, shown);
    let checklist: CheckResult[];
    try {
      const env = readEnvFile(file, shown);
      const expected = expectationsFor(dir, target.stack);
      checklist = offlineChecklist({ file, env, expected });
      if (env.DATABASE_URL) checklist.push(...(await checkPostgresLive(env.DATABASE_URL, { environment: target.stack, otherDatabases: expected.otherDatabases, timeoutMs })));
      else checklist.push({ item: "postgres: connect", ok: false, reason: "DATABASE_URL is missing" });
      if (env.REDIS_URL) checklist.push(...(await checkRedisLive(env.REDIS_URL, { environment: target.stack, timeoutMs })));
      else checklist.push({ item: "redis: connect", ok: false, reason: "REDIS_URL is missing" });
    } catch (e) {
      checklist = [{ item: "env file", ok: false, reason: (e as Error).message.split("\n")[0] }];
    }
    const smoke = await smokeCheck(o.url ?? `https://${target.host}/api/version`, target.stack, { timeoutMs, retries });
    const decision = decideSwap({ front: o.stack, current: front.live, to, currentCanary: front.canaryPercent, canary, checklist, smoke });

    const commands = decision.commands.map((c) => `pulumi ${c.join(" ")}`);
    if (o.json) io.stdout.write(JSON.stringify({ front: o.stack, from: front.live, to, envFile: shownPath(file, io.cwd), smoke, ...decision, applied: decision.ok && o.yes === true && commands.length > 0 }, null, 2) + "\n");
    if (!decision.ok) {
      if (!o.json) io.stderr.write(decision.reasons.map((r) => `✗ ${r}`).join("\n") + "\n");
      throw new CommandError(`refusing to swap ${o.stack} to ${to}: ${target.stack} did not prove itself (${decision.reasons.length} problem${decision.reasons.length === 1 ? "" : "s"} above)`);
    }
    if (!o.json) {
      io.stdout.write(`✓ ${smoke.reason}\n✓ ${target.stack}: all ${checklist.length} checklist items passed\n${decision.reasons.map((r) => `→ ${r}`).join("\n")}\n`);
      for (const c of commands) io.stdout.write(`  ${c}\n`);
    }
    if (commands.length === 0) return 0;
    if (!o.yes) {
      if (!o.json) io.stdout.write("dry run: nothing applied; run again with --yes to apply\n");
      return 0;
    }
    const refused = guardDeploy(o.stack, "up", io.env);
    if (refused.length > 0) throw new CommandError(refused[0]);
    for (const c of decision.commands) {
      say(`$ ${shownCommand(c)}`);
      const r = runPulumi(c, dir, io.env);
      if (!r.ok) throw new CommandError(`${r.problem}; ${o.stack} still sends traffic to ${front.live} unless the up ran (check pulumi stack history)`);
    }
    if (!o.json) io.stdout.write(`✓ ${o.stack} now sends traffic to ${to}\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
