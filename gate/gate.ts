/**
 * The data-safety gate: does a change delete or replace a resource that may hold
 * data, or issue a new credential? It denies by default: every deletion and
 * replacement needs a person's approval unless its type is on the reviewed list of
 * types that hold no data and no credential (`NO_DATA_TYPES` in
 * config/protection.ts). It reads the JSON of `pulumi preview --json` (what would
 * happen to deployed state) and/or the offline plan diff
 * (`npm run plan -- --base REF --json`). Approval is the pull request's label, or
 * for a deploy the commit SHA a person approved. A document that does not add up
 * blocks even with approval. The deploy guard and the account check are in deploy.ts.
 */
import { APPROVAL_KIND_RANK, type ApprovalKind, approvalKindOf, credentialInputsChanged } from "../config/protection";
import { type RetentionFacts, retentionFacts, retentionLosses } from "../config/retention";
import { replacementNote } from "../config/replacement";
import { md, oneLine } from "../lib/markdown";
import { approvalsOf, type ChangedField, DEFAULT_APPROVAL_LABEL, type PlanDiff } from "../plan/diff";
import { shortType } from "../plan/render";
import { parseUrn } from "../lib/urn";

export { DEFAULT_APPROVAL_LABEL, parseUrn };

/** Every step operation the Pulumi engine knows (`StepOps` in pkg/resource/deploy/step.go). */
export const STEP_OPS: readonly string[] = [
  "same",
  "create",
  "update",
  "delete",
  "replace",
  "create-replacement",
  "delete-replaced",
  "read",
  "read-replacement",
  "refresh",
  "discard",
  "discard-replaced",
  "remove-pending-replace",
  "import",
  "import-replacement",
];

/** Diagnostic severities that are not errors; any other severity, or none, counts as an error. */
const NON_ERROR_SEVERITIES: readonly string[] = ["debug", "info", "info#err", "warning"];

/**
 * Step operations that end the resource's current instance. A replacement shows as
 * `replace` (and, with --show-replacement-steps, as its `create-replacement` /
 * `delete-replaced` halves); `import-replacement` and `read-replacement` also take
 * the place of a managed resource.
 */
export const DESTRUCTIVE_OPS: readonly string[] = ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement", "read-replacement"];

const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced", "import-replacement", "read-replacement"]);

/** `changeSummary` keys whose count the steps must show: a delete or replace the gate cannot see would pass unseen. */
const COUNTED_OPS: readonly string[] = [...DESTRUCTIVE_OPS, "discard", "discard-replaced", "remove-pending-replace"];

export type { ApprovalKind };

export interface DangerousOp {
  readonly stack?: string;
  /** Why it needs approval. */
  readonly kind: ApprovalKind;
  /** The operation: a deletion, a replacement, or (a password set anew) an update. */
  readonly op: "delete" | "replace" | "update";
  readonly type: string;
  readonly name: string;
  /** Where the finding comes from: the engine's preview, or the offline plan diff. */
  readonly source: "preview" | "plan-diff";
  /** Why (replace reasons from the preview, the plan diff's reason). */
  readonly detail?: string;
}

export interface GateDecision {
  readonly ok: boolean;
  /** What needs approval, deletions first. */
  readonly dangerous: readonly DangerousOp[];
  readonly approvalLabel: string;
  /** Approval by label (pull requests) or by commit (deploys). */
  readonly approvalBy: "label" | "commit";
  /** The approval is present: the label is among the labels, or the approved commit is this commit. */
  readonly approved: boolean;
  /** With --approved-commit: why it does not approve this commit (one line). */
  readonly approvalProblem?: string;
  readonly commit?: string;
  readonly approvedCommit?: string;
  /** Reasons the input cannot be trusted to be complete: these block even with approval. */
  readonly incomplete: readonly string[];
  /** Operation counts from the previews' `changeSummary`, summed. */
  readonly changeSummary: Readonly<Record<string, number>>;
}

// ---------------------------------------------------------------- pulumi preview --json

/** The part of a resource state in `pulumi preview --json` the gate reads. */
export interface PreviewResourceState {
  readonly urn?: string;
  readonly type?: string;
  readonly id?: string;
  readonly protect?: boolean;
  readonly inputs?: Record<string, unknown>;
  readonly [k: string]: unknown;
}

