/**
 * The sweeper's decision: which of the project's stacks to destroy, as a pure
 * function of what the backend lists, the repository's stack files, and the time.
 *
 * Deny by default. A stack is destroyed only when it carries the marker tag
 * `mina:created-by` = `env:new` (review environments carry it; nothing else sets
 * it), is not of the production tier, carries no keep tag, and either has been idle
 * past the TTL, counted from its last update, or is one of the oldest-updated
 * beyond the cap. A production-tier stack is never destroyed, and one that carries
 * the marker is refused loudly: a marker where it cannot belong means the tags
 * cannot be trusted, so the caller destroys nothing at all. A stack whose last
 * update is unknown is kept and reported.
 *
 * The other place that destroys a stack is the teardown of one review environment
 * (`only`): the same rules, without the TTL and the cap.
 *
 * Running it (the end of this file): the stacks and their tags from the Pulumi
 * CLI, the decision, then each stack destroyed and removed, one by one.
 */
import { readsAsProduction } from "../config/defaults";
import { ENVIRONMENT_PATTERN } from "../config/naming";
import { productionStackFiles } from "../config/workflowStacks";
import { CommandError, firstLine } from "../lib/errors";
import { runPulumi, shownCommand } from "./pulumi";

export const MARKER_TAG = "mina:created-by";
export const MARKER_VALUE = "env:new";
export const KEEP_TAG = "mina:keep";
export const TIER_TAG = "mina:tier";

/** One stack as the backend lists it (`pulumi stack ls --json`, with its tags). */
export interface ListedStack {
  /** As listed: `pr-12`, or qualified (`org/mina/pr-12`); commands get it as listed. */
  readonly name: string;
  /** Milliseconds since the epoch; undefined when the backend does not say. */
  readonly lastUpdate?: number;
  readonly updateInProgress?: boolean;
  readonly resourceCount?: number;
  /** Undefined when they could not be read (`tagsProblem` says why). */
  readonly tags?: Readonly<Record<string, string>>;
  readonly tagsProblem?: string;
}

export type Decision = "destroy" | "keep" | "refuse";

export interface SweepRow {
  /** As listed. */
  readonly stack: string;
  readonly lastUpdate?: number;
  /** now - lastUpdate (never negative); undefined when the last update is unknown. */
  readonly ageMs?: number;
  readonly decision: Decision;
  readonly reason: string;
}

export interface SweepOptions {
  readonly now: number;
  /** Idle time after which a review stack goes. */
  readonly ttlMs: number;
  /** At most this many review stacks stay idle within the TTL; beyond that the oldest-updated go first. */
  readonly max?: number;
  /** Only stacks whose name starts with this (the workflows: `pr-`). */
  readonly prefix?: string;
  /** Teardown: only these stacks, whatever their age (TTL and cap do not apply). */
  readonly only?: readonly string[];
  /** Stacks whose file in the repository makes them production-tier (`mina:profile: production`, or unreadable). */
  readonly productionStackFiles?: readonly string[];
  /** How `ttlMs` was written, for the reasons (`72h`). */
  readonly ttlText?: string;
}

export interface SweepPlan {
  /** One row per stack considered, in the order listed. */
  readonly rows: SweepRow[];
  /** The rows to destroy, in the order to destroy them: oldest-updated first. */
  readonly destroy: SweepRow[];
  /** Production-tier stacks carrying the marker: nothing may be destroyed while there is one. */
  readonly refused: SweepRow[];
  /** Names given in `only` that the backend does not list. */
  readonly missing: string[];
}

/** The stack's own name, without `org/` or `org/project/`. */
export const shortName = (name: string): string => name.split("/").pop() ?? name;

/** Why a stack is of the production tier (empty: it is not). */
export function productionReasons(s: ListedStack, productionStackFiles: readonly string[] = []): string[] {
  const short = shortName(s.name);
  const out: string[] = [];
  const tier = s.tags?.[TIER_TAG];
  if (tier !== undefined && tier.trim().toLowerCase() === "production") out.push(`tag ${TIER_TAG}=${tier}`);
  if (readsAsProduction(short)) out.push("its name reads as production");
  if (productionStackFiles.includes(short)) out.push(`Pulumi.${short}.yaml is production's`);
  return out;
}

