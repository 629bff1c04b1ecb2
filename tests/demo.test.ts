/**
 * `npm run demo`: the env -> verify -> audit loop with no cloud and no Pulumi
 * backend. Outputs come from the real program under the mock runtime, in the
 * shape `pulumi stack output --json --show-secrets` prints, with credentials
 * that are visibly fake; the loop runs in a scratch folder and leaves the
 * checkout as it was.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isSecretVariable } from "../config/variables";
import { demoOutputs, demoSecret } from "../plan/demo";
import { run, spawnCli } from "./cli";
import { REPO } from "./helpers";

const FAKE = /fake-not-a-secret-|Mock|mock|AKIAMOCK/;

describe("npm run demo", function () {
  this.timeout(60000);

  it("gives each stack outputs in the CLI's shape, every supplied or generated credential visibly fake", async () => {
    for (const stack of ["staging", "production"]) {
      const outputs = await demoOutputs(REPO, stack);
      assert.equal(outputs.environment, stack);
      const env = outputs.env as Record<string, string>;
      assert.equal(env.ENVIRONMENT, stack);
      assert.equal(env.OPENAI_API_KEY, demoSecret(stack, "mina:openaiApiKey"));
      for (const [name, value] of Object.entries(env)) {
        if (!isSecretVariable(name) || value === "") continue;
        // Generated hex secrets are hashes of public resource names; every other credential says it is fake.
        if (name === "SECRET_KEY" || name === "SESSION_SECRET") assert.match(value, /^[0-9a-f]{64}$/);
        else assert.match(value, FAKE, `${stack} ${name} does not look fake`);
      }
    }
  });

  it("runs env, verify and audit in a scratch folder, printing each command, and leaves the checkout as it was", () => {
    const before = spawnSync("git", ["status", "--porcelain", "--ignored"], { cwd: REPO, encoding: "utf8" }).stdout;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mina-demo-test-"));
    try {
      const r = spawnCli("demo", ["--out", scratch]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      for (const cmd of ["env --stack staging", "env --stack production", "verify ", "audit "]) assert.ok(r.stdout.includes(`$ mina-infra ${cmd}`), cmd);
      assert.match(r.stdout, /✓ demo passed/);
      for (const f of ["outputs-staging.json", "outputs-production.json", ".env.staging.local", ".env.production.local"]) {
        assert.equal(fs.statSync(path.join(scratch, f)).mode & 0o777, 0o600, f);
      }
      const outputs = JSON.parse(fs.readFileSync(path.join(scratch, "outputs-staging.json"), "utf8"));
      assert.equal(typeof outputs.env.DATABASE_URL, "string");
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    assert.equal(spawnSync("git", ["status", "--porcelain", "--ignored"], { cwd: REPO, encoding: "utf8" }).stdout, before);
  });

  it("is the docs' example session: on staging and production, its checklist lines match the docs', line for line", async () => {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mina-demo-readme-"));
    try {
      const r = await run("demo", ["--out", scratch, "--stack", "staging", "production"]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      const shown = r.stdout.split(`${scratch}/`).join("");
      const checklist = (text: string) => {
        const start = text.indexOf("verify .env.staging.local (stack staging)");
        return text.slice(start, text.indexOf("checks passed", start)).trim().split("\n");
      };
      const guide = fs.readFileSync(path.join(REPO, "docs", "guides", "env-files.md"), "utf8");
      assert.ok(guide.includes("## An example session"));
      assert.deepEqual(checklist(guide.slice(guide.indexOf("## An example session"))), checklist(shown));
      for (const s of ["staging", "production"])
        assert.ok(guide.includes(shown.match(new RegExp(`wrote \\.env\\.${s}\\.local \\(\\d+ variables, mode 0600\\)`))![0]), s);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  });

  it("refuses a scratch folder inside the checkout", async () => {
    const r = await run("demo", ["--out", path.join(REPO, "demo-scratch")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^error: --out .*demo-scratch is inside the checkout; the demo writes only outside it\n$/);
    assert.equal(fs.existsSync(path.join(REPO, "demo-scratch")), false);
  });
});