export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly provider?: string;
  readonly oldState?: PreviewResourceState;
  readonly newState?: PreviewResourceState;
  readonly diffReasons?: readonly string[];
  readonly replaceReasons?: readonly string[];
  readonly detailedDiff?: Record<string, unknown>;
  readonly [k: string]: unknown;
}

/** The document `pulumi preview --json` prints (the engine's preview digest). Diagnostics are read whatever their shape. */
export interface PreviewDigest {
  readonly steps: readonly PreviewStep[];
  readonly diagnostics?: readonly unknown[];
  readonly changeSummary?: unknown;
  readonly duration?: number;
  readonly maybeCorrupt?: unknown;
  readonly [k: string]: unknown;
}

export class GateInputError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A value from a document, quoted for a message: one line, at most 80 characters. */
const quote = (v: unknown) => {
  const s = oneLine(typeof v === "string" ? v : (JSON.stringify(v) ?? String(v)));
  return JSON.stringify(s.length > 80 ? `${s.slice(0, 79)}…` : s);
};

/** Checks the shape of a parsed `pulumi preview --json` document. */
export function parsePreview(doc: unknown, source = "preview"): PreviewDigest {
  if (!isObject(doc)) throw new GateInputError(`${source}: not a pulumi preview --json document (expected an object)`);
  const steps = doc.steps ?? [];
  if (!Array.isArray(steps)) throw new GateInputError(`${source}: "steps" is not an array`);
  if (doc.steps === undefined && doc.changeSummary === undefined) {
    throw new GateInputError(`${source}: not a pulumi preview --json document (no "steps" and no "changeSummary")`);
  }
  steps.forEach((s, i) => {
    if (!isObject(s) || typeof s.op !== "string" || typeof s.urn !== "string") {
      throw new GateInputError(`${source}: steps[${i}] has no "op" and "urn" strings`);
    }
  });
  if (doc.diagnostics !== undefined && !Array.isArray(doc.diagnostics)) throw new GateInputError(`${source}: "diagnostics" is not an array`);
  return { ...doc, steps } as PreviewDigest;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);

/** The properties an update step changes: its diff reasons, its detailed diff's paths, and inputs whose old and new values differ. */
function changedProperties(step: PreviewStep): string[] {
  const out = [...strings(step.diffReasons), ...(isObject(step.detailedDiff) ? Object.keys(step.detailedDiff) : [])];
  const before = isObject(step.oldState?.inputs) ? step.oldState!.inputs : {};
  const after = isObject(step.newState?.inputs) ? step.newState!.inputs : {};
  for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out.push(k);
  }
  return out;
}

/**
 * What of one preview needs approval: every deletion or replacement whose type is
 * not on the reviewed list (a replacement's steps count once), and every update
 * that sets a password anew. When the step's types disagree (URN, old and new
 * state), the one needing approval wins.
 */
