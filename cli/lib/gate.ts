/**
 * The data-safety gate: does a change delete or replace a resource that holds
 * data (a database, a bucket, a Redis database, a DNS zone)? It reads either the
 * JSON of `pulumi preview --json` (what would happen to deployed state) or the
 * offline plan diff (`npm run plan -- --base REF --json`), and blocks unless the
 * pull request carries the approval label: a person must say yes to losing data.
 * Also: the deploy guard (no destroy, no protection bypass)
 * and the AWS account check the workflows run before touching a stack.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackFile } from "../../config";
import { STATEFUL_TYPES } from "../../config/protection";
import { DEFAULT_APPROVAL_LABEL, PlanDiff } from "./planDiff";
import { shortType } from "./render";

export { DEFAULT_APPROVAL_LABEL };

/**
 * Step operations of a preview that destroy the resource's current instance.
 * A replacement shows as `replace` (and, with --show-replacement-steps, as its
 * `create-replacement` / `delete-replaced` halves); all mean the old one goes.
 */
export const DESTRUCTIVE_OPS: readonly string[] = ["delete", "replace", "create-replacement", "delete-replaced", "import-replacement"];

const REPLACE_OPS = new Set(["replace", "create-replacement", "delete-replaced", "import-replacement"]);

export interface DangerousOp {
  readonly stack?: string;
  readonly op: "delete" | "replace";
  readonly type: string;
  readonly name: string;
  /** Where the finding comes from: the engine's preview, or the offline plan diff. */
  readonly source: "preview" | "plan-diff";
  /** Why (replace reasons from the preview, the plan diff's reason). */
  readonly detail?: string;
}

export interface GateDecision {
  readonly ok: boolean;
  readonly dangerous: readonly DangerousOp[];
  readonly approvalLabel: string;
  /** The approval label is among the given labels. */
  readonly approved: boolean;
  /** Reasons the input cannot be trusted to be complete (a failed preview): these block even with approval. */
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
  readonly [k: string]: unknown;
}

/** The document `pulumi preview --json` prints (the engine's preview digest). */
export interface PreviewDigest {
  readonly steps: readonly PreviewStep[];
  readonly diagnostics?: readonly { readonly urn?: string; readonly message: string; readonly severity: string }[];
  readonly changeSummary?: Readonly<Record<string, number>>;
  readonly duration?: number;
  readonly maybeCorrupt?: boolean;
  readonly [k: string]: unknown;
}

export class GateInputError extends Error {}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

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

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → its parts (the name may itself contain "::"). */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } | undefined {
  const m = /^urn:pulumi:(.*?)::(.*?)::(.*?)::(.*)$/s.exec(urn);
  if (!m) return undefined;
  const qualified = m[3].split("$");
  return { stack: m[1], project: m[2], type: qualified[qualified.length - 1], name: m[4] };
}

/** The stateful deletions and replacements of one preview; a replacement's steps count once. */
export function dangerousFromPreview(preview: PreviewDigest, statefulTypes: readonly string[] = STATEFUL_TYPES): DangerousOp[] {
  const byUrn = new Map<string, DangerousOp>();
  for (const step of preview.steps) {
    if (!DESTRUCTIVE_OPS.includes(step.op)) continue;
    const parsed = parseUrn(step.urn);
    const type = step.oldState?.type ?? step.newState?.type ?? parsed?.type ?? "";
    if (!statefulTypes.includes(type)) continue;
    const op = REPLACE_OPS.has(step.op) ? "replace" : "delete";
    const prior = byUrn.get(step.urn);
    if (prior && (prior.op === "replace" || op === "delete")) continue;
    const reasons = step.replaceReasons && step.replaceReasons.length > 0 ? `replaced because of: ${step.replaceReasons.join(", ")}` : undefined;
    byUrn.set(step.urn, {
      ...(parsed?.stack ? { stack: parsed.stack } : {}),
      op,
      type,
      name: parsed?.name ?? step.urn,
      source: "preview",
      ...(reasons ? { detail: reasons } : {}),
    });
  }
  return [...byUrn.values()];
}

/** Why a preview cannot be taken as the whole story: it reported errors. */
export function previewProblems(preview: PreviewDigest, source = "preview"): string[] {
  const errors = (preview.diagnostics ?? []).filter((d) => d.severity === "error");
  const out = errors.map((d) => `${source}: the preview reported an error: ${d.message.trim().split("\n")[0]}`);
  if (preview.maybeCorrupt) out.push(`${source}: the preview says its result may be corrupt`);
  return out;
}

