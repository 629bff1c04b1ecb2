/**
 * Shared fixtures of the policy tests: the resources the committed stacks really
 * declare (recorded under the mock runtime), their rule contexts, and small helpers
 * to take one resource as a happy path and mutate it.
 */
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { loadStackOffline, readAllStacks } from "../../config";
import { runUnderMocks } from "../../plan/mockRuntime";
import { defineEnvironment } from "../../components/environment";
import { fromRecorded, type PlannedResource, type Rule, type RuleContext, ruleContext } from "../../policy/rules";

export const ROOT = path.resolve(__dirname, "../..");

export type CommittedStack = "staging" | "production";

const recordings = new Map<CommittedStack, Promise<PlannedResource[]>>();

/** The resources a committed stack declares, as the plan records them (cached; callers get a deep copy). */
export async function recorded(stack: CommittedStack): Promise<PlannedResource[]> {
  let p = recordings.get(stack);
  if (!p) {
    p = runUnderMocks("mina", stack, () => defineEnvironment(loadStackOffline(ROOT, stack).config)).then(({ resources }) => resources.map(fromRecorded));
    recordings.set(stack, p);
  }
  return structuredClone(await p);
}

/** The rule context of a committed stack, built from the project's stack files. */
export function contextOf(stack: string): RuleContext {
  return ruleContext(stack, readAllStacks(ROOT));
}

/** The one resource of `type` in a recorded stack (a copy to mutate). */
export function only(resources: readonly PlannedResource[], type: string): PlannedResource {
  const found = resources.filter((r) => r.type === type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return structuredClone(found[0]);
}

/** A copy of `r` with some props replaced (`undefined` removes a prop). */
export function withProps(r: PlannedResource, patch: Record<string, unknown>): PlannedResource {
  const props: Record<string, unknown> = { ...r.props, ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete props[k];
  return { ...r, props };
}

/** The stack with `r` in place of the resource of the same name. */
export function replaced(stack: readonly PlannedResource[], r: PlannedResource): PlannedResource[] {
  assert.ok(
    stack.some((x) => x.name === r.name),
    `no resource ${r.name} in the stack`,
  );
  return stack.map((x) => (x.name === r.name ? r : x));
}

/** The stack without the resources of `type`. */
export function without(stack: readonly PlannedResource[], type: string): PlannedResource[] {
  return stack.filter((r) => r.type !== type);
}

/** Runs one rule over a stack (every resource, plus the stack check); messages only. */
export function run(rule: Rule, resources: readonly PlannedResource[], ctx: RuleContext): string[] {
  return [...resources.flatMap((r) => rule.checkResource?.(r, ctx, resources) ?? []), ...(rule.checkStack?.(resources, ctx) ?? [])];
}

/** Runs one rule on one resource (its stack: `stack`, default just itself). */
export function runOn(rule: Rule, r: PlannedResource, ctx: RuleContext, stack: readonly PlannedResource[] = [r]): string[] {
  return rule.checkResource?.(r, ctx, stack) ?? [];
}

export function assertNoViolations(messages: readonly string[]): void {
  assert.deepEqual(messages, []);
}

export function assertHasViolation(messages: readonly string[], want: string): void {
  assert.ok(messages.includes(want), `violation not found:\n  ${want}\nreported:\n  ${messages.join("\n  ") || "(none)"}`);
}