export function dangerousFromPreview(preview: PreviewDigest): DangerousOp[] {
  const byUrn = new Map<string, DangerousOp>();
  for (const step of preview.steps) {
    const parsed = parseUrn(step.urn);
    const types = [...new Set([step.oldState?.type, step.newState?.type, parsed?.type].filter((t): t is string => typeof t === "string"))];
    if (types.length === 0) types.push("");
    const stack = parsed?.stack ? { stack: parsed.stack } : {};
    const name = parsed?.name ?? step.urn;
    if (step.op === "update") {
      for (const type of types) {
        const fields = credentialInputsChanged(type, changedProperties(step));
        if (fields.length > 0 && !byUrn.has(step.urn)) {
          byUrn.set(step.urn, {
            ...stack,
            kind: "rotates a credential",
            op: "update",
            type,
            name,
            source: "preview",
            detail: `sets ${fields.join(", ")} anew`,
          });
        }
        // Data lost over time: an expiry, fewer backups, a guard against loss removed (config/retention.ts).
        const losses = retentionLosses(retentionFacts(type, step.oldState?.inputs), retentionFacts(type, step.newState?.inputs));
        if (step.oldState?.protect === true && step.newState?.protect === false) losses.push("protect off: the engine no longer refuses to delete it");
        if (losses.length > 0 && !byUrn.has(step.urn)) {
          byUrn.set(step.urn, { ...stack, kind: "loses data over time", op: "update", type, name, source: "preview", detail: losses.join("; ") });
        }
      }
      continue;
    }
    if (!DESTRUCTIVE_OPS.includes(step.op)) continue;
    const op = REPLACE_OPS.has(step.op) ? "replace" : "delete";
    const found = types.map((type) => ({ type, kind: approvalKindOf(type, op) })).find((t) => t.kind !== undefined);
    if (!found) continue;
    const prior = byUrn.get(step.urn);
    if (prior && (prior.op === "replace" || op === "delete")) continue;
    const reasons = strings(step.replaceReasons);
    // A replacement of what holds data says what it takes: a new name and a migration (config/replacement.ts).
    const note = op === "replace" ? replacementNote(found.type, { reasons }) : undefined;
    const detail = [reasons.length > 0 ? `replaced because of: ${reasons.join(", ")}` : undefined, note].filter((x) => x !== undefined).join("; ");
    byUrn.set(step.urn, {
      ...stack,
      kind: found.kind!,
      op,
      type: found.type,
      name,
      source: "preview",
      ...(detail !== "" ? { detail } : {}),
    });
  }
  return [...byUrn.values()];
}

/**
 * Why a preview cannot be taken as the whole story: an error diagnostic (of any
 * shape; an unknown severity counts as an error), a step op Pulumi does not have,
 * a `changeSummary` that counts deletions or replacements its steps do not show,
 * or `maybeCorrupt`. Each blocks even with approval.
 */
export function previewProblems(preview: PreviewDigest, source = "preview"): string[] {
  const out: string[] = [];
  (preview.diagnostics ?? []).forEach((d, i) => {
    if (!isObject(d)) {
      out.push(`${source}: diagnostics[${i}] is not an object (counted as an error)`);
      return;
    }
    const severity = d.severity;
    if (typeof severity === "string" && NON_ERROR_SEVERITIES.includes(severity)) return;
    const message = typeof d.message === "string" && d.message.trim() !== "" ? oneLine(d.message.trim().split("\n")[0]) : "(no message)";
    if (severity === "error") out.push(`${source}: the preview reported an error: ${message}`);
    else out.push(`${source}: a diagnostic with ${severity === undefined ? "no severity" : `severity ${quote(severity)}`} (counted as an error): ${message}`);
  });
  preview.steps.forEach((s, i) => {
    if (!STEP_OPS.includes(s.op)) out.push(`${source}: steps[${i}] has op ${quote(s.op)}, not a Pulumi step op`);
  });
  const summary = preview.changeSummary;
  if (summary !== undefined && !isObject(summary)) out.push(`${source}: "changeSummary" is not an object`);
  else if (summary !== undefined) {
    for (const [op, n] of Object.entries(summary)) {
      if (!STEP_OPS.includes(op)) out.push(`${source}: changeSummary counts ${quote(op)}, not a Pulumi step op`);
      else if (typeof n !== "number" || !Number.isInteger(n) || n < 0) out.push(`${source}: changeSummary count of ${op} is not a count: ${quote(n)}`);
      else if (COUNTED_OPS.includes(op)) {
        const shown = preview.steps.filter((s) => s.op === op).length;
        if (shown < n) out.push(`${source}: changeSummary counts ${n} ${op} but the steps show ${shown}: the step list is incomplete`);
      }
    }
  }
  if (preview.maybeCorrupt !== undefined && preview.maybeCorrupt !== null && preview.maybeCorrupt !== false)
    out.push(`${source}: the preview says its result may be corrupt`);
  return out;
}

// ---------------------------------------------------------------- offline plan diff

const isNamed = (r: unknown): r is { type: string; name: string } => isObject(r) && typeof r.type === "string" && typeof r.name === "string";

/**
 * What of the offline plan diff needs approval, recomputed from its resources by
 * type (the same rule as the plan diff's own `needsApproval`): removals, new
 * physical names, new random secrets, resources under a changed provider. A stack
 * whose config is invalid at this commit has no resource diff: reported as incomplete.
 */
