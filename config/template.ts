/**
 * New environments from a committed template (`env:new`). A template,
 * `Pulumi.<tier>.template.yaml` beside the stack files, is a stack file with the
 * placeholder `${name}` wherever the environment's name goes; it is never a stack
 * (`stackOfFileName`). `newEnvironment` substitutes a name, checks the name and the
 * result (the real validation, against every stack file of the project), and only
 * then writes `Pulumi.<name>.yaml`, never over an existing file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { writeFileAtomic } from "../lib/atomicWrite";
import { ConfigError, ConfigErrors } from "./errors";
import { withProjectConfig, readAllStacks } from "./index";
import { identity, IdentityIndex, describeForeign } from "./isolation";
import { checkNameLimits, deriveNames, ENVIRONMENT_PATTERN, MAX_ENVIRONMENT_LENGTH } from "./naming";
import { type ProjectFile, readProject } from "./project";
import { parseStackFile, type RawStackConfig, SecureValue, stackFilePath, TEMPLATE_FILE } from "./raw";
import { productionEnvironmentNamed, REVIEW_PROFILE } from "./validation/review";
import { identityIndexFor, validateStack } from "./validation/validate";
import type { ValidatedStack } from "./stackConfig";

/** Where the environment's name goes in a template. The only placeholder. */
export const PLACEHOLDER = "${name}";

/**
 * The stack tag that marks a stack as made by `env:new`, set right after
 * `pulumi stack init`. Stacks without it are never swept.
 */
export const CREATED_BY_TAG = { name: "mina:created-by", value: "env:new" } as const;

/** Pulumi's limit on a stack name. */
export const PULUMI_STACK_NAME_LIMIT = 100;

/** A refusal: one problem a line; `usage` when the command was called wrongly (a bad name, no such template). */
export class NewEnvironmentRefused extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly usage = false,
  ) {
    super(problems.join("\n"));
    this.name = "NewEnvironmentRefused";
  }
}

export interface NewEnvironment {
  /** The new stack (= environment) name. */
  readonly stack: string;
  /** The tier, whose template it was made from (`review`). */
  readonly tier: string;
  /** Where the stack file goes: `Pulumi.<stack>.yaml` in the project's stack directory. */
  readonly file: string;
  /** The template it was made from. */
  readonly template: string;
  /** The stack file's text: the generated header, then the template with the name substituted. */
  readonly text: string;
  readonly profile: string;
  readonly databaseMode: string;
  /** Secret config to set before `pulumi up`, as the plan lists it. */
  readonly missingSecrets: readonly string[];
  /** The commands to run next, in order. */
  readonly next: readonly string[];
}

/** The file name of a tier's template. */
export function templateFileName(tier: string): string {
  return `Pulumi.${tier}.template.yaml`;
}

/** The tiers that have a template in the project's stack directory, sorted. */
export function listTemplates(dir: string): string[] {
  const stackDir = readProject(dir).stackDir;
  return fs
    .readdirSync(stackDir)
    .map((f) => TEMPLATE_FILE.exec(f)?.[1])
    .filter((t): t is string => t !== undefined)
    .sort();
}

/**
 * Why `name` cannot name an environment, one reason a line; empty when it can.
 * The pattern keeps every derived name inside its provider's limits (S3 3-63
 * characters, RDS 63 with no double or trailing hyphen, PostgreSQL 63).
 */
export function environmentNameProblems(name: string): string[] {
  if (ENVIRONMENT_PATTERN.test(name)) return [];
  const why: string[] = [];
  if (name.length > MAX_ENVIRONMENT_LENGTH)
    why.push(`is ${name.length} characters; the limit is ${MAX_ENVIRONMENT_LENGTH}, so that every derived name fits its provider's limit`);
  if (name.length < 2) why.push("needs at least 2 characters");
  if (/[A-Z]/.test(name)) why.push("has uppercase letters: S3 bucket and RDS names are lowercase");
  if (/[^A-Za-z0-9-]/.test(name))
    why.push(`has characters other than letters, digits and hyphens (${JSON.stringify([...new Set(name.replace(/[A-Za-z0-9-]/g, ""))].join(""))})`);
  if (name !== "" && !/^[A-Za-z]/.test(name)) why.push("must start with a letter");
  if (name.includes("--")) why.push("has a double hyphen, which an RDS identifier cannot");
  if (name.endsWith("-")) why.push("ends with a hyphen, which an RDS identifier cannot");
  if (why.length === 0) why.push("is not lowercase letters, digits and single hyphens");
  return why.map((w) => `"${name}" cannot name an environment: ${w}`);
}

