/**
 * `npm run plan -- --base REF`: what this commit changes in the offline plan
 * against the plan of git REF. The base commit is checked out into a temporary
 * git worktree and planned there by its own `cli/plan.ts`, in a child process
 * (or, when its code is this checkout's and only stack files differ, by this
 * process); this commit is planned in-process. Like the plan itself, the diff is of what
 * the program declares, not of deployed state (only `pulumi preview` shows that).
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { listStackFiles, stackOfFileName } from "../config";
import { APPROVAL_KIND_RANK, type ApprovalKind, approvalKindOf, credentialChangeReason, CREDENTIAL_TYPES } from "../config/protection";
import { replacementNote } from "../config/replacement";
import { profileLosses, type RetentionFacts, retentionLosses } from "../config/retention";
import { WORKFLOW_KEYS } from "../config/workflowKeys";
import { PLAN_NOTE, planAll, type Plan, type PlannedResource, type StackPlan } from "./plan";
import { md, oneLine } from "../lib/markdown";
import { policyChecker } from "./policyCheck";
import { renderMarkdown as renderPlanMarkdown, shortType } from "./render";
import { CommandError, UsageError } from "../lib/errors";

/** The pull-request label that approves a change the data-safety gate holds (its default). */
export const DEFAULT_APPROVAL_LABEL = "allow-data-loss";

export const PLAN_DIFF_NOTE =
  "This diff compares what the program declares for each stack at two commits, planned offline under Pulumi's mock runtime; it is not a diff against deployed state (only `pulumi preview` shows that, and only it can tell whether an input change forces a replacement).";

export type ChangedField = "inputs" | "physicalName" | "protected";

export interface ResourceChange {
  readonly type: string;
  readonly name: string;
  readonly stateful: boolean;
  /** What differs: the declared inputs (by hash), the provider-side name, or protection. */
  readonly fields: readonly ChangedField[];
  readonly before: PlannedResource;
  readonly after: PlannedResource;
}

/** One changed input of a provider: old and new value when it is not secret; only "changed" when it is. */
export interface ProviderInputChange {
  readonly input: string;
  readonly secret: boolean;
  /** Not secret only; absent when the input is not set. */
  readonly before?: string;
  readonly after?: string;
}

/** A provider resource whose inputs change (region, account ids, endpoint, credentials...). */
export interface ProviderChange {
  readonly type: string;
  readonly name: string;
  readonly inputs: readonly ProviderInputChange[];
}

/** A resource the offline plan cannot clear: its provider's inputs change, or it moves to another provider. */
export interface MaybeReplaced {
  readonly type: string;
  readonly name: string;
  readonly physicalName?: string;
  readonly provider: string;
  readonly reason: string;
}

/** A change the data-safety gate holds for approval: it loses data, issues a new credential, or may replace a resource. */
export interface ApprovalChange {
  readonly stack: string;
  readonly kind: ApprovalKind;
  /** The operation: a removal is a delete; a new physical name or a new provider, a replacement; a weaker retention or a new setting, an update. */
  readonly op: "delete" | "replace" | "update";
  readonly type: string;
  readonly name: string;
  readonly physicalName?: string;
  readonly reason: string;
}

export type StackDiffStatus = "added" | "removed" | "changed" | "unchanged" | "invalid";

export interface StackDiff {
  readonly stack: string;
  readonly status: StackDiffStatus;
  readonly added: readonly PlannedResource[];
  readonly removed: readonly PlannedResource[];
  readonly changed: readonly ResourceChange[];
  readonly variablesAdded: readonly string[];
  readonly variablesRemoved: readonly string[];
  /** Providers whose inputs change. */
  readonly providerChanges: readonly ProviderChange[];
  /** Resources under a changed provider (or moved to another one): the engine may replace them. */
  readonly mayBeReplaced: readonly MaybeReplaced[];
  /** What needs approval in this stack (each also listed in `removed`, `changed` or `mayBeReplaced`). */
  readonly needsApproval: readonly ApprovalChange[];
  /** Stateful resources whose protection this change turns off. */
  readonly unprotected: readonly ResourceChange[];
  /** The stack's profile, when this change changes it. */
  readonly profileChange?: { readonly before?: string; readonly after?: string };
  /** Settings that workflows and commands act on (config/workflowKeys.ts) that this change changes, with their values. */
  readonly settingsChanged: readonly SettingChange[];
  readonly notes: readonly string[];
}

/** A workflow setting's change: its values as written (absent when unset). */
export interface SettingChange {
  readonly key: string;
  readonly before?: string;
  readonly after?: string;
}

