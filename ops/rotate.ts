/**
 * Credential rotation: which resources to replace so that one emitted variable
 * gets a new credential, and whether a preview of that replacement does exactly
 * that and nothing more. The resources are the ones the program declares for the
 * stack (run under the mock runtime, as the offline plan does); each choice must
 * find exactly one resource, so a program that changed shape refuses instead of
 * replacing something else.
 *
 * Running it (the end of this file): who approved it (a production-tier stack: the
 * commit being run, as for a deploy), the targets, and the preview, gate and up.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { loadStackOffline, type RawStackConfig } from "../config";
import { guardRotation } from "../gate/deploy";
import {
  checkCommitApproval,
  decide,
  type DangerousOp,
  dangerousFromPreview,
  type GateDecision,
  GateInputError,
  type PreviewDigest,
  parsePreview,
  previewProblems,
  sumChangeSummaries,
} from "../gate/gate";
import { CommandError, firstLine } from "../lib/errors";
import { cleanGitEnvironment, workTreeOf } from "../lib/git";
import { parseUrn } from "../lib/urn";
import type { RecordedResource } from "../plan/mockRuntime";
import { runPulumi, shownCommand } from "./pulumi";

/** What can be rotated, as `npm run rotate -- --stack S WHAT` names it. */
export const ROTATE_CHOICES = ["secret-key", "session-secret", "database-password", "redis", "aws-key", "all"] as const;
export type RotateChoice = (typeof ROTATE_CHOICES)[number];
type One = Exclude<RotateChoice, "all">;

/** What `all` rotates: every choice that a replacement rotates safely (not redis: see REDIS_REFUSAL). */
export const ALL_SAFE: readonly One[] = ["secret-key", "session-secret", "database-password", "aws-key"];

/**
 * Why `redis` is refused: Upstash's RedisDatabase has no input that resets its
 * password (it is an output only), and replacing the database loses its data.
 */
export const REDIS_REFUSAL =
  "the Upstash Redis password cannot be reset from Pulumi (the provider has no password input) and replacing the database loses its data: reset it in the Upstash console (database > Reset password), then `pulumi refresh --stack STACK` and `pulumi up --stack STACK` so REDIS_URL is read anew, then `npm run env -- --stack STACK --force`";

export interface RotationTarget {
  readonly what: One;
  /** The URN as the engine knows it (parent types included): what `--replace` takes. */
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** The emitted variables whose value changes. */
  readonly variables: readonly string[];
  /** What else changes as a consequence (one line), if anything. */
  readonly alsoChanges?: string;
  /** A resource whose in-place update is part of the rotation (the PostgreSQL role's password). */
  readonly updated?: { readonly urn: string; readonly type: string; readonly name: string; readonly fields: readonly string[] };
  /** The app env secret's version: the env changes, so it is stored anew (replaced), as part of the rotation. */
  readonly delivered?: { readonly urn: string; readonly type: string; readonly name: string };
}

/** The type of the app env secret's version (components/appEnv.ts): every rotation replaces it. */
export const ENV_VERSION_TYPE = "aws:secretsmanager/secretVersion:SecretVersion";

/** What the app must restart to pick a variable up, one line each. */
export const RESTART: Readonly<Record<string, string>> = {
  SECRET_KEY: "SECRET_KEY: restart every web process; everything signed with the old key (sessions, tokens) is signed anew, so every user is logged out",
  SESSION_SECRET: "SESSION_SECRET: restart every web process; existing sessions are invalidated, so every user logs in again",
  DATABASE_URL: "DATABASE_URL: restart web processes and workers so they reconnect with the new password; new connections with the old one fail at once",
  REDIS_URL: "REDIS_URL: restart web processes and workers so they reconnect to Redis",
  AWS_ACCESS_KEY_ID:
    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY: restart every process holding the S3 client (web and workers); the old key is deleted with the replacement, so its calls fail at once",
};