export function readPlanDiff(diff: unknown): { dangerous: DangerousOp[]; incomplete: string[] } {
  const notPlanDiff = (why: string) => new GateInputError(`plan diff: not the JSON of \`npm run plan -- --base REF --json\` (${why})`);
  if (!isObject(diff) || !Array.isArray(diff.stacks)) throw notPlanDiff('no "stacks"');
  const dangerous: DangerousOp[] = [];
  const incomplete: string[] = [];
  diff.stacks.forEach((s: unknown, i: number) => {
    if (!isObject(s) || typeof s.stack !== "string") throw notPlanDiff(`stacks[${i}] has no "stack"`);
    for (const field of ["removed", "changed", "mayBeReplaced"] as const) {
      const list = s[field];
      if (!Array.isArray(list) || !list.every(isNamed)) throw notPlanDiff(`stacks[${i}].${field} is not a list of resources`);
    }
    const physical = (r: unknown) => (isObject(r) && typeof r.physicalName === "string" ? { physicalName: r.physicalName } : {});
    const resources = (list: unknown[]) => (list as Record<string, unknown>[]).map((r) => ({ type: r.type as string, name: r.name as string, ...physical(r) }));
    // What a side of a change says about its data's lifetime: its retention facts and protection, when recorded.
    const side = (r: unknown) => ({
      ...physical(r),
      ...(isObject(r) && isObject(r.retention) ? { retention: r.retention as RetentionFacts } : {}),
      ...(isObject(r) && typeof r.protected === "boolean" ? { protected: r.protected } : {}),
    });
    const changed = (s.changed as Record<string, unknown>[]).map((c) => ({
      type: c.type as string,
      name: c.name as string,
      fields: strings(c.fields) as ChangedField[],
      stateful: c.stateful === true,
      before: side(c.before),
      after: side(c.after),
    }));
    const settingsChanged = Array.isArray(s.settingsChanged)
      ? (s.settingsChanged as unknown[]).filter(isObject).map((c) => ({
          key: String(c.key),
          ...(typeof c.before === "string" ? { before: c.before } : {}),
          ...(typeof c.after === "string" ? { after: c.after } : {}),
        }))
      : [];
    const pc = isObject(s.profileChange) ? s.profileChange : undefined;
    const profileChange = pc
      ? { ...(typeof pc.before === "string" ? { before: pc.before } : {}), ...(typeof pc.after === "string" ? { after: pc.after } : {}) }
      : undefined;
    const mayBeReplaced = (s.mayBeReplaced as Record<string, unknown>[]).map((m) => ({
      ...resources([m])[0],
      ...(typeof m.reason === "string" ? { reason: m.reason } : {}),
    }));
    const removedReason = s.status === "removed" ? "its stack file was removed" : "no longer declared";
    for (const a of approvalsOf(s.stack, resources(s.removed as unknown[]), changed, mayBeReplaced, removedReason, {
      ...(profileChange ? { profileChange } : {}),
      settingsChanged,
    })) {
      dangerous.push({ stack: a.stack, kind: a.kind, op: a.op, type: a.type, name: a.name, source: "plan-diff", detail: a.reason });
    }
    if (s.status === "invalid") incomplete.push(`plan diff: stack ${s.stack} has an invalid config at this commit, so it has no resource diff`);
  });
  return { dangerous, incomplete };
}

/** The plan diff's operations needing approval (see `readPlanDiff`). */
export function dangerousFromPlanDiff(diff: PlanDiff): DangerousOp[] {
  return readPlanDiff(diff).dangerous;
}

// ---------------------------------------------------------------- decision

/** Labels from `--labels`: a comma-separated list, or the JSON array `toJSON(github.event.pull_request.labels.*.name)` gives. */
export function parseLabels(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    const t = v.trim();
    if (t.startsWith("[")) {
      let arr: unknown;
      try {
        arr = JSON.parse(t);
      } catch {
        throw new GateInputError(`--labels: ${JSON.stringify(t.slice(0, 40))} is not a JSON array of label names`);
      }
      if (!Array.isArray(arr)) throw new GateInputError("--labels: not a JSON array");
      out.push(...arr.map((x) => String(x).trim()));
    } else out.push(...t.split(",").map((x) => x.trim()));
  }
  return out.filter(Boolean);
}

