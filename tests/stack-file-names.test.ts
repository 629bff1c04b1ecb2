/** Which files are stacks: `Pulumi.<environment>.yaml` only; a template never is, and a misnamed file fails the plan. */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { listStackFiles, misnamedStackFiles, stackOfFileName } from "../config/raw";
import { planAll } from "../plan/plan";
import { REPO, tempProject } from "./helpers";

describe("stack files are named after an environment", () => {
  it("reads a stack name only where it can name an environment", () => {
    assert.equal(stackOfFileName("Pulumi.staging.yaml"), "staging");
    assert.equal(stackOfFileName("Pulumi.pr-42.yaml"), "pr-42");
    // Pulumi reads stack files with the project file's extension, .yaml: the others are refused by name (tests/project-files.test.ts).
    for (const f of [
      "Pulumi.pr-42.yml",
      "Pulumi.staging.json",
      "Pulumi.review.template.yaml",
      "Pulumi.Staging.yaml",
      "Pulumi.pr_1.yaml",
      "Pulumi.pr--1.yaml",
      "Pulumi.yaml",
      "Pulumi.a.yaml",
      `Pulumi.${"a".repeat(25)}.yaml`,
      "Pulumi..yaml",
    ]) {
      assert.equal(stackOfFileName(f), undefined, f);
    }
  });

  it("never lists a template as a stack named <tier>.template", () => {
    const { dir, cleanup } = tempProject({ "Pulumi.staging.yaml": "config: {}\n", "Pulumi.review.template.yaml": "config:\n  mina:profile: review\n" });
    try {
      assert.deepEqual(
        listStackFiles(dir).map((s) => s.stack),
        ["staging"],
      );
      assert.deepEqual(misnamedStackFiles(dir), []);
    } finally {
      cleanup();
    }
  });

  it("finds no misnamed stack file in this project", () => {
    assert.deepEqual(misnamedStackFiles(REPO), []);
    assert.ok(listStackFiles(REPO).length >= 2);
  });

  it("names a misnamed stack file in the plan, which fails, and leaves templates alone", async () => {
    const staging = fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8");
    const { dir, cleanup } = tempProject({
      "Pulumi.yaml": fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8"),
      "Pulumi.staging.yaml": staging,
      "Pulumi.review.template.yaml": "config:\n  mina:profile: review\n",
      "Pulumi.Staging_1.yaml": staging,
    });
    try {
      assert.deepEqual(
        listStackFiles(dir).map((s) => s.stack),
        ["staging"],
      );
      assert.deepEqual(
        misnamedStackFiles(dir).map((s) => path.basename(s.file)),
        ["Pulumi.Staging_1.yaml"],
      );
      const plan = await planAll(dir);
      assert.equal(plan.ok, false);
      assert.deepEqual(
        plan.stacks.map((s) => [s.stack, s.ok]),
        [
          ["staging", true],
          ["Staging_1", false],
        ],
      );
      assert.deepEqual(plan.stacks[1].errors, [
        'Pulumi.Staging_1.yaml: stack name "Staging_1" cannot name an environment: use lowercase letters, digits and single hyphens, starting with a letter, at most 24 characters (a template is named Pulumi.<tier>.template.yaml)',
      ]);
      // A plan of one stack is about that stack.
      assert.equal((await planAll(dir, ["staging"])).ok, true);
    } finally {
      cleanup();
    }
  });
});