/** The URN the engine gives a resource: its parents' types joined with `$` (the stack's own type left out). */
export function engineUrn(r: Pick<RecordedResource, "type" | "name" | "parent">, stack: string, project: string): string {
  let qualified = r.type;
  const m = /^urn:pulumi:.*?::.*?::(.*?)::.*$/s.exec(r.parent);
  if (m && m[1] !== "pulumi:pulumi:Stack") qualified = `${m[1]}$${r.type}`;
  return `urn:pulumi:${stack}::${project}::${qualified}::${r.name}`;
}

const RULES: Record<Exclude<One, "redis">, { type: string; suffix: RegExp; variables: string[] }> = {
  "secret-key": { type: "random:index/randomBytes:RandomBytes", suffix: /-secrets-secret-key$/, variables: ["SECRET_KEY"] },
  "session-secret": { type: "random:index/randomBytes:RandomBytes", suffix: /-secrets-session-secret$/, variables: ["SESSION_SECRET"] },
  // The app role's password, in both database modes (the RDS master password is the deploy's, in no variable).
  "database-password": { type: "random:index/randomPassword:RandomPassword", suffix: /-database-role-password$/, variables: ["DATABASE_URL"] },
  "aws-key": { type: "aws:iam/accessKey:AccessKey", suffix: /-bucket-key$/, variables: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] },
};

export class RotationError extends Error {}

/** Parses WHAT; throws a one-line RotationError listing the choices. */
export function parseChoice(what: string | undefined): RotateChoice {
  if (what !== undefined && (ROTATE_CHOICES as readonly string[]).includes(what)) return what as RotateChoice;
  throw new RotationError(`${what === undefined ? "say what to rotate" : `cannot rotate "${what}"`}: choose one of ${ROTATE_CHOICES.join(", ")}`);
}

/**
 * The resources to replace for `what` among `resources` (the stack's, as the
 * program declares them). `redis` throws (see REDIS_REFUSAL). Each rule must
 * match exactly one resource.
 */
export function chooseRotation(what: RotateChoice, resources: readonly RecordedResource[], stack: string, project = "mina"): RotationTarget[] {
  if (what === "redis") throw new RotationError(`refusing to rotate redis on ${stack}: ${REDIS_REFUSAL.replace(/STACK/g, stack)}`);
  const ones: One[] = what === "all" ? [...ALL_SAFE] : [what];
  const versions = resources.filter((r) => r.type === ENV_VERSION_TYPE);
  if (versions.length > 1) throw new RotationError(`${stack}: expected at most one app env secret version, found ${versions.length}; refusing to guess`);
  const delivered = versions.length === 1 ? { delivered: { urn: engineUrn(versions[0], stack, project), type: versions[0].type, name: versions[0].name } } : {};
  return ones.map((one) => ({ ...target(one), ...delivered }));

  function target(one: One): RotationTarget {
    const rule = RULES[one as Exclude<One, "redis">];
    const found = resources.filter((r) => r.type === rule.type && rule.suffix.test(r.name));
    if (found.length !== 1) {
      throw new RotationError(`${stack}: expected exactly one ${rule.type} behind ${rule.variables.join(", ")}, found ${found.length}; refusing to guess`);
    }
    const r = found[0];
    const urn = engineUrn(r, stack, project);
    if (one === "database-password") {
      const roles = resources.filter((x) => x.type === "postgresql:index/role:Role");
      const role = roles.length === 1 ? roles[0] : undefined;
      return {
        what: one,
        urn,
        type: r.type,
        name: r.name,
        variables: rule.variables,
        ...(role
          ? {
              alsoChanges: `the PostgreSQL role ${role.name} is updated in place with the new password (no replacement, no data lost)`,
              updated: { urn: engineUrn(role, stack, project), type: role.type, name: role.name, fields: ["password"] },
            }
          : {}),
      };
    }
    return { what: one, urn, type: r.type, name: r.name, variables: rule.variables };
  }
}

/**
 * The Pulumi commands of a rotation, as arguments (without the leading `pulumi`):
 * those of a deploy (replacement steps shown, the policy pack), with the
 * replacements asked for.
 */
