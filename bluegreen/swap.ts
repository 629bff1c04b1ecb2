/**
 * Blue/green: which colour a front (`mina:liveColour`) sends its traffic to, and
 * whether a swap may happen. A swap is decided on what the target colour proves
 * first, its `verify --live` checklist and the smoke check, and applied as a config
 * change of the front stack through `pulumi up`: reviewable, and reversed by
 * swapping back.
 */
import type { CheckResult } from "../verify/live";
import type { SmokeResult } from "../verify/smoke";

export type Colour = "blue" | "green";

export interface SwapInput {
  /** The front stack, e.g. `staging`. */
  readonly front: string;
  readonly current: Colour;
  readonly to: Colour;
  /** The current canary share, and the one asked for (undefined: keep). */
  readonly currentCanary: number;
  readonly canary?: number;
  /** The target colour's checklist (offline and live items). */
  readonly checklist: readonly CheckResult[];
  readonly smoke: SmokeResult;
}

export interface SwapDecision {
  readonly ok: boolean;
  /** Why not, one line each; or what will change. */
  readonly reasons: readonly string[];
  /** The Pulumi CLI commands that apply it, in order (empty: nothing to change). */
  readonly commands: readonly (readonly string[])[];
}

/** Decides a swap: refused unless every checklist item and the smoke check passed. */
export function decideSwap(i: SwapInput): SwapDecision {
  const target = `${i.front}-${i.to}`;
  const reasons: string[] = [];
  for (const r of i.checklist.filter((r) => !r.ok)) reasons.push(`${target}: ✗ ${r.item}: ${r.reason}`);
  if (i.checklist.length === 0) reasons.push(`${target}: no checklist result: verify did not run`);
  if (!i.smoke.ok) reasons.push(`${target}: smoke check failed: ${i.smoke.reason}`);
  if (i.canary !== undefined && (!Number.isInteger(i.canary) || i.canary < 0 || i.canary > 50)) reasons.push(`canary ${i.canary} is not a whole percentage from 0 to 50`);
  if (reasons.length > 0) return { ok: false, reasons, commands: [] };
  const commands: string[][] = [];
  if (i.to !== i.current) commands.push(["config", "set", "mina:liveColour", i.to, "--stack", i.front]);
  if (i.canary !== undefined && i.canary !== i.currentCanary) commands.push(["config", "set", "mina:canaryPercent", String(i.canary), "--stack", i.front]);
  if (commands.length === 0) return { ok: true, reasons: [`${i.to} is already ${i.front}'s live colour${i.canary !== undefined ? ` with ${i.canary}% canary` : ""}: nothing to change`], commands: [] };
  commands.push(["up", "--stack", i.front, "--yes"]);
  const split = i.canary ?? i.currentCanary;
  return {
    ok: true,
    reasons: [`${i.front} sends ${100 - split}% of traffic to ${i.to}${split > 0 ? ` and ${split}% to ${i.to === "blue" ? "green" : "blue"}` : ""} (was: ${i.current} live, ${i.currentCanary}% canary); roll back with --to ${i.current}`],
    commands,
  };
}
