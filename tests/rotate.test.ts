/**
 * Credential rotation: the resources chosen for each WHAT on the real program
 * under the mock runtime (staging: server mode; production: instance mode), the
 * rotation guard next to the deploy guard, and the command end to end in-process
 * against a fake `pulumi` that records its calls.
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackOffline } from "../config";
import { guardDeploy, guardRotation } from "../gate/deploy";
import { parsePreview } from "../gate/gate";
import { ALL_SAFE, chooseRotation, gateRotation, parseChoice, ROTATE_CHOICES, RotationError, type RotationTarget } from "../ops/rotate";
import { promiseOf, type RecordedResource, runUnderMocks } from "../plan/mockRuntime";
import { run, spawnCliAsync } from "./cli";
import { REPO, tempProject } from "./helpers";

const declared = new Map<string, Promise<{ resources: RecordedResource[]; env: Record<string, string> }>>();
function program(stack: string) {
  if (!declared.has(stack)) {
    const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
    declared.set(
      stack,
      runUnderMocks("mina", stack, () => defineEnvironment(loadStackOffline(REPO, stack).config)).then(async ({ result, resources }) => ({
        resources,
        env: await promiseOf(result.env),
      })),
    );
  }
  return declared.get(stack)!;
}

const P = (stack: string, chain: string, name: string) => `urn:pulumi:${stack}::mina::mina:index:Environment$${chain}::${name}`;
const EXPECTED: Record<string, Record<string, string[]>> = {
  staging: {
    "secret-key": [P("staging", "mina:index:Secrets$random:index/randomBytes:RandomBytes", "mina-staging-secrets-secret-key")],
    "session-secret": [P("staging", "mina:index:Secrets$random:index/randomBytes:RandomBytes", "mina-staging-secrets-session-secret")],
    "database-password": [P("staging", "mina:index:Database$random:index/randomPassword:RandomPassword", "mina-staging-database-role-password")],
    "aws-key": [P("staging", "mina:index:Bucket$aws:iam/accessKey:AccessKey", "mina-staging-bucket-key")],
  },
  production: {
    "secret-key": [P("production", "mina:index:Secrets$random:index/randomBytes:RandomBytes", "mina-production-secrets-secret-key")],
    "session-secret": [P("production", "mina:index:Secrets$random:index/randomBytes:RandomBytes", "mina-production-secrets-session-secret")],
    "database-password": [P("production", "mina:index:Database$random:index/randomPassword:RandomPassword", "mina-production-database-role-password")],
    "aws-key": [P("production", "mina:index:Bucket$aws:iam/accessKey:AccessKey", "mina-production-bucket-key")],
  },
};

/**
 * A `pulumi preview --json` of the rotation: the replacements, the in-place password update they
 * cause, and the app env secret's new version (the env changes).
 */
function previewOf(targets: readonly RotationTarget[], extra: object[] = []) {
  const steps: object[] = [];
  for (const t of targets) {
    steps.push({ op: "replace", urn: t.urn, oldState: { type: t.type }, newState: { type: t.type }, replaceReasons: [] });
    if (t.updated)
      steps.push({ op: "update", urn: t.updated.urn, oldState: { type: t.updated.type }, newState: { type: t.updated.type }, diffReasons: ["password"] });
  }
  const delivered = targets[0]?.delivered;
  if (delivered)
    steps.push({ op: "replace", urn: delivered.urn, oldState: { type: delivered.type }, newState: { type: delivered.type }, replaceReasons: ["secretString"] });
  steps.push(...extra);
  return {
    steps,
    diagnostics: [],
    changeSummary: { replace: targets.length + (delivered ? 1 : 0), update: targets.filter((t) => t.updated).length, same: 30 },
  };
}