/** The lines of a file's text that hold a comment, with the comment (outside quotes). */
function comments(text: string): { line: number; comment: string }[] {
  const out: { line: number; comment: string }[] = [];
  text.split("\n").forEach((l, i) => {
    let quote: string | undefined;
    for (let j = 0; j < l.length; j++) {
      const c = l[j];
      if (quote) {
        if (quote === '"' && c === "\\") j++;
        else if (c === quote) quote = undefined;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === "#" && (j === 0 || /\s/.test(l[j - 1]))) {
        out.push({ line: i + 1, comment: l.slice(j + 1) });
        return;
      }
    }
  });
  return out;
}

/** `value` with every placeholder replaced, keys and nested values included. */
function substituted(value: unknown, name: string): unknown {
  if (typeof value === "string") return value.split(PLACEHOLDER).join(name);
  if (Array.isArray(value)) return value.map((v) => substituted(v, name));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [substituted(k, name), substituted(v, name)]));
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The template's own leading comment (it describes the template) is replaced by the generated header. */
function body(template: string): string {
  const lines = template.split("\n");
  let i = 0;
  while (i < lines.length && (lines[i].trim() === "" || lines[i].trimStart().startsWith("#"))) i++;
  return lines.slice(i).join("\n");
}

function header(stack: string, tier: string): string {
  return [
    `# Made by env:new from ${templateFileName(tier)} (npm run env:new -- ${stack} --from ${tier}).`,
    "# The stack file of a pull request's review environment: do not commit it.",
    `# Its stack carries the tag ${CREATED_BY_TAG.name}=${CREATED_BY_TAG.value}, the mark of a stack made by env:new.`,
    "",
  ].join("\n");
}

/** The commands to run after the stack file is written, in order. */
export function nextCommands(stack: string, missingSecrets: readonly string[]): string[] {
  return [
    `pulumi stack init ${stack}`,
    `pulumi stack tag set ${CREATED_BY_TAG.name} ${CREATED_BY_TAG.value} --stack ${stack}`,
    ...missingSecrets.map((key) => `pulumi config set --secret ${key} <value> --stack ${stack}`),
    `pulumi up --stack ${stack}`,
  ];
}

/**
 * Makes the stack file of environment `name` from the template of `tier`, in the
 * project `dir`, without writing it. Throws `NewEnvironmentRefused` listing every
 * problem: a name that cannot name an environment, or names production or the tier;
 * a stack file that exists; a template that is not one (a secret, a field other than
 * `config`, no placeholder, another profile than review); a placeholder left, a value
 * whose type the name changes, a derived name over its provider's limit; and
 * whatever the config validation refuses in the result, against every stack file
 * (another environment's identifiers included, in comments too).
 */
export function prepareNewEnvironment(dir: string, name: string, tier: string): NewEnvironment {
  const nameProblems = environmentNameProblems(name);
  if (nameProblems.length > 0) throw new NewEnvironmentRefused(nameProblems, true);
  const project = readProject(dir);
  const template = findTemplate(dir, project.stackDir, tier);
  const file = path.join(project.stackDir, `Pulumi.${name}.yaml`);
  const draft: Draft = { name, tier, fileName: path.basename(file), tname: path.basename(template) };
  const problems = nameClashes(dir, project.stackDir, draft);

  const templateText = fs.readFileSync(template, "utf8");
  const fromTemplate = readTemplate(templateText, draft);
  problems.push(...fromTemplate.problems);

  const head = header(name, tier);
  const bodyText = body(templateText).split(PLACEHOLDER).join(name);
  const text = head + bodyText;
  const result = readResult(text, project, draft);
  problems.push(...result.problems);
  const { raw } = result;
  if (raw && fromTemplate.raw) problems.push(...resultProblems(raw, fromTemplate.raw, draft));
  if (problems.length > 0 || !raw) throw new NewEnvironmentRefused(problems);

  const validated = validateAgainstEveryStack(dir, raw, project, { head, bodyText }, draft, problems);
  if (problems.length > 0 || !validated) throw new NewEnvironmentRefused(problems);
  const { config, missingSecrets } = validated;
  return {
    stack: name,
    tier,
    file,
    template,
    text,
    profile: config.profile,
    databaseMode: config.database.mode,
    missingSecrets,
    next: nextCommands(name, missingSecrets),
  };
}

