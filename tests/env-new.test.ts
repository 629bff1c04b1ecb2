/**
 * env:new: a new environment's stack file from the committed template, with the
 * name substituted everywhere, refused before anything is written when the name or
 * the result does not hold; the result validates and plans.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { listStackFiles, loadStackOffline, readAllStacks } from "../config";
import { checkNameLimits, deriveNames } from "../config/naming";
import { parseStackFile } from "../config/raw";
import { CREATED_BY_TAG, environmentNameProblems, listTemplates, newEnvironment, NewEnvironmentRefused, prepareNewEnvironment } from "../config/template";
import { shareGroupOfRaw } from "../config/tiers";
import { identityIndexFor } from "../config/validation/validate";
import { writeFileAtomic } from "../lib/atomicWrite";
import { planAll, planStack } from "../plan/plan";
import { run } from "./cli";
import { REPO, stacksOf } from "./helpers";

const TEMPLATE = "Pulumi.review.template.yaml";
const templateText = () => fs.readFileSync(path.join(REPO, TEMPLATE), "utf8");

/**
 * A copy of this project in a temporary directory: Pulumi.yaml, the template (or the given one) and exactly the
 * committed staging and production stack files, whatever other stack files (a review stack's, say) this checkout holds.
 */
function projectCopy(files: Record<string, string> = {}): { dir: string; listing: () => Record<string, string>; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-env-new-"));
  const copy = ["Pulumi.yaml", TEMPLATE, "Pulumi.staging.yaml", "Pulumi.production.yaml"];
  for (const f of copy) fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
  const listing = () =>
    Object.fromEntries(
      fs
        .readdirSync(dir)
        .sort()
        .map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")]),
    );
  return { dir, listing, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** The problems env:new refuses with, asserting that nothing was written. */
function refusal(name: string, files: Record<string, string> = {}, tier = "review"): { problems: readonly string[]; usage: boolean } {
  const p = projectCopy(files);
  try {
    const before = p.listing();
    let refused: NewEnvironmentRefused | undefined;
    try {
      newEnvironment(p.dir, name, tier);
    } catch (e) {
      if (!(e instanceof NewEnvironmentRefused)) throw e;
      refused = e;
    }
    assert.ok(refused, `${name} was not refused`);
    assert.deepEqual(p.listing(), before, "something was written");
    return { problems: refused.problems, usage: refused.usage };
  } finally {
    p.cleanup();
  }
}

/** The template with `from` replaced by `to`. */
const templateWith = (from: string | RegExp, to: string) => {
  const t = templateText();
  assert.ok(typeof from === "string" ? t.includes(from) : from.test(t), String(from));
  return { [TEMPLATE]: t.replace(from, to) };
};

describe("env:new: the committed template", () => {
  it("is the only template and no stack, and makes a valid environment against this project's stack files", () => {
    assert.deepEqual(listTemplates(REPO), ["review"]);
    assert.ok(!listStackFiles(REPO).some((s) => s.stack.includes("review")));
    // A review stack's name no stack file here has (a review workflow's checkout holds its own).
    let number = 1;
    while (stacksOf().includes(`pr-${number}`)) number++;
    const made = prepareNewEnvironment(REPO, `pr-${number}`, "review");
    assert.equal(made.profile, "review");
    assert.equal(made.databaseMode, "server");
    assert.ok(!fs.existsSync(made.file));
  });

  it("uses the placeholder wherever the name goes, and carries none of another environment's identifiers", () => {
    const t = templateText();
    assert.match(t, /^ {2}mina:profile: review$/m);
    assert.match(t, /^ {2}mina:databaseMode: server$/m);
    assert.match(t, /^ {2}mina:shareDomain: \$\{name\}\.review\.mina\.app$/m);
    assert.match(t, /^ {2}mina:slackChannel: "#mina-\$\{name\}-alerts"$/m);
    // Every environment but the review tier's own: a review stack made from this template (Pulumi.pr-*.yaml, when one is here) holds the tier's values.
    const others = readAllStacks(REPO).filter((s) => shareGroupOfRaw(s) !== "review");
    const index = identityIndexFor({ stack: "pr-1", file: "", values: {} }, others);
    for (const line of t.split("\n")) assert.deepEqual(index.findForeign(line, "pr-1"), [], line);
  });
});

describe("env:new: names", () => {
  it("accepts 3 and 24 characters, and every derived name fits its provider's limit", () => {
    for (const name of ["abc", "a23456789012345678901234"]) {
      assert.deepEqual(environmentNameProblems(name), [], name);
      assert.deepEqual(checkNameLimits(deriveNames(name)), [], name);
      assert.equal(prepareNewEnvironment(REPO, name, "review").stack, name);
    }
  });

  it("refuses, one line each, a name too long, with a double hyphen, uppercase, or what else no environment is named", () => {
    assert.deepEqual(environmentNameProblems("a234567890123456789012345"), [
      '"a234567890123456789012345" cannot name an environment: is 25 characters; the limit is 24, so that every derived name fits its provider\'s limit',
    ]);
    assert.deepEqual(environmentNameProblems("pr--1"), ['"pr--1" cannot name an environment: has a double hyphen, which an RDS identifier cannot']);
    assert.deepEqual(environmentNameProblems("PR-1"), ['"PR-1" cannot name an environment: has uppercase letters: S3 bucket and RDS names are lowercase']);
    assert.deepEqual(environmentNameProblems("pr-"), ['"pr-" cannot name an environment: ends with a hyphen, which an RDS identifier cannot']);
    assert.deepEqual(environmentNameProblems("1pr"), ['"1pr" cannot name an environment: must start with a letter']);
    assert.deepEqual(environmentNameProblems("pr_1"), ['"pr_1" cannot name an environment: has characters other than letters, digits and hyphens ("_")']);
    assert.deepEqual(environmentNameProblems("p"), ['"p" cannot name an environment: needs at least 2 characters']);
    const r = refusal("PR--1");
    assert.equal(r.usage, true);
    assert.equal(r.problems.length, 2);
  });

  it("refuses a name that breaks a provider limit once substituted in the template", () => {
    const long = "a23456789012345678901234";
    const suffix = "-review-recordings-archive-copy";
    const bucket = `mina-audio-${long}${suffix}`;
    assert.equal(bucket.length, 66);
    // Fine for a short name, too long for a long one.
    const override = templateWith("  mina:shareDomain:", `  mina:bucketName: mina-audio-\${name}${suffix}\n  mina:shareDomain:`);
    const p = projectCopy(override);
    try {
      assert.equal(prepareNewEnvironment(p.dir, "pr-1", "review").stack, "pr-1");
    } finally {
      p.cleanup();
    }
    assert.deepEqual(refusal(long, override).problems, [
      `Pulumi.${long}.yaml: bucket name "${bucket}" is 66 characters; the limit is 63`,
      `Pulumi.${long}.yaml: bucket name "${bucket}" must be 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit`,
    ]);
  });

  it("refuses production's name, its aliases, a name naming it or another production environment, and the tier's name", () => {
    assert.deepEqual(refusal("production").problems, [
      '"production" names the production environment "production": env:new never makes an environment with a production name',
      "Pulumi.production.yaml already exists: env:new never replaces a stack file; pick another name",
    ]);
    for (const [name, env] of [
      ["prod", "production"],
      ["prd", "production"],
      ["prod-hotfix", "production"],
    ]) {
      assert.deepEqual(refusal(name).problems, [
        `"${name}" names the production environment "${env}": env:new never makes an environment with a production name`,
      ]);
    }
    assert.deepEqual(refusal("eu-2", { "Pulumi.eu.yaml": "config:\n  mina:profile: production\n" }).problems, [
      '"eu-2" names the production environment "eu": env:new never makes an environment with a production name',
    ]);
    assert.deepEqual(refusal("review").problems, [
      '"review" is the tier\'s own name: every environment made from Pulumi.review.template.yaml carries it, so none may be named so',
    ]);
  });

  it("refuses a name that already has a stack file, and never replaces one", () => {
    assert.deepEqual(refusal("staging").problems, ["Pulumi.staging.yaml already exists: env:new never replaces a stack file; pick another name"]);
    assert.deepEqual(refusal("pr-5", { "Pulumi.pr-5.yml": "config: {}\n" }).problems, [
      "Pulumi.pr-5.yml already exists: env:new never replaces a stack file; pick another name",
    ]);
    // A file made between the checks and the write is not replaced either.
    const p = projectCopy({ "Pulumi.pr-6.yaml": "mine\n" });
    try {
      assert.throws(() => writeFileAtomic(path.join(p.dir, "Pulumi.pr-6.yaml"), "theirs\n", 0o644, { exclusive: true }), { code: "EEXIST" });
      assert.equal(fs.readFileSync(path.join(p.dir, "Pulumi.pr-6.yaml"), "utf8"), "mine\n");
      assert.deepEqual(
        fs.readdirSync(p.dir).filter((f) => f.endsWith(".tmp")),
        [],
      );
    } finally {
      p.cleanup();
    }
  });
});

describe("env:new: the template and the result", () => {
  it("refuses an unknown or unclosed placeholder", () => {
    assert.deepEqual(refusal("pr-7", templateWith("upstash-review@", "upstash-${nmae}@")).problems, [
      "Pulumi.review.template.yaml: unknown placeholder ${nmae}; the only one is ${name}",
      'Pulumi.pr-7.yaml line 9: a placeholder is left after substitution ("upstash:email: upstash-${nmae}@mina.app"); the only one is ${name}',
    ]);
    const r = refusal("pr-7", templateWith("#mina-${name}-alerts", "#mina-${name-alerts"));
    assert.ok(
      r.problems.some((l) => /^Pulumi\.pr-7\.yaml line \d+: a placeholder is left after substitution/.test(l)),
      r.problems.join("\n"),
    );
  });

  it("refuses a template that carries another environment's identifiers, in a value or a comment", () => {
    // Staging's account is the non-production tier's to share; production's is nobody's.
    assert.deepEqual(refusal("pr-7", templateWith('"345678901234"', '"123456789012"')).problems, [
      `Pulumi.pr-7.yaml: aws:allowedAccountIds: carries production's account id "123456789012"`,
    ]);
    assert.deepEqual(refusal("pr-7", templateWith("Z0REVIEW0EXAMPLE", "Z0PRODUCTION0EXAMPLE")).problems, [
      `Pulumi.pr-7.yaml: mina:dnsZoneId: carries production's hosted zone "Z0PRODUCTION0EXAMPLE"`,
    ]);
    const comment = refusal("pr-7", templateWith("  aws:region:", "  # copied from staging\n  aws:region:")).problems;
    assert.equal(comment.length, 1);
    assert.match(comment[0], /^Pulumi\.pr-7\.yaml line \d+: a comment names environment "staging" \("staging"\)$/);
  });

  it("refuses a template holding a secret, a field other than config, another profile, or no placeholder", () => {
    assert.deepEqual(refusal("pr-7", templateWith("  aws:region:", "  mina:openaiApiKey:\n    secure: AAABAKz3\n  aws:region:")).problems, [
      "Pulumi.review.template.yaml: mina:openaiApiKey: a template holds no secret: every environment would share it; each sets its own with pulumi config set --secret",
    ]);
    assert.deepEqual(refusal("pr-7", { [TEMPLATE]: `${templateText()}encryptionsalt: v1:abc\n` }).problems, [
      "Pulumi.review.template.yaml: encryptionsalt: a template holds config only: every environment made from it would share this field; pulumi stack init gives each stack its own",
    ]);
    assert.deepEqual(refusal("pr-7", templateWith("mina:profile: review", "mina:profile: staging")).problems, [
      'Pulumi.review.template.yaml: mina:profile: is "staging"; env:new makes review environments only: set mina:profile: review',
    ]);
    const fixed = templateText().replace(/\$\{name\}/g, "fixed");
    const r = refusal("pr-7", { [TEMPLATE]: fixed }).problems;
    assert.ok(r.includes("Pulumi.review.template.yaml: has no ${name}: every environment made from it would be the same environment"), r.join("\n"));
    assert.ok(
      r.includes(
        'Pulumi.review.template.yaml: mina:shareDomain: "fixed.review.mina.app" does not carry ${name}: every environment needs a share domain of its own',
      ),
      r.join("\n"),
    );
  });

  it("refuses a value whose type the name changes", () => {
    assert.deepEqual(refusal("null", templateWith("  aws:region:", "  mina:environment: ${name}\n  aws:region:")).problems, [
      'Pulumi.null.yaml: mina:environment: substituting "null" changes what the value is (null); quote it in Pulumi.review.template.yaml',
    ]);
  });

  it("refuses a tier with no template, as bad usage", () => {
    const r = refusal("pr-7", {}, "preview");
    assert.equal(r.usage, true);
    assert.match(r.problems[0], /^no template Pulumi\.preview\.template\.yaml in .* \(templates: review\)$/);
  });

  it("substitutes the name everywhere, leaving no trace of another environment, and the file validates and plans", async () => {
    const p = projectCopy();
    try {
      const made = newEnvironment(p.dir, "pr-42", "review");
      assert.equal(made.file, path.join(p.dir, "Pulumi.pr-42.yaml"));
      const text = fs.readFileSync(made.file, "utf8");
      assert.equal(text, made.text);
      assert.equal(fs.statSync(made.file).mode & 0o777, 0o644);
      assert.deepEqual(
        fs.readdirSync(p.dir).filter((f) => f.endsWith(".tmp")),
        [],
      );
      assert.ok(!text.includes("${"), text);
      assert.ok(!/staging/i.test(text), text);
      const siblings = readAllStacks(p.dir);
      const index = identityIndexFor(siblings.find((s) => s.stack === "pr-42")!, siblings);
      for (const line of text.split("\n")) assert.deepEqual(index.findForeign(line, "pr-42"), [], line);
      assert.match(text, /^# Made by env:new from Pulumi\.review\.template\.yaml \(npm run env:new -- pr-42 --from review\)\.\n# .*do not commit it\.\n/);
      assert.ok(text.includes(`${CREATED_BY_TAG.name}=${CREATED_BY_TAG.value}`));
      // The template's own description is not carried over.
      assert.ok(!text.includes("Not a stack file"));
      const raw = parseStackFile(text, "pr-42", "Pulumi.pr-42.yaml");
      assert.equal(raw.values["mina:shareDomain"], "pr-42.review.mina.app");
      assert.equal(raw.values["mina:slackChannel"], "#mina-pr-42-alerts");
      assert.equal(raw.values["mina:profile"], "review");

      const { config, missingSecrets } = loadStackOffline(p.dir, "pr-42");
      assert.equal(config.profile, "review");
      assert.equal(config.protection.forceDestroy, true);
      assert.equal(config.database.mode, "server");
      assert.deepEqual(missingSecrets, made.missingSecrets);
      assert.deepEqual(made.missingSecrets, ["mina:dbServerAdminPassword", "mina:openaiApiKey", "upstash:apiKey"]);
      assert.deepEqual(made.next, [
        "pulumi stack init pr-42",
        "pulumi stack tag set mina:created-by env:new --stack pr-42",
        "pulumi config set --secret mina:dbServerAdminPassword <value> --stack pr-42",
        "pulumi config set --secret mina:openaiApiKey <value> --stack pr-42",
        "pulumi config set --secret upstash:apiKey <value> --stack pr-42",
        "pulumi up --stack pr-42",
      ]);

      const plan = await planStack(p.dir, "pr-42");
      assert.equal(plan.ok, true, plan.errors.join("\n"));
      assert.equal(plan.profile, "review");
      assert.deepEqual(plan.violations, []);
      assert.equal(plan.outputs.shareUrl, "https://pr-42.review.mina.app");
      assert.ok(plan.resources.every((r) => !r.protected));
      assert.deepEqual(
        plan.missingSecrets.map((m) => m.key),
        made.missingSecrets,
      );
      // Every stack of the project still plans, and none shares anything with the new one.
      assert.equal((await planAll(p.dir)).ok, true);
    } finally {
      p.cleanup();
    }
  });

  it("lets review environments share only the tier's account, zone and server and the keys the template marks", async () => {
    const p = projectCopy();
    try {
      newEnvironment(p.dir, "pr-1", "review");
      newEnvironment(p.dir, "pr-2", "review");
      const plan = await planAll(p.dir);
      assert.equal(plan.ok, true, JSON.stringify(plan.stacks.map((s) => s.errors)));
      const names = (stack: string) =>
        plan.stacks
          .find((s) => s.stack === stack)!
          .resources.map((r) => r.physicalName)
          .filter(Boolean);
      const shared = names("pr-1").filter((n) => names("pr-2").includes(n));
      assert.deepEqual(shared, [], "no physical name is shared");
      // A key the template does not mark is still refused when two review files hold the same value.
      const t = fs.readFileSync(path.join(p.dir, "Pulumi.pr-2.yaml"), "utf8").replace("#mina-pr-2-alerts", "#mina-pr-1-alerts");
      fs.writeFileSync(path.join(p.dir, "Pulumi.pr-2.yaml"), t);
      assert.equal((await planAll(p.dir)).ok, false);
    } finally {
      p.cleanup();
    }
  });
});

describe("env:new: the command, in-process", () => {
  it("writes the stack file and prints the next commands", async () => {
    const p = projectCopy();
    try {
      const r = await run("env:new", ["pr-42", "--from", "review"], { cwd: p.dir });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, "");
      assert.equal(
        r.stdout,
        [
          "wrote Pulumi.pr-42.yaml from Pulumi.review.template.yaml: environment pr-42, profile review, database mode server",
          "do not commit it: it is this pull request's environment; the tag mina:created-by=env:new marks its stack as made by env:new",
          "next:",
          "  pulumi stack init pr-42",
          "  pulumi stack tag set mina:created-by env:new --stack pr-42",
          "  pulumi config set --secret mina:dbServerAdminPassword <value> --stack pr-42",
          "  pulumi config set --secret mina:openaiApiKey <value> --stack pr-42",
          "  pulumi config set --secret upstash:apiKey <value> --stack pr-42",
          "  pulumi up --stack pr-42",
          "",
        ].join("\n"),
      );
      assert.ok(fs.existsSync(path.join(p.dir, "Pulumi.pr-42.yaml")));
      // Again: refused, in one line, exit 1.
      const again = await run("env:new", ["pr-42", "--from", "review"], { cwd: p.dir });
      assert.equal(again.status, 1);
      assert.equal(again.stdout, "");
      assert.equal(again.stderr, "error: Pulumi.pr-42.yaml already exists: env:new never replaces a stack file; pick another name\n");
    } finally {
      p.cleanup();
    }
  });

  it("with --dir from elsewhere, and --json, tells Pulumi where the project is", async () => {
    const p = projectCopy();
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "mina-env-new-cwd-"));
    try {
      const r = await run("env:new", ["pr-43", "--from", "review", "--dir", p.dir, "--json"], { cwd: elsewhere });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(Object.keys(out), ["stack", "tier", "file", "template", "profile", "databaseMode", "tag", "missingSecrets", "next"]);
      assert.deepEqual([out.stack, out.tier, out.profile, out.databaseMode], ["pr-43", "review", "review", "server"]);
      assert.equal(out.file, path.join(p.dir, "Pulumi.pr-43.yaml"));
      assert.deepEqual(out.tag, { name: "mina:created-by", value: "env:new" });
      assert.equal(out.next[0], `pulumi stack init pr-43 --cwd ${p.dir}`);
      assert.ok(out.next.every((c: string) => c.endsWith(` --cwd ${p.dir}`)));
    } finally {
      p.cleanup();
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it("refuses bad usage with exit 2 and a refused result with exit 1, one line a problem, writing nothing", async () => {
    const p = projectCopy({ [TEMPLATE]: templateText().replace('"345678901234"', '"123456789012"').replace("Z0REVIEW0EXAMPLE", "Z0PRODUCTION0EXAMPLE") });
    try {
      const before = p.listing();
      const bad = await run("env:new", ["Pr--1", "--from", "review"], { cwd: p.dir });
      assert.equal(bad.status, 2);
      assert.equal(
        bad.stderr,
        'error: "Pr--1" cannot name an environment: has uppercase letters: S3 bucket and RDS names are lowercase\n"Pr--1" cannot name an environment: has a double hyphen, which an RDS identifier cannot\n',
      );
      const noFrom = await run("env:new", ["pr-1"], { cwd: p.dir });
      assert.equal(noFrom.status, 2);
      assert.match(noFrom.stderr, /^error: required option '--from <tier>' not specified\n/);
      const noTemplate = await run("env:new", ["pr-1", "--from", "preview"], { cwd: p.dir });
      assert.equal(noTemplate.status, 2);
      assert.match(noTemplate.stderr, /^error: no template Pulumi\.preview\.template\.yaml in .* \(templates: review\)\n$/);
      const foreign = await run("env:new", ["pr-1", "--from", "review"], { cwd: p.dir });
      assert.equal(foreign.status, 1);
      assert.equal(
        foreign.stderr,
        `error: Pulumi.pr-1.yaml: aws:allowedAccountIds: carries production's account id "123456789012"\nPulumi.pr-1.yaml: mina:dnsZoneId: carries production's hosted zone "Z0PRODUCTION0EXAMPLE"\n`,
      );
      assert.deepEqual(p.listing(), before);
    } finally {
      p.cleanup();
    }
  });
});