describe("rotate: which resources are replaced (the program under the mock runtime)", function () {
  this.timeout(60000);

  for (const stack of ["staging", "production"]) {
    it(`${stack}: each choice replaces exactly the resource behind its variable`, async () => {
      const { resources } = await program(stack);
      const urns = new Set(resources.map((r) => `${r.type}::${r.name}`));
      for (const [what, expected] of Object.entries(EXPECTED[stack])) {
        const targets = chooseRotation(parseChoice(what), resources, stack);
        assert.deepEqual(
          targets.map((t) => t.urn),
          expected,
          what,
        );
        for (const t of targets) assert.ok(urns.has(`${t.type}::${t.name}`), `${t.urn} is declared`);
      }
      const all = chooseRotation("all", resources, stack);
      assert.deepEqual(
        all.map((t) => t.urn),
        ALL_SAFE.flatMap((w) => EXPECTED[stack][w]),
      );
      // Nothing else is ever chosen: only random secrets and the access key.
      assert.deepEqual([...new Set(all.map((t) => t.type))].sort(), [
        "aws:iam/accessKey:AccessKey",
        "random:index/randomBytes:RandomBytes",
        "random:index/randomPassword:RandomPassword",
      ]);
    });
  }

  it("names the variables and what else changes: the app's role in place, in both modes (never the RDS master password)", async () => {
    for (const stack of ["staging", "production"]) {
      const [d] = chooseRotation("database-password", (await program(stack)).resources, stack);
      assert.deepEqual(d.variables, ["DATABASE_URL"]);
      assert.equal(d.updated?.urn, P(stack, "mina:index:Database$postgresql:index/role:Role", `mina-${stack}-database-role`));
      assert.match(d.alsoChanges ?? "", new RegExp(`the PostgreSQL role mina-${stack}-database-role is updated in place with the new password`));
    }
    const [k] = chooseRotation("aws-key", (await program("staging")).resources, "staging");
    assert.deepEqual(k.variables, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
  });

  it("names the app env secret's version as stored anew by every rotation", async () => {
    for (const stack of ["staging", "production"]) {
      for (const t of chooseRotation("all", (await program(stack)).resources, stack)) {
        assert.deepEqual(t.delivered, {
          urn: P(stack, "mina:index:AppEnv$aws:secretsmanager/secretVersion:SecretVersion", `mina-${stack}-app-env-version`),
          type: "aws:secretsmanager/secretVersion:SecretVersion",
          name: `mina-${stack}-app-env-version`,
        });
      }
    }
  });

  it("refuses redis (no password input at Upstash; replacing it loses data) and unknown choices, one line each", async () => {
    const { resources } = await program("staging");
    assert.throws(
      () => chooseRotation("redis", resources, "staging"),
      (e: Error) => e instanceof RotationError && /Upstash console/.test(e.message) && !e.message.includes("\n"),
    );
    assert.throws(() => parseChoice("redis-password"), new RotationError(`cannot rotate "redis-password": choose one of ${ROTATE_CHOICES.join(", ")}`));
    assert.ok(!ALL_SAFE.includes("redis" as never));
  });

  it("refuses to guess when the program does not declare exactly one resource", async () => {
    const { resources } = await program("staging");
    const twice = [...resources, ...resources.filter((r) => r.type === "aws:iam/accessKey:AccessKey")];
    assert.throws(() => chooseRotation("aws-key", twice, "staging"), /expected exactly one aws:iam\/accessKey:AccessKey .* found 2; refusing to guess/);
  });
});

describe("rotate: the gate on the rotation's preview, and the guard", function () {
  this.timeout(60000);
  const SHA = "a".repeat(40);

  it("approves exactly the rotation, and blocks anything else the preview does", async () => {
    const targets = chooseRotation("all", (await program("staging")).resources, "staging");
    const ok = gateRotation(parsePreview(previewOf(targets)), targets, { commit: SHA, approvedCommit: SHA });
    assert.ok(ok.ok);
    assert.equal(ok.decision.dangerous.length, 5, "four replacements and the role's password (the env secret's new version needs no approval of its own)");
    assert.ok(ok.decision.dangerous.every((o) => o.kind === "rotates a credential"));
    const extra = gateRotation(
      parsePreview(
        previewOf(targets, [{ op: "delete", urn: "urn:pulumi:staging::mina::upstash:index/redisDatabase:RedisDatabase::mina-staging-cache-redis" }]),
      ),
      targets,
      { commit: SHA, approvedCommit: SHA },
    );
    assert.ok(!extra.ok);
    assert.equal(extra.unexpected.length, 1);
    const missing = gateRotation(parsePreview(previewOf(targets.slice(1))), targets, { commit: SHA, approvedCommit: SHA });
    assert.ok(!missing.ok);
    assert.deepEqual(missing.missing, [targets[0].urn]);
    const unapproved = gateRotation(parsePreview(previewOf(targets)), targets, { commit: SHA, approvedCommit: "b".repeat(40) });
    assert.ok(!unapproved.ok);
  });

  it("the deploy guard still refuses --replace; the rotation guard allows it for this stack's URNs only", () => {
    const urn = P("staging", "mina:index:Secrets$random:index/randomBytes:RandomBytes", "mina-staging-secrets-secret-key");
    const cmd = `preview --stack staging --json --save-plan plan.json --replace ${urn}`;
    assert.equal(guardDeploy("staging", cmd).length, 1);
    assert.match(guardDeploy("staging", cmd)[0], /a forced replacement/);
    assert.deepEqual(guardRotation("staging", cmd), []);
    assert.deepEqual(guardRotation("staging", `up --stack staging --yes --plan plan.json --replace=${urn}`), []);
    assert.match(guardRotation("production", cmd.replace("--stack staging", "--stack production"))[0], /not a resource of this stack/);
    assert.match(guardRotation("staging", `up --target-replace ${urn}`)[0], /a forced replacement/);
    assert.match(guardRotation("staging", `destroy --replace ${urn}`)[0], /destroy|not one of/);
    assert.match(guardRotation("staging", `up --replace ${urn}`, { PULUMI_IGNORE_PROTECT: "1" })[0], /PULUMI_IGNORE_PROTECT/);
  });
});

describe("rotate: the command (fake pulumi)", function () {
  this.timeout(60000);
  let work: string;
  let bin: string;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-rotate-test-"));
    bin = path.join(work, "pulumi");
    fs.writeFileSync(
      bin,
      `#!/usr/bin/env node
const fs = require("fs"), path = require("path");
const dir = process.env.FAKE_PULUMI_DIR, args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "calls.log"), JSON.stringify(args) + "\\n");
if (args[0] === "preview") {
  const plan = args[args.indexOf("--save-plan") + 1];
  fs.writeFileSync(plan, "{}");
  process.stdout.write(fs.readFileSync(path.join(dir, "preview.json"), "utf8"));
} else if (args[0] === "up") {
  if (!fs.existsSync(args[args.indexOf("--plan") + 1])) { process.stderr.write("error: no plan\\n"); process.exit(255); }
  process.stdout.write("Resources: ok\\n");
} else if (args[0] === "stack" && args[1] === "output") process.stdout.write(fs.readFileSync(path.join(dir, "outputs.json"), "utf8"));
else { process.stderr.write("error: unexpected call\\n"); process.exit(2); }
`,
      { mode: 0o755 },
    );
  });
  /** The git projects the tests made, removed after them. */
  const projects: (() => void)[] = [];
  after(() => {
    fs.rmSync(work, { recursive: true, force: true });
    for (const cleanup of projects) cleanup();
  });

  async function backend(stack: string, what: string, extra: object[] = []): Promise<string> {
    const dir = fs.mkdtempSync(path.join(work, "backend-"));
    const { resources, env } = await program(stack);
    const targets = what === "redis" ? [] : chooseRotation(parseChoice(what), resources, stack);
    fs.writeFileSync(path.join(dir, "preview.json"), JSON.stringify(previewOf(targets, extra)));
    const supplied = { OPENAI_API_KEY: `sk-${stack}-${"x".repeat(20)}`, ...(env.EMAIL_ENABLED === "true" ? { SENDGRID_API_KEY: `SG.${stack}.key` } : {}) };
    fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify({ env: { ...env, ...supplied } }));
    fs.writeFileSync(path.join(dir, "calls.log"), "");
    return dir;
  }
  const calls = (dir: string) =>
    fs
      .readFileSync(path.join(dir, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as string[]).slice(0, 3).join(" "));
  const rotate = (dir: string, args: string[]) =>
    run("rotate", ["--dir", REPO, ...args], { cwd: work, env: { PATH: process.env.PATH, MINA_PULUMI_BIN: bin, FAKE_PULUMI_DIR: dir } });

  it("dry run: prints the URNs, the variables and the commands; runs nothing", async () => {
    const dir = await backend("staging", "aws-key");
    const r = await rotate(dir, ["--stack", "staging", "aws-key"]);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(EXPECTED.staging["aws-key"][0]));
    assert.match(r.stdout, /changes AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY/);
    assert.match(
      r.stdout,
      /^ {2}pulumi preview --stack staging --json --save-plan plan\.json --show-replacement-steps --policy-pack policy --replace 'urn:pulumi:staging::/m,
    );
    assert.match(r.stdout, /^ {2}pulumi up --stack staging --yes --plan plan\.json --policy-pack policy --replace /m);
    assert.match(r.stdout, /^dry run: nothing applied/m);
    assert.deepEqual(calls(dir), []);
  });

  it("--yes: preview, the gate, up on the saved plan, the env file written anew, what to restart", async () => {
    const dir = await backend("staging", "secret-key");
    const r = await rotate(dir, ["--stack", "staging", "secret-key", "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(calls(dir), ["preview --stack staging", "up --stack staging", "stack output --json"]);
    const up = JSON.parse(fs.readFileSync(path.join(dir, "calls.log"), "utf8").trim().split("\n")[1]) as string[];
    assert.deepEqual(up.slice(up.indexOf("--replace")), ["--replace", EXPECTED.staging["secret-key"][0]]);
    assert.match(r.stdout, /APPROVED for commit/);
    assert.match(r.stdout, /^wrote \.env\.staging\.local/m);
    assert.match(r.stdout, /SECRET_KEY: restart every web process.*logged out/);
    assert.ok(fs.existsSync(path.join(work, ".env.staging.local")));
    const { env } = await program("staging");
    assert.ok(!r.stdout.includes(env.SECRET_KEY) && !r.stderr.includes(env.SECRET_KEY), "no secret printed");
  });

  it("--yes: a preview that does more than the rotation is blocked before up", async () => {
    const dir = await backend("staging", "session-secret", [
      { op: "delete", urn: "urn:pulumi:staging::mina::aws:s3/bucket:Bucket::mina-staging-bucket-bucket" },
    ]);
    const r = await rotate(dir, ["--stack", "staging", "session-secret", "--yes"]);
    assert.equal(r.status, 1);
    assert.deepEqual(calls(dir), ["preview --stack staging"]);
    assert.match(
      r.stderr,
      /^error: the data-safety gate blocked the rotation of staging: the preview also has delete of aws:s3\/bucket:Bucket .*nothing was rotated\n$/,
    );
  });

  /**
   * A project in a git repository of its own, its files committed (env files ignored): a
   * production rotation runs from the approved commit, and the test changes the tree at will.
   */
  function gitProject(): { dir: string; head: () => string; git: (...args: string[]) => string; cleanup: () => void } {
    const files = Object.fromEntries(
      fs
        .readdirSync(REPO)
        .filter((f) => /^Pulumi\..*yaml$/.test(f))
        .map((f) => [f, fs.readFileSync(path.join(REPO, f), "utf8")]),
    );
    const project = tempProject({ ...files, ".gitignore": ".env.*.local\n", "notes.txt": "committed\n" });
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^GIT_/i.test(k)));
    const git = (...args: string[]) => {
      const r = spawnSync("git", ["-c", "user.name=Rotation Test", "-c", "user.email=rotation@example.com", "-c", "commit.gpgsign=false", ...args], {
        cwd: project.dir,
        env,
        encoding: "utf8",
      });
      assert.equal(r.status, 0, `git ${args.join(" ")}: ${r.stderr}`);
      return r.stdout.trim();
    };
    git("init", "-q");
    git("add", "-A");
    git("commit", "-q", "-m", "the approved commit");
    projects.push(project.cleanup);
    return { dir: project.dir, head: () => git("rev-parse", "HEAD"), git, cleanup: project.cleanup };
  }
  const rotateIn = (project: string, dir: string, args: string[]) =>
    run("rotate", ["--dir", project, ...args], { cwd: work, env: { PATH: process.env.PATH, MINA_PULUMI_BIN: bin, FAKE_PULUMI_DIR: dir } });

  it("production: refused unless --approved-commit is the current HEAD (full SHA)", async () => {
    const project = gitProject();
    const head = project.head();
    const rotate = (dir: string, args: string[]) => rotateIn(project.dir, dir, args);
    const dir = await backend("production", "database-password");
    let r = await rotate(dir, ["--stack", "production", "database-password", "--yes"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: refusing to rotate on production \(production tier\): pass --approved-commit/);
    r = await rotate(dir, ["--stack", "production", "database-password", "--approved-commit", head.slice(0, 12)]);
    assert.match(r.stderr, /^error: .*is not a full 40-hex commit SHA: no approval\n$/);
    r = await rotate(dir, ["--stack", "production", "database-password", "--approved-commit", "0".repeat(40)]);
    assert.match(r.stderr, /^error: .*the approval is for commit 000000000000, but this is commit .*: no approval\n$/);
    assert.deepEqual(calls(dir), []);
    r = await rotate(dir, ["--stack", "production", "database-password", "--approved-commit", head, "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(calls(dir), ["preview --stack production", "up --stack production", "stack output --json"]);
    assert.match(r.stdout, /PostgreSQL role mina-production-database-role is updated in place/);
    assert.match(r.stdout, /DATABASE_URL: restart web processes and workers/);
  });

  it("production: a work tree that is not the approved commit as it is is refused before anything runs, in every form", async () => {
    const project = gitProject();
    const approved = project.head();
    const file = (name: string) => path.join(project.dir, name);
    const forms: [string, () => void, RegExp][] = [
      [
        "a changed tracked file",
        () => fs.appendFileSync(file("Pulumi.production.yaml"), "# edited after the approval\n"),
        /git status: M Pulumi\.production\.yaml\)/,
      ],
      [
        "a staged change",
        () => {
          fs.appendFileSync(file("Pulumi.yaml"), "# staged\n");
          project.git("add", "Pulumi.yaml");
        },
        /git status: M Pulumi\.yaml\)/,
      ],
      ["a deleted tracked file", () => fs.rmSync(file("notes.txt")), /git status: D notes\.txt\)/],
      [
        "an untracked file, in a new directory too",
        () => {
          fs.mkdirSync(file("components"));
          fs.writeFileSync(file("components/extra.ts"), "export {};\n");
        },
        /git status: \?\? components\/extra\.ts\)/,
      ],
      [
        "many changes, the first three named",
        () => {
          for (const n of ["a", "b", "c", "d", "e"]) fs.writeFileSync(file(`${n}.txt`), n);
        },
        /git status: \?\? a\.txt, \?\? b\.txt, \?\? c\.txt and 2 more\)/,
      ],
    ];
    for (const [what, change, named] of forms) {
      change();
      const dir = await backend("production", "aws-key");
      for (const args of [["--yes"], []]) {
        const r = await rotateIn(project.dir, dir, ["--stack", "production", "aws-key", "--approved-commit", approved, ...args]);
        assert.equal(r.status, 1, `${what} ${args}: ${r.stdout}`);
        assert.match(
          r.stderr,
          /^error: refusing to rotate on production \(production tier\): the work tree .* is not the approved commit as it is \(git status: [^\n]*\); commit, stash \(git stash --include-untracked\) or discard the changes, so that what runs is what was approved\n$/,
          what,
        );
        assert.match(r.stderr, named, what);
        assert.equal(r.stdout, "", what);
      }
      assert.deepEqual(calls(dir), [], what);
      if (what === "a changed tracked file") {
        // The same refusal through the compiled bin, as a deploy job runs it.
        const r = await spawnCliAsync("rotate", ["--dir", project.dir, "--stack", "production", "aws-key", "--approved-commit", approved, "--yes"], {
          cwd: work,
          env: { PATH: process.env.PATH, MINA_PULUMI_BIN: bin, FAKE_PULUMI_DIR: dir },
        });
        assert.equal(r.status, 1, r.stderr);
        assert.match(
          r.stderr,
          /^error: refusing to rotate on production \(production tier\): the work tree .* \(git status: M Pulumi\.production\.yaml\); [^\n]*\n$/,
        );
        assert.deepEqual(calls(dir), []);
      }
      project.git("reset", "-q", "--hard");
      project.git("clean", "-q", "-fd");
    }

    // A commit after the approval is another commit: the approval does not carry over.
    fs.appendFileSync(file("notes.txt"), "more\n");
    project.git("commit", "-q", "-am", "after the approval");
    const dir = await backend("production", "aws-key");
    let r = await rotateIn(project.dir, dir, ["--stack", "production", "aws-key", "--approved-commit", approved, "--yes"]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`^error: .*the approval is for commit ${approved.slice(0, 12)}, but this is commit ${project.head().slice(0, 12)}: no approval\n$`),
    );
    assert.deepEqual(calls(dir), []);

    // Ignored files (an env file) are not the tree's: the approved commit runs.
    fs.writeFileSync(file(".env.production.local"), "SECRET_KEY=x\n");
    r = await rotateIn(project.dir, dir, ["--stack", "production", "aws-key", "--approved-commit", project.head(), "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(calls(dir), ["preview --stack production", "up --stack production", "stack output --json"]);
  });

  it("staging: a changed work tree is no refusal (running the command is the approval, for what it runs)", async () => {
    const project = gitProject();
    fs.appendFileSync(path.join(project.dir, "notes.txt"), "changed\n");
    const dir = await backend("staging", "aws-key");
    const r = await rotateIn(project.dir, dir, ["--stack", "staging", "aws-key", "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(calls(dir), ["preview --stack staging", "up --stack staging", "stack output --json"]);
  });

  it("usage and refusals are one line: no WHAT, an unknown WHAT, redis", async () => {
    const dir = await backend("staging", "redis");
    let r = await rotate(dir, ["--stack", "staging"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, `error: say what to rotate: choose one of ${ROTATE_CHOICES.join(", ")}\n`);
    r = await rotate(dir, ["--stack", "staging", "everything"]);
    assert.equal(r.status, 2);
    r = await rotate(dir, ["--stack", "staging", "redis", "--yes"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: refusing to rotate redis on staging: .*Upstash console.*\n$/);
    assert.deepEqual(calls(dir), []);
  });

  it("--yes outside a git checkout is refused: the approval is for the commit it runs from", async () => {
    const files = Object.fromEntries(
      fs
        .readdirSync(REPO)
        .filter((f) => /^Pulumi\..*yaml$/.test(f))
        .map((f) => [f, fs.readFileSync(path.join(REPO, f), "utf8")]),
    );
    const project = tempProject(files);
    try {
      const dir = await backend("staging", "secret-key");
      const r = await run("rotate", ["--dir", project.dir, "--stack", "staging", "secret-key", "--yes"], {
        cwd: work,
        env: { PATH: process.env.PATH, MINA_PULUMI_BIN: bin, FAKE_PULUMI_DIR: dir },
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^error: refusing to rotate on staging: .* is not in a git checkout with a commit, .*\n$/);
      assert.deepEqual(calls(dir), []);
    } finally {
      project.cleanup();
    }
  });

  it("--json: the targets and commands, never a value", async () => {
    const dir = await backend("staging", "all");
    const r = await rotate(dir, ["--stack", "staging", "all", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(
      doc.targets.map((t: RotationTarget) => t.what),
      ALL_SAFE,
    );
    assert.equal(doc.applied, false);
    const applied = JSON.parse((await rotate(dir, ["--stack", "staging", "all", "--json", "--yes"])).stdout);
    assert.equal(applied.applied, true);
    assert.equal(applied.gate.ok, true);
    assert.equal(applied.gate.dangerous.length, 5, "the rotated credentials (the env secret's new version needs no approval of its own)");
    assert.equal(applied.envFile, ".env.staging.local");
  });
});