/** What of a stack as a whole needs approval: its profile, and the settings workflows act on. */
export interface StackLevelChanges {
  readonly profileChange?: { readonly before?: string; readonly after?: string };
  readonly settingsChanged?: readonly SettingChange[];
}

export interface PlanDiff {
  readonly note: string;
  /** The git ref the head is compared against, as given. */
  readonly base: string;
  readonly baseCommit?: string;
  readonly stacksAdded: readonly string[];
  readonly stacksRemoved: readonly string[];
  readonly stacks: readonly StackDiff[];
  /** Everything needing approval, across stacks. */
  readonly needsApproval: readonly ApprovalChange[];
  /** Whether anything differs at all. */
  readonly changed: boolean;
  /** The head plan's own verdict (same rule as `npm run plan`): config errors, policy violations, isolation audit. */
  readonly head: { readonly ok: boolean; readonly problems: readonly string[] };
}

const key = (r: Pick<PlannedResource, "type" | "name">) => `${r.type}\u0000${r.name}`;
const providerRef = (r: Pick<PlannedResource, "type" | "name">) => `${r.type}::${r.name}`;
const isProvider = (r: Pick<PlannedResource, "type">) => r.type.startsWith("pulumi:providers:");

function byKey(rs: readonly PlannedResource[]): Map<string, PlannedResource> {
  return new Map(rs.map((r) => [key(r), r]));
}

