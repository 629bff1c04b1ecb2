/**
 * mina-infra refresh --from SOURCE --to TARGET [--dry-run] [--yes] [--from-url-env VAR] [--to-url-env VAR] [--prune]
 *
 * Refreshes a non-production stack's database from another stack's, anonymized
 * by refresh.rules.yaml, in one direction only: the target's stack file must say
 * `mina:refreshFrom: SOURCE`, a production-tier target is refused, and each URL
 * must land in its own stack's derived database (checked on the server) before
 * anything that can write connects. See README, Refreshing staging's data.
 */
import { parsePostgresUrl, type PostgresUrl } from "../lib/connectionUrl";
import { checkUrlDatabases, type ResolvedUrl, refreshDirection, refreshRules, runRefresh } from "../refresh/run";
import { describeError, urlSecrets } from "../verify/live/common";
import { envFromOutputs, readStackOutputsWithCli } from "./lib/outputs";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, durationOption, type Io, progress, runCli, UsageError } from "./lib/run";

interface Opts {
  from: string;
  to: string;
  dryRun?: boolean;
  yes?: boolean;
  fromUrlEnv?: string;
  toUrlEnv?: string;
  prune?: boolean;
  timeout: number;
  quiet?: boolean;
  json?: boolean;
  dir?: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A stack's database URL: from the named environment variable, else from its outputs' env.DATABASE_URL. */
function urlOf(io: Io, dir: string, stack: string, envName: string | undefined, flag: string): ResolvedUrl {
  let raw: string;
  let key: string;
  if (envName !== undefined) {
    if (!ENV_NAME.test(envName)) throw new UsageError(`${flag} takes the NAME of an environment variable, not a value`);
    const v = io.env[envName];
    if (v === undefined || v === "") throw new UsageError(`${flag}: environment variable ${envName} is not set`);
    raw = v;
    key = envName;
  } else {
    const env = envFromOutputs(
      readStackOutputsWithCli(stack, dir, io.env, `pass ${flag} VAR with the name of a variable holding the URL`),
      `the outputs of ${stack}`,
    );
    if (!env.DATABASE_URL) throw new CommandError(`the outputs of ${stack} have no env.DATABASE_URL; pass ${flag} VAR`);
    raw = env.DATABASE_URL;
    key = `${stack}'s DATABASE_URL`;
  }
  let url: PostgresUrl;
  try {
    url = parsePostgresUrl(raw, key);
  } catch (e) {
    throw new UsageError(describeError(e, urlSecrets(raw)));
  }
  return { url, secrets: urlSecrets(raw, url) };
}

export const main = command<Opts>(
  "refresh",
  (c) =>
    c
      .description(
        "Refresh a non-production stack's database from another stack's, anonymized by refresh.rules.yaml; the target's stack file must name the source in mina:refreshFrom.",
      )
      .requiredOption("--from <stack>", "the source stack (e.g. production); only read")
      .requiredOption("--to <stack>", "the target stack (e.g. staging); its stack file must say mina:refreshFrom: <source>")
      .option("--dry-run", "check everything and print the plan; change nothing")
      .option("--yes", "apply without asking")
      .option("--from-url-env <var>", "name of an environment variable holding the source's URL (default: the source's outputs, env.DATABASE_URL)")
      .option(
        "--to-url-env <var>",
        "name of an environment variable holding an admin URL on the target's server, to the target's database (CREATEDB, and a member of the target's app role)",
      )
      .option(
        "--prune",
        "instead of refreshing: drop the target's previous copies (<target db>_previous_<time>) and those interrupted refreshes left (<target db>_refresh_<time>, unless in use)",
      )
      .addOption(
        durationOption(
          "--timeout <duration>",
          "bound of connecting, of each of the guard's queries and of waiting for a lock (not of counting, copying or checking)",
          { default: "10s", min: 100 },
        ),
      )
      .option("--quiet", "no progress lines")
      .option("--json", "print the result as JSON: the report's lines in `report`")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const started = Date.now();
    const timeoutMs = o.timeout;
    if (o.dryRun && o.yes) throw new UsageError("--dry-run and --yes contradict each other: pick one");
    const say = progress(io, o.quiet === true || o.json === true);

    // 1. The direction, from the stack files alone: before any connection.
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.from, o.to]);
    refreshDirection(dir, o.from, o.to);
    const rules = refreshRules(dir);

    // 2. Each URL lands in its own stack's database, by name, before connecting.
    // --prune reads nothing of the source: its URL is not asked for.
    const src = o.prune ? undefined : urlOf(io, dir, o.from, o.fromUrlEnv, "--from-url-env");
    const dst = urlOf(io, dir, o.to, o.toUrlEnv, "--to-url-env");
    const req = { dir, from: o.from, to: o.to, src, dst, dryRun: o.dryRun === true, yes: o.yes === true, prune: o.prune === true, timeoutMs, started };
    checkUrlDatabases(req);

    // 3. The connections, the guard, the plan, the copy and the rename (refresh/run.ts).
    await runRefresh(req, rules, { stdout: io.stdout, env: io.env, interactive: io.interactive, confirm: (q) => io.confirm(q), say });
    return 0;
  },
  { report: ({ from, to, dryRun, prune }) => ({ from, to, dryRun: dryRun === true, prune: prune === true }) },
);

if (require.main === module) runCli(main);