/** What the checks of a new environment name in their messages: the environment, its tier, the new stack file's and the template's file names. */
interface Draft {
  readonly name: string;
  readonly tier: string;
  readonly fileName: string;
  readonly tname: string;
}

/** A stack file read as part of the checks: its config when it parses, and the problems found in it. */
interface Read {
  readonly raw?: RawStackConfig;
  readonly problems: string[];
}

/** The path of the tier's template; a usage refusal, listing the templates there are, when there is none. */
function findTemplate(dir: string, stackDir: string, tier: string): string {
  const templateName = templateFileName(tier);
  const template = [templateName].map((f) => path.join(stackDir, f)).find((f) => fs.existsSync(f));
  if (!TEMPLATE_FILE.test(templateName) || !template) {
    const tiers = listTemplates(dir);
    throw new NewEnvironmentRefused([`no template ${templateName} in ${stackDir} (templates: ${tiers.join(", ") || "none"})`], true);
  }
  return template;
}

/** The name may be neither production's nor the tier's, nor that of a stack file there is. */
function nameClashes(dir: string, stackDir: string, { name, tier, tname }: Draft): string[] {
  const problems: string[] = [];
  const production = productionEnvironmentNamed(name, readAllStacks(dir));
  if (production !== undefined) {
    problems.push(`"${name}" names the production environment "${production}": env:new never makes an environment with a production name`);
  }
  if (name === tier) problems.push(`"${name}" is the tier's own name: every environment made from ${tname} carries it, so none may be named so`);
  // Any file Pulumi or a reader could take for this stack's: Pulumi.<name>.yml and .json too.
  const existing = stackFilePath(dir, name) ?? [".yml", ".json"].map((ext) => path.join(stackDir, `Pulumi.${name}${ext}`)).find((f) => fs.existsSync(f));
  if (existing) problems.push(`${path.basename(existing)} already exists: env:new never replaces a stack file; pick another name`);
  return problems;
}

/** The template, as a template: it parses, holds config only, no secret, the review profile, and the one placeholder. */
function readTemplate(templateText: string, { tier, tname }: Draft): Read {
  const problems: string[] = [];
  let raw: RawStackConfig | undefined;
  try {
    raw = parseStackFile(templateText, tier, tname);
  } catch (e) {
    problems.push((e as Error).message);
  }
  if (raw) problems.push(...templateContentProblems(templateText, raw, tname));
  problems.push(...placeholderProblems(templateText, tname));
  return { raw, problems };
}

/** A template holds config only, no secret, and the review profile. */
function templateContentProblems(templateText: string, templateRaw: RawStackConfig, tname: string): string[] {
  const problems: string[] = [];
  const top = Object.keys((YAML.parse(templateText) ?? {}) as object);
  for (const key of top.filter((k) => k !== "config")) {
    problems.push(
      `${tname}: ${key}: a template holds config only: every environment made from it would share this field; pulumi stack init gives each stack its own`,
    );
  }
  for (const key of new Set(templateRaw.meta?.ciphertexts.map((c) => c.key))) {
    problems.push(`${tname}: ${key}: a template holds no secret: every environment would share it; each sets its own with pulumi config set --secret`);
  }
  const profile = templateRaw.values["mina:profile"];
  if (profile !== REVIEW_PROFILE) {
    problems.push(
      `${tname}: mina:profile: is ${profile === undefined ? "not set" : JSON.stringify(profile)}; env:new makes review environments only: set mina:profile: ${REVIEW_PROFILE}`,
    );
  }
  return problems;
}

