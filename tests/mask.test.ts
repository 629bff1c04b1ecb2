/**
 * An env file's values never reach a CI log: `env --github-mask` registers each
 * value with GitHub's `::add-mask::` as the file is written, and `migrate` passes
 * its child's output through the same list.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackOffline } from "../config";
import { githubMaskCommands, maskedValues, maskText } from "../envfiles/mask";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { run, spawnCliAsync, withoutNpm } from "./cli";
import { REPO } from "./helpers";

const ENV = {
  ENVIRONMENT: "staging",
  DATABASE_URL: "postgresql://mina_staging_app:p%40ss%2Fword-123456@pg.internal:5432/mina_staging?sslmode=require",
  REDIS_URL: "rediss://default:redis-secret-abcdef@eu1.upstash.io:6379",
  SECRET_KEY: "0123456789abcdef0123456789abcdef",
  LOG_LEVEL: "INFO",
  EMAIL_ENABLED: "false",
  RATE_LIMIT_PER_MINUTE: "100",
  AWS_S3_BUCKET: "mina-audio-staging",
  OPENAI_API_KEY: "true",
};

describe("masking an env file's values", () => {
  it("masks every value, a URL's credentials as written and decoded, and each line of a multi-line value, longest first", () => {
    const m = maskedValues({ ...ENV, SLACK_WEBHOOK_URL: "line-one-secret\nline-two-secret" });
    for (const v of [
      ENV.DATABASE_URL,
      ENV.REDIS_URL,
      ENV.SECRET_KEY,
      ENV.AWS_S3_BUCKET,
      "p%40ss%2Fword-123456",
      "p@ss/word-123456",
      "redis-secret-abcdef",
      "line-one-secret",
      "line-two-secret",
    ]) {
      assert.ok(m.includes(v), v);
    }
    assert.deepEqual(
      [...m].sort((a, b) => b.length - a.length),
      m,
    );
  });

  it("leaves only booleans, small numbers, log levels and the environment's name unmasked, and never a secret variable's value", () => {
    const m = maskedValues(ENV);
    for (const v of ["staging", "INFO", "false", "100"]) assert.ok(!m.includes(v), v);
    // OPENAI_API_KEY is a secret variable: masked whatever its value looks like.
    assert.ok(m.includes("true"));
  });

  it("replaces every masked value in a text", () => {
    const text = `connecting to ${ENV.DATABASE_URL}\npassword p@ss/word-123456 refused\n`;
    const out = maskText(text, maskedValues(ENV));
    assert.equal(out, "connecting to ***\npassword *** refused\n");
  });

  it("gives one ::add-mask:: command a value", () => {
    const lines = githubMaskCommands(ENV).split("\n").filter(Boolean);
    assert.equal(lines.length, maskedValues(ENV).length);
    for (const l of lines) assert.match(l, /^::add-mask::\S/);
  });
});

describe("env --github-mask and migrate's output", function () {
  this.timeout(60_000);
  let work: string;
  let outputs: string;
  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-mask-"));
    spawnSync("git", ["init", "-q"], { cwd: work });
    fs.writeFileSync(path.join(work, ".gitignore"), ".env.*.local\noutputs.json\n");
    const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
    const { config } = loadStackOffline(REPO, "staging");
    const { result } = await runUnderMocks("mina", "staging", () => defineEnvironment(config));
    const env = { ...(await promiseOf(result.env)), OPENAI_API_KEY: `sk-staging-${"x".repeat(20)}` };
    outputs = path.join(work, "outputs.json");
    fs.writeFileSync(outputs, JSON.stringify({ env, environment: "staging" }));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it("registers every value before the file is written, in a GitHub Actions job only (through the bin)", async () => {
    const args = ["--stack", "staging", "--outputs-file", outputs, "--dir", REPO, "--github-mask", "--force"];
    const outside = await spawnCliAsync("env", args, { cwd: work, env: { ...withoutNpm(process.env), GITHUB_ACTIONS: "" } });
    assert.equal(outside.status, 2);
    assert.equal(outside.stderr, "error: --github-mask is for a GitHub Actions job (GITHUB_ACTIONS=true): elsewhere it would print every value\n");
    assert.ok(!fs.existsSync(path.join(work, ".env.staging.local")), "nothing written");
    const ci = await spawnCliAsync("env", args, { cwd: work, env: { ...withoutNpm(process.env), GITHUB_ACTIONS: "true" } });
    assert.equal(ci.status, 0, ci.stderr);
    const written = require("dotenv").parse(fs.readFileSync(path.join(work, ".env.staging.local"), "utf8")) as Record<string, string>;
    const masks = new Set(
      ci.stdout
        .split("\n")
        .filter((l) => l.startsWith("::add-mask::"))
        .map((l) => l.slice("::add-mask::".length)),
    );
    for (const [k, v] of Object.entries(written)) {
      if (maskedValues({ [k]: v, ENVIRONMENT: "staging" }).length > 0) assert.ok(masks.has(v), `${k} is masked`);
    }
    assert.ok(masks.has(written.DATABASE_URL) && masks.has(written.SECRET_KEY));
    assert.match(ci.stdout, /^wrote \.env\.staging\.local \(\d+ variables, mode 0600\)$/m);
    const stdoutOnly = await run("env", ["--stack", "staging", "--outputs-file", outputs, "--dir", REPO, "--github-mask", "--stdout"], {
      cwd: work,
      env: { ...withoutNpm(process.env), GITHUB_ACTIONS: "true" },
    });
    assert.equal(stdoutOnly.status, 2);
  });

  it("migrate prints its child's output with the env file's values masked, on success and on failure", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "mina-mask-project-"));
    try {
      for (const f of ["Pulumi.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(project, f));
      const staging = fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8");
      fs.mkdirSync(path.join(work, "app"), { recursive: true });
      fs.writeFileSync(path.join(work, ".env.staging.local"), `ENVIRONMENT=staging\nDATABASE_URL='${ENV.DATABASE_URL}'\n`, { mode: 0o600 });
      const migrate = async (command: string) => {
        fs.writeFileSync(path.join(project, "Pulumi.staging.yaml"), `${staging}  mina:migrateCommand: ${JSON.stringify(command)}\n`);
        return run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", ".env.staging.local", "--dir", project], { cwd: work });
      };
      // The decoded password, as a library might print it: made from the URL, so the command itself does not hold it.
      const decoded = `node -e 'console.error("decoded", decodeURIComponent(new URL(process.env.DATABASE_URL).password))'`;
      const ok = await migrate(`echo "upgrading $DATABASE_URL"; ${decoded}`);
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /^upgrading \*\*\*$/m);
      assert.match(ok.stderr, /^decoded \*\*\*$/m);
      const failed = await migrate('echo "could not connect to $DATABASE_URL" >&2; exit 3');
      assert.equal(failed.status, 1);
      assert.match(failed.stderr, /error: the migrations of staging failed \(.*exit 3\): could not connect to \*\*\*\n$/);
      const all = ok.stdout + ok.stderr + failed.stdout + failed.stderr;
      assert.ok(!all.includes("word-123456"), all);
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });
});
