/**
 * What a user sees when something is off: one line naming the problem and the
 * fix, paths as the user wrote them (relative to where they stand), progress only
 * on a terminal.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseStackFile } from "../config/raw";
import { run } from "./cli";
import { REPO, stacksOf } from "./helpers";

describe("messages", () => {
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-messages-"));
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("a stack-name typo names the stacks there are, in env, verify, plan and audit", async () => {
    const expected = `error: no stack named stagin (stacks: ${stacksOf().join(", ")})\n`;
    fs.writeFileSync(path.join(work, "x.env"), "ENVIRONMENT=stagin\n", { mode: 0o600 });
    const outputs = path.join(work, "outputs.json");
    fs.writeFileSync(outputs, JSON.stringify({ env: { ENVIRONMENT: "stagin" } }));
    for (const [name, args] of [
      ["env", ["--stack", "stagin", "--outputs-file", outputs, "--dir", REPO]],
      ["verify", ["x.env", "--stack", "stagin", "--dir", REPO]],
      ["plan", ["--stack", "stagin", "--dir", REPO]],
      ["audit", ["--stack", "staging", "stagin", "--dir", REPO]],
    ] as const) {
      const r = await run(name, [...args], { cwd: work });
      assert.equal(r.stderr, expected, name);
      assert.equal(r.status, 2, name);
    }
  });

  it("a folder with no stack files says so instead of planning nothing", async () => {
    const r = await run("plan", ["--dir", work]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^error: no stack files \(Pulumi\.<stack>\.yaml\) in \/.*mina-messages-[^/]+; pass --dir with the project directory\n$/);
  });

  it("audit --stack without a Pulumi CLI suggests what audit takes (env files), not another command's flag", async () => {
    const r = await run("audit", ["--stack", "staging,production", "--dir", REPO], {
      env: { PATH: process.env.PATH, MINA_PULUMI_BIN: "/nonexistent/pulumi" },
    });
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^error: the Pulumi CLI is not installed .*; install it, or give env files \(written by mina-infra env --stack NAME\) instead of --stack\n$/,
    );
    assert.doesNotMatch(r.stderr, /--outputs-file/);
  });

  it("paths are read and shown relative to where the user stands", async () => {
    fs.mkdirSync(path.join(work, "sub"));
    fs.writeFileSync(path.join(work, "sub", ".env.staging.local"), "ENVIRONMENT=staging\n", { mode: 0o600 });
    const r = await run("verify", ["sub/.env.staging.local", "--dir", REPO], { cwd: work });
    assert.match(r.stdout, /^verify sub\/\.env\.staging\.local \(stack staging\)\n/);
    const missing = await run("verify", ["sub/.env.production.local", "--dir", REPO], { cwd: work });
    assert.equal(missing.stderr, "error: cannot read sub/.env.production.local: no such file\n");
  });

  it("a YAML error ends in its position, not a dangling colon", () => {
    assert.throws(
      () => parseStackFile("config:\n  a: [\n", "x", "Pulumi.x.yaml"),
      (e: Error) => /^Pulumi\.x\.yaml: not valid YAML: .*line \d+, column \d+$/.test(e.message) && !/:\s*$/.test(e.message),
    );
  });

  it("progress goes to a terminal only: plan --base says what it is doing, quietly when piped", async () => {
    const { execFileSync } = require("node:child_process") as typeof import("child_process");
    const git = (...a: string[]) =>
      execFileSync("git", a, {
        cwd: work,
        env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x.invalid" },
      });
    git("init", "-q");
    fs.writeFileSync(path.join(work, "README"), "x\n");
    git("add", "-A");
    git("commit", "-q", "-m", "base without a plan");
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(work, f));
    let stderr = "";
    const io = { cwd: work, stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, interactive: false, confirm: async () => false };
    const { main } = require("../cli/plan") as typeof import("../cli/plan");
    assert.equal(await main(["--base", "HEAD", "--json"], { ...io, progress: true }), 0);
    // Through its own worktree, or (when HEAD runs this checkout's code) in this process.
    assert.match(
      stderr,
      /^planning HEAD \([0-9a-f]{12}\)(?: in a temporary worktree, and this checkout, both|'s stack files with this checkout's code \(the same as its own\), then this checkout,) under the mock runtime…\n$/,
    );
    stderr = "";
    assert.equal(await main(["--base", "HEAD", "--json"], { ...io, progress: false }), 0);
    assert.equal(stderr, "");
  });
});

describe("progress", () => {
  it("plan says what it is doing on a terminal, and nothing with --json or when piped", async () => {
    const { main } = require("../cli/plan") as typeof import("../cli/plan");
    const runWith = async (args: string[], progress: boolean) => {
      let stderr = "";
      await main(args, {
        cwd: REPO,
        stdout: { write: () => true },
        stderr: { write: (s: string) => (stderr += s) },
        interactive: false,
        progress,
        confirm: async () => false,
      });
      return stderr;
    };
    assert.equal(await runWith(["--stack", "staging"], true), "planning staging under the mock runtime…\n");
    assert.equal(await runWith(["--stack", "staging", "--json"], true), "");
    assert.equal(await runWith(["--stack", "staging"], false), "");
  });
});
