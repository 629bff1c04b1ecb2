/**
 * Blue/green: which colour a front (`mina:liveColour`) sends its traffic to, and
 * whether a swap may happen. A swap is decided on what every colour that would
 * take traffic proves first, its `verify --live` checklist and the smoke check,
 * and made as a change of the front's committed stack file: reviewed in a pull
 * request and deployed by the deploy workflow (preview, data-safety gate,
 * `pulumi up --plan`) like every other change, and reversed by swapping back.
 *
 * Running it (the end of this file): the colours' proofs, the checked edit of the
 * stack file, and writing it. It never runs pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ConfigErrors, loadStackOffline, parseStackFile, type RawStackConfig, readProject, validateStack, withProjectConfig } from "../config";
import { expectationsFor } from "../config/expectations";
import { qualify } from "../config/raw";
import type { Front } from "../config/stackConfig";
import { readEnvFile } from "../envfiles/read";
import { writeFileAtomic } from "../lib/atomicWrite";
import { CommandError, firstLine, UsageError } from "../lib/errors";
import { gitStatusOf, uncommittedChangesOf } from "../lib/git";
import { shownPath } from "../lib/root";
import { offlineChecklist } from "../verify/checklist";
import { type CheckResult, checkPostgresLive, checkRedisLive } from "../verify/live";
import { type SmokeResult, smokeCheck } from "../verify/smoke";

export type Colour = "blue" | "green";

export const otherColour = (c: Colour): Colour => (c === "blue" ? "green" : "blue");

/** The stack-file keys a swap changes. */
export type SwapKey = "mina:liveColour" | "mina:canaryPercent";

export interface KeyChange {
  readonly key: SwapKey;
  /** The value the file has now (undefined: not set). */
  readonly from?: string | number;
  readonly to: string | number;
}

export interface SwapRequest {
  /** The front stack, e.g. `staging`. */
  readonly front: string;
  readonly current: Colour;
  readonly to: Colour;
  /** The current canary share, and the one asked for (undefined: keep). */
  readonly currentCanary: number;
  readonly canary?: number;
  /** Whether the stack file sets `mina:canaryPercent` (a share of 0 need not be written when it does not). */
  readonly canarySet?: boolean;
}

/** What a colour proved: its checklist (offline and live items) and the smoke check on its own host. */
export interface ColourProof {
  readonly stack: string;
  readonly checklist: readonly CheckResult[];
  readonly smoke: SmokeResult;
}

export interface SwapTarget {
  /** The live colour and canary share after the swap. */
  readonly live: Colour;
  readonly canary: number;
  /** The stack-file changes that make it (empty: nothing to change). */
  readonly changes: readonly KeyChange[];
  /** The colours that take traffic afterwards, each of which must prove itself first. */
  readonly serving: readonly Colour[];
}

/** What a swap would change and which colours would serve traffic. */
export function swapTarget(r: SwapRequest): SwapTarget {
  const canary = r.canary ?? r.currentCanary;
  const changes: KeyChange[] = [];
  if (r.to !== r.current) changes.push({ key: "mina:liveColour", from: r.current, to: r.to });
  if (canary !== r.currentCanary) changes.push({ key: "mina:canaryPercent", ...(r.canarySet === false ? {} : { from: r.currentCanary }), to: canary });
  return { live: r.to, canary, changes, serving: canary > 0 ? [r.to, otherColour(r.to)] : [r.to] };
}

export interface SwapDecision {
  readonly ok: boolean;
  /** Why not, one line each; or what will change. */
  readonly reasons: readonly string[];
  /** The stack-file changes (empty when refused or when nothing changes). */
  readonly changes: readonly KeyChange[];
  /** The colours that had to prove themselves. */
  readonly serving: readonly Colour[];
}

/**
 * Decides a swap: refused unless every colour that would take traffic (the
 * target, and with a canary share the other colour too) passed every checklist
 * item and the smoke check.
 */
