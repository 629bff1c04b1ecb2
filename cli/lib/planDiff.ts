/**
 * `npm run plan -- --base REF`: what this commit changes in the offline plan
 * against the plan of git REF. The base commit is checked out into a temporary
 * git worktree and planned there by its own `cli/plan.ts`, in a child process;
 * this commit is planned in-process. Like the plan itself, the diff is of what
 * the program declares, not of deployed state (only `pulumi preview` shows that).
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { listStackFiles } from "../../config";
import { PLAN_NOTE, planAll, Plan, PlannedResource, StackPlan } from "./plan";
import { policyChecker } from "./policyCheck";
import { renderMarkdown as renderPlanMarkdown, shortType } from "./render";
import { CommandError, UsageError } from "./run";

/** The pull-request label that approves a stateful deletion or replacement (the data-safety gate's default). */
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

/** A stateful resource this change would delete or replace: its data would be lost. */
export interface DataLossChange {
  readonly stack: string;
  readonly op: "delete" | "replace";
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
  /** Stateful deletions and replacements of this stack (also counted in `removed`/`changed`). */
  readonly dataLoss: readonly DataLossChange[];
  /** Stateful resources whose protection this change turns off. */
  readonly unprotected: readonly ResourceChange[];
  readonly notes: readonly string[];
}

export interface PlanDiff {
  readonly note: string;
  /** The git ref the head is compared against, as given. */
  readonly base: string;
  readonly baseCommit?: string;
  readonly stacksAdded: readonly string[];
  readonly stacksRemoved: readonly string[];
  readonly stacks: readonly StackDiff[];
  /** Every stateful deletion or replacement, across stacks: what the data-safety gate reads. */
  readonly dataLoss: readonly DataLossChange[];
  /** Whether anything differs at all. */
  readonly changed: boolean;
  /** The head plan's own verdict (same rule as `npm run plan`): config errors, policy violations, isolation audit. */
  readonly head: { readonly ok: boolean; readonly problems: readonly string[] };
}

const key = (r: Pick<PlannedResource, "type" | "name">) => `${r.type}\u0000${r.name}`;

function byKey(rs: readonly PlannedResource[]): Map<string, PlannedResource> {
  return new Map(rs.map((r) => [key(r), r]));
}

function sortResources<T extends { type: string; name: string }>(rs: T[]): T[] {
  return rs.sort((a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name));
}

