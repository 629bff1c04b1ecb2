/**
 * A new environment is a file: the README's recipe (copy a stack file, give the
 * copy an account, Upstash account, zone, domain and app host of its own) applied
 * to a copy of this repository, after which the plan passes and the tests that read
 * the repository's stack files pass there too, with no code, test or workflow change.
 */
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import YAML from "yaml";
import { run, withoutNpm } from "./cli";
import { REPO } from "./helpers";

/** The test files that read the repository's own stack files (the ones a new stack could break). */
const STACK_READING_TESTS = [
  "tests/plan.test.ts",
  "tests/templates.test.ts",
  "tests/messages.test.ts",
  "tests/demo.test.ts",
  "tests/audit.test.ts",
  "tests/policy/stacks.test.ts",
  "tests/policy/isolation.test.ts",
  "tests/policy/iam.test.ts",
];

/** The README's recipe: `cp Pulumi.staging.yaml Pulumi.NAME.yaml`, then give it identifiers of its own. */
function newEnvironmentFile(dir: string, name: string, own: { account: string; appHost: string }): string {
  const doc = YAML.parseDocument(fs.readFileSync(path.join(dir, "Pulumi.staging.yaml"), "utf8"));
  doc.setIn(["config", "aws:allowedAccountIds"], [own.account]);
  doc.setIn(["config", "upstash:email"], `upstash-${name}@mina.app`);
  doc.setIn(["config", "mina:shareDomain"], `${name}.mina.app`);
  doc.setIn(["config", "mina:dnsZoneName"], `${name}.mina.app`);
  doc.setIn(["config", "mina:dnsZoneId"], `Z0${name.toUpperCase().replace(/-/g, "")}0EXAMPLE`);
  doc.setIn(["config", "mina:appHost"], own.appHost);
  doc.commentBefore = ` The ${name} environment.`;
  const file = path.join(dir, `Pulumi.${name}.yaml`);
  fs.writeFileSync(file, doc.toString());
  return file;
}

describe("a new environment is a file (the README's recipe, on a copy of the repository)", function () {
  this.timeout(120000);
  let copy: string;

  before(() => {
    copy = fs.mkdtempSync(path.join(os.tmpdir(), "mina-new-env-"));
    const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO, encoding: "utf8" }).split("\0").filter(Boolean);
    for (const f of files) {
      if (!fs.existsSync(path.join(REPO, f))) continue;
      fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      fs.copyFileSync(path.join(REPO, f), path.join(copy, f));
    }
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(copy, "node_modules"), "dir");
    newEnvironmentFile(copy, "demo", { account: "345678901234", appHost: "203.0.113.30" });
  });
  after(() => fs.rmSync(copy, { recursive: true, force: true }));

  it("plans the new stack with the others, and the isolation audit passes", async () => {
    const r = await run("plan", ["--json", "--dir", copy]);
    assert.equal(r.status, 0, r.stdout.slice(0, 2000) + r.stderr);
    const plan = JSON.parse(r.stdout) as { stacks: { stack: string; ok: boolean }[]; audit: { ok: boolean } };
    assert.deepEqual(
      plan.stacks.map((s) => [s.stack, s.ok]),
      [
        ["demo", true],
        ["production", true],
        ["staging", true],
      ],
    );
    assert.equal(plan.audit.ok, true);
  });

  it("needs no template run: templates --check still passes", async () => {
    assert.equal((await run("templates", ["--check", "--dir", copy])).status, 0);
  });

  it("the tests that read the repository's stack files pass in the copy, unchanged", () => {
    const mocha = path.join(copy, "node_modules", ".bin", "mocha");
    const r = spawnSync(mocha, ["--no-config", "-r", "tsx/cjs", "--extension", "ts", "--timeout", "60000", "--reporter", "dot", ...STACK_READING_TESTS], {
      cwd: copy,
      env: withoutNpm(process.env),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, (r.stdout + r.stderr).slice(-3000));
    assert.match(r.stdout, /\d+ passing/);
    assert.doesNotMatch(r.stdout, /\d+ (failing|pending)/);
  });
});