export function decideSwap(r: SwapRequest, proofs: Partial<Record<Colour, ColourProof>>): SwapDecision {
  const t = swapTarget(r);
  const reasons: string[] = [];
  for (const colour of t.serving) {
    const p = proofs[colour];
    const stack = p?.stack ?? `${r.front}-${colour}`;
    const share = colour === t.live ? 100 - t.canary : t.canary;
    if (!p) {
      reasons.push(`${stack}: not checked, but it would take ${share}% of the traffic`);
      continue;
    }
    for (const c of p.checklist.filter((c) => !c.ok)) reasons.push(`${stack}: ✗ ${c.item}: ${c.reason}`);
    if (p.checklist.length === 0) reasons.push(`${stack}: no checklist result: verify did not run`);
    if (!p.smoke.ok) reasons.push(`${stack}: smoke check failed: ${p.smoke.reason}`);
  }
  if (reasons.length > 0) return { ok: false, reasons, changes: [], serving: t.serving };
  if (t.changes.length === 0) {
    return { ok: true, reasons: [`${r.to} is already ${r.front}'s live colour with ${t.canary}% canary: nothing to change`], changes: [], serving: t.serving };
  }
  return {
    ok: true,
    reasons: [
      `${r.front} sends ${100 - t.canary}% of traffic to ${r.to}${t.canary > 0 ? ` and ${t.canary}% to ${otherColour(r.to)}` : ""} (was: ${r.current} live, ${r.currentCanary}% canary); roll back with --to ${r.current}${r.currentCanary !== t.canary ? ` --canary ${r.currentCanary}` : ""}`,
    ],
    changes: t.changes,
    serving: t.serving,
  };
}

// ---------------------------------------------------------------- the stack file

/**
 * The stack file's text with `changes` made, and nothing else: the YAML
 * document locates each key in `config:` (written qualified, `mina:liveColour`,
 * or not, `liveColour`), and only the value's own characters are replaced, so
 * comments, quoting, order and every other line stay byte for byte. A key the
 * file lacks is added as the last entry of `config:`, indented like the others.
 * Anything it cannot change this way (no block mapping under `config:`, a value
 * that is not a plain scalar, a result that would read differently) is refused
 * in one line naming the file.
 */
export function editStackFile(text: string, file: string, changes: readonly KeyChange[]): string {
  const doc = YAML.parseDocument(text);
  if (doc.errors.length > 0) throw new CommandError(`${file}: not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
  const config = doc.get("config", true);
  if (!YAML.isMap(config) || config.flow || !config.range || config.items.length === 0) {
    throw new CommandError(
      `${file}: config is not a block mapping of keys, so ${changes.map((c) => c.key).join(" and ")} cannot be changed alone; change it by hand`,
    );
  }
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const edits: { at: number; end: number; text: string }[] = [];
  const added: string[] = [];
  for (const change of changes) {
    const pair = config.items.find((p) => YAML.isScalar(p.key) && typeof p.key.value === "string" && qualify(p.key.value) === change.key);
    if (pair) {
      if (!YAML.isScalar(pair.value) || !pair.value.range || pair.value.anchor !== undefined) {
        throw new CommandError(`${file}: ${change.key} is not a plain value, so it cannot be changed alone; change it by hand`);
      }
      edits.push({ at: pair.value.range[0], end: pair.value.range[1], text: String(change.to) });
    } else {
      added.push(`${change.key}: ${String(change.to)}`);
    }
  }
  if (added.length > 0) {
    const first = config.items[0].key as YAML.Node;
    const lineStart = text.lastIndexOf("\n", first.range![0] - 1) + 1;
    const indent = text.slice(lineStart, first.range![0]);
    if (!/^[ ]+$/.test(indent))
      throw new CommandError(`${file}: config's keys are not indented with spaces on lines of their own; add ${added.join(", ")} by hand`);
    const last = config.items[config.items.length - 1];
    const end = ((last.value ?? last.key) as YAML.Node).range![1];
    let at: number;
    let before = "";
    if (text[end - 1] === "\n") at = end;
    else {
      const nl = text.indexOf("\n", end);
      if (nl < 0) {
        at = text.length;
        before = eol;
      } else at = nl + 1;
    }
    edits.push({ at, end: at, text: before + added.map((l) => `${indent}${l}${eol}`).join("") });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.text + out.slice(e.end);
  // The safety net: the new file must read as the old one with exactly these values.
  const expected = YAML.parse(text) as { config: Record<string, unknown> };
  for (const change of changes) {
    const spelled = Object.keys(expected.config).find((k) => qualify(k) === change.key) ?? change.key;
    expected.config[spelled] = change.to;
  }
  let actual: unknown;
  try {
    actual = YAML.parse(out);
  } catch {
    actual = undefined;
  }
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new CommandError(
      `${file}: cannot change ${changes.map((c) => c.key).join(" and ")} without changing how the rest of the file reads; change it by hand`,
    );
  }
  return out;
}

