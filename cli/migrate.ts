/**
 * mina-infra migrate --stack NAME --app-dir DIR --env-file FILE [--json]
 *
 * The deploy job's migration step: runs the stack's `mina:migrateCommand` (default
 * `flask db upgrade`) in a checkout of the app at the deployed version, with the
 * environment's env file as its environment. The env file must be that stack's.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { loadStackOffline, readAllStacks } from "../config";
import { maskedValues, maskText } from "../envfiles/mask";
import { readEnvFile } from "../envfiles/read";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, progress, runCli, UsageError } from "./lib/run";

export const main = command<{ stack: string; appDir: string; envFile: string; dir?: string; json?: boolean }>(
  "migrate",
  (c) =>
    c
      .description("Run the stack's mina:migrateCommand in the app's checkout, with the stack's env file as its environment (the deploy job, after pulumi up).")
      .requiredOption("--stack <name>", "the stack whose database is migrated")
      .requiredOption("--app-dir <dir>", "a checkout of the app at the deployed version")
      .requiredOption("--env-file <file>", "the stack's env file (npm run env)")
      .option("--json", "print the result as JSON (the migrations' own output goes to standard error)")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const appDir = path.resolve(io.cwd, o.appDir);
    if (!fs.existsSync(appDir) || !fs.statSync(appDir).isDirectory()) throw new UsageError(`--app-dir ${o.appDir} is not a directory`);
    const env = readEnvFile(path.resolve(io.cwd, o.envFile), o.envFile);
    // The migrations of one environment run with that environment's credentials only.
    if (env.ENVIRONMENT !== o.stack)
      throw new CommandError(
        `${o.envFile} is ${JSON.stringify(env.ENVIRONMENT ?? "(no ENVIRONMENT)")}'s env file, not ${o.stack}'s: refusing to migrate with it`,
      );
    const cmd = loadStackOffline(dir, o.stack, readAllStacks(dir)).config.deploy.migrateCommand;
    progress(io)(`$ ${cmd}   (in ${o.appDir}, with ${o.envFile})`);
    const r = spawnSync("/bin/sh", ["-c", cmd], { cwd: appDir, env: { ...io.env, ...env }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    // The child's output may print a value of the env file (a URL in a traceback): masked, as in the job log.
    const masked = maskedValues(env);
    if (r.stdout) (o.json ? io.stderr : io.stdout).write(maskText(r.stdout, masked));
    if (r.stderr) io.stderr.write(maskText(r.stderr, masked));
    if (r.error) throw new CommandError(`could not run the migrations of ${o.stack} (${cmd}): ${r.error.message}`);
    if (r.status !== 0) {
      const last =
        maskText((r.stderr || "").trim(), masked)
          .split("\n")
          .pop() || `exit ${r.status}`;
      throw new CommandError(`the migrations of ${o.stack} failed (${cmd}, exit ${r.status}): ${last}`);
    }
    io.stdout.write(o.json ? `${JSON.stringify({ ok: true, stack: o.stack, command: cmd }, null, 2)}\n` : `✓ migrations of ${o.stack} ran: ${cmd}\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