function sortResources<T extends { type: string; name: string }>(rs: T[]): T[] {
  return rs.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/** `pulumi:providers:aws::mina-staging-aws` → `aws provider mina-staging-aws`. */
export function providerLabel(ref: string): string {
  const i = ref.indexOf("::");
  if (i < 0) return ref;
  const type = ref.slice(0, i);
  return `${type.startsWith("pulumi:providers:") ? type.slice("pulumi:providers:".length) : type} provider ${ref.slice(i + 2)}`;
}

/**
 * What of a stack's changes needs approval, by type (deny by default, see
 * `NO_DATA_TYPES`): a removal is a delete, a new physical name a replacement; a
 * random secret or access key whose inputs change is generated anew; a resource
 * under a changed provider may be replaced. Pure; the gate calls it on the diff's JSON.
 */
type Named = { readonly type: string; readonly name: string; readonly physicalName?: string };

type Side = { readonly physicalName?: string; readonly retention?: RetentionFacts; readonly protected?: boolean };

export function approvalsOf(
  stack: string,
  removed: readonly Named[],
  changed: readonly (Named & { readonly fields: readonly ChangedField[]; readonly stateful?: boolean; readonly before: Side; readonly after: Side })[],
  mayBeReplaced: readonly (Named & { readonly reason?: string })[],
  removedReason = "no longer declared",
  whole: StackLevelChanges = {},
): ApprovalChange[] {
  const out: ApprovalChange[] = [];
  // The stack as a whole: a profile with weaker protections, a setting a workflow acts on.
  for (const reason of profileLosses(whole.profileChange?.before, whole.profileChange?.after)) {
    out.push({ stack, kind: "loses data over time", op: "update", type: "mina:profile", name: stack, reason });
  }
  for (const c of whole.settingsChanged ?? []) {
    const why = WORKFLOW_KEYS[c.key] ?? "a workflow or command acts on it";
    out.push({
      stack,
      kind: "changes what a deploy runs",
      op: "update",
      type: c.key,
      name: stack,
      reason: `${c.key}: ${c.before ?? "(unset)"} → ${c.after ?? "(unset)"}: ${why}`,
    });
  }
  for (const r of removed) {
    const kind = approvalKindOf(r.type, "delete");
    if (kind) out.push({ stack, kind, op: "delete", type: r.type, name: r.name, physicalName: r.physicalName, reason: removedReason });
  }
  for (const c of changed) {
    if (c.fields.includes("physicalName")) {
      const kind = approvalKindOf(c.type, "replace");
      const note = replacementNote(c.type, { renamed: true });
      const reason = `physical name ${c.before.physicalName ?? "(provider-assigned)"} → ${c.after.physicalName ?? "(provider-assigned)"}${note ? `: ${note}` : ""}`;
      if (kind) out.push({ stack, kind, op: "replace", type: c.type, name: c.name, physicalName: c.before.physicalName, reason });
    } else if (c.fields.includes("inputs") && CREDENTIAL_TYPES.includes(c.type)) {
      out.push({
        stack,
        kind: "rotates a credential",
        op: "replace",
        type: c.type,
        name: c.name,
        physicalName: c.before.physicalName,
        reason: credentialChangeReason(c.type),
      });
    } else {
      const losses = retentionLosses(c.before.retention, c.after.retention);
      if (c.before.protected === true && c.after.protected === false) losses.push("protect off: the engine no longer refuses to delete it");
      if (losses.length > 0)
        out.push({
          stack,
          kind: "loses data over time",
          op: "update",
          type: c.type,
          name: c.name,
          physicalName: c.before.physicalName,
          reason: losses.join("; "),
        });
    }
  }
  const listed = new Set(out.map(key));
  for (const m of mayBeReplaced) {
    if (!listed.has(key(m)))
      out.push({
        stack,
        kind: "may be replaced",
        op: "replace",
        type: m.type,
        name: m.name,
        physicalName: m.physicalName,
        reason: m.reason ?? "its provider changes",
      });
  }
  return out.sort((a, b) => APPROVAL_KIND_RANK[a.kind] - APPROVAL_KIND_RANK[b.kind] || a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

function diffResources(base: readonly PlannedResource[], head: readonly PlannedResource[]) {
  const b = byKey(base);
  const h = byKey(head);
  const added = sortResources(head.filter((r) => !b.has(key(r))));
  const removed = sortResources(base.filter((r) => !h.has(key(r))));
  const changed: ResourceChange[] = [];
  for (const after of head) {
    const before = b.get(key(after));
    if (!before) continue;
    const fields: ChangedField[] = [];
    if (before.inputsHash !== after.inputsHash) fields.push("inputs");
    if ((before.physicalName ?? null) !== (after.physicalName ?? null)) fields.push("physicalName");
    if (before.protected !== after.protected) fields.push("protected");
    if (fields.length > 0) changed.push({ type: after.type, name: after.name, stateful: before.stateful || after.stateful, fields, before, after });
  }
  return { added, removed, changed: sortResources(changed) };
}

const shown = (v: unknown) => (typeof v === "string" ? v : (JSON.stringify(v) ?? "null"));

/** The changed inputs of one provider present in both plans; secret ones are named, never shown. */
export function providerInputChanges(before: PlannedResource["providerInputs"] = {}, after: PlannedResource["providerInputs"] = {}): ProviderInputChange[] {
  const out: ProviderInputChange[] = [];
  for (const input of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const b = before[input];
    const a = after[input];
    if ((b && "secret" in b) || (a && "secret" in a)) {
      const fb = b && "secret" in b ? b.fingerprint : undefined;
      const fa = a && "secret" in a ? a.fingerprint : undefined;
      if (fb === undefined || fa === undefined || fb !== fa) out.push({ input, secret: true });
      continue;
    }
    const vb = b ? shown(b.value) : undefined;
    const va = a ? shown(a.value) : undefined;
    if (vb !== va) out.push({ input, secret: false, ...(vb !== undefined ? { before: vb } : {}), ...(va !== undefined ? { after: va } : {}) });
  }
  return out;
}

/** `region us-east-1 -> eu-west-1; password changed` */
export function inputChangesText(changes: readonly ProviderInputChange[]): string {
  return changes.map((c) => (c.secret ? `${c.input} changed` : `${c.input} ${c.before ?? "(unset)"} -> ${c.after ?? "(unset)"}`)).join("; ");
}

/**
 * The offline plan cannot see what a provider change does to its resources (a new
 * region or account replaces them; a new endpoint or credential may): every
 * resource under a provider whose inputs change may be replaced, and so may a
 * resource that moves to another provider.
 */
function diffProviders(base: readonly PlannedResource[], head: readonly PlannedResource[], baseLabel: string) {
  const b = byKey(base);
  const providerChanges: ProviderChange[] = [];
  const notes: string[] = [];
  for (const after of head.filter(isProvider)) {
    const before = b.get(key(after));
    if (!before) continue;
    if (!before.providerInputs || !after.providerInputs) {
      notes.push(`the plan at ${baseLabel} records no inputs of ${providerLabel(providerRef(after))}: a change of them cannot be compared`);
      continue;
    }
    const inputs = providerInputChanges(before.providerInputs, after.providerInputs);
    if (inputs.length > 0) providerChanges.push({ type: after.type, name: after.name, inputs });
  }
  const changedProviders = new Map(providerChanges.map((p) => [providerRef(p), p]));
  const mayBeReplaced: MaybeReplaced[] = [];
  for (const after of head) {
    const before = b.get(key(after));
    if (!before || isProvider(after)) continue;
    const p = after.provider !== undefined ? changedProviders.get(after.provider) : undefined;
    if (p) {
      mayBeReplaced.push({
        type: after.type,
        name: after.name,
        physicalName: after.physicalName,
        provider: after.provider!,
        reason: `${providerLabel(after.provider!)} changes: ${inputChangesText(p.inputs)}`,
      });
    } else if (before.provider !== undefined && after.provider !== undefined && before.provider !== after.provider) {
      mayBeReplaced.push({
        type: after.type,
        name: after.name,
        physicalName: after.physicalName,
        provider: after.provider,
        reason: `moves from ${providerLabel(before.provider)} to ${providerLabel(after.provider)}`,
      });
    }
  }
  return { providerChanges: sortResources(providerChanges), mayBeReplaced: sortResources(mayBeReplaced), notes };
}

function diffNames(base: readonly { name: string }[], head: readonly { name: string }[]) {
  const b = new Set(base.map((v) => v.name));
  const h = new Set(head.map((v) => v.name));
  return { added: [...h].filter((n) => !b.has(n)).sort(), removed: [...b].filter((n) => !h.has(n)).sort() };
}

function emptyStackDiff(stack: string, status: StackDiffStatus, notes: string[] = []): StackDiff {
  return {
    stack,
    status,
    added: [],
    removed: [],
    changed: [],
    variablesAdded: [],
    variablesRemoved: [],
    providerChanges: [],
    mayBeReplaced: [],
    needsApproval: [],
    unprotected: [],
    settingsChanged: [],
    notes,
  };
}

function diffStack(stack: string, base: StackPlan | undefined, head: StackPlan | undefined, baseLabel: string): StackDiff {
  if (!head && base) {
    const removed = sortResources([...base.resources]);
    return {
      ...emptyStackDiff(stack, "removed", [`${base.file} was removed: nothing deploys this stack any more, and its resources are no longer declared`]),
      removed,
      variablesRemoved: base.variables.map((v) => v.name).sort(),
      needsApproval: approvalsOf(stack, removed, [], [], "its stack file was removed"),
    };
  }
  if (!head) return emptyStackDiff(stack, "unchanged");
  if (!head.ok) {
    // Without a valid config the head declares nothing: a resource diff would call everything removed.
    return emptyStackDiff(stack, "invalid", [`${head.file} is invalid at this commit; no resource diff: ${head.errors.join("; ")}`]);
  }
  if (!base) {
    return {
      ...emptyStackDiff(stack, "added", [`${head.file} is new`]),
      added: sortResources([...head.resources]),
      variablesAdded: head.variables.map((v) => v.name).sort(),
    };
  }
  const notes: string[] = [];
  if (!base.ok) notes.push(`${base.file} was invalid at ${baseLabel}; every resource is listed as added`);
  const { added, removed, changed } = diffResources(base.resources, head.resources);
  const providers = diffProviders(base.resources, head.resources, baseLabel);
  notes.push(...providers.notes);
  const vars = diffNames(base.variables, head.variables);
  const unprotected = changed.filter((c) => c.stateful && c.before.protected && !c.after.protected);
  const whole: StackLevelChanges = {
    ...(base.ok && base.profile !== head.profile ? { profileChange: { before: base.profile, after: head.profile } } : {}),
    settingsChanged: settingChanges(base.settings ?? {}, head.settings ?? {}),
  };
  const any =
    added.length +
      removed.length +
      changed.length +
      providers.mayBeReplaced.length +
      vars.added.length +
      vars.removed.length +
      whole.settingsChanged!.length +
      (whole.profileChange ? 1 : 0) >
    0;
  return {
    stack,
    status: any ? "changed" : "unchanged",
    added,
    removed,
    changed,
    variablesAdded: vars.added,
    variablesRemoved: vars.removed,
    providerChanges: providers.providerChanges,
    mayBeReplaced: providers.mayBeReplaced,
    needsApproval: approvalsOf(stack, removed, changed, providers.mayBeReplaced, undefined, whole),
    unprotected,
    ...whole,
    settingsChanged: whole.settingsChanged ?? [],
    notes,
  };
}

/** The workflow settings whose values differ between two plans. */
function settingChanges(before: Readonly<Record<string, string>>, after: Readonly<Record<string, string>>): SettingChange[] {
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .sort()
    .filter((k) => before[k] !== after[k])
    .map((k) => ({ key: k, ...(before[k] !== undefined ? { before: before[k] } : {}), ...(after[k] !== undefined ? { after: after[k] } : {}) }));
}

/** What fails the head plan, one line each: the same rule as `npm run plan`'s exit code. */
export function planProblems(plan: Plan): string[] {
  const out: string[] = [];
  for (const s of plan.stacks) {
    for (const e of s.errors) out.push(`${s.stack}: invalid config: ${e}`);
    for (const v of s.violations) out.push(`${s.stack}: policy [${v.rule}] ${v.resource}: ${v.message}`);
  }
  for (const u of plan.audit.unaudited) out.push(`isolation: not audited: ${u.file} (${u.reason})`);
  for (const c of plan.audit.conflicts) out.push(`isolation: ${c.kind} "${c.value}" is shared by ${c.stacks.join(", ")}`);
  return out;
}

/** Compares two plans, stack by stack. Pure. */
export function diffPlans(base: Plan, head: Plan, refs: { base?: string; baseCommit?: string } = {}): PlanDiff {
  const baseLabel = refs.base ?? "the base";
  const b = new Map(base.stacks.map((s) => [s.stack, s]));
  const h = new Map(head.stacks.map((s) => [s.stack, s]));
  const names = [...new Set([...b.keys(), ...h.keys()])].sort();
  const stacks = names.map((n) => diffStack(n, b.get(n), h.get(n), baseLabel));
  const stacksAdded = names.filter((n) => !b.has(n));
  const stacksRemoved = names.filter((n) => !h.has(n));
  return {
    note: PLAN_DIFF_NOTE,
    base: baseLabel,
    ...(refs.baseCommit ? { baseCommit: refs.baseCommit } : {}),
    stacksAdded,
    stacksRemoved,
    stacks,
    needsApproval: stacks.flatMap((s) => s.needsApproval),
    changed: stacks.some((s) => s.status !== "unchanged"),
    head: { ok: head.ok, problems: planProblems(head) },
  };
}

// ---------------------------------------------------------------- rendering

const physical = (r: { physicalName?: string }) => (r.physicalName ? ` (${r.physicalName})` : "");
const physicalMd = (r: { physicalName?: string }) => (r.physicalName ? ` (${md(r.physicalName, "code")})` : "");

function changeDetail(c: ResourceChange): string {
  const parts: string[] = [];
  if (c.fields.includes("physicalName")) parts.push(`physical name ${c.before.physicalName ?? "-"} → ${c.after.physicalName ?? "-"}`);
  if (c.fields.includes("protected")) parts.push(c.after.protected ? "now protected" : "protection removed");
  if (c.fields.includes("inputs")) parts.push("inputs changed");
  return parts.join("; ");
}

function countLine(s: StackDiff): string {
  const parts = [
    s.removed.length && `${s.removed.length} removed`,
    s.changed.length && `${s.changed.length} changed`,
    s.mayBeReplaced.length && `${s.mayBeReplaced.length} may be replaced`,
    s.added.length && `${s.added.length} added`,
    s.variablesAdded.length + s.variablesRemoved.length && `env variables +${s.variablesAdded.length}/-${s.variablesRemoved.length}`,
  ].filter(Boolean);
  return parts.join(", ");
}

const STATUS_TEXT: Record<StackDiffStatus, string> = {
  added: "new stack",
  removed: "stack removed",
  changed: "changed",
  unchanged: "no changes",
  invalid: "invalid config",
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function approvalLine(d: ApprovalChange): string {
  return `${d.kind} ${shortType(d.type)} ${d.name}${physical(d)}: ${d.reason}`;
}

function approvalLineMd(d: ApprovalChange): string {
  return `**${d.kind}** ${md(shortType(d.type), "code")} ${md(d.name)}${physicalMd(d)}: ${md(d.reason)}`;
}

export function renderPlanDiffText(diff: PlanDiff): string {
  const out: string[] = [`Plan diff against ${diff.base}${diff.baseCommit ? ` (${diff.baseCommit.slice(0, 12)})` : ""}`, diff.note, ""];
  if (diff.needsApproval.length > 0) {
    out.push(
      `!! NEEDS APPROVAL: ${plural(diff.needsApproval.length, "change")} would delete or replace a resource that may hold data, lose data over time, rotate a credential, change what a deploy runs, or may replace resources:`,
    );
    for (const d of diff.needsApproval) out.push(`   ${d.stack}: ${approvalLine(d)}`);
    out.push("");
  }
  if (diff.stacksAdded.length > 0) out.push(`Stacks added: ${diff.stacksAdded.join(", ")}`);
  if (diff.stacksRemoved.length > 0) out.push(`Stacks removed: ${diff.stacksRemoved.join(", ")}`);
  if (diff.stacksAdded.length + diff.stacksRemoved.length > 0) out.push("");
  for (const s of diff.stacks) {
    const counts = countLine(s);
    out.push(`== ${s.stack}: ${STATUS_TEXT[s.status]}${counts ? ` (${counts})` : ""}`);
    for (const n of s.notes) out.push(`   note: ${n}`);
    for (const p of s.providerChanges) out.push(`   !! ${providerLabel(providerRef(p))} inputs change: ${inputChangesText(p.inputs)}`);
    for (const d of s.needsApproval) out.push(`   !! ${approvalLine(d)}`);
    for (const c of s.unprotected) out.push(`   !! protection removed from ${shortType(c.type)} ${c.name}${physical(c.after)}`);
    const held = new Set(s.needsApproval.map(key));
    for (const r of s.removed) if (!held.has(key(r))) out.push(`   - ${shortType(r.type)} ${r.name}${physical(r)}`);
    for (const c of s.changed) if (!held.has(key(c))) out.push(`   ~ ${shortType(c.type)} ${c.name}${physical(c.after)}: ${changeDetail(c)}`);
    for (const r of s.added) out.push(`   + ${shortType(r.type)} ${r.name}${physical(r)}`);
    if (s.variablesAdded.length > 0) out.push(`   env variables added: ${s.variablesAdded.join(", ")}`);
    if (s.variablesRemoved.length > 0) out.push(`   env variables removed: ${s.variablesRemoved.join(", ")}`);
    out.push("");
  }
  if (diff.head.ok) out.push("This commit's plan: ✓ every stack valid, no policy violations, isolation audit passed");
  else out.push("This commit's plan: ✗ fails:", ...diff.head.problems.map((p) => `   ${p}`));
  return `${out.map(oneLine).join("\n")}\n`;
}

export function renderPlanDiffMarkdown(diff: PlanDiff, head?: Plan): string {
  const out: string[] = [
    `## mina-infra plan: changes against ${md(diff.base, "code")}${diff.baseCommit ? ` (${md(diff.baseCommit.slice(0, 12))})` : ""}`,
    "",
    `> ${diff.note}`,
    "",
  ];
  if (diff.head.ok) out.push("**Result:** ✅ every stack valid, no policy violations, isolation audit passed", "");
  else out.push("**Result:** ❌ this commit's plan fails:", "", ...diff.head.problems.map((p) => `- ${md(p)}`), "");
  if (diff.needsApproval.length > 0) {
    out.push(
      `> [!WARNING]`,
      `> **Needs approval: ${plural(diff.needsApproval.length, "change")} would delete or replace a resource that may hold data, lose data over time, rotate a credential, change what a deploy runs, or may replace resources.** The data-safety gate blocks this change unless the pull request has the \`${DEFAULT_APPROVAL_LABEL}\` label.`,
      ...diff.needsApproval.map((d) => `> - ${md(d.stack, "code")}: ${approvalLineMd(d)}`),
      "",
    );
  }
  if (!diff.changed) out.push("No stack changes: every stack declares the same resources and env variables as the base.", "");
  if (diff.stacksAdded.length > 0) out.push(`**Stacks added:** ${diff.stacksAdded.map((x) => md(x, "code")).join(", ")}`, "");
  if (diff.stacksRemoved.length > 0) out.push(`**Stacks removed:** ${diff.stacksRemoved.map((x) => md(x, "code")).join(", ")}`, "");
  for (const s of diff.stacks) {
    const counts = countLine(s);
    out.push(`### ${md(s.stack, "code")}: ${STATUS_TEXT[s.status]}${counts ? ` (${counts})` : ""}`, "");
    for (const n of s.notes) out.push(`_${md(n)}_`, "");
    if (s.providerChanges.length > 0) {
      out.push(
        `⚠️ **Provider inputs change** (every resource under the provider may be replaced):`,
        "",
        ...s.providerChanges.map((p) => `- ${md(providerLabel(providerRef(p)))}: ${md(inputChangesText(p.inputs))}`),
        "",
      );
    }
    if (s.needsApproval.length > 0) {
      out.push(`⚠️ **Needs approval:**`, "", ...s.needsApproval.map((d) => `- ${approvalLineMd(d)}`), "");
    }
    if (s.unprotected.length > 0) {
      out.push(`⚠️ **Protection removed:** ${s.unprotected.map((c) => `${md(shortType(c.type), "code")} ${md(c.name)}`).join(", ")}`, "");
    }
    const held = new Set(s.needsApproval.map(key));
    const rows: string[][] = [];
    for (const r of s.removed)
      if (!held.has(key(r))) rows.push(["➖ remove", md(shortType(r.type), "code"), md(r.name), r.physicalName ? md(r.physicalName, "code") : "-", ""]);
    for (const c of s.changed) {
      if (!held.has(key(c)))
        rows.push(["✏️ change", md(shortType(c.type), "code"), md(c.name), c.after.physicalName ? md(c.after.physicalName, "code") : "-", md(changeDetail(c))]);
    }
    for (const r of s.added)
      rows.push(["➕ add", md(shortType(r.type), "code"), md(r.name), r.physicalName ? md(r.physicalName, "code") : "-", r.stateful ? "stateful" : ""]);
    if (rows.length > 0) {
      out.push("| Change | Type | Name | Physical name | Details |", "|---|---|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`), "");
    }
    if (s.variablesAdded.length > 0) out.push(`**Env variables added:** ${s.variablesAdded.map((x) => md(x, "code")).join(", ")}`, "");
    if (s.variablesRemoved.length > 0) out.push(`**Env variables removed:** ${s.variablesRemoved.map((x) => md(x, "code")).join(", ")}`, "");
  }
  if (head) {
    out.push("<details><summary>Full plan of this commit</summary>", "", renderPlanMarkdown(head).trimEnd(), "", "</details>", "");
  }
  return out.join("\n");
}

export function renderPlanDiff(diff: PlanDiff, format: string, head?: Plan): string {
  if (format === "json") return `${JSON.stringify(diff, null, 2)}\n`;
  if (format === "markdown") return renderPlanDiffMarkdown(diff, head);
  return renderPlanDiffText(diff);
}

// ---------------------------------------------------------------- git + child process

const EMPTY_PLAN: Plan = { note: PLAN_NOTE, stacks: [], audit: { ok: true, conflicts: [], unaudited: [] }, ok: true };

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The line of a failed command's stderr that says what went wrong: its `error:` line, else its first. */
const errorLine = (s: string) => {
  const lines = s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.find((l) => /^error:|Error:/.test(l)) ?? lines[0] ?? "";
};

function resolveBase(dir: string, ref: string): { top: string; commit: string } {
  let top: string;
  try {
    top = git(dir, ["rev-parse", "--show-toplevel"]);
  } catch {
    throw new UsageError(`--base needs a git checkout: ${dir} is not in a git repository`);
  }
  try {
    return { top, commit: git(dir, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]) };
  } catch {
    throw new UsageError(`--base ${ref}: no such commit in ${top} (for a pull request, fetch the base branch first: git fetch origin <branch>)`);
  }
}

/** Runs a command to completion, collecting its output. */
function run(
  cmd: string,
  args: string[],
  cwd: string,
  signal?: AbortSignal,
): Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"], signal });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (error) => resolve({ status: null, stdout: "", stderr: "", error }));
    child.on("close", (status) => resolve({ status, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/** The stacks a commit has files for (`Pulumi.<stack>.yaml` in the project directory). */
function stacksAtCommit(top: string, rel: string, commit: string): string[] {
  const prefix = rel === "" ? "" : `${rel.split(path.sep).join("/")}/`;
  return git(top, ["ls-tree", "--name-only", commit, prefix === "" ? "." : prefix])
    .split("\n")
    .map((f) => stackOfFileName(f.slice(prefix.length)))
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * Whether the project at `commit` runs the same code as this checkout: every file
 * but the stack files (`Pulumi.<stack>.yaml`, the review template) is the same,
 * uncommitted changes included. Then the base's stack files can be planned by
 * this process's own code, which is the base's, with no child process.
 */
export function sameCodeAsCommit(dir: string, commit: string): boolean {
  try {
    execFileSync("git", ["diff", "--quiet", commit, "--", ".", ":(exclude)Pulumi.*.yaml"], { cwd: dir, stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Plans the base commit: a temporary worktree of it, this checkout's node_modules
 * linked in, and the base's own `cli/plan.ts --json` run there in a child process;
 * or, when the base's code is this checkout's (`sameCodeAsCommit`), its stack
 * files planned in this process. A base without `cli/plan.ts` plans as empty. The
 * worktree is always removed.
 */
export async function planAtCommit(dir: string, commit: string, signal?: AbortSignal, inProcess = false): Promise<Plan> {
  const top = fs.realpathSync(git(dir, ["rev-parse", "--show-toplevel"]));
  const rel = path.relative(top, fs.realpathSync(dir));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mina-plan-base-"));
  const worktree = path.join(tmp, "base");
  const project = path.join(worktree, rel);
  const link = path.join(project, "node_modules");
  let added = false;
  try {
    git(top, ["worktree", "add", "--detach", worktree, commit]);
    added = true;
    if (!fs.existsSync(path.join(project, "cli", "plan.ts"))) return EMPTY_PLAN;
    if (inProcess) return await planAll(project, undefined, policyChecker(project));
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(fs.realpathSync(dir), "node_modules"), link, "dir");
    // Node with tsx's loader, in one process (the tsx command would start a second one).
    const r = await run(process.execPath, ["--require", "tsx/cjs", path.join("cli", "plan.ts"), "--json", "--dir", project], project, signal);
    if (r.error) throw new CommandError(`could not run the plan of ${commit.slice(0, 12)}: ${r.error.message}`);
    // The plan exits 1 when the base itself fails its checks; its JSON is still the plan.
    if (r.status === 0 || r.status === 1) {
      try {
        return JSON.parse(r.stdout) as Plan;
      } catch {
        /* reported below */
      }
    }
    throw new CommandError(`the plan of base commit ${commit.slice(0, 12)} failed (exit ${r.status}): ${errorLine(r.stderr) || "no output"}`);
  } finally {
    try {
      if (fs.lstatSync(link).isSymbolicLink()) fs.unlinkSync(link);
    } catch {
      /* no link */
    }
    if (added) {
      try {
        git(top, ["worktree", "remove", "--force", worktree]);
      } catch {
        /* removed below; prune forgets it */
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    try {
      git(top, ["worktree", "prune"]);
    } catch {
      /* nothing to prune */
    }
  }
}

/** Keeps only the requested stacks (and recomputes `ok` over them, as `planAll` does). */
function only(plan: Plan, stacks?: readonly string[]): Plan {
  if (!stacks || stacks.length === 0) return plan;
  const shown = plan.stacks.filter((s) => stacks.includes(s.stack));
  return { ...plan, stacks: shown, ok: shown.every((s) => s.ok && s.violations.length === 0) && plan.audit.ok };
}

/**
 * Plans the base ref (child process) and this checkout (in-process), concurrently, and diffs them.
 * @public cli/plan.ts loads this module lazily (require), where knip does not follow the name.
 */
export async function computePlanDiff(
  dir: string,
  baseRef: string,
  stacks?: readonly string[],
  progress?: { readonly progress: boolean; readonly stderr: { write(s: string): unknown } },
): Promise<{ diff: PlanDiff; head: Plan }> {
  const say = (s: string) => progress?.progress && progress.stderr.write(`${s}\n`);
  const { top, commit } = resolveBase(dir, baseRef);
  if (stacks && stacks.length > 0) {
    const rel = path.relative(fs.realpathSync(top), fs.realpathSync(dir));
    const known = new Set([...listStackFiles(dir).map((s) => s.stack), ...stacksAtCommit(top, rel, commit)]);
    const unknown = stacks.filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new UsageError(
        `no stack file for ${unknown.map((s) => `"${s}"`).join(", ")} at ${baseRef} or in ${dir} (stacks: ${[...known].sort().join(", ") || "none"})`,
      );
    }
  }
  // The mock runtime is one per process: a base planned in this process is planned before the head, not beside it.
  const inProcess = sameCodeAsCommit(dir, commit);
  const short = `${baseRef} (${commit.slice(0, 12)})`;
  say(
    inProcess
      ? `planning ${short}'s stack files with this checkout's code (the same as its own), then this checkout, under the mock runtime…`
      : `planning ${short} in a temporary worktree, and this checkout, both under the mock runtime…`,
  );
  const stop = new AbortController();
  const basePlan = planAtCommit(dir, commit, stop.signal, inProcess);
  if (inProcess) await basePlan.catch(() => undefined);
  // Settle the base's promise even if the head fails first, so its worktree is removed before we return.
  basePlan.catch(() => undefined);
  let head: Plan;
  try {
    head = await planAll(dir, undefined, policyChecker(dir));
  } catch (e) {
    // The head cannot be planned: the base's plan is no longer needed; stop it, then remove its worktree.
    stop.abort();
    await basePlan.catch(() => undefined);
    throw new UsageError((e as Error).message);
  }
  const base = await basePlan;
  const h = only(head, stacks);
  return { diff: diffPlans(only(base, stacks), h, { base: baseRef, baseCommit: commit }), head: h };
}