/** A template uses the one placeholder, and no other. */
function placeholderProblems(templateText: string, tname: string): string[] {
  const problems: string[] = [];
  const placeholders = [...templateText.matchAll(/\$\{([^}\n]*)\}/g)].map((m) => m[0]);
  for (const p of new Set(placeholders.filter((p) => p !== PLACEHOLDER))) problems.push(`${tname}: unknown placeholder ${p}; the only one is ${PLACEHOLDER}`);
  if (!placeholders.includes(PLACEHOLDER)) problems.push(`${tname}: has no ${PLACEHOLDER}: every environment made from it would be the same environment`);
  return problems;
}

/** The result, the stack file's text: no placeholder left in it, and it parses, with the project's config. */
function readResult(text: string, project: ProjectFile, { name, fileName }: Draft): Read {
  const problems: string[] = [];
  text.split("\n").forEach((l, i) => {
    if (l.includes("${"))
      problems.push(`${fileName} line ${i + 1}: a placeholder is left after substitution (${JSON.stringify(l.trim())}); the only one is ${PLACEHOLDER}`);
  });
  let raw: RawStackConfig | undefined;
  try {
    raw = withProjectConfig(parseStackFile(text, name, fileName), project);
  } catch (e) {
    problems.push((e as Error).message);
  }
  return { raw, problems };
}

/** The result against its template: every value what substitution makes of it, the derived names within their limits, a share domain of its own. */
function resultProblems(raw: RawStackConfig, templateRaw: RawStackConfig, { name, fileName, tname }: Draft): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(templateRaw.values)) {
    if (value instanceof SecureValue) continue; // refused with the template
    if (!sameValue(raw.values[key], substituted(value, name))) {
      problems.push(`${fileName}: ${key}: substituting "${name}" changes what the value is (${JSON.stringify(raw.values[key])}); quote it in ${tname}`);
    }
  }
  const bucket = typeof raw.values["mina:bucketName"] === "string" ? (raw.values["mina:bucketName"] as string) : undefined;
  for (const p of checkNameLimits(deriveNames(name, { bucket }))) problems.push(`${fileName}: ${p}`);
  if (name.length > PULUMI_STACK_NAME_LIMIT)
    problems.push(`${fileName}: stack name "${name}" is ${name.length} characters; Pulumi's limit is ${PULUMI_STACK_NAME_LIMIT}`);
  const domain = raw.values["mina:shareDomain"];
  if (typeof domain === "string" && !new IdentityIndex([identity(name)]).names(domain, name)) {
    problems.push(`${tname}: mina:shareDomain: "${domain}" does not carry ${PLACEHOLDER}: every environment needs a share domain of its own`);
  }
  return problems;
}

/**
 * The real validation, against every stack file, as `npm run plan` and `pulumi up` will run it,
 * and the comments checked for another environment's identifiers. Adds what it finds to `problems`.
 */
function validateAgainstEveryStack(
  dir: string,
  raw: RawStackConfig,
  project: ProjectFile,
  text: { head: string; bodyText: string },
  { name, fileName }: Draft,
  problems: string[],
): ValidatedStack | undefined {
  const siblings = [...readAllStacks(dir).filter((s) => s.stack !== name), raw];
  const index = identityIndexFor(raw, siblings);
  // Comments are not config, but a file made from a template carries no trace of another environment.
  const headLines = text.head.split("\n").length - 1;
  for (const { line, comment } of comments(text.bodyText)) {
    for (const m of index.findForeign(comment, name)) problems.push(`${fileName} line ${headLines + line}: a comment ${describeForeign(m)}`);
  }
  try {
    return validateStack(raw, { siblings, project, requireSecrets: false });
  } catch (e) {
    if (e instanceof ConfigErrors) problems.push(...e.errors.map((x) => x.message));
    else if (e instanceof ConfigError) problems.push(e.message);
    else throw e;
    return undefined;
  }
}

/**
 * Makes and writes `Pulumi.<name>.yaml` from the template of `tier` (see
 * `prepareNewEnvironment`): atomically, and never over a file, even one made
 * since the checks.
 */
export function newEnvironment(dir: string, name: string, tier: string): NewEnvironment {
  const made = prepareNewEnvironment(dir, name, tier);
  try {
    writeFileAtomic(made.file, made.text, 0o644, { exclusive: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") {
      throw new NewEnvironmentRefused([`${path.basename(made.file)} already exists: env:new never replaces a stack file; pick another name`]);
    }
    throw e;
  }
  return made;
}