const SHA = /^[0-9a-f]{40}$/i;
const short = (sha: string) => sha.slice(0, 12).toLowerCase();

/**
 * Approval by commit (deploys): the approved commit must be this commit, both as
 * full 40-hex SHAs (case-insensitive). Empty means no approval: a deploy dispatched
 * without one. Returns the one-line reason when it does not approve.
 */
export function checkCommitApproval(commit: string | undefined, approvedCommit: string): { approved: boolean; problem?: string } {
  const approved = approvedCommit.trim();
  const current = (commit ?? "").trim();
  if (approved === "") return { approved: false };
  if (!SHA.test(approved)) return { approved: false, problem: `--approved-commit ${quote(approved)} is not a full 40-hex commit SHA: no approval` };
  if (!SHA.test(current)) {
    return {
      approved: false,
      problem:
        current === ""
          ? `--approved-commit ${short(approved)} needs --commit, the SHA being deployed: no approval`
          : `--commit ${quote(current)} is not a full 40-hex commit SHA: no approval`,
    };
  }
  if (approved.toLowerCase() !== current.toLowerCase()) {
    return { approved: false, problem: `the approval is for commit ${short(approved)}, but this is commit ${short(current)}: no approval` };
  }
  return { approved: true };
}

function dedupe(ops: readonly DangerousOp[]): DangerousOp[] {
  const seen = new Map<string, DangerousOp>();
  for (const o of ops) {
    const k = `${o.stack ?? ""}\u0000${o.type}\u0000${o.name}`;
    const prior = seen.get(k);
    // The same resource found by both: the engine's word beats the offline plan's.
    if (!prior || (prior.source === "plan-diff" && o.source === "preview")) seen.set(k, o);
  }
  return [...seen.values()].sort(
    (a, b) =>
      APPROVAL_KIND_RANK[a.kind] - APPROVAL_KIND_RANK[b.kind] ||
      (a.stack ?? "").localeCompare(b.stack ?? "") ||
      a.type.localeCompare(b.type) ||
      a.name.localeCompare(b.name),
  );
}

/**
 * Blocks when anything needs approval and the approval is missing; an incomplete
 * input always blocks. `labels` is the pull request's labels (approval by label);
 * with `approvedCommit` given, approval is by commit only.
 */
export function decide(
  dangerous: readonly DangerousOp[],
  labels: readonly string[],
  opts: { approvalLabel?: string; incomplete?: readonly string[]; changeSummary?: Record<string, number>; commit?: string; approvedCommit?: string } = {},
): GateDecision {
  const approvalLabel = opts.approvalLabel ?? DEFAULT_APPROVAL_LABEL;
  const byCommit = opts.approvedCommit !== undefined;
  const check = byCommit ? checkCommitApproval(opts.commit, opts.approvedCommit!) : { approved: labels.includes(approvalLabel) };
  const ops = dedupe(dangerous);
  const incomplete = [...(opts.incomplete ?? [])];
  return {
    ok: incomplete.length === 0 && (ops.length === 0 || check.approved),
    dangerous: ops,
    approvalLabel,
    approvalBy: byCommit ? "commit" : "label",
    approved: check.approved,
    ...(check.problem ? { approvalProblem: check.problem } : {}),
    ...(opts.commit !== undefined ? { commit: opts.commit } : {}),
    ...(byCommit ? { approvedCommit: opts.approvedCommit } : {}),
    incomplete,
    changeSummary: opts.changeSummary ?? {},
  };
}

/** The previews' `changeSummary` counts, summed (numbers only; `previewProblems` reports the rest). */
export function sumChangeSummaries(previews: readonly PreviewDigest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of previews) {
    if (!isObject(p.changeSummary)) continue;
    for (const [k, v] of Object.entries(p.changeSummary)) if (typeof v === "number" && Number.isFinite(v)) out[k] = (out[k] ?? 0) + v;
  }
  return out;
}

function opLine(o: DangerousOp): string {
  return oneLine(`${o.stack ? `${o.stack}: ` : ""}${o.kind.toUpperCase()} ${shortType(o.type)} ${o.name}${o.detail ? ` (${o.detail})` : ""}`);
}