/** Whether a keep tag is set: any value but an explicit no keeps the stack. */
function keepValue(tags: Readonly<Record<string, string>>): string | undefined {
  const v = tags[KEEP_TAG];
  if (v === undefined) return undefined;
  return /^(false|no|0|)$/i.test(v.trim()) ? undefined : v;
}

/** `3d 4h`, `5h 12m`, `45m`. */
export function formatAge(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  return `${m}m`;
}

/** Oldest-updated first; unknown last updates after known ones; then by name. */
const byLastUpdate = (a: SweepRow, b: SweepRow): number =>
  (a.lastUpdate ?? Infinity) - (b.lastUpdate ?? Infinity) || (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0);

/** Decides, for every listed stack, destroy, keep or refuse, with one reason each. */
export function decideSweep(stacks: readonly ListedStack[], opts: SweepOptions): SweepPlan {
  const ttlText = opts.ttlText ?? formatAge(opts.ttlMs);
  const only = opts.only;
  const considered = only ? stacks.filter((s) => only.includes(s.name) || only.includes(shortName(s.name))) : [...stacks];
  const missing = only ? only.filter((n) => !stacks.some((s) => s.name === n || shortName(s.name) === n)) : [];

  const rows: SweepRow[] = [];
  /** Review stacks idle within the TTL: they stay unless the cap says otherwise. */
  const within: number[] = [];
  for (const s of considered) {
    const short = shortName(s.name);
    const ageMs = s.lastUpdate === undefined ? undefined : Math.max(0, opts.now - s.lastUpdate);
    const row = (decision: Decision, reason: string) => rows.push({ stack: s.name, lastUpdate: s.lastUpdate, ageMs, decision, reason });
    const marked = s.tags?.[MARKER_TAG] === MARKER_VALUE;
    const production = productionReasons(s, opts.productionStackFiles);
    if (production.length > 0) {
      if (marked) row("refuse", `production tier (${production.join("; ")}) yet tagged ${MARKER_TAG}=${MARKER_VALUE}: never destroyed; remove the tag`);
      else row("keep", `production tier (${production.join("; ")})`);
      continue;
    }
    if (s.tags === undefined) {
      row("keep", `its tags could not be read${s.tagsProblem ? ` (${s.tagsProblem})` : ""}`);
      continue;
    }
    if (!marked) {
      row("keep", `not created by env:new (no tag ${MARKER_TAG}=${MARKER_VALUE})`);
      continue;
    }
    if (!ENVIRONMENT_PATTERN.test(short)) {
      row("keep", `"${short}" is not a stack name env:new makes`);
      continue;
    }
    if (opts.prefix !== undefined && !short.startsWith(opts.prefix)) {
      row("keep", `not a ${opts.prefix}* stack`);
      continue;
    }
    const keep = keepValue(s.tags);
    if (keep !== undefined) {
      row("keep", `tag ${KEEP_TAG}=${keep}`);
      continue;
    }
    if (s.updateInProgress) {
      row("keep", "an update is in progress");
      continue;
    }
    if (only) {
      row("destroy", "named for teardown");
      continue;
    }
    if (ageMs === undefined) {
      row("keep", "last update unknown (never updated?): not swept by age; tear it down by name with --stack if it is abandoned");
      continue;
    }
    if (ageMs >= opts.ttlMs) {
      row("destroy", `idle ${formatAge(ageMs)}, past the TTL of ${ttlText}`);
      continue;
    }
    within.push(rows.length);
    row("keep", `updated ${formatAge(ageMs)} ago, within the TTL of ${ttlText}`);
  }

  // The cap: when more review stacks stay than --max allows, the oldest-updated go first.
  if (opts.max !== undefined && within.length > opts.max) {
    const excess = within.length - opts.max;
    const oldest = [...within].sort((i, j) => byLastUpdate(rows[i], rows[j])).slice(0, excess);
    for (const i of oldest) {
      rows[i] = {
        ...rows[i],
        decision: "destroy",
        reason: `over --max ${opts.max}: ${within.length} review stacks idle within the TTL, the oldest-updated go first`,
      };
    }
  }

  return {
    rows,
    destroy: rows.filter((r) => r.decision === "destroy").sort(byLastUpdate),
    refused: rows.filter((r) => r.decision === "refuse"),
    missing,
  };
}