// ---------------------------------------------------------------- offline plan diff

/** A removed stateful resource is a delete; a stateful resource whose physical name changed is a replace. */
export function dangerousFromPlanDiff(diff: PlanDiff): DangerousOp[] {
  if (!isObject(diff) || !Array.isArray((diff as { stacks?: unknown }).stacks)) {
    throw new GateInputError("plan diff: not the JSON of `npm run plan -- --base REF --json` (no \"stacks\")");
  }
  const out: DangerousOp[] = [];
  for (const s of diff.stacks) {
    for (const r of s.removed ?? []) {
      if (r.stateful) out.push({ stack: s.stack, op: "delete", type: r.type, name: r.name, source: "plan-diff", detail: s.status === "removed" ? "its stack file was removed" : "no longer declared" });
    }
    for (const c of s.changed ?? []) {
      if (c.stateful && c.fields.includes("physicalName")) {
        out.push({ stack: s.stack, op: "replace", type: c.type, name: c.name, source: "plan-diff", detail: `physical name ${c.before.physicalName ?? "-"} → ${c.after.physicalName ?? "-"}` });
      }
    }
  }
  return out;
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

function dedupe(ops: readonly DangerousOp[]): DangerousOp[] {
  const seen = new Map<string, DangerousOp>();
  for (const o of ops) {
    const k = `${o.stack ?? ""}\u0000${o.type}\u0000${o.name}`;
    const prior = seen.get(k);
    // The same resource found by both: the engine's word beats the offline plan's.
    if (!prior || (prior.source === "plan-diff" && o.source === "preview")) seen.set(k, o);
  }
  const rank = (o: DangerousOp) => (o.op === "delete" ? 0 : 1);
  return [...seen.values()].sort((a, b) => rank(a) - rank(b) || (a.stack ?? "").localeCompare(b.stack ?? "") || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/** Blocks when a stateful resource would be deleted or replaced, unless the approval label is present; an incomplete input always blocks. */
export function decide(
  dangerous: readonly DangerousOp[],
  labels: readonly string[],
  opts: { approvalLabel?: string; incomplete?: readonly string[]; changeSummary?: Record<string, number> } = {},
): GateDecision {
  const approvalLabel = opts.approvalLabel ?? DEFAULT_APPROVAL_LABEL;
  const approved = labels.includes(approvalLabel);
  const ops = dedupe(dangerous);
  const incomplete = [...(opts.incomplete ?? [])];
  return {
    ok: incomplete.length === 0 && (ops.length === 0 || approved),
    dangerous: ops,
    approvalLabel,
    approved,
    incomplete,
    changeSummary: opts.changeSummary ?? {},
  };
}

export function sumChangeSummaries(previews: readonly PreviewDigest[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of previews) for (const [k, v] of Object.entries(p.changeSummary ?? {})) out[k] = (out[k] ?? 0) + (typeof v === "number" ? v : 0);
  return out;
}

function opLine(o: DangerousOp): string {
  return `${o.stack ? `${o.stack}: ` : ""}${o.op.toUpperCase()} ${shortType(o.type)} ${o.name}${o.detail ? ` (${o.detail})` : ""}`;
}

function summaryLine(d: GateDecision): string {
  const entries = Object.entries(d.changeSummary).filter(([, v]) => v > 0);
  return entries.length > 0 ? `changes: ${entries.map(([k, v]) => `${k} ${v}`).join(", ")}` : "";
}

export function renderDecisionText(d: GateDecision): string {
  const out: string[] = [];
  if (d.dangerous.length > 0) {
    out.push(`${d.dangerous.length} operation${d.dangerous.length === 1 ? "" : "s"} would delete or replace a stateful resource (its data is lost):`);
    out.push(...d.dangerous.map((o) => `  ${opLine(o)}`));
  }
  for (const i of d.incomplete) out.push(`✗ ${i}`);
  if (d.incomplete.length > 0) out.push("✗ BLOCKED: the input is incomplete, so the gate cannot tell that no data is lost (an approval label does not override this).");
  else if (d.dangerous.length === 0) out.push("✓ data-safety gate: no stateful resource is deleted or replaced.");
  else if (d.approved) out.push(`⚠ APPROVED by the label "${d.approvalLabel}": this data loss was accepted on purpose.`);
  else out.push(`✗ BLOCKED: add the label "${d.approvalLabel}" to the pull request to accept this data loss, or change the program so that it does not delete or replace these resources.`);
  const s = summaryLine(d);
  if (s) out.push(s);
  return out.join("\n") + "\n";
}

export function renderDecisionMarkdown(d: GateDecision): string {
  const out: string[] = ["### Data-safety gate", ""];
  if (d.dangerous.length > 0) {
    out.push("| Stack | Operation | Type | Name | Detail |", "|---|---|---|---|---|");
    for (const o of d.dangerous) out.push(`| ${o.stack ?? "-"} | **${o.op}** | \`${shortType(o.type)}\` | ${o.name.replace(/\|/g, "\\|")} | ${(o.detail ?? "").replace(/\|/g, "\\|")} |`);
    out.push("");
  }
  for (const i of d.incomplete) out.push(`- ❌ ${i}`);
  if (d.incomplete.length > 0) out.push("", "❌ **Blocked**: the input is incomplete, so the gate cannot tell that no data is lost.");
  else if (d.dangerous.length === 0) out.push("✅ No stateful resource is deleted or replaced.");
  else if (d.approved) out.push(`⚠️ **Approved** by the label \`${d.approvalLabel}\`: this data loss was accepted on purpose.`);
  else out.push(`❌ **Blocked**: add the label \`${d.approvalLabel}\` to accept this data loss, or change the program so that it does not delete or replace these resources.`);
  const s = summaryLine(d);
  if (s) out.push("", s);
  return out.join("\n") + "\n";
}

// ---------------------------------------------------------------- deploy guard

/** Pulumi commands a deploy job may run. Anything else (destroy above all) is refused. */
export const DEPLOY_COMMANDS: readonly string[] = ["up", "update", "preview"];

/** Words that bypass protection or tear a stack down. */
const FORBIDDEN = [
  { re: /\bdestroy\b/i, what: "destroy" },
  { re: /ignore[-_]?protect/i, what: "a protection bypass (ignore-protect)" },
  { re: /\bunprotect\b/i, what: "unprotect" },
  { re: /--exclude-protected/i, what: "--exclude-protected" },
  { re: /\bstack\s+rm\b|--remove\b/i, what: "stack removal" },
  { re: /--target-replace|--replace\b/i, what: "a forced replacement" },
];

/**
 * Refuses a deploy whose command, or whose environment, destroys a stack or
 * bypasses resource protection. Returns the reasons (empty = allowed).
 */
export function guardDeploy(stack: string, command: string, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const out: string[] = [];
  const cmd = command.trim();
  if (!DEPLOY_COMMANDS.includes(cmd.split(/\s+/)[0] ?? "")) out.push(`command "${cmd}" is not one of ${DEPLOY_COMMANDS.join(", ")}`);
  for (const f of FORBIDDEN) if (f.re.test(cmd)) out.push(`command "${cmd}" asks for ${f.what}`);
  for (const [k, v] of Object.entries(env)) {
    if (!/^PULUMI_|IGNORE[-_]?PROTECT/i.test(k)) continue;
    if (/IGNORE[-_]?PROTECT|DESTROY/i.test(k) && v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false") {
      out.push(`environment variable ${k} is set`);
    }
  }
  return out.map((r) => `refusing to deploy stack ${stack}: ${r}; no workflow destroys a stack or bypasses protection${stack === "production" ? " (production least of all)" : ""}`);
}

// ---------------------------------------------------------------- account check

/** The AWS account ids a stack file pins (`aws:allowedAccountIds`). */
export function allowedAccountIds(dir: string, stack: string): string[] {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) throw new GateInputError(`no stack file Pulumi.${stack}.yaml in ${dir}`);
  const raw = parseStackFile(fs.readFileSync(file, "utf8"), stack, path.basename(file));
  const ids = raw.values["aws:allowedAccountIds"];
  const list = (Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]).map((x) => String(x));
  if (list.length === 0) throw new GateInputError(`Pulumi.${stack}.yaml pins no aws:allowedAccountIds: refusing to use unpinned credentials`);
  return list;
}

/** Null when the credentials' account is the stack's; else the message naming both accounts. */
export function checkAccount(stack: string, actual: string, allowed: readonly string[]): string | null {
  const a = actual.trim();
  if (allowed.includes(a)) return null;
  return `AWS account mismatch for stack ${stack}: the credentials are for account ${a || "(none)"}, but Pulumi.${stack}.yaml pins aws:allowedAccountIds ${allowed.join(", ")}`;
}
