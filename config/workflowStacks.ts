/**
 * The stacks the workflows handle, read from the repository: one per
 * `Pulumi.<stack>.yaml` (templates such as `Pulumi.review.template.yaml` are not
 * stacks), each with its tier. A new environment is a new file: the preview and
 * deploy workflows take their job matrices from here, so adding a stack file adds
 * its preview and its deploy, in the GitHub environment named after the stack.
 *
 * The tier decides when a stack deploys: a production-tier stack (its file says
 * `mina:profile: production`, or it is named `production`) only by dispatch, after
 * every other stack succeeded in the same run; every other stack on each push to main.
 * The same reading, failing closed, tells the sweeper and `env` which stacks are
 * production's (productionStackFiles, isProductionTier).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { misnamedStackFiles, parseStackFile, readStacksLeniently } from "./index";
import { readProject } from "./project";
import type { RawStackConfig } from "./raw";
import { templateFileName } from "./template";
import { firstLine } from "../lib/errors";
import { PROFILES, REVIEW_PROFILE } from "./defaults";
import { ENVIRONMENT_PATTERN } from "./naming";
import { DEPLOY_RUNNER, runnerProblems, runsOn } from "./runner";
import { type Tier, tierOfRaw } from "./tiers";

/** `Pulumi.<name>.template.yaml`: a template env:new copies, not a stack. */
export const isTemplate = (name: string): boolean => /\.template$/.test(name);

export interface WorkflowStack {
  /** The stack, and the GitHub environment of its deploy (`preview-<stack>` for its preview). */
  readonly stack: string;
  readonly tier: Tier;
  /** The stack in the names of its variables: `AWS_ROLE_<key>`, `AWS_PREVIEW_ROLE_<key>`. */
  readonly key: string;
  /** Why it is of the production tier (empty for the others). */
  readonly why: string;
  /** The runner labels its jobs ask for (`mina:deployRunner`), as `runs-on` takes them. */
  readonly runner: readonly string[];
}

/** A stack file the workflows cannot handle: the one line says which and why. */
export class StackListError extends Error {}

/** The variable-name form of a stack: `staging-blue` → `STAGING_BLUE`. */
export const stackKey = (stack: string): string => stack.toUpperCase().replace(/-/g, "_");

/**
 * Every stack file of the project, sorted, with its tier. Refuses (one line) a
 * name the workflows cannot carry, a file that cannot be read (its tier is
 * unknown), and a `mina:profile` that is neither production nor staging.
 */
export function workflowStacks(dir: string): WorkflowStack[] {
  let read;
  try {
    read = readStacksLeniently(dir);
  } catch (e) {
    throw new StackListError(String((e as Error).message).split("\n")[0]);
  }
  const out: WorkflowStack[] = [];
  // A Pulumi.<x>.yaml whose name cannot name a stack is refused by name, not skipped.
  const misnamed = misnamedStackFiles(dir)[0];
  if (misnamed) read.stacks.push({ stack: misnamed.stack, file: path.basename(misnamed.file), values: {} });
  for (const raw of read.stacks) {
    if (isTemplate(raw.stack)) continue;
    if (!ENVIRONMENT_PATTERN.test(raw.stack)) {
      throw new StackListError(
        `${raw.file}: "${raw.stack}" is not a stack name the workflows accept (lower case letters, digits and single inner hyphens, 2 to 24 characters, starting with a letter); a template must be named Pulumi.<name>.template.yaml`,
      );
    }
    if (raw.unreadable !== undefined) throw new StackListError(`${raw.file} cannot be read, so its tier is unknown: ${raw.unreadable.split("\n")[0]}`);
    const declared = raw.values["mina:profile"];
    if (declared !== undefined && !(PROFILES as readonly unknown[]).includes(declared)) {
      throw new StackListError(`${raw.file}: mina:profile is ${JSON.stringify(declared)}, not ${PROFILES.join(", ")}, so its tier is unknown`);
    }
    const production = tierOfRaw(raw) === "production";
    const why = !production ? "" : declared === "production" ? `${raw.file} sets mina:profile: production` : `its name reads as production`;
    const runner = runsOn(raw);
    if (runner.length === 0)
      throw new StackListError(
        `${raw.file}: ${DEPLOY_RUNNER} is not set, so its jobs have nowhere to run (its database is reachable only from inside its network)`,
      );
    out.push({ stack: raw.stack, tier: production ? "production" : "non-production", key: stackKey(raw.stack), why, runner });
  }
  return out.sort((a, b) => a.stack.localeCompare(b.stack));
}

