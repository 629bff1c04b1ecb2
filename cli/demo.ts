/**
 * mina-infra demo [--out SCRATCH] [--stack NAME...] [--dir PROJECT] [--json]
 *
 * The env -> verify -> audit loop, offline: in a scratch folder outside the
 * checkout, writes each stack's outputs (from the real program under the mock
 * runtime, in the shape of `pulumi stack output --json --show-secrets`, every
 * credential visibly fake), then runs the commands a developer would, printing
 * each one so it can be repeated. The checkout is left as it was.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readAllStacks } from "../config";
import { writeFileAtomic } from "../lib/atomicWrite";
import { demoOutputs, demoStacks } from "../plan/demo";
import { main as audit } from "./audit";
import { main as env } from "./env";
import { shownPath } from "../lib/root";
import { projectDir, stackNames } from "./lib/project";
import { command, CommandError, commandHint, type Io, type Main, runCli, UsageError } from "./lib/run";
import { main as verify } from "./verify";

/** Runs one of this project's commands as the user would, printing it first (with --json, silently). */
async function step(io: Io, json: boolean, main: Main, name: string, args: string[], cwd: string): Promise<number> {
  if (json) return main(args, { ...io, cwd, interactive: false, stdout: { write: () => true }, stderr: { write: () => true } });
  io.stdout.write(`\n$ ${commandHint(io.env, name, args.join(" "))}\n`);
  return main(args, { ...io, cwd, interactive: false });
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** Writes each stack's outputs from the mock runtime into the scratch folder. */
async function writeOutputs(io: Io, json: boolean, project: string, stacks: readonly string[], scratch: string): Promise<void> {
  const siblings = readAllStacks(project);
  for (const stack of stacks) {
    let outputs: Record<string, unknown>;
    try {
      outputs = await demoOutputs(project, stack, siblings);
    } catch (e) {
      throw new CommandError(`cannot run stack ${stack} under the mock runtime: ${String((e as Error).message).split("\n")[0]}`);
    }
    const file = path.join(scratch, `outputs-${stack}.json`);
    writeFileAtomic(file, `${JSON.stringify(outputs, null, 2)}\n`, 0o600);
    if (!json) io.stdout.write(`wrote ${file}: what \`pulumi stack output --json --show-secrets --stack ${stack}\` would print (fake credentials)\n`);
  }
}

/** env, verify and audit on the scratch folder's outputs; the steps that failed. */
async function loop(io: Io, json: boolean, project: string, stacks: readonly string[], scratch: string): Promise<string[]> {
  const failed: string[] = [];
  const projectFlag = ["--dir", project];
  const envFile = (s: string) => path.join(scratch, `.env.${s}.local`);
  for (const s of stacks) {
    const args = ["--stack", s, "--outputs-file", path.join(scratch, `outputs-${s}.json`), "--out", envFile(s), "--force", ...projectFlag];
    if ((await step(io, json, env, "env", args, scratch)) !== 0) failed.push(`env --stack ${s}`);
  }
  for (const [i, s] of stacks.entries()) {
    const other = stacks[(i + 1) % stacks.length];
    const args = [envFile(s), "--stack", s, ...(other !== s ? ["--against", envFile(other)] : []), ...projectFlag];
    if ((await step(io, json, verify, "verify", args, scratch)) !== 0) failed.push(`verify ${s}`);
  }
  if (stacks.length >= 2) {
    const args = [...stacks.map(envFile), ...projectFlag];
    if ((await step(io, json, audit, "audit", args, scratch)) !== 0) failed.push("audit");
  }
  return failed;
}

export const main = command<{ out?: string; stack?: string[]; dir?: string; json?: boolean }>(
  "demo",
  (c) =>
    c
      .description(
        "Try env, verify and audit offline: write every stack's outputs (fake credentials, from the mock runtime) to a scratch folder and run the loop there, printing each command.",
      )
      .option("--out <dir>", "scratch folder to use (created if missing; must be outside the checkout). Default: a new temporary folder")
      .option("--stack <name...>", "only these stacks (several, or comma-separated; default: every stack file)")
      .option("--json", "print a summary as JSON instead of each step")
      .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const json = o.json === true;
    const project = projectDir(io, o.dir);
    const all = demoStacks(project);
    if (all.length === 0)
      throw new UsageError(`no stack files (Pulumi.<stack>.yaml) in ${shownPath(project, io.cwd) || "."}; pass --dir with the project directory`);
    const stacks = stackNames(o.stack) ?? all;
    const unknown = stacks.filter((s) => !all.includes(s));
    if (unknown.length > 0) throw new UsageError(`no stack named ${unknown.join(", ")} (stacks: ${all.join(", ")})`);

    const scratch = path.resolve(io.cwd, o.out ?? fs.mkdtempSync(path.join(os.tmpdir(), "mina-demo-")));
    if (isInside(scratch, project) || isInside(fs.realpathSync(path.dirname(scratch)), fs.realpathSync(project))) {
      throw new UsageError(`--out ${scratch} is inside the checkout; the demo writes only outside it`);
    }
    fs.mkdirSync(scratch, { recursive: true, mode: 0o700 });
    if (!json) io.stdout.write(`demo folder: ${scratch}\n`);
    await writeOutputs(io, json, project, stacks, scratch);
    const failed = await loop(io, json, project, stacks, scratch);
    if (json) io.stdout.write(`${JSON.stringify({ ok: failed.length === 0, folder: scratch, stacks, failed }, null, 2)}\n`);
    else
      io.stdout.write(
        failed.length === 0
          ? `\n✓ demo passed: env, verify and audit on ${stacks.length} stack${stacks.length === 1 ? "" : "s"}. The files are in ${scratch}; delete it when done.\n`
          : `\n✗ demo: ${failed.join(", ")} failed (see above). The files are in ${scratch}.\n`,
      );
    return failed.length === 0 ? 0 : 1;
  },
);

if (require.main === module) runCli(main);
