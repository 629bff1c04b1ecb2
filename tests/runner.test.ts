/**
 * Where a stack's jobs run (`mina:deployRunner`): on runners that can reach its
 * database, never on a runner another tier's environment uses, and never, for a
 * review stack's pull request code, on a long-lived environment's runners.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigErrors, type RawStackConfig } from "../config/raw";
import { isPrivateHost, runnerProblems } from "../config/runner";
import { validateStack } from "../config/validation/validate";
import { matrices, matrixOutputs, reviewRunner, workflowStacks } from "../config/workflowStacks";
import { run } from "./cli";
import { productionRaw, REPO, stagingRaw } from "./helpers";

const named = (raw: RawStackConfig, stack: string): RawStackConfig => ({ ...raw, stack, file: `Pulumi.${stack}.yaml` });
const review = (runner: unknown) =>
  named(
    stagingRaw({ "mina:profile": "review", "mina:deployRunner": runner, "aws:allowedAccountIds": ["345678901234"], "mina:dnsZoneId": "Z0REVIEWZONE" }, "pr-7"),
    "pr-7",
  );
const problems = (raw: RawStackConfig, siblings: RawStackConfig[]) => runnerProblems(raw, [raw, ...siblings]).map(([, d]) => d);

describe("mina:deployRunner: where a stack's jobs run", () => {
  it("is required of every stack, with the command that sets it", () => {
    const raw = stagingRaw({ "mina:deployRunner": undefined });
    assert.throws(
      () => validateStack(raw, { siblings: [raw], requireSecrets: false }),
      (e: Error) =>
        e instanceof ConfigErrors &&
        e.message.includes(
          "Pulumi.staging.yaml: mina:deployRunner: is required; set it with: pulumi config set --path 'mina:deployRunner[0]' <value> --stack staging",
        ),
    );
  });

  it("refuses a GitHub-hosted runner where the database is private: an RDS instance always, a server at a private or internal address", () => {
    assert.match(
      problems(productionRaw({ "mina:deployRunner": ["ubuntu-latest"] }), [])[0],
      /GitHub-hosted runner \(ubuntu-latest\), which cannot reach this stack's private RDS instance/,
    );
    for (const host of ["pg-shared.internal.mina.app", "10.1.2.3", "172.20.0.5", "192.168.1.9", "db", "pg.corp", "fd00::5"]) {
      const p = problems(stagingRaw({ "mina:deployRunner": "ubuntu-24.04", "mina:dbServerHost": host }), []);
      assert.match(p[0] ?? "", new RegExp(`cannot reach the database server ${host.replace(/\./g, "\\.")} at a private address`), host);
    }
    // A server at a public name: a GitHub-hosted runner reaches it (TLS and the server's own rules protect it).
    assert.deepEqual(problems(stagingRaw({ "mina:deployRunner": ["ubuntu-latest"], "mina:dbServerHost": "pg.staging.mina.app" }), []), []);
    assert.equal(isPrivateHost("pg.staging.mina.app"), false);
  });

  it("refuses labels that tell no runner apart, and values that are not labels", () => {
    assert.match(problems(stagingRaw({ "mina:deployRunner": ["self-hosted", "linux", "X64"] }), [])[0], /has only labels every self-hosted runner carries/);
    assert.match(problems(stagingRaw({ "mina:deployRunner": ["self-hosted", "mina staging"] }), [])[0], /has "mina staging", which is not a runner label/);
    assert.match(problems(stagingRaw({ "mina:deployRunner": [] }), [])[0], /names no runner label/);
  });

  it("gives a production-tier stack runners of its own: no other stack, of any tier, asks for one of its labels", () => {
    const staging = stagingRaw({ "mina:deployRunner": ["self-hosted", "MINA-PRODUCTION"] });
    assert.match(
      problems(productionRaw(), [staging])[0],
      /asks for runner label mina-production, as Pulumi\.staging\.yaml does: a production environment's jobs run on runners no other environment uses/,
    );
    assert.match(
      problems(staging, [productionRaw()])[0],
      /as Pulumi\.production\.yaml does: a production environment's jobs run on runners no other environment uses/,
    );
    const eu = named(productionRaw({ "mina:profile": "production" }), "eu");
    assert.equal(problems(eu, [productionRaw()]).length, 1, "two production-tier stacks share no runner either");
  });

  it("keeps a review stack (pull request code) off every long-lived stack's runners, the template included", () => {
    assert.match(
      problems(review(["self-hosted", "mina-staging"]), [stagingRaw()])[0],
      /a review environment runs pull request code, so it never runs on a long-lived environment's runners/,
    );
    assert.match(
      problems(stagingRaw({ "mina:deployRunner": ["self-hosted", "mina-review"] }), [review(["self-hosted", "mina-review"])])[0],
      /review environment runs pull request code/,
    );
    // Review stacks share the review tier's runners; non-production long-lived stacks may share theirs.
    assert.deepEqual(problems(review(["self-hosted", "mina-review"]), [named(review(["self-hosted", "mina-review"]), "pr-8"), stagingRaw()]), []);
    assert.deepEqual(
      problems(named(stagingRaw({}, "staging-blue"), "staging-blue"), [stagingRaw({ "mina:deployRunner": ["self-hosted", "mina-staging-blue"] })]),
      [],
    );
  });

  it("validates the committed stack files and the review template as they are", () => {
    const { readAllStacks } = require("../config") as typeof import("../config");
    const all = readAllStacks(REPO);
    for (const raw of all) assert.deepEqual(runnerProblems(raw, all), [], raw.file);
  });

  it("is what the workflows' matrices pass to runs-on, and the review template's runner is the review jobs'", () => {
    const stacks = workflowStacks(REPO);
    const out = matrixOutputs(matrices(stacks, "production"), reviewRunner(REPO));
    const line = (name: string) =>
      JSON.parse(
        out
          .split("\n")
          .find((l) => l.startsWith(`${name}=`))!
          .slice(name.length + 1),
      );
    assert.deepEqual(line("production")[0].runner, ["self-hosted", "mina-production"]);
    assert.deepEqual(line("other").find((s: { stack: string }) => s.stack === "staging").runner, ["self-hosted", "mina-staging"]);
    assert.deepEqual(line("review"), ["self-hosted", "mina-review"]);
  });

  it("refuses the workflows' matrices when the review template asks for a long-lived stack's runner", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-runner-"));
    try {
      for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
      const template = fs.readFileSync(path.join(REPO, "Pulumi.review.template.yaml"), "utf8");
      fs.writeFileSync(path.join(dir, "Pulumi.review.template.yaml"), template.replace("- mina-review", "- mina-staging"));
      const r = await run("stacks", ["--matrix", "--dir", dir]);
      assert.equal(r.status, 2);
      assert.equal(
        r.stderr,
        "error: Pulumi.review.template.yaml: mina:deployRunner: asks for runner label mina-staging, as Pulumi.staging.yaml does: a review environment runs pull request code, so it never runs on a long-lived environment's runners\n",
      );
      assert.equal(r.stdout, "");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