function summaryLine(d: GateDecision): string {
  const entries = Object.entries(d.changeSummary).filter(([, v]) => v > 0);
  return entries.length > 0 ? `changes: ${entries.map(([k, v]) => `${k} ${v}`).join(", ")}` : "";
}

function approvedBy(d: GateDecision): string {
  return d.approvalBy === "commit" ? `for commit ${short(d.commit ?? "")}` : `by the label "${d.approvalLabel}"`;
}

function howToApprove(d: GateDecision): string {
  return d.approvalBy === "commit"
    ? `deploy again with --approved-commit set to this commit's full SHA${d.commit && SHA.test(d.commit) ? ` (${d.commit.toLowerCase()})` : ""}`
    : `add the label "${d.approvalLabel}" to the pull request`;
}

export function renderDecisionText(d: GateDecision): string {
  const out: string[] = [];
  if (d.dangerous.length > 0) {
    out.push(`${d.dangerous.length} operation${d.dangerous.length === 1 ? " needs" : "s need"} approval:`);
    out.push(...d.dangerous.map((o) => `  ${opLine(o)}`));
  }
  for (const i of d.incomplete) out.push(`✗ ${oneLine(i)}`);
  if (d.dangerous.length > 0 && d.approvalProblem) out.push(`✗ ${oneLine(d.approvalProblem)}`);
  if (d.incomplete.length > 0)
    out.push("✗ BLOCKED: the input is incomplete, so the gate cannot tell what the change deletes or replaces (no approval overrides this).");
  else if (d.dangerous.length === 0) out.push("✓ data-safety gate: nothing is deleted or replaced that needs approval, and no credential is rotated.");
  else if (d.approved) out.push(`⚠ APPROVED ${approvedBy(d)}: these operations were accepted on purpose.`);
  else out.push(`✗ BLOCKED: ${howToApprove(d)} to accept these operations, or change the program so that it does not need them.`);
  const s = summaryLine(d);
  if (s) out.push(oneLine(s));
  return `${out.join("\n")}\n`;
}

export function renderDecisionMarkdown(d: GateDecision): string {
  const out: string[] = ["### Data-safety gate", ""];
  if (d.dangerous.length > 0) {
    out.push(
      `${d.dangerous.length} operation${d.dangerous.length === 1 ? " needs" : "s need"} approval:`,
      "",
      "| Stack | Kind | Type | Name | Detail |",
      "|---|---|---|---|---|",
    );
    for (const o of d.dangerous) {
      out.push(`| ${o.stack ? md(o.stack) : "-"} | **${o.kind}** | ${md(shortType(o.type), "code")} | ${md(o.name)} | ${md(o.detail ?? "")} |`);
    }
    out.push("");
  }
  for (const i of d.incomplete) out.push(`- ❌ ${md(i)}`);
  if (d.dangerous.length > 0 && d.approvalProblem) out.push(`- ❌ ${md(d.approvalProblem)}`);
  if (d.incomplete.length > 0 || (d.dangerous.length > 0 && d.approvalProblem)) out.push("");
  if (d.incomplete.length > 0)
    out.push("❌ **Blocked**: the input is incomplete, so the gate cannot tell what the change deletes or replaces (no approval overrides this).");
  else if (d.dangerous.length === 0) out.push("✅ Nothing is deleted or replaced that needs approval, and no credential is rotated.");
  else if (d.approved) {
    out.push(
      `⚠️ **Approved** ${d.approvalBy === "commit" ? `for commit ${md(short(d.commit ?? ""), "code")}` : `by the label ${md(d.approvalLabel, "code")}`}: these operations were accepted on purpose.`,
    );
  } else {
    const how =
      d.approvalBy === "commit" ? "deploy again with `--approved-commit` set to this commit's full SHA" : `add the label ${md(d.approvalLabel, "code")}`;
    out.push(`❌ **Blocked**: ${how} to accept these operations, or change the program so that it does not need them.`);
  }
  const s = summaryLine(d);
  if (s) out.push("", md(s));
  return `${out.join("\n")}\n`;
}