/** The commands that take the change from the working tree to the deployed front. */
export function nextSteps(i: { front: string; to: Colour; canary: number; file: string; productionTier: boolean }): string[] {
  const branch = `swap-${i.front}-${i.to}${i.canary > 0 ? `-canary-${i.canary}` : ""}`;
  const what = `${i.front}: send ${100 - i.canary}% of traffic to ${i.to}${i.canary > 0 ? `, ${i.canary}% to ${otherColour(i.to)}` : ""}`;
  return [
    `git diff -- ${i.file}`,
    `git switch -c ${branch}`,
    `git commit -m ${JSON.stringify(what)} -- ${i.file}`,
    `git push -u origin ${branch}    # open a pull request: its plan diff shows the front's records updated`,
    i.productionTier
      ? `merge it, then dispatch the deploy workflow with stack: ${i.front} (a production-tier stack deploys only by dispatch): preview, data-safety gate, pulumi up --plan`
      : `merge it: on the push to main the deploy workflow deploys ${i.front} through preview, the data-safety gate and pulumi up --plan`,
  ];
}

// ---------------------------------------------------------------- running it

/** A colour's proof, with where it was taken from. */
export interface Proof extends ColourProof {
  readonly envFile: string;
  readonly url: string;
}

/** The blue/green front a stack file declares; refused (bad usage) when it declares none. */
export function frontOf(dir: string, stack: string, siblings: readonly RawStackConfig[]): Front {
  const { config } = loadStackOffline(dir, stack, [...siblings]);
  if (!config.dns.front) throw new UsageError(`${stack} is not a blue/green front: set mina:liveColour in ${config.file} (see README, Blue/green)`);
  return config.dns.front;
}

/** A colour's proof: its env file's checklist, offline and live, and the smoke check on its host. */
async function prove(cwd: string, dir: string, stack: string, shownFile: string, url: string, opts: { timeoutMs: number; retries: number }): Promise<Proof> {
  const file = path.resolve(cwd, shownFile);
  let checklist: CheckResult[];
  try {
    const env = readEnvFile(file, shownFile);
    const expected = expectationsFor(dir, stack);
    checklist = offlineChecklist({ file, env, expected });
    if (env.DATABASE_URL)
      checklist.push(
        ...(await checkPostgresLive(env.DATABASE_URL, { environment: stack, otherDatabases: expected.otherDatabases, timeoutMs: opts.timeoutMs })),
      );
    else checklist.push({ item: "postgres: connect", ok: false, reason: "DATABASE_URL is missing" });
    if (env.REDIS_URL) checklist.push(...(await checkRedisLive(env.REDIS_URL, { environment: stack, timeoutMs: opts.timeoutMs })));
    else checklist.push({ item: "redis: connect", ok: false, reason: "REDIS_URL is missing" });
  } catch (e) {
    checklist = [{ item: "env file", ok: false, reason: firstLine(e) }];
  }
  const smoke = await smokeCheck(url, stack, { timeoutMs: opts.timeoutMs, retries: opts.retries });
  return { stack, envFile: shownPath(file, cwd), url, checklist, smoke };
}