/** The plan as a table: stack, last update, age, decision, reason. */
export function renderSweepTable(rows: readonly SweepRow[]): string {
  const header = ["STACK", "LAST UPDATE", "AGE", "DECISION", "REASON"];
  const cells = rows.map((r) => [
    r.stack,
    r.lastUpdate === undefined ? "unknown" : new Date(r.lastUpdate).toISOString().replace(/:\d\d\.\d{3}Z$/, "Z"),
    r.ageMs === undefined ? "-" : formatAge(r.ageMs),
    r.decision,
    r.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === c.length - 1 ? x : x.padEnd(widths[i]))).join("  ");
  return `${[line(header), ...cells.map(line)].join("\n")}\n`;
}

/**
 * Reads `pulumi stack ls --json`: an array of `{name, current, lastUpdate?,
 * updateInProgress?, resourceCount?, url?}`, `lastUpdate` an RFC 3339 time (a
 * number is taken as Unix seconds, as Pulumi Cloud's REST API gives it). Tags are
 * kept when an entry carries them (`tags`: an object of strings). Entries without
 * a name are skipped and named in `skipped`.
 */
export function parseStackList(doc: unknown): { stacks: ListedStack[]; skipped: string[] } {
  if (doc === null) return { stacks: [], skipped: [] };
  if (!Array.isArray(doc)) throw new Error("expected a JSON array of stacks");
  const stacks: ListedStack[] = [];
  const skipped: string[] = [];
  doc.forEach((e, i) => {
    if (
      typeof e !== "object" ||
      e === null ||
      Array.isArray(e) ||
      typeof (e as { name?: unknown }).name !== "string" ||
      (e as { name: string }).name.trim() === ""
    ) {
      skipped.push(`entry ${i} has no stack name`);
      return;
    }
    const o = e as Record<string, unknown>;
    const tags = parseTags(o.tags);
    stacks.push({
      name: (o.name as string).trim(),
      lastUpdate: parseTime(o.lastUpdate),
      updateInProgress: o.updateInProgress === true,
      resourceCount: typeof o.resourceCount === "number" && Number.isFinite(o.resourceCount) ? o.resourceCount : undefined,
      ...(tags ? { tags } : {}),
    });
  });
  return { stacks, skipped };
}

/** `pulumi stack tag ls --json`: an object of tag names to string values; undefined for anything else. */
function parseTags(doc: unknown): Record<string, string> | undefined {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (typeof v !== "string") return undefined;
    out[k] = v;
  }
  return out;
}