/**
 * The review template's runner labels: where review stacks deploy and are torn down
 * (review.yml, sweep.yml); empty without a template. Refused when the template sets
 * none, or shares a label with a long-lived stack (config/runner.ts).
 */
export function reviewRunner(dir: string): string[] {
  const file = path.join(readProject(dir).stackDir, templateFileName(REVIEW_PROFILE));
  if (!fs.existsSync(file)) return [];
  const name = path.basename(file);
  let template: RawStackConfig;
  try {
    template = { ...parseStackFile(fs.readFileSync(file, "utf8"), `${REVIEW_PROFILE}-template`, name), file: name };
  } catch (e) {
    throw new StackListError(`${name} cannot be read, so review stacks have nowhere to run: ${firstLine(e)}`);
  }
  const runner = runsOn(template);
  if (runner.length === 0) throw new StackListError(`${name}: ${DEPLOY_RUNNER} is not set, so review stacks have nowhere to run`);
  const problem = runnerProblems(template, readStacksLeniently(dir).stacks)[0];
  if (problem) throw new StackListError(`${name}: ${problem[0]}: ${problem[1]}`);
  return runner;
}

export interface Matrices {
  /** Every stack: the previews. */
  readonly all: WorkflowStack[];
  /** The stacks that deploy on every push to main. */
  readonly other: WorkflowStack[];
  /** The production-tier stack a dispatch asked for, if any: it deploys after every other one. */
  readonly production: WorkflowStack[];
}

/**
 * The job matrices. `dispatched` is the stack a deploy dispatch names: when it is of
 * the production tier it joins `production`; a non-production name (or none) adds
 * nothing there; a name with no stack file is refused.
 */
export function matrices(stacks: readonly WorkflowStack[], dispatched?: string): Matrices {
  const wanted = dispatched?.trim() ?? "";
  if (wanted !== "" && !stacks.some((s) => s.stack === wanted)) {
    throw new StackListError(`no stack named ${wanted} (stacks: ${stacks.map((s) => s.stack).join(", ") || "none"})`);
  }
  return {
    all: [...stacks],
    other: stacks.filter((s) => s.tier !== "production"),
    production: stacks.filter((s) => s.tier === "production" && s.stack === wanted),
  };
}

/**
 * The matrices as `name=JSON` lines for `$GITHUB_OUTPUT` (one line each, entries
 * without `why`), and `review=`: the review template's runner labels.
 */
export function matrixOutputs(m: Matrices, review: readonly string[] = []): string {
  const entries = (list: readonly WorkflowStack[]) => JSON.stringify(list.map(({ stack, tier, key, runner }) => ({ stack, tier, key, runner })));
  return `all=${entries(m.all)}\nother=${entries(m.other)}\nproduction=${entries(m.production)}\nreview=${JSON.stringify(review)}\n`;
}

/**
 * For the sweeper: the stacks whose file in the repository makes them
 * production-tier. Fails closed: a stack file that cannot be read, or whose
 * `mina:profile` is neither production nor staging, counts as production's.
 */
export function productionStackFiles(dir: string): string[] {
  const { stacks } = readStacksLeniently(dir);
  return stacks
    .filter((raw) => !isTemplate(raw.stack))
    .filter((raw) => {
      if (raw.unreadable !== undefined) return true;
      const declared = raw.values["mina:profile"];
      if (declared !== undefined && !(PROFILES as readonly unknown[]).includes(declared)) return true;
      return tierOfRaw(raw) === "production";
    })
    .map((raw) => raw.stack);
}

/**
 * Whether the stack is of the production tier, from its stack file; a stack file that cannot be
 * read counts as production (deny by default: `env` then shows its production warning).
 */
export function isProductionTier(dir: string, stack: string): boolean {
  try {
    const raw = readStacksLeniently(dir).stacks.find((s) => s.stack === stack);
    return raw === undefined || raw.unreadable !== undefined || tierOfRaw(raw) === "production";
  } catch {
    return true;
  }
}
