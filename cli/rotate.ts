/**
 * mina-infra rotate --stack NAME WHAT [--yes] [--approved-commit SHA] [--json]
 *
 * Rotates a generated credential of one stack: WHAT (secret-key, session-secret,
 * database-password, aws-key, or all of those; redis is refused, see
 * gate/rotate.ts) names the resources to replace, found in what the program
 * declares for the stack. Without --yes it prints the Pulumi commands. With --yes:
 * `pulumi preview --replace URN... --save-plan`, the data-safety gate on that
 * preview (approved for exactly this rotation), `pulumi up --plan`, then the env
 * file is written anew. A production-tier stack needs --approved-commit equal to
 * the current git HEAD, as a deploy does, and a work tree that is that commit as
 * it is (nothing changed, staged or untracked).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackOffline, readAllStacks } from "../config";
import { tierOfRaw } from "../config/tiers";
import { checkCommitApproval, type GateDecision, GateInputError, parsePreview, renderDecisionText } from "../gate/gate";
import { guardRotation } from "../gate/deploy";
import { chooseRotation, gateRotation, parseChoice, RESTART, rotationCommands, RotationError, type RotationTarget } from "../gate/rotate";
import { cleanGitEnvironment, workTreeOf } from "../lib/git";
import { shownPath } from "../lib/root";
import { runUnderMocks } from "../plan/mockRuntime";
import { runPulumi, shownCommand } from "./lib/pulumi";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, commandHint, firstLine, progress, runCli, UsageError } from "./lib/run";

interface Opts {
  stack: string;
  yes?: boolean;
  approvedCommit?: string;
  json?: boolean;
  dir?: string;
}

/** The current commit (full SHA), or undefined outside a git work tree. */
function gitHead(dir: string): string | undefined {
  const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: dir, env: cleanGitEnvironment(), encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Production: the approval names a commit, and what runs is the work tree. Refuses
 * a tree that is not that commit as it is: a changed, staged, deleted or untracked
 * file (anything `git status` lists; ignored files such as env files aside) is code
 * or config that no one approved.
 */
function refuseChangedWorkTree(dir: string, stack: string): void {
  const tree = workTreeOf(dir);
  if (!tree || tree.changes.length === 0) return;
  const shown = tree.changes
    .slice(0, 3)
    .map((l) => l.trim().replace(/\s+/, " "))
    .join(", ");
  const more = tree.changes.length > 3 ? ` and ${tree.changes.length - 3} more` : "";
  throw new CommandError(
    `refusing to rotate on ${stack} (production tier): the work tree ${tree.root} is not the approved commit as it is (git status: ${shown}${more}); commit, stash (git stash --include-untracked) or discard the changes, so that what runs is what was approved`,
  );
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
    let what;
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

    // Production: the same rule as a deploy's gate, approval by the commit being run.
    const head = gitHead(dir);
    let approval: { commit?: string; approvedCommit: string } | undefined;
    if (production) {
      const check = checkCommitApproval(head, o.approvedCommit ?? "");
      if (!check.approved) {
        throw new CommandError(
          `refusing to rotate on ${o.stack} (production tier): ${check.problem ?? `pass --approved-commit with the full SHA of the current commit${head ? ` (${head})` : ""}`}`,
        );
      }
      refuseChangedWorkTree(dir, o.stack);
      approval = { commit: head, approvedCommit: o.approvedCommit! };
    } else if (head) {
      // Running the command on a non-production stack is the approval, for the commit it runs from.
      approval = { commit: head, approvedCommit: head };
    } else if (o.yes) {
      throw new CommandError(
        `refusing to rotate on ${o.stack}: ${shownPath(dir, io.cwd)} is not in a git checkout with a commit, and a rotation is approved for the commit it runs from`,
      );
    }

    const say = progress(io, o.json === true);
    say(`reading what the program declares for ${o.stack} (mock runtime)…`);
    const { config } = loadStackOffline(dir, o.stack, siblings);
    const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
    const { resources } = await runUnderMocks("mina", o.stack, () => defineEnvironment(config));
    let targets: RotationTarget[];
    try {
      targets = chooseRotation(what, resources, o.stack);
    } catch (e) {
      if (e instanceof RotationError) throw new CommandError(e.message);
      throw e;
    }

    const shown = rotationCommands(o.stack, targets);
    const envCommand = commandHint(io.env, "env", `--stack ${o.stack} --force`);
    const plannedSteps = [
      shownForShell(shown.preview),
      `the data-safety gate (gate) on that preview (approved for this rotation${production ? ` by commit ${head?.slice(0, 12)}` : ""})`,
      shownForShell(shown.up),
      envCommand,
    ];
    const restart = restartLines(targets);
    if (!o.json) {
      io.stdout.write(`rotating on ${o.stack}:\n`);
      for (const t of targets) {
        io.stdout.write(`  ${t.what}: replace ${t.urn}\n    changes ${t.variables.join(", ")}${t.alsoChanges ? `; ${t.alsoChanges}` : ""}\n`);
      }
      const delivered = targets.find((t) => t.delivered)?.delivered;
      if (delivered) io.stdout.write(`  and the app's env secret is stored anew: replace ${delivered.urn} (a new version)\n`);
    }
    if (!o.yes) {
      if (o.json) {
        io.stdout.write(`${JSON.stringify({ stack: o.stack, what, targets, commands: plannedSteps, restart, applied: false }, null, 2)}\n`);
      } else {
        io.stdout.write(`${plannedSteps.map((c) => `  ${c}`).join("\n")}\ndry run: nothing applied; run again with --yes to apply\n`);
      }
      return 0;
    }

    for (const c of [shown.preview, shown.up]) {
      const refused = guardRotation(o.stack, c.join(" "), io.env);
      if (refused.length > 0) throw new CommandError(refused[0]);
    }
    let decision: GateDecision | undefined;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-rotate-"));
    try {
      const planFile = path.join(work, "plan.json");
      const cmds = rotationCommands(o.stack, targets, planFile);
      say(`$ ${shownCommand(shown.preview)}`);
      const p = runPulumi(cmds.preview, dir, io.env);
      if (!p.ok) throw new CommandError(`${p.problem.replace(planFile, "plan.json")}; nothing was rotated`);
      let gate;
      try {
        gate = gateRotation(parsePreview(JSON.parse(p.stdout), "the rotation's preview"), targets, approval!);
      } catch (e) {
        const why = e instanceof GateInputError ? e.message : `the rotation's preview is not JSON (${firstLine(e)})`;
        throw new CommandError(`${why}; nothing was rotated`);
      }
      decision = gate.decision;
      if (!o.json) io.stdout.write(renderDecisionText(gate.decision));
      if (!gate.ok)
        throw new CommandError(
          `the data-safety gate blocked the rotation of ${o.stack}${gate.decision.incomplete.length > 0 ? `: ${gate.decision.incomplete[0]}` : ""}; nothing was rotated`,
        );
      say(`$ ${shownCommand(shown.up)}`);
      const u = runPulumi(cmds.up, dir, io.env);
      if (!u.ok) throw new CommandError(`${u.problem.replace(planFile, "plan.json")}; check \`pulumi stack history --stack ${o.stack}\` for what was applied`);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }

    // The env file, written anew with the rotated values (env's own checks).
    let envWritten = false;
    let envOut = "";
    const { main: env } = require("./env") as typeof import("./env");
    const code = await env(["--stack", o.stack, "--force", "--dir", dir], { ...io, stdout: { write: (s: string) => (envOut += s) } });
    envWritten = code === 0;
    if (o.json) {
      io.stdout.write(
        `${JSON.stringify(
          {
            stack: o.stack,
            what,
            targets,
            commands: plannedSteps,
            restart,
            applied: true,
            gate: decision,
            envFile: envWritten ? `.env.${o.stack}.local` : null,
          },
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    io.stdout.write(`✓ rotated ${targets.map((t) => t.what).join(", ")} on ${o.stack}\n`);
    io.stdout.write(envWritten ? envOut : `! the env file was not written: run ${envCommand}\n`);
    io.stdout.write(`restart to pick the new values up:\n${restart.map((l) => `  ${l}`).join("\n")}\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