export function rotationCommands(stack: string, targets: readonly RotationTarget[], planFile = "plan.json"): { preview: string[]; up: string[] } {
  const replace = targets.flatMap((t) => ["--replace", t.urn]);
  return {
    preview: ["preview", "--stack", stack, "--json", "--save-plan", planFile, "--show-replacement-steps", "--policy-pack", "policy", ...replace],
    up: ["up", "--stack", stack, "--yes", "--plan", planFile, "--policy-pack", "policy", ...replace],
  };
}

export interface RotationGate {
  readonly ok: boolean;
  readonly decision: GateDecision;
  /** Operations needing approval that are not part of the rotation: they block. */
  readonly unexpected: readonly DangerousOp[];
  /** Chosen resources the preview does not replace: they block. */
  readonly missing: readonly string[];
}

const sameResource = (o: DangerousOp, t: { type: string; name: string }) => o.type === t.type && o.name === t.name;

/**
 * The data-safety gate on the rotation's preview: approved (by the commit, the
 * same rule as a deploy's) for exactly the credential rotations chosen, and
 * blocked by anything else it finds, by a chosen resource it does not replace, and
 * by an incomplete preview.
 */
export function gateRotation(preview: PreviewDigest, targets: readonly RotationTarget[], approval: { commit?: string; approvedCommit: string }): RotationGate {
  const dangerous = dangerousFromPreview(preview);
  const expected = (o: DangerousOp) =>
    o.kind === "rotates a credential" &&
    targets.some(
      (t) =>
        sameResource(o, t) ||
        (t.updated !== undefined && o.op === "update" && sameResource(o, t.updated)) ||
        (t.delivered !== undefined && o.op === "replace" && sameResource(o, t.delivered)),
    );
  const unexpected = dangerous.filter((o) => !expected(o));
  const missing = targets.filter((t) => !dangerous.some((o) => o.op === "replace" && sameResource(o, t))).map((t) => t.urn);
  const incomplete = [
    ...previewProblems(preview),
    ...unexpected.map((o) => `the preview also has ${o.kind} of ${o.type} ${o.name}, which is not part of this rotation: deploy that change on its own first`),
    ...missing.map((u) => `the preview does not replace ${parseUrn(u)?.name ?? u}`),
  ];
  const decision = decide(dangerous, [], {
    incomplete,
    changeSummary: sumChangeSummaries([preview]),
    commit: approval.commit,
    approvedCommit: approval.approvedCommit,
  });
  return { ok: decision.ok, decision, unexpected, missing };
}

// ---------------------------------------------------------------- running it

/** What a rotation is approved by: the commit it runs from, and the commit a person approved. */
export interface RotationApproval {
  readonly commit?: string;
  readonly approvedCommit: string;
}

