/**
 * mina-infra local [--out PATH] [--force] [--admin-url URL] [--redis-url URL] [--timeout 5s]
 *
 * Sets up the `local` environment on this machine's PostgreSQL and Redis, the way
 * server mode sets up a real one (a role owning its database, CONNECT revoked from
 * PUBLIC), and writes .env.local.local so `verify --live` can be tried end to end.
 * Loopback addresses only: it never touches a real server.
 */
import * as path from "node:path";
import { DEFAULT_ADMIN_URL, DEFAULT_REDIS_URL, LocalSetUpError, setUpLocal } from "../verify/local";
import { shownPath } from "../lib/root";
import { projectDir } from "./lib/project";
import { command, CommandError, commandHint, durationOption, progress, runCli } from "./lib/run";

export const main = command<{ out?: string; force?: boolean; adminUrl: string; redisUrl: string; timeout: number; dir?: string; json?: boolean }>(
  "local",
  (c) =>
    c
      .description("Set up the local environment on the PostgreSQL and Redis of this machine (loopback only) and write .env.local.local for verify --live.")
      .option("--out <path>", "where to write the env file (default: .env.local.local in the current directory)")
      .option("--force", "replace an existing env file")
      .option("--admin-url <url>", "admin connection to the local PostgreSQL (LOGIN CREATEDB CREATEROLE, not a superuser)", DEFAULT_ADMIN_URL)
      .option("--redis-url <url>", "the local Redis; its path is the database index", DEFAULT_REDIS_URL)
      .addOption(durationOption("--timeout <duration>", "bound of each connection and statement", { default: "5s", min: 100 }))
      .option("--dir <dir>", "project directory holding the Pulumi.<stack>.yaml files (default: the nearest with a Pulumi.yaml)")
      .option("--json", "print a machine-readable summary (never the password)"),
  async ({ opts: o, io }) => {
    const timeoutMs = o.timeout;
    const out = path.resolve(io.cwd, o.out ?? ".env.local.local");
    progress(io, o.json === true)("setting up the local environment on 127.0.0.1…");
    let done;
    try {
      done = await setUpLocal({ adminUrl: o.adminUrl, redisUrl: o.redisUrl, dir: projectDir(io, o.dir), out, force: o.force === true, timeoutMs });
    } catch (e) {
      if (e instanceof LocalSetUpError) throw new CommandError(e.message);
      throw e;
    }
    const file = shownPath(done.file, io.cwd);
    if (o.json) {
      io.stdout.write(`${JSON.stringify({ ...done, file }, null, 2)}\n`);
      return 0;
    }
    io.stdout.write(
      `${[
        `wrote ${file} (mode 0600): environment ${done.environment}, database ${done.database} owned by ${done.role} on ${done.postgres}, Redis ${done.redis}`,
        ...(done.created.length > 0 ? [`created: ${done.created.join(", ")}`] : []),
        ...(done.reused.length > 0 ? [`kept: ${done.reused.join(", ")} (password set anew)`] : []),
        `next: ${commandHint(io.env, "verify", `${file} --live --claim`)}`,
      ].join("\n")}\n`,
    );
    return 0;
  },
);

if (require.main === module) runCli(main);