/** Where each colour's proof comes from: the target's env file and URL, and the other colour's (defaults: `.env.<stack>.local`, `https://<host>/api/version`). */
export interface ProofSources {
  readonly envFile?: string;
  readonly url?: string;
  readonly otherEnvFile?: string;
  readonly otherUrl?: string;
  readonly timeoutMs: number;
  readonly retries: number;
}

/** The proofs of every colour that would serve traffic, one after the other; `say` hears what is being checked. */
export async function proveColours(
  cwd: string,
  dir: string,
  front: Front,
  to: Colour,
  serving: readonly Colour[],
  from: ProofSources,
  say: (line: string) => void,
): Promise<Partial<Record<Colour, Proof>>> {
  const proofs: Partial<Record<Colour, Proof>> = {};
  for (const colour of serving) {
    const c = front.colours[colour];
    const envFile = (colour === to ? from.envFile : from.otherEnvFile) ?? `.env.${c.stack}.local`;
    const url = (colour === to ? from.url : from.otherUrl) ?? `https://${c.host}/api/version`;
    say(`checking ${c.stack} (${envFile}, live) and ${url}…`);
    proofs[colour] = await prove(cwd, dir, c.stack, envFile, url, from);
  }
  return proofs;
}

/** Refuses a stack file that git does not hold as it is: the swap's commit must carry the swap alone. */
function requireCommitted(file: string, shown: string): void {
  const status = gitStatusOf(file);
  if (!status.inRepo) throw new CommandError(`${shown} is not in a git repository: a swap deploys through a commit of it`);
  if (!status.tracked) throw new CommandError(`${shown} is not committed (git does not track it): commit it first, so the swap's commit holds the swap alone`);
  const changes = uncommittedChangesOf(file);
  if (changes)
    throw new CommandError(
      `${shown} has uncommitted changes (git status: ${changes.split("\n")[0].trim()}): commit or discard them first, so the swap's commit holds the swap alone`,
    );
}

/** The front's stack file before and after the swap's changes. */
export interface SwapEdit {
  readonly file: string;
  readonly shown: string;
  readonly before: string;
  readonly after: string;
}

/**
 * The swap's edit of the front's stack file, before any check: the file must be
 * committed as it is, and the change must keep it valid (validated with its siblings).
 */
export function swapEdit(
  dir: string,
  stack: string,
  siblings: readonly RawStackConfig[],
  file: string,
  shown: string,
  changes: readonly KeyChange[],
): SwapEdit {
  requireCommitted(file, shown);
  const before = fs.readFileSync(file, "utf8");
  const after = editStackFile(before, shown, changes);
  try {
    const raw = withProjectConfig(parseStackFile(after, stack, path.basename(file)), readProject(dir));
    validateStack(raw, { siblings: siblings.map((s) => (s.stack === stack ? raw : s)), project: readProject(dir), requireSecrets: false });
  } catch (e) {
    const first = e instanceof ConfigErrors ? e.errors[0]?.message : firstLine(e);
    throw new CommandError(`the swap would make ${shown} invalid: ${first}`);
  }
  return { file, shown, before, after };
}

/** Writes the edit, keeping the file's mode; refused when the file changed since it was read. */
export function writeSwap(edit: SwapEdit): void {
  if (fs.readFileSync(edit.file, "utf8") !== edit.before) throw new CommandError(`${edit.shown} changed while the colours were checked; run swap again`);
  writeFileAtomic(edit.file, edit.after, fs.statSync(edit.file).mode & 0o777);
}
