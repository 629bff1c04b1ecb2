/**
 * mina-infra rotate --stack NAME WHAT [--yes] [--approved-commit SHA] [--json]
 *
 * Rotates a generated credential of one stack: WHAT (secret-key, session-secret,
 * database-password, aws-key, or all of those; redis is refused, see
 * ops/rotate.ts) names the resources to replace, found in what the program
 * declares for the stack. Without --yes it prints the Pulumi commands. With --yes:
 * `pulumi preview --replace URN... --save-plan`, the data-safety gate on that
 * preview (approved for exactly this rotation), `pulumi up --plan`, then the env
 * file is written anew. A production-tier stack needs --approved-commit equal to
 * the current git HEAD, as a deploy does, and a work tree that is that commit as
 * it is (nothing changed, staged or untracked).
 */
import { readAllStacks } from "../config";
import { tierOfRaw } from "../config/tiers";
import { type GateDecision, renderDecisionText } from "../gate/gate";
import { shownPath } from "../lib/root";
import {
  applyRotation,
  parseChoice,
  RESTART,
  type RotateChoice,
  type RotationTarget,
  rotationApproval,
  rotationCommands,
  rotationTargets,
} from "../ops/rotate";
import { projectDir, requireStacks } from "./lib/project";
import { command, commandHint, type Io, progress, runCli, UsageError } from "./lib/run";

interface Opts {
  stack: string;
  yes?: boolean;
  approvedCommit?: string;
  json?: boolean;
  dir?: string;
}

/** A command as a person pastes it into a shell: URNs hold `$`, so they are quoted. */
const shownForShell = (args: readonly string[]): string => ["pulumi", ...args.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `'${a}'`))].join(" ");

function restartLines(targets: readonly RotationTarget[]): string[] {
  return [...new Set(targets.flatMap((t) => t.variables.map((v) => RESTART[v]).filter((l): l is string => l !== undefined)))];
}

export const main = command<Opts>(
  "rotate",
  (c) =>
    c
      .description(
        "Rotate a generated credential of one stack by replacing the resource behind it: the Pulumi commands (dry run), or with --yes the preview, the data-safety gate on it (approved for this rotation only), pulumi up on the saved plan, and the env file written anew. WHAT: secret-key, session-secret, database-password, redis (refused: reset it in the Upstash console), aws-key, all (every one but redis).",
      )
      .argument("[what]", "secret-key, session-secret, database-password, redis, aws-key or all")
      .requiredOption("--stack <name>", "the stack whose credential to rotate")
      .option("--yes", "apply: run the pulumi commands (default: print them)")
      .option("--approved-commit <sha>", "production tier: the full SHA a person approved; must be the current git HEAD, with nothing uncommitted")
      .option("--json", "print the rotation as JSON (never a value)")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, args, io }) => {
    let what: RotateChoice;
    try {
      what = parseChoice(args[0]);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const siblings = readAllStacks(dir);
    const raw = siblings.find((s) => s.stack === o.stack)!;
    const production = tierOfRaw(raw) === "production";
    const approval = rotationApproval(dir, o.stack, { production, approvedCommit: o.approvedCommit, apply: o.yes === true, shownDir: shownPath(dir, io.cwd) });

    const say = progress(io, o.json === true);
    say(`reading what the program declares for ${o.stack} (mock runtime)…`);
    const targets = await rotationTargets(dir, o.stack, siblings, what);
    const shown = rotationCommands(o.stack, targets);
    const plannedSteps = [
      shownForShell(shown.preview),
      `the data-safety gate (gate) on that preview (approved for this rotation${production ? ` by commit ${approval?.commit?.slice(0, 12)}` : ""})`,
      shownForShell(shown.up),
      envCommand(o.stack, io.env),
    ];
    const restart = restartLines(targets);
    const report = { stack: o.stack, what, targets, commands: plannedSteps, restart };
    if (!o.json) printTargets(io, o.stack, targets);
    if (!o.yes) {
      if (o.json) io.stdout.write(`${JSON.stringify({ ...report, applied: false }, null, 2)}\n`);
      else io.stdout.write(`${plannedSteps.map((c) => `  ${c}`).join("\n")}\ndry run: nothing applied; run again with --yes to apply\n`);
      return 0;
    }

    const gated = (d: GateDecision) => {
      if (!o.json) io.stdout.write(renderDecisionText(d));
    };
    const decision = applyRotation(dir, o.stack, targets, approval!, io.env, { say, gated });
    // The env file, written anew with the rotated values (env's own checks).
    let envOut = "";
    const { main: env } = require("./env") as typeof import("./env");
    const code = await env(["--stack", o.stack, "--force", "--dir", dir], { ...io, stdout: { write: (s: string) => (envOut += s) } });
    const envWritten = code === 0;
    if (o.json) {
      const envFile = envWritten ? `.env.${o.stack}.local` : null;
      io.stdout.write(`${JSON.stringify({ ...report, applied: true, gate: decision, envFile }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(`✓ rotated ${targets.map((t) => t.what).join(", ")} on ${o.stack}\n`);
    io.stdout.write(envWritten ? envOut : `! the env file was not written: run ${envCommand(o.stack, io.env)}\n`);
    io.stdout.write(`restart to pick the new values up:\n${restart.map((l) => `  ${l}`).join("\n")}\n`);
    return 0;
  },
);

const envCommand = (stack: string, env: NodeJS.ProcessEnv) => commandHint(env, "env", `--stack ${stack} --force`);

/** What the rotation replaces, and what each replacement changes. */
function printTargets(io: Io, stack: string, targets: readonly RotationTarget[]): void {
  io.stdout.write(`rotating on ${stack}:\n`);
  for (const t of targets) {
    io.stdout.write(`  ${t.what}: replace ${t.urn}\n    changes ${t.variables.join(", ")}${t.alsoChanges ? `; ${t.alsoChanges}` : ""}\n`);
  }
  const delivered = targets.find((t) => t.delivered)?.delivered;
  if (delivered) io.stdout.write(`  and the app's env secret is stored anew: replace ${delivered.urn} (a new version)\n`);
}

if (require.main === module) runCli(main);