/** The data-loss reading of a stack's resource changes: stateful removals are deletions; a stateful rename is a replacement. */
export function dataLossOf(stack: string, removed: readonly PlannedResource[], changed: readonly ResourceChange[], removedReason = "no longer declared"): DataLossChange[] {
  const out: DataLossChange[] = [];
  for (const r of removed) {
    if (r.stateful) out.push({ stack, op: "delete", type: r.type, name: r.name, physicalName: r.physicalName, reason: removedReason });
  }
  for (const c of changed) {
    if (c.stateful && c.fields.includes("physicalName")) {
      out.push({
        stack,
        op: "replace",
        type: c.type,
        name: c.name,
        physicalName: c.before.physicalName,
        reason: `physical name ${c.before.physicalName ?? "(provider-assigned)"} → ${c.after.physicalName ?? "(provider-assigned)"}`,
      });
    }
  }
  return out;
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

function diffNames(base: readonly { name: string }[], head: readonly { name: string }[]) {
  const b = new Set(base.map((v) => v.name));
  const h = new Set(head.map((v) => v.name));
  return { added: [...h].filter((n) => !b.has(n)).sort(), removed: [...b].filter((n) => !h.has(n)).sort() };
}

function emptyStackDiff(stack: string, status: StackDiffStatus, notes: string[] = []): StackDiff {
  return { stack, status, added: [], removed: [], changed: [], variablesAdded: [], variablesRemoved: [], dataLoss: [], unprotected: [], notes };
}

function diffStack(stack: string, base: StackPlan | undefined, head: StackPlan | undefined, baseLabel: string): StackDiff {
  if (!head && base) {
    const removed = sortResources([...base.resources]);
    return {
      ...emptyStackDiff(stack, "removed", [`${base.file} was removed: nothing deploys this stack any more, and its resources are no longer declared`]),
      removed,
      variablesRemoved: base.variables.map((v) => v.name).sort(),
      dataLoss: dataLossOf(stack, removed, [], "its stack file was removed"),
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
  const vars = diffNames(base.variables, head.variables);
  const unprotected = changed.filter((c) => c.stateful && c.before.protected && !c.after.protected);
  const any = added.length + removed.length + changed.length + vars.added.length + vars.removed.length > 0;
  return {
    stack,
    status: any ? "changed" : "unchanged",
    added,
    removed,
    changed,
    variablesAdded: vars.added,
    variablesRemoved: vars.removed,
    dataLoss: dataLossOf(stack, removed, changed),
    unprotected,
    notes,
  };
}

/** What fails the head plan, one line each: the same rule as `npm run plan`'s exit code. */
export function planProblems(plan: Plan): string[] {
  const out: string[] = [];
  for (const s of plan.stacks) {
    for (const e of s.errors) out.push(`${s.stack}: invalid config: ${e}`);
    for (const v of s.violations) out.push(`${s.stack}: policy [${v.rule}] ${v.resource}: ${v.message}`);
  }
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
  const dataLoss = stacks.flatMap((s) => s.dataLoss);
  return {
    note: PLAN_DIFF_NOTE,
    base: baseLabel,
    ...(refs.baseCommit ? { baseCommit: refs.baseCommit } : {}),
    stacksAdded,
    stacksRemoved,
    stacks,
    dataLoss,
    changed: stacks.some((s) => s.status !== "unchanged"),
    head: { ok: head.ok, problems: planProblems(head) },
  };
}

// ---------------------------------------------------------------- rendering

const esc = (s: string) => s.replace(/\|/g, "\\|");
const code = (s: string) => "`" + s.replace(/`/g, "'") + "`";
const physical = (r: { physicalName?: string }) => (r.physicalName ? ` (${r.physicalName})` : "");

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

function dataLossLine(d: DataLossChange): string {
  return `${d.op === "delete" ? "delete" : "replace"} ${shortType(d.type)} ${d.name}${physical(d)}: ${d.reason}`;
}

export function renderPlanDiffText(diff: PlanDiff): string {
  const out: string[] = [`Plan diff against ${diff.base}${diff.baseCommit ? ` (${diff.baseCommit.slice(0, 12)})` : ""}`, diff.note, ""];
  if (diff.dataLoss.length > 0) {
    out.push(`!! DATA LOSS: ${diff.dataLoss.length} stateful resource${diff.dataLoss.length === 1 ? "" : "s"} would be deleted or replaced:`);
    for (const d of diff.dataLoss) out.push(`   ${d.stack}: ${dataLossLine(d)}`);
    out.push("");
  }
  if (diff.stacksAdded.length > 0) out.push(`Stacks added: ${diff.stacksAdded.join(", ")}`);
  if (diff.stacksRemoved.length > 0) out.push(`Stacks removed: ${diff.stacksRemoved.join(", ")}`);
  if (diff.stacksAdded.length + diff.stacksRemoved.length > 0) out.push("");
  for (const s of diff.stacks) {
    const counts = countLine(s);
    out.push(`== ${s.stack}: ${STATUS_TEXT[s.status]}${counts ? ` (${counts})` : ""}`);
    for (const n of s.notes) out.push(`   note: ${n}`);
    for (const d of s.dataLoss) out.push(`   !! ${dataLossLine(d)}`);
    for (const c of s.unprotected) out.push(`   !! protection removed from ${shortType(c.type)} ${c.name}${physical(c.after)}`);
    const lossy = new Set(s.dataLoss.map((d) => `${d.type}\u0000${d.name}`));
    for (const r of s.removed) if (!lossy.has(key(r))) out.push(`   - ${shortType(r.type)} ${r.name}${physical(r)}`);
    for (const c of s.changed) if (!lossy.has(key(c))) out.push(`   ~ ${shortType(c.type)} ${c.name}${physical(c.after)}: ${changeDetail(c)}`);
    for (const r of s.added) out.push(`   + ${shortType(r.type)} ${r.name}${physical(r)}`);
    if (s.variablesAdded.length > 0) out.push(`   env variables added: ${s.variablesAdded.join(", ")}`);
    if (s.variablesRemoved.length > 0) out.push(`   env variables removed: ${s.variablesRemoved.join(", ")}`);
    out.push("");
  }
  if (diff.head.ok) out.push("This commit's plan: ✓ every stack valid, no policy violations, isolation audit passed");
  else out.push("This commit's plan: ✗ fails:", ...diff.head.problems.map((p) => `   ${p}`));
  return out.join("\n") + "\n";
}

export function renderPlanDiffMarkdown(diff: PlanDiff, head?: Plan): string {
  const out: string[] = [
    `## mina-infra plan: changes against ${code(diff.base)}${diff.baseCommit ? ` (${diff.baseCommit.slice(0, 12)})` : ""}`,
    "",
    `> ${diff.note}`,
    "",
  ];
  if (diff.head.ok) out.push("**Result:** ✅ every stack valid, no policy violations, isolation audit passed", "");
  else out.push("**Result:** ❌ this commit's plan fails:", "", ...diff.head.problems.map((p) => `- ${esc(p)}`), "");
  if (diff.dataLoss.length > 0) {
    out.push(
      `> [!WARNING]`,
      `> **Data loss: ${diff.dataLoss.length} stateful resource${diff.dataLoss.length === 1 ? "" : "s"} would be deleted or replaced.** The data-safety gate blocks this change unless the pull request has the \`${DEFAULT_APPROVAL_LABEL}\` label.`,
      ...diff.dataLoss.map((d) => `> - \`${d.stack}\`: **${d.op}** ${code(shortType(d.type))} ${esc(d.name)}${d.physicalName ? ` (${code(d.physicalName)})` : ""}: ${esc(d.reason)}`),
      "",
    );
  }
  if (!diff.changed) out.push("No stack changes: every stack declares the same resources and env variables as the base.", "");
  if (diff.stacksAdded.length > 0) out.push(`**Stacks added:** ${diff.stacksAdded.map(code).join(", ")}`, "");
  if (diff.stacksRemoved.length > 0) out.push(`**Stacks removed:** ${diff.stacksRemoved.map(code).join(", ")}`, "");
  for (const s of diff.stacks) {
    const counts = countLine(s);
    out.push(`### ${code(s.stack)}: ${STATUS_TEXT[s.status]}${counts ? ` (${counts})` : ""}`, "");
    for (const n of s.notes) out.push(`_${esc(n)}_`, "");
    if (s.dataLoss.length > 0) {
      out.push(`⚠️ **Stateful deletions and replacements:**`, "", ...s.dataLoss.map((d) => `- **${d.op}** ${code(shortType(d.type))} ${esc(d.name)}${d.physicalName ? ` (${code(d.physicalName)})` : ""}: ${esc(d.reason)}`), "");
    }
    if (s.unprotected.length > 0) {
      out.push(`⚠️ **Protection removed:** ${s.unprotected.map((c) => `${code(shortType(c.type))} ${esc(c.name)}`).join(", ")}`, "");
    }
    const lossy = new Set(s.dataLoss.map((d) => `${d.type}\u0000${d.name}`));
    const rows: string[][] = [];
    for (const r of s.removed) if (!lossy.has(key(r))) rows.push(["➖ remove", code(shortType(r.type)), esc(r.name), r.physicalName ? code(r.physicalName) : "-", ""]);
    for (const c of s.changed) {
      if (!lossy.has(key(c))) rows.push(["✏️ change", code(shortType(c.type)), esc(c.name), c.after.physicalName ? code(c.after.physicalName) : "-", esc(changeDetail(c))]);
    }
    for (const r of s.added) rows.push(["➕ add", code(shortType(r.type)), esc(r.name), r.physicalName ? code(r.physicalName) : "-", r.stateful ? "stateful" : ""]);
    if (rows.length > 0) {
      out.push("| Change | Type | Name | Physical name | Details |", "|---|---|---|---|---|", ...rows.map((r) => `| ${r.join(" | ")} |`), "");
    }
    if (s.variablesAdded.length > 0) out.push(`**Env variables added:** ${s.variablesAdded.map(code).join(", ")}`, "");
    if (s.variablesRemoved.length > 0) out.push(`**Env variables removed:** ${s.variablesRemoved.map(code).join(", ")}`, "");
  }
  if (head) {
    out.push("<details><summary>Full plan of this commit</summary>", "", renderPlanMarkdown(head).trimEnd(), "", "</details>", "");
  }
  return out.join("\n");
}

export function renderPlanDiff(diff: PlanDiff, format: string, head?: Plan): string {
  if (format === "json") return JSON.stringify(diff, null, 2) + "\n";
  if (format === "markdown") return renderPlanDiffMarkdown(diff, head);
  return renderPlanDiffText(diff);
}

// ---------------------------------------------------------------- git + child process

const EMPTY_PLAN: Plan = { note: PLAN_NOTE, stacks: [], audit: { ok: true, conflicts: [] }, ok: true };

function git(cwd: string, args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The line of a failed command's stderr that says what went wrong: its `error:` line, else its first. */
const errorLine = (s: string) => {
  const lines = s.split("\n").map((l) => l.trim()).filter(Boolean);
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
function run(cmd: string, args: string[], cwd: string): Promise<{ status: number | null; stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"] });
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
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f.slice(prefix.length))?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/**
 * Plans the base commit: a temporary worktree of it, this checkout's node_modules
 * linked in, and the base's own `cli/plan.ts --json` run there in a child process.
 * A base without `cli/plan.ts` plans as empty. The worktree is always removed.
 */
export async function planAtCommit(dir: string, commit: string): Promise<Plan> {
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
    if (!fs.existsSync(link)) fs.symlinkSync(path.join(fs.realpathSync(dir), "node_modules"), link, "dir");
    const r = await run(path.join("node_modules", ".bin", "tsx"), [path.join("cli", "plan.ts"), "--json", "--dir", project], project);
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

/** Plans the base ref (child process) and this checkout (in-process), concurrently, and diffs them. */
export async function computePlanDiff(dir: string, baseRef: string, stacks?: readonly string[]): Promise<{ diff: PlanDiff; head: Plan }> {
  const { top, commit } = resolveBase(dir, baseRef);
  if (stacks && stacks.length > 0) {
    const rel = path.relative(fs.realpathSync(top), fs.realpathSync(dir));
    const known = new Set([...listStackFiles(dir).map((s) => s.stack), ...stacksAtCommit(top, rel, commit)]);
    const unknown = stacks.filter((s) => !known.has(s));
    if (unknown.length > 0) {
      throw new UsageError(`no stack file for ${unknown.map((s) => `"${s}"`).join(", ")} at ${baseRef} or in ${dir} (stacks: ${[...known].sort().join(", ") || "none"})`);
    }
  }
  const basePlan = planAtCommit(dir, commit);
  // Settle the base's promise even if the head fails first, so its worktree is removed before we return.
  basePlan.catch(() => undefined);
  let head: Plan;
  try {
    head = await planAll(dir, undefined, policyChecker(dir));
  } catch (e) {
    await basePlan.catch(() => undefined);
    throw new UsageError((e as Error).message);
  }
  const base = await basePlan;
  const h = only(head, stacks);
  return { diff: diffPlans(only(base, stacks), h, { base: baseRef, baseCommit: commit }), head: h };
}

/** `npm run plan -- --base REF`: prints the diff; exit 1 when this commit's plan fails (same rule as a plain plan). */
export async function planDiffMain(dir: string, baseRef: string, format: string, stacks?: string[]): Promise<number> {
  const { diff, head } = await computePlanDiff(dir, baseRef, stacks);
  process.stdout.write(renderPlanDiff(diff, format, head));
  return diff.head.ok ? 0 : 1;
}