/** The current commit (full SHA), or undefined outside a git work tree. */
function gitHead(dir: string): string | undefined {
  const r = spawnSync("git", ["rev-parse", "HEAD"], { cwd: dir, env: cleanGitEnvironment(), encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Production: the approval names a commit, and what runs is the work tree. Refuses
 * a tree that is not that commit as it is: a changed, staged, deleted or untracked
 * file (anything `git status` lists; ignored files such as env files aside) is code
 * or config that no one approved.
 */
function refuseChangedWorkTree(dir: string, stack: string): void {
  const tree = workTreeOf(dir);
  if (!tree || tree.changes.length === 0) return;
  const shown = tree.changes
    .slice(0, 3)
    .map((l) => l.trim().replace(/\s+/, " "))
    .join(", ");
  const more = tree.changes.length > 3 ? ` and ${tree.changes.length - 3} more` : "";
  throw new CommandError(
    `refusing to rotate on ${stack} (production tier): the work tree ${tree.root} is not the approved commit as it is (git status: ${shown}${more}); commit, stash (git stash --include-untracked) or discard the changes, so that what runs is what was approved`,
  );
}

/**
 * Who approved the rotation. Production: the same rule as a deploy's gate, approval
 * by the commit being run (`approvedCommit` must be HEAD, the work tree that commit
 * as it is). Any other stack: running the command is the approval, for the commit it
 * runs from; outside a git checkout there is none, and applying is refused.
 */
export function rotationApproval(
  dir: string,
  stack: string,
  opts: { readonly production: boolean; readonly approvedCommit?: string; readonly apply: boolean; readonly shownDir: string },
): RotationApproval | undefined {
  const head = gitHead(dir);
  if (opts.production) {
    const check = checkCommitApproval(head, opts.approvedCommit ?? "");
    if (!check.approved) {
      throw new CommandError(
        `refusing to rotate on ${stack} (production tier): ${check.problem ?? `pass --approved-commit with the full SHA of the current commit${head ? ` (${head})` : ""}`}`,
      );
    }
    refuseChangedWorkTree(dir, stack);
    return { commit: head, approvedCommit: opts.approvedCommit! };
  }
  if (head) return { commit: head, approvedCommit: head };
  if (opts.apply) {
    throw new CommandError(
      `refusing to rotate on ${stack}: ${opts.shownDir} is not in a git checkout with a commit, and a rotation is approved for the commit it runs from`,
    );
  }
  return undefined;
}

/** The resources to replace for `what`, found in what the program declares for the stack (run under the mock runtime). */
export async function rotationTargets(dir: string, stack: string, siblings: readonly RawStackConfig[], what: RotateChoice): Promise<RotationTarget[]> {
  const { config } = loadStackOffline(dir, stack, [...siblings]);
  // Loaded here, not at the top: the SDK is heavy, and the rest of this file needs none of it.
  const { runUnderMocks } = require("../plan/mockRuntime") as typeof import("../plan/mockRuntime");
  const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
  const { resources } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
  try {
    return chooseRotation(what, resources, stack);
  } catch (e) {
    if (e instanceof RotationError) throw new CommandError(e.message);
    throw e;
  }
}

/**
 * Applies a rotation: the rotation guard on both commands, `pulumi preview --replace
 * URN... --save-plan`, the data-safety gate on that preview (approved for exactly this
 * rotation; `gated` hears its decision before anything is applied), then `pulumi up
 * --plan`. Any failure is one line saying what was, or was not, rotated.
 */
export function applyRotation(
  dir: string,
  stack: string,
  targets: readonly RotationTarget[],
  approval: RotationApproval,
  env: NodeJS.ProcessEnv,
  out: { say(line: string): void; gated(decision: GateDecision): void },
): GateDecision {
  const shown = rotationCommands(stack, targets);
  for (const c of [shown.preview, shown.up]) {
    const refused = guardRotation(stack, c.join(" "), env);
    if (refused.length > 0) throw new CommandError(refused[0]);
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-rotate-"));
  try {
    const planFile = path.join(work, "plan.json");
    const cmds = rotationCommands(stack, targets, planFile);
    out.say(`$ ${shownCommand(shown.preview)}`);
    const p = runPulumi(cmds.preview, dir, env);
    if (!p.ok) throw new CommandError(`${p.problem.replace(planFile, "plan.json")}; nothing was rotated`);
    let gate: RotationGate;
    try {
      gate = gateRotation(parsePreview(JSON.parse(p.stdout), "the rotation's preview"), targets, approval);
    } catch (e) {
      const why = e instanceof GateInputError ? e.message : `the rotation's preview is not JSON (${firstLine(e)})`;
      throw new CommandError(`${why}; nothing was rotated`);
    }
    out.gated(gate.decision);
    if (!gate.ok)
      throw new CommandError(
        `the data-safety gate blocked the rotation of ${stack}${gate.decision.incomplete.length > 0 ? `: ${gate.decision.incomplete[0]}` : ""}; nothing was rotated`,
      );
    out.say(`$ ${shownCommand(shown.up)}`);
    const u = runPulumi(cmds.up, dir, env);
    if (!u.ok) throw new CommandError(`${u.problem.replace(planFile, "plan.json")}; check \`pulumi stack history --stack ${stack}\` for what was applied`);
    return gate.decision;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
