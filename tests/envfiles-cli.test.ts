/**
 * The env, verify and audit commands, end to end: real files, a real git
 * repository, real parsers. Stack outputs come from the program itself, run
 * under the mock runtime, in the JSON shape of `pulumi stack output --json`.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as dotenvParse } from "dotenv";
import { loadStackOffline } from "../config";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { VARIABLES } from "../config/variables";
import { auditEnvs } from "../verify/audit";
import { run, withoutNpm } from "./cli";
import { REPO } from "./helpers";

async function stackEnv(stack: string): Promise<Record<string, string>> {
  const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
  const { config } = loadStackOffline(REPO, stack);
  const { result } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
  const env = await promiseOf(result.env);
  // Supplied secrets as a real stack would have them (offline they are placeholders).
  return { ...env, OPENAI_API_KEY: `sk-${stack}-${"x".repeat(20)}`, ...(env.EMAIL_ENABLED === "true" ? { SENDGRID_API_KEY: `SG.${stack}.key` } : {}) };
}

describe("env files: export, verify, audit", function () {
  this.timeout(60000);
  let work: string;
  let envs: Record<string, Record<string, string>>;
  const outputsFile = (name: string, outputs: unknown) => {
    const f = path.join(work, "outputs", `${name}.json`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, JSON.stringify(outputs));
    return f;
  };
  const cli = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => run(cmd, args, { cwd: work, env: { ...withoutNpm(process.env), ...env } });
  const exportStack = (stack: string, extra: string[] = [], env = envs[stack]) =>
    cli("env", ["--stack", stack, "--outputs-file", outputsFile(`${stack}-${Math.random()}`, { env, environment: stack }), ...extra]);

  before(async () => {
    envs = { staging: await stackEnv("staging"), production: await stackEnv("production") };
  });

  beforeEach(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-envfiles-"));
    const git = (...a: string[]) => spawnSync("git", a, { cwd: work });
    git("init", "-q");
    fs.writeFileSync(path.join(work, ".gitignore"), ".env.*.local\noutputs/\n");
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  describe("npm run env", () => {
    it("warns, in one line on stderr, before writing a production-tier stack's file, and names who should run it", async () => {
      const r = await exportStack("production");
      assert.equal(r.status, 0, r.stderr);
      const warnings = r.stderr.split("\n").filter((l) => l.includes("production credentials"));
      assert.deepEqual(warnings, [
        "warning: production is a production environment and its env file holds production credentials: only the deploy job or an operator with production access should run this; developers run mina-infra env --stack staging",
      ]);
      assert.ok(!r.stdout.includes("warning"));
      const staging = await exportStack("staging");
      assert.equal(staging.status, 0, staging.stderr);
      assert.ok(!staging.stderr.includes("production credentials"), staging.stderr);
    });

    it("writes .env.<stack>.local, mode 0600, that loads back to the stack's env exactly", async () => {
      const r = await exportStack("staging");
      assert.equal(r.status, 0, r.stderr);
      const file = path.join(work, ".env.staging.local");
      assert.equal(r.stdout.trim(), `wrote .env.staging.local (${Object.keys(envs.staging).length} variables, mode 0600)`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const text = fs.readFileSync(file, "utf8");
      assert.deepEqual(dotenvParse(text), envs.staging);
      assert.match(text, /^# Mina environment for stack staging\n# generated at \d{4}-/);
      assert.match(text, /do not commit/);
      assert.deepEqual(
        Object.keys(dotenvParse(text)).slice(0, VARIABLES.length),
        VARIABLES.map((v) => v.name),
        "stable order",
      );
      assert.ok(!r.stdout.includes(envs.staging.SECRET_KEY) && !r.stderr.includes(envs.staging.SECRET_KEY));
    });

    it("refuses a file for stack X whose ENVIRONMENT is not X, writing nothing", async () => {
      const r = await exportStack("staging", [], envs.production);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: refusing to write a staging env file: ENVIRONMENT is "production", not "staging"/);
      assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")));
    });

    it("refuses a staging file that carries production identifiers, naming the key", async () => {
      const r = await exportStack("staging", [], { ...envs.staging, AWS_S3_BUCKET: "mina-audio-production" });
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), `error: refusing to write a staging env file: AWS_S3_BUCKET carries production's bucket "mina-audio-production"`);
      assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")));
    });

    it("refuses a staging file whose DATABASE_URL names production's database percent-encoded", async () => {
      const url = envs.staging.DATABASE_URL.replace(/\/mina_staging\?/, "/%6d%69%6e%61_production?");
      assert.notEqual(url, envs.staging.DATABASE_URL);
      const r = await exportStack("staging", [], { ...envs.staging, DATABASE_URL: url });
      assert.equal(r.status, 1);
      assert.equal(
        r.stderr.trim(),
        `error: refusing to write a staging env file: DATABASE_URL carries production's database name "mina_production" once percent-decoded`,
      );
      assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")));
    });

    it("refuses variables the program does not emit, naming the dangerous ones, and writes nothing (not even to --stdout)", async () => {
      for (const extra of [[], ["--stdout"]]) {
        const r = await exportStack("staging", extra, { ...envs.staging, PATH: "/tmp/evil:/usr/bin", LD_PRELOAD: "/tmp/evil.so", EXTRA: "1" });
        assert.equal(r.status, 1);
        assert.equal(
          r.stderr,
          "error: refusing to write: env output has variables the program does not emit: PATH, LD_PRELOAD, EXTRA (dangerous: PATH, LD_PRELOAD change what programs run or load when the file is sourced)\n",
        );
        assert.equal(r.stdout, "");
        assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")));
      }
    });

    it("refuses a path git does not ignore, with the line to add", async () => {
      const r = await exportStack("staging", ["--out", path.join(work, "staging.env")]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: .*not ignored by git/);
      assert.match(r.stderr, /staging\.env/);
      assert.ok(!fs.existsSync(path.join(work, "staging.env")));
    });

    it("refuses a path git does not ignore even when the caller's GIT_* variables say otherwise", async () => {
      fs.mkdirSync(path.join(work, "app"));
      const excludes = path.join(work, "outputs", "ignore-everything");
      fs.mkdirSync(path.dirname(excludes), { recursive: true });
      fs.writeFileSync(excludes, "*\n");
      const r = await exportStack("staging", ["--out", path.join(work, "app", "staging.env")], envs.staging);
      assert.equal(r.status, 1, "control: refused without the variables");
      const hostile = {
        GIT_CEILING_DIRECTORIES: work,
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: "core.excludesFile",
        GIT_CONFIG_VALUE_0: excludes,
        GIT_CONFIG_PARAMETERS: `'core.excludesfile'='${excludes}'`,
      };
      const h = await cli(
        "env",
        ["--stack", "staging", "--outputs-file", outputsFile("hostile", { env: envs.staging }), "--out", path.join(work, "app", "staging.env")],
        hostile,
      );
      assert.equal(h.status, 1, h.stdout + h.stderr);
      assert.match(h.stderr, /^error: refusing to write app\/staging\.env: it is not ignored by git; add this line to .*\.gitignore: \/app\/staging\.env\n$/);
      assert.ok(!fs.existsSync(path.join(work, "app", "staging.env")));
    });

    it("refuses a path git tracks", async () => {
      const tracked = path.join(work, ".env.staging.local");
      fs.writeFileSync(tracked, "ENVIRONMENT=staging\n");
      spawnSync("git", ["add", "-f", ".env.staging.local"], { cwd: work });
      const r = await exportStack("staging", ["--force"]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: .*tracked by git/);
      assert.equal(fs.readFileSync(tracked, "utf8"), "ENVIRONMENT=staging\n");
    });

    it("will not overwrite a file that differs without --force when no one can be asked", async () => {
      assert.equal((await exportStack("staging")).status, 0);
      const changed = { ...envs.staging, LOG_LEVEL: "DEBUG" };
      const r = await exportStack("staging", [], changed);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), `error: .env.staging.local exists and differs (LOG_LEVEL); pass --force to overwrite`);
      assert.equal(dotenvParse(fs.readFileSync(path.join(work, ".env.staging.local"))).LOG_LEVEL, "INFO");
      assert.equal((await exportStack("staging", ["--force"], changed)).status, 0);
      assert.equal(dotenvParse(fs.readFileSync(path.join(work, ".env.staging.local"))).LOG_LEVEL, "DEBUG");
    });

    it("rewrites an identical file without asking", async () => {
      assert.equal((await exportStack("staging")).status, 0);
      assert.equal((await exportStack("staging")).status, 0);
    });

    it("prints to standard output only when asked, and writes no file then", async () => {
      const r = await exportStack("staging", ["--stdout"]);
      assert.equal(r.status, 0);
      assert.deepEqual(dotenvParse(r.stdout), envs.staging);
      assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")));
      // --json is a summary without values: it does not go with printing the file, and says so in JSON.
      const both = await exportStack("staging", ["--stdout", "--json"]);
      assert.equal(both.status, 2);
      assert.deepEqual(JSON.parse(both.stdout), {
        ok: false,
        exitCode: 2,
        error: "--stdout prints the env file itself, --json a summary: give one",
      });
    });

    it("warns, naming the key, when a supplied value cannot survive every reader", async () => {
      const r = await exportStack("staging", [], { ...envs.staging, OPENAI_API_KEY: "sk with spaces" });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^warning: OPENAI_API_KEY: its value cannot be loaded exactly by xargs export$/m);
      assert.ok(!r.stderr.includes("sk with spaces"));
    });

    it("explains a missing env output, a missing Pulumi CLI, a missing stack and a logged-out CLI", async () => {
      const noEnv = await cli("env", ["--stack", "staging", "--outputs-file", outputsFile("none", { environment: "staging" })]);
      assert.equal(noEnv.status, 1);
      assert.match(noEnv.stderr, /the stack has no "env" output; run `pulumi up`/);
      const noCli = await cli("env", ["--stack", "staging"], { MINA_PULUMI_BIN: "/nonexistent/pulumi" });
      assert.equal(noCli.status, 1);
      assert.match(noCli.stderr, /^error: the Pulumi CLI is not installed \(no "\/nonexistent\/pulumi" on PATH\); install it, or pass --outputs-file FILE/);
      const fake = (stderr: string) => {
        const bin = path.join(work, "outputs", "pulumi");
        fs.mkdirSync(path.dirname(bin), { recursive: true });
        fs.writeFileSync(bin, `#!/bin/sh\necho '${stderr}' >&2\nexit 255\n`, { mode: 0o755 });
        return cli("env", ["--stack", "staging"], { MINA_PULUMI_BIN: bin });
      };
      assert.match((await fake("error: no stack named 'staging' found")).stderr, /^error: stack "staging" does not exist for this project/);
      assert.match(
        (await fake("error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions")).stderr,
        /^error: the Pulumi CLI is not logged in: run `pulumi login`/,
      );
    });

    it("has --help", async () => {
      const r = await cli("env", ["--help"]);
      assert.equal(r.status, 0);
      assert.match(r.stdout, /--outputs-file <file>/);
    });
  });

  describe("npm run verify", () => {
    const write = (name: string, env: Record<string, string>, mode = 0o600) => {
      const f = path.join(work, name);
      fs.writeFileSync(
        f,
        `${Object.entries(env)
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n")}\n`,
        { mode },
      );
      fs.chmodSync(f, mode);
      return f;
    };
    const verify = (file: string, ...args: string[]) => cli("verify", [file, "--dir", REPO, ...args]);
    const failed = (out: string) => out.split("\n").filter((l) => l.startsWith("✗"));

    it("passes every item for a good staging file compared with production's", async () => {
      write(".env.production.local", envs.production);
      const r = await verify(write(".env.staging.local", envs.staging), "--against", path.join(work, ".env.production.local"));
      assert.equal(r.status, 0, r.stdout);
      assert.equal(r.stdout.split("\n").filter((l) => l.startsWith("✓")).length, 12);
      assert.match(r.stdout, /^all 12 checks passed$/m);
      for (const v of VARIABLES.filter((x) => x.secret)) {
        const value = envs.staging[v.name];
        if (value) assert.ok(!r.stdout.includes(value), `${v.name}'s value is printed`);
      }
    });

    const cases: [string, Record<string, string>, string][] = [
      ["ENVIRONMENT", { ENVIRONMENT: "production" }, `✗ ENVIRONMENT matches the stack: ENVIRONMENT names environment "production" ("production")`],
      [
        "DATABASE_URL",
        { DATABASE_URL: "postgresql://u:p@pg-shared.internal.mina.app:5432/mina_production?sslmode=require" },
        `✗ DATABASE_URL is this environment's database: DATABASE_URL carries production's database name "mina_production"`,
      ],
      [
        "DATABASE_URL",
        { DATABASE_URL: "postgresql://u:p@pg-shared.internal.mina.app:5432/other?sslmode=require" },
        `✗ DATABASE_URL is this environment's database: DATABASE_URL names database "other", expected "mina_staging"`,
      ],
      [
        "DATABASE_URL",
        { DATABASE_URL: "postgresql://u:p@pg-shared.internal.mina.app:5432/%6d%69%6e%61_production?sslmode=require" },
        `✗ DATABASE_URL is this environment's database: DATABASE_URL carries production's database name "mina_production" once percent-decoded`,
      ],
      [
        "DATABASE_URL",
        { DATABASE_URL: "postgresql://u:p@pg-shared.internal.mina.app:5432/mina_staging?sslmode=require&host=db.elsewhere.example" },
        `✗ DATABASE_URL is this environment's database: DATABASE_URL: query parameter "host" can redirect the connection; only sslmode, sslrootcert, connect_timeout, application_name are accepted`,
      ],
      [
        "REDIS_URL",
        { REDIS_URL: "rediss://default:p@mina-staging-1.upstash.io:6379?db=1" },
        `✗ REDIS_URL is this environment's Redis, over TLS: REDIS_URL: query parameter "db" is not accepted: REDIS_URL takes no query parameters (redis-py reads db, ssl_cert_reqs and other connection settings from them, over the URL's own)`,
      ],
      [
        "REDIS_URL",
        { REDIS_URL: "redis://default:p@mina-staging-1.upstash.io:6379" },
        "✗ REDIS_URL is this environment's Redis, over TLS: REDIS_URL uses redis:// (no TLS); Upstash databases are reached with rediss://",
      ],
      [
        "AWS_S3_BUCKET",
        { AWS_S3_BUCKET: "mina-audio-production" },
        `✗ AWS_S3_BUCKET is this environment's bucket: AWS_S3_BUCKET carries production's bucket "mina-audio-production"`,
      ],
      [
        "SHARE_BASE_URL",
        { SHARE_BASE_URL: "https://mina.app" },
        `✗ SHARE_BASE_URL is this environment's share domain: SHARE_BASE_URL carries production's share domain "mina.app"`,
      ],
      [
        "SENTRY_ENVIRONMENT",
        { SENTRY_ENVIRONMENT: "prod" },
        `✗ SENTRY_ENVIRONMENT is this environment: SENTRY_ENVIRONMENT names environment "production" ("prod")`,
      ],
      [
        "SLACK_CHANNEL",
        { SLACK_CHANNEL: "#mina-alerts" },
        `✗ SLACK_CHANNEL is this environment's channel: SLACK_CHANNEL carries production's Slack channel "#mina-alerts"`,
      ],
      [
        "email",
        { EMAIL_ENABLED: "true", SENDGRID_API_KEY: "" },
        "✗ email disabled, or a SendGrid key of its own and, outside production, one catch-all inbox: EMAIL_ENABLED=true but SENDGRID_API_KEY is empty",
      ],
    ];
    for (const [what, change, line] of cases) {
      it(`fails the ${what} item when ${Object.keys(change).join(", ")} is wrong`, async () => {
        const r = await verify(write(".env.staging.local", { ...envs.staging, ...change }));
        assert.equal(r.status, 1);
        assert.deepEqual(failed(r.stdout), [line]);
      });
    }

    it("fails when the OpenAI key or any credential is the other environment's, showing fingerprints only", async () => {
      write(".env.production.local", envs.production);
      const r = await verify(
        write(".env.staging.local", { ...envs.staging, OPENAI_API_KEY: envs.production.OPENAI_API_KEY }),
        "--against",
        path.join(work, ".env.production.local"),
      );
      assert.equal(r.status, 1);
      const lines = failed(r.stdout);
      assert.equal(lines.length, 2);
      assert.match(
        lines[0],
        /^✗ OPENAI_API_KEY is not another environment's: OPENAI_API_KEY is the same as in .*\.env\.production\.local \(sha256:[0-9a-f]{8}\)$/,
      );
      assert.match(lines[1], /^✗ no credential shared with the other environment: shared with .*: OPENAI_API_KEY \(sha256:[0-9a-f]{8}\)$/);
      assert.ok(!r.stdout.includes(envs.production.OPENAI_API_KEY));
    });

    it("fails a file with a loose mode or one git would commit", async () => {
      let r = await verify(write(".env.staging.local", envs.staging, 0o644));
      assert.deepEqual(failed(r.stdout), [`✗ file mode is 0600: mode is 0644; run chmod 600 ${path.join(work, ".env.staging.local")}`]);
      r = await cli("verify", [write("staging.env", envs.staging), "--stack", "staging", "--dir", REPO]);
      assert.deepEqual(failed(r.stdout), ["✗ file is ignored by git: not ignored by git: add it to .gitignore"]);
    });
  });

  describe("npm run audit", () => {
    it("passes for environments that share nothing and fails, with fingerprints, for shared values", async () => {
      const a = path.join(work, ".env.staging.local");
      const b = path.join(work, ".env.production.local");
      fs.writeFileSync(
        a,
        Object.entries(envs.staging)
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n"),
      );
      fs.writeFileSync(
        b,
        Object.entries(envs.production)
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n"),
      );
      let r = await cli("audit", [a, b]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.equal(r.stdout, "✓ 2 environments share no isolation-critical value\n");
      fs.writeFileSync(
        b,
        Object.entries({ ...envs.production, SECRET_KEY: envs.staging.SECRET_KEY, AWS_S3_BUCKET: envs.staging.AWS_S3_BUCKET })
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n"),
      );
      r = await cli("audit", [a, b]);
      assert.equal(r.status, 1);
      assert.match(
        r.stdout,
        /^✗ shared between environments \(2\):\n {2}production \+ staging: AWS_S3_BUCKET \(sha256:[0-9a-f]{8}\)\n {2}production \+ staging: SECRET_KEY \(sha256:[0-9a-f]{8}\)\n$/,
      );
      assert.ok(!r.stdout.includes(envs.staging.SECRET_KEY));
    });

    it("fails, naming file and key, for a URL it cannot compare, and reports a server shared under another spelling", async () => {
      const a = path.join(work, ".env.staging.local");
      const b = path.join(work, ".env.production.local");
      const redirected = `${envs.staging.DATABASE_URL}&hostaddr=10.0.0.9`;
      const sameRedis = `${envs.staging.REDIS_URL.replace(/@([^:/]+)/, (_, host: string) => `@${host.toUpperCase()}.`)}/2`;
      fs.writeFileSync(
        a,
        Object.entries({ ...envs.staging, DATABASE_URL: redirected })
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n"),
      );
      fs.writeFileSync(
        b,
        Object.entries({ ...envs.production, REDIS_URL: sameRedis })
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n"),
      );
      const r = await cli("audit", [a, b]);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const lines = r.stdout.split("\n");
      assert.equal(lines[0], "✗ cannot be compared (1):");
      assert.equal(
        lines[1],
        `  staging (${a}): DATABASE_URL: query parameter "hostaddr" can redirect the connection; only sslmode, sslrootcert, connect_timeout, application_name are accepted`,
      );
      // staging's own Redis URL, spelt differently: the same server and the same password
      assert.equal(lines[2], "✗ shared between environments (2):", r.stdout);
      assert.match(lines[3], /^ {2}production \+ staging: REDIS_URL password \(sha256:[0-9a-f]{8}\)$/);
      assert.match(
        lines[4],
        /^ {2}production \+ staging: REDIS_URL server \(sha256:[0-9a-f]{8}\): one Redis server for two environments, whatever the DB number: one memory limit and eviction policy for both, a FLUSHALL or a runaway key space in one hits the other, one password for both$/,
      );
      assert.ok(!r.stdout.includes(envs.staging.REDIS_URL.split("@")[0]!.split(":").pop()!), "no password printed");
    });

    it("finds the one shared value among hundreds of environments", async () => {
      const sources = Array.from({ length: 500 }, (_, i) => ({
        environment: `env-${i}`,
        source: `f${i}`,
        env: {
          DATABASE_URL: `postgresql://u${i}:p${i}@db.internal:5432/mina_env_${i}`,
          SECRET_KEY: `k${i}`,
          REDIS_URL: `rediss://default:r${i}@redis-${i}.upstash.io:6379`,
        },
        // one database server for all: non-production environments may share it (config/tiers.ts)
        sharing: { tier: "non-production" as const, group: "non-production" as const, marked: [] },
      }));
      sources[417].env.DATABASE_URL = "postgresql://u417:p417@DB.internal:5432/mina_env_3";
      const r = auditEnvs(sources);
      assert.deepEqual(
        r.shared.map((s) => `${s.key}:${s.environments.join("+")}`),
        ["DATABASE_URL server+database:env-3+env-417"],
      );
    });

    it("needs two environments", async () => {
      const r = await cli("audit", [path.join(work, "x")]);
      assert.equal(r.status, 2);
      assert.equal(r.stderr.trim(), "error: give at least two env files or stacks to compare");
    });
  });
});