function parseTime(v: unknown): number | undefined {
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v < 1e12 ? v * 1000 : v;
  if (typeof v !== "string") return undefined;
  // RFC 3339 with an explicit zone: a time without one would be read as local time.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(v.trim())) return undefined;
  const t = Date.parse(v.trim());
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

// ---------------------------------------------------------------- running it

/** What the command asks of a sweep, its flags checked. */
export interface SweepRequest {
  readonly ttlText: string;
  readonly ttlMs: number;
  readonly max?: number;
  readonly prefix?: string;
  /** Teardown of these stacks only. */
  readonly only?: string[];
}

/** Where a sweep says what it is doing: progress lines, and warnings that do not stop it. */
export interface SweepOutput {
  note(line: string): void;
  warn(line: string): void;
}

/**
 * The plan of a sweep: the repository's production stacks (a stack production's
 * file describes is never swept), then the backend's stacks, each with its tags
 * (`pulumi stack ls --json`, `pulumi stack tag ls --json`), then the decision.
 */
export function planSweep(dir: string, req: SweepRequest, env: NodeJS.ProcessEnv, out: SweepOutput): SweepPlan {
  let production: string[];
  try {
    production = productionStackFiles(dir);
  } catch (e) {
    throw new CommandError(`cannot read the stack files, so production's stacks are unknown; refusing to sweep: ${firstLine(e)}`);
  }
  const { only } = req;
  const wanted = (s: ListedStack) => !only || only.includes(s.name) || only.includes(s.name.split("/").pop() ?? s.name);
  const stacks = listStacks(dir, env, out)
    .filter(wanted)
    .map((s) => withTags(s, dir, env, out));
  return decideSweep(stacks, {
    now: Date.now(),
    ttlMs: req.ttlMs,
    ttlText: req.ttlText,
    max: req.max,
    prefix: req.prefix,
    only,
    productionStackFiles: production,
  });
}

/** The backend's stacks, as `pulumi stack ls --json` lists them; entries it cannot read are skipped with a warning. */
function listStacks(dir: string, env: NodeJS.ProcessEnv, out: SweepOutput): ListedStack[] {
  out.note("listing stacks with pulumi stack ls…");
  const listed = runPulumi(["stack", "ls", "--json"], dir, env, 120_000);
  if (!listed.ok) throw new CommandError(listed.problem);
  let doc: unknown;
  try {
    doc = JSON.parse(listed.stdout);
  } catch {
    throw new CommandError("pulumi stack ls --json did not print JSON");
  }
  let parsed: ReturnType<typeof parseStackList>;
  try {
    parsed = parseStackList(doc);
  } catch (e) {
    throw new CommandError(`pulumi stack ls --json: ${(e as Error).message}`);
  }
  for (const s of parsed.skipped) out.warn(`pulumi stack ls --json: ${s}; skipped`);
  return parsed.stacks;
}

/** A listed stack with its tags, read when the listing did not carry them; a failure is kept as `tagsProblem`. */
function withTags(s: ListedStack, dir: string, env: NodeJS.ProcessEnv, out: SweepOutput): ListedStack {
  if (s.tags) return s;
  out.note(`reading ${s.name}'s tags…`);
  const r = runPulumi(["stack", "tag", "ls", "--json", "--stack", s.name], dir, env, 120_000);
  if (!r.ok) return { ...s, tagsProblem: r.problem };
  let tags: Record<string, string> | undefined;
  try {
    tags = parseTags(JSON.parse(r.stdout));
  } catch {
    tags = undefined;
  }
  return tags ? { ...s, tags } : { ...s, tagsProblem: "pulumi stack tag ls --json did not print an object of tags" };
}

/** What destroying got done: the stacks destroyed and removed, and the first failure, where it stopped. */
export interface SweepOutcome {
  readonly destroyed: string[];
  failed?: { readonly stack: string; readonly problem: string };
}

/**
 * Destroys `names` one by one (`pulumi destroy --yes`, then `pulumi stack rm --yes`),
 * stopping at the first failure; `done` hears of each stack destroyed. `outcome`
 * is filled in as it goes, so that a report made on failure says what was done.
 */
export function destroyStacks(
  dir: string,
  names: readonly string[],
  env: NodeJS.ProcessEnv,
  outcome: SweepOutcome,
  out: SweepOutput & { done(stack: string): void },
): void {
  for (const [i, stack] of names.entries()) {
    for (const args of [
      ["destroy", "--yes", "--stack", stack],
      ["stack", "rm", "--yes", "--stack", stack],
    ]) {
      out.note(`${shownCommand(args)} (${i + 1} of ${names.length})…`);
      const r = runPulumi(args, dir, env);
      if (!r.ok) {
        outcome.failed = { stack, problem: r.problem };
        return;
      }
    }
    outcome.destroyed.push(stack);
    out.done(stack);
  }
}
