/**
 * "A new environment is a file": the stack list the workflows read, with each
 * stack's tier, from the repository's stack files.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { matrices, StackListError, workflowStacks } from "../config/workflowStacks";
import { run } from "./cli";
import { REPO, stacksOf, tempProject } from "./helpers";

const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");
const STAGING = read("Pulumi.staging.yaml");
const PRODUCTION = read("Pulumi.production.yaml");
const PROJECT = read("Pulumi.yaml");
const withProfile = (text: string, profile: string) => text.replace(/^config:\n/m, `config:\n  mina:profile: ${profile}\n`);
/** A project of exactly the committed staging and production stack files (and the review template): what the command prints is then known, whatever other stack files this checkout holds. */
const committed = () =>
  tempProject({
    "Pulumi.yaml": PROJECT,
    "Pulumi.staging.yaml": STAGING,
    "Pulumi.production.yaml": PRODUCTION,
    "Pulumi.review.template.yaml": read("Pulumi.review.template.yaml"),
  });

describe("stacks: the workflows' stack list and tiers", () => {
  it("lists this repository's stacks, every stack file: staging deploys on push, production is of the production tier", () => {
    const stacks = workflowStacks(REPO);
    assert.deepEqual(
      stacks.map((s) => s.stack),
      stacksOf(),
    );
    assert.deepEqual(
      stacks.filter((s) => s.stack === "staging" || s.stack === "production").map((s) => [s.stack, s.tier, s.key]),
      [
        ["production", "production", "PRODUCTION"],
        ["staging", "non-production", "STAGING"],
      ],
    );
  });

  it("a new stack file is a new environment; mina:profile: production makes it production-tier; templates are not stacks", () => {
    const p = tempProject({
      "Pulumi.yaml": PROJECT,
      "Pulumi.staging.yaml": STAGING,
      "Pulumi.production.yaml": PRODUCTION,
      "Pulumi.staging-blue.yaml": STAGING,
      "Pulumi.eu.yaml": withProfile(PRODUCTION, "production"),
      "Pulumi.review.template.yaml": STAGING,
    });
    try {
      const stacks = workflowStacks(p.dir);
      assert.deepEqual(
        stacks.map((s) => [s.stack, s.tier, s.key, s.why]),
        [
          ["eu", "production", "EU", "Pulumi.eu.yaml sets mina:profile: production"],
          ["production", "production", "PRODUCTION", "its name reads as production"],
          ["staging", "non-production", "STAGING", ""],
          ["staging-blue", "non-production", "STAGING_BLUE", ""],
        ],
      );
      const m = matrices(stacks, "eu");
      assert.deepEqual(
        m.all.map((s) => s.stack),
        ["eu", "production", "staging", "staging-blue"],
      );
      assert.deepEqual(
        m.other.map((s) => s.stack),
        ["staging", "staging-blue"],
      );
      assert.deepEqual(
        m.production.map((s) => s.stack),
        ["eu"],
        "only the stack the dispatch names",
      );
      assert.deepEqual(matrices(stacks).production, [], "a push deploys no production-tier stack");
      assert.deepEqual(matrices(stacks, "staging").production, [], "a dispatch naming a non-production stack adds none");
      assert.throws(
        () => matrices(stacks, "prod"),
        (e: Error) => e instanceof StackListError && e.message === "no stack named prod (stacks: eu, production, staging, staging-blue)",
      );
    } finally {
      p.cleanup();
    }
  });

  it("refuses, in one line, a name the workflows cannot carry, an unreadable file, an unknown profile", () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ "Pulumi.Staging_Blue.yaml": STAGING }, /^Pulumi\.Staging_Blue\.yaml: "Staging_Blue" is not a stack name the workflows accept/],
      [{ "Pulumi.a.yaml": STAGING }, /"a" is not a stack name/],
      [{ "Pulumi.blue--green.yaml": STAGING }, /"blue--green" is not a stack name/],
      [{ "Pulumi.staging-.yaml": STAGING }, /"staging-" is not a stack name/],
      [{ "Pulumi.abcdefghijklmnopqrstuvwxy.yaml": STAGING }, /is not a stack name/],
      [{ "Pulumi.review.example.yaml": STAGING }, /"review\.example" is not a stack name .*a template must be named Pulumi\.<name>\.template\.yaml$/],
      [{ "Pulumi.eu.yaml": "config: [" }, /^Pulumi\.eu\.yaml cannot be read, so its tier is unknown: /],
      [
        { "Pulumi.eu.yaml": withProfile(STAGING, "Production") },
        /^Pulumi\.eu\.yaml: mina:profile is "Production", not production, staging, review, so its tier is unknown$/,
      ],
    ];
    for (const [files, re] of cases) {
      const p = tempProject({ "Pulumi.yaml": PROJECT, "Pulumi.staging.yaml": STAGING, ...files });
      try {
        assert.throws(
          () => workflowStacks(p.dir),
          (e: Error) => e instanceof StackListError && re.test(e.message) && !e.message.includes("\n"),
          Object.keys(files)[0],
        );
      } finally {
        p.cleanup();
      }
    }
  });

  it("reads stack files where Pulumi does (stackConfigDir)", () => {
    const p = tempProject({ "Pulumi.yaml": `${PROJECT}stackConfigDir: stacks\n` });
    try {
      fs.mkdirSync(path.join(p.dir, "stacks"));
      fs.writeFileSync(path.join(p.dir, "stacks", "Pulumi.staging.yaml"), STAGING);
      fs.writeFileSync(path.join(p.dir, "Pulumi.ignored.yaml"), STAGING);
      assert.deepEqual(
        workflowStacks(p.dir).map((s) => s.stack),
        ["staging"],
      );
    } finally {
      p.cleanup();
    }
  });

  describe("npm run stacks", () => {
    let p: ReturnType<typeof committed>;
    before(() => {
      p = committed();
    });
    after(() => p.cleanup());

    it("prints the matrices as $GITHUB_OUTPUT lines", async () => {
      const r = await run("stacks", ["--matrix", "--dispatched", "production", "--dir", p.dir]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          'all=[{"stack":"production","tier":"production","key":"PRODUCTION","runner":["self-hosted","mina-production"]},{"stack":"staging","tier":"non-production","key":"STAGING","runner":["self-hosted","mina-staging"]}]',
          'other=[{"stack":"staging","tier":"non-production","key":"STAGING","runner":["self-hosted","mina-staging"]}]',
          'production=[{"stack":"production","tier":"production","key":"PRODUCTION","runner":["self-hosted","mina-production"]}]',
          'review=["self-hosted","mina-review"]',
          "",
        ].join("\n"),
      );
      const push = await run("stacks", ["--matrix", "--dispatched", "", "--dir", p.dir]);
      assert.match(push.stdout, /^production=\[\]$/m, "a push (empty input) deploys no production-tier stack");
    });

    it("lists the stacks with their tier, as text and JSON", async () => {
      const r = await run("stacks", ["--dir", p.dir]);
      assert.equal(r.stdout, "production  production (its name reads as production)\nstaging     non-production\n");
      const j = await run("stacks", ["--json", "--dir", p.dir]);
      assert.deepEqual(
        JSON.parse(j.stdout).map((s: { stack: string }) => s.stack),
        ["production", "staging"],
      );
    });

    it("refuses in one line: an unknown dispatched stack, --dispatched without --matrix, a folder without stack files", async () => {
      let r = await run("stacks", ["--matrix", "--dispatched", "prod", "--dir", REPO]);
      assert.deepEqual([r.status, r.stderr], [2, `error: no stack named prod (stacks: ${stacksOf().join(", ")})\n`]);
      r = await run("stacks", ["--dispatched", "production", "--dir", REPO]);
      assert.deepEqual([r.status, r.stderr], [2, "error: --dispatched goes with --matrix\n"]);
      r = await run("stacks", ["--matrix", "--json", "--dir", REPO]);
      assert.equal(r.status, 2);
      assert.equal(JSON.parse(r.stdout).error, "--matrix prints name=JSON lines for $GITHUB_OUTPUT, --json the stacks as JSON: give one");
      const empty = tempProject({ "Pulumi.yaml": PROJECT });
      try {
        r = await run("stacks", ["--matrix", "--dir", empty.dir]);
        assert.deepEqual([r.status, r.stderr], [2, "error: no stack files (Pulumi.<stack>.yaml): nothing to preview or deploy\n"]);
      } finally {
        empty.cleanup();
      }
    });
  });
});
