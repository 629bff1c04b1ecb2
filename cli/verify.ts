/**
 * npm run verify -- FILE [--stack NAME] [--against OTHER_FILE] [--live [--claim]] [--json]
 *
 * The staging guide's safety checklist for one env file, automated: one line per
 * item with ✓ or ✗ and the reason; exit 1 on any ✗. Secret values are never
 * printed, only key names and short fingerprints.
 */
import * as path from "node:path";
import { ENVIRONMENT_PATTERN } from "../config/naming";
import { expectationsFor } from "../config/expectations";
import { type CheckResult, offlineChecklist } from "../verify/checklist";
import { checkPostgresLive, checkRedisLive } from "../verify/live";
import { readEnvFile, stackFromFileName } from "../envfiles/read";
import { projectDir, requireStacks } from "./lib/project";
import { command, durationOption, progress, runCli, UsageError } from "./lib/run";

export function renderChecklist(file: string, stack: string, results: readonly CheckResult[]): string {
  const failed = results.filter((r) => !r.ok).length;
  const lines = [`verify ${file} (stack ${stack})`];
  for (const r of results) lines.push(`${r.ok ? "✓" : "✗"} ${r.item}: ${r.reason}`);
  lines.push(failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks failed`);
  return `${lines.join("\n")}\n`;
}

/** The local recipe's environment (see README): it has no stack file of its own. */
const LOCAL_ENVIRONMENT = "local";

export const main = command<{ stack?: string; against?: string; live?: boolean; claim?: boolean; timeout: number; dir?: string; json?: boolean }>(
  "verify",
  (c) =>
    c
      .description("Check an env file against the safety checklist (and, with --live, against the real Postgres and Redis with its own credentials).")
      .argument("<file>", "the env file, e.g. .env.staging.local")
      .option("--stack <name>", "the stack the file is for (default: from the file name, else its ENVIRONMENT)")
      .option("--against <file>", "another environment's env file: prove no credential is shared with it")
      .option("--live", "also connect to Postgres and Redis with the file's own credentials")
      .option("--claim", "with --live: mark an unmarked Redis database as this environment's (the deploy job, right after pulumi up)")
      .addOption(durationOption("--timeout <duration>", "bound of each live connection and statement", { default: "5s", min: 100 }))
      .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)")
      .option("--json", "print the checklist as JSON"),
  async ({ opts: o, args, io }) => {
    const [shown] = args;
    const file = path.resolve(io.cwd, shown);
    if (o.claim && !o.live) throw new UsageError("--claim needs --live: it sets the Redis environment marker on the live server");
    const timeoutMs = o.timeout;
    const env = readEnvFile(file, shown);
    const stack = o.stack ?? stackFromFileName(file) ?? env.ENVIRONMENT;
    if (!stack || !ENVIRONMENT_PATTERN.test(stack)) {
      throw new UsageError(`cannot tell which stack ${shown} is for: pass --stack NAME`);
    }
    const dir = projectDir(io, o.dir);
    if (stack !== LOCAL_ENVIRONMENT) requireStacks(io, dir, [stack]);
    const expected = expectationsFor(dir, stack);
    const againstEnv = o.against ? readEnvFile(path.resolve(io.cwd, o.against), o.against) : undefined;
    // Its environment as audit names it: what the two may share depends on both stack files.
    const against =
      o.against && againstEnv ? { file: o.against, env: againstEnv, environment: againstEnv.ENVIRONMENT || stackFromFileName(o.against) } : undefined;
    const results = offlineChecklist({ file, env, expected, against });
    if (o.live) {
      progress(io, o.json === true)(`connecting to PostgreSQL and Redis with ${shown}'s own credentials (at most ${timeoutMs} ms each)…`);
      if (env.DATABASE_URL)
        results.push(...(await checkPostgresLive(env.DATABASE_URL, { environment: stack, otherDatabases: expected.otherDatabases, timeoutMs })));
      else results.push({ item: "postgres: connect", ok: false, reason: "DATABASE_URL is missing" });
      if (env.REDIS_URL) results.push(...(await checkRedisLive(env.REDIS_URL, { environment: stack, timeoutMs, claim: o.claim === true })));
      else results.push({ item: "redis: connect", ok: false, reason: "REDIS_URL is missing" });
    }
    const ok = results.every((r) => r.ok);
    io.stdout.write(o.json ? `${JSON.stringify({ file: shown, stack, ok, results }, null, 2)}\n` : renderChecklist(shown, stack, results));
    return ok ? 0 : 1;
  },
);

if (require.main === module) runCli(main);
