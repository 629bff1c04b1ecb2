/**
 * Writes docs/reference/layout.md: each folder and its one job (FOLDERS, below),
 * and the arrows between folders in words, from the rules `npm run deps` enforces
 * (.dependency-cruiser.cjs, each rule's `comment`), so the document cannot drift
 * from them. `npm run layout` writes it; `--check` only compares (tests/layout.test.ts
 * does the same, and also that every top-level source folder has a job here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../lib/atomicWrite";

export const ROOT = path.resolve(__dirname, "..");
export const LAYOUT_FILE = "docs/reference/layout.md";

/** Each top-level entry and its one job; a folder ends in `/`. Source folders first, in the order a reader meets them. */
export const FOLDERS: readonly (readonly [string, string])[] = [
  ["Pulumi.yaml, Pulumi.<stack>.yaml", "the project, and one file per environment"],
  ["index.ts", "the Pulumi program, thin: load and validate the stack's config, declare the Environment, export its outputs"],
  ["components/", "the resources: Environment composes Database, Cache, Bucket, Secrets, Sentry, Dns and AppEnv (one file each)"],
  [
    "config/",
    "stack and project files: reading them, the schema, defaults per profile, naming, tiers, runners, protection and replacement decisions, database privileges, isolation (foreign identifiers), the typed config (stackConfig.ts), the workflows' stack list (workflowStacks.ts) and the review template (template.ts); validation/ checks one stack as a whole (validate.ts: the pipeline; steps.ts: its steps; checks.ts: the cross-file checks; review.ts: the review profile)",
  ],
  ["plan/", "the offline plan: the mock runtime, the plan and its diff, rendering, the demo outputs"],
  ["gate/", "what may happen to a stack: the data-safety gate (gate.ts), and the deploy guard and account check a deploy job runs first (deploy.ts)"],
  [
    "ops/",
    "operations on deployed stacks, each run by its command: credential rotation (rotate.ts), the pre-deploy RDS snapshot (snapshot.ts), the review-stack sweeper (sweep.ts), the blue/green swap (swap.ts), and the Pulumi CLI runner they share (pulumi.ts)",
  ],
  [
    "refresh/",
    "npm run refresh: the rules file's reader and checks (rules.ts), the copy, masks, checks and rename as steps (engine.ts), and a refresh or prune run in order (run.ts)",
  ],
  ["envfiles/", "env files: their format, reading and the export checks, masking and the templates"],
  ["verify/", "the checklist, the cross-environment audit, the live checks (live/: Postgres, Redis), the smoke check and the local set-up"],
  ["doctor/", "what must be true before a stack's first deploy, checked live, and the example values a stack file must not keep"],
  ["iam/", "the deploy role of one stack as code: its permissions, trust policy and permissions boundary"],
  ["policy/", "the policy pack (@pulumi/policy) over the same rule functions the plan uses"],
  [
    "lib/",
    "leaf helpers that know nothing of the project: connection URLs (libpq rules), hosts and loopback, git questions, fingerprints, markdown escaping, URNs, email addresses, errors, the atomic file writer",
  ],
  ["cli/", "the commands: parse flags, call a module, print, return the exit code; main.ts is the mina-infra bin; cli/lib/ holds what only commands need"],
  ["scripts/", "the repository's own tools: this document's generator (layout.ts)"],
  ["tests/", "mocha, in parallel: pure units, the program under mocks, the commands in-process (a few end to end through the bin), real Postgres and Redis"],
  ["docs/", "the documentation; reference/layout.md is this file"],
  [
    ".github/workflows/",
    "preview.yml (pull requests), deploy.yml (every stack, production-tier last), review.yml (review environments), sweep.yml (the daily sweep)",
  ],
  [".ci/run", "the CI entry: installs, starts PostgreSQL and Redis, runs npm test, then .ci/extra-stacks"],
  [".ci/extra-stacks", "the suite again in a copy of the checkout with extra stack files (qa, demo, pr-7)"],
];

/** Top-level folders that hold no source of the project (and need no job above). */
const NOT_SOURCE = new Set(["node_modules", "dist", "bin", ".git"]);

/** The top-level folders holding TypeScript: each one must have a job in FOLDERS. */
export function sourceFolders(root = ROOT): string[] {
  const holdsTs = (dir: string): boolean =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .some((e) => (e.isDirectory() ? !NOT_SOURCE.has(e.name) && holdsTs(path.join(dir, e.name)) : e.name.endsWith(".ts")));
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !NOT_SOURCE.has(e.name) && holdsTs(path.join(root, e.name)))
    .map((e) => `${e.name}/`)
    .sort();
}

interface Rule {
  readonly name: string;
  readonly comment?: string;
}

/** The rules `npm run deps` enforces, as .dependency-cruiser.cjs writes them. */
export function dependencyRules(root = ROOT): Rule[] {
  const file = path.join(root, ".dependency-cruiser.cjs");
  delete require.cache[file];
  return (require(file) as { forbidden: Rule[] }).forbidden;
}

/** The document, from FOLDERS and the dependency rules. */
export function renderLayout(root = ROOT): string {
  const rules = dependencyRules(root);
  const undescribed = rules.filter((r) => !r.comment).map((r) => r.name);
  if (undescribed.length > 0) throw new Error(`.dependency-cruiser.cjs: rule ${undescribed.join(", ")} has no comment to describe it`);
  return [
    "# Layout",
    "",
    "<!-- Generated by `npm run layout` (scripts/layout.ts) from its folder list and .dependency-cruiser.cjs; edit those, not this file. -->",
    "",
    "Each folder has one job, and the imports run one way. `npm run deps` (dependency-cruiser) enforces",
    "the rules below on the source folders; tests may import anything.",
    "",
    "| Folder | Its job |",
    "| --- | --- |",
    ...FOLDERS.map(([f, job]) => `| \`${f}\` | ${job} |`),
    "",
    "## Rules",
    "",
    ...rules.map((r) => `- **${r.name}**: ${r.comment}`),
    "",
  ].join("\n");
}

if (require.main === module) {
  const file = path.join(ROOT, LAYOUT_FILE);
  const want = renderLayout();
  const have = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  if (process.argv.includes("--check")) {
    if (have !== want) {
      process.stderr.write(`error: ${LAYOUT_FILE} is out of date: run npm run layout\n`);
      process.exitCode = 1;
    }
  } else if (have !== want) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, want, 0o644);
    process.stdout.write(`wrote ${LAYOUT_FILE}\n`);
  }
}
