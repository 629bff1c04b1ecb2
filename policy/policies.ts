/**
 * The pack's policies: each rule of policy/rules wrapped for the Pulumi engine, with
 * mandatory enforcement. Kept apart from `new PolicyPack(...)` (policy/index.ts), which
 * starts the analyzer's gRPC server, so tests can load the policies without serving them.
 *
 * How the pack learns its stack: every resource the engine sends carries its URN,
 * `urn:pulumi:<stack>::<project>::<type>::<name>`, and the stack is the environment.
 * (`@pulumi/policy` exposes no stack name of its own; `ResourceValidationArgs` carries only
 * `stackTags`, which local backends leave empty. The engine also sets `PULUMI_STACK` in the
 * pack's environment; it is the fallback for a stack validation with no resources.) The
 * rest of the context comes from the project's stack files, as config validation builds it.
 */
import * as path from "node:path";
import {
  type PolicyPackArgs,
  type PolicyResource,
  type ReportViolation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  UnknownValueError,
} from "@pulumi/policy";
import { readAllStacks } from "../config";
import { PROJECT } from "../config/naming";
import { ALL_RULES, parseUrn, type PlannedResource, type Rule, type RuleContext, ruleContext, UNKNOWN } from "./rules";

export const PACK_NAME = "mina-isolation";

/** The project directory: its `Pulumi.<stack>.yaml` files give every environment's identity. */
export const PROJECT_DIR = path.resolve(__dirname, "..");

/** Finds the context of the stack a URN belongs to; undefined for another project's resources. */
export type ContextLookup = (urn: string | undefined) => RuleContext | undefined;

/** Contexts by stack, built on first use from the project's stack files. */
export function contextsFrom(dir: string): ContextLookup {
  const cache = new Map<string, RuleContext>();
  return (urn) => {
    const parsed = urn ? parseUrn(urn) : undefined;
    if (parsed && parsed.project !== PROJECT) return undefined;
    const stack = parsed?.stack ?? process.env.PULUMI_STACK ?? process.env.PULUMI_NODEJS_STACK;
    if (!stack) return undefined;
    let ctx = cache.get(stack);
    if (!ctx) {
      ctx = ruleContext(stack, readAllStacks(dir));
      cache.set(stack, ctx);
    }
    return ctx;
  };
}

function isUnknownValueError(e: unknown): boolean {
  return e instanceof UnknownValueError || (e instanceof Error && e.constructor.name === "UnknownValueError");
}

/**
 * Copies the engine's properties into plain data. `@pulumi/policy` hands rules a proxy that
 * throws on reading a value unknown during preview; here each unknown becomes `UNKNOWN`,
 * which rules never judge, so one unknown output does not skip a whole policy.
 */
export function toPlain(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  const read = (obj: Record<string | number, unknown>, key: string | number): unknown => {
    try {
      return toPlain(obj[key]);
    } catch (e) {
      if (isUnknownValueError(e)) return UNKNOWN;
      throw e;
    }
  };
  const obj = v as Record<string | number, unknown>;
  if (Array.isArray(v)) return Array.from({ length: v.length }, (_, i) => read(obj, i));
  return Object.fromEntries(Object.keys(obj).map((k) => [k, read(obj, k)]));
}

function plannedFromArgs(args: ResourceValidationArgs): PlannedResource {
  return { type: args.type, name: args.name, urn: args.urn, props: toPlain(args.props) as Record<string, unknown>, protect: args.opts.protect === true };
}

function plannedFromStack(r: PolicyResource): PlannedResource {
  const dependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, deps]) => [k, deps.map((d) => d.urn)]));
  return { type: r.type, name: r.name, urn: r.urn, props: toPlain(r.props) as Record<string, unknown>, protect: r.opts.protect === true, dependencies };
}

/** Wraps a resource-scope rule as a ResourceValidationPolicy. */
export function resourcePolicy(rule: Rule, contextFor: ContextLookup): ResourceValidationPolicy {
  const check = rule.checkResource;
  if (rule.scope !== "resource" || !check) throw new Error(`rule ${rule.name} is not a resource rule`);
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const ctx = contextFor(args.urn);
      if (!ctx) return args.notApplicable(`not a resource of a ${PROJECT} stack`);
      for (const message of check(plannedFromArgs(args), ctx, [])) reportViolation(message);
    },
  };
}

/** Wraps a stack-scope rule as a StackValidationPolicy; violations of one resource carry its URN. */
export function stackPolicy(rule: Rule, contextFor: ContextLookup): StackValidationPolicy {
  if (rule.scope !== "stack") throw new Error(`rule ${rule.name} is not a stack rule`);
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
      const ctx = contextFor(args.resources.find((r) => parseUrn(r.urn))?.urn);
      if (!ctx) return args.notApplicable(`not a ${PROJECT} stack`);
      const resources = args.resources.filter((r) => parseUrn(r.urn)?.project === PROJECT).map(plannedFromStack);
      if (rule.checkResource) {
        for (const r of resources) for (const message of rule.checkResource(r, ctx, resources)) reportViolation(message, r.urn);
      }
      if (rule.checkStack) for (const message of rule.checkStack(resources, ctx)) reportViolation(message);
    },
  };
}

/** One policy per rule, all mandatory. */
export function buildPolicies(
  rules: readonly Rule[] = ALL_RULES,
  contextFor: ContextLookup = contextsFrom(PROJECT_DIR),
): (ResourceValidationPolicy | StackValidationPolicy)[] {
  return rules.map((rule) => (rule.scope === "resource" ? resourcePolicy(rule, contextFor) : stackPolicy(rule, contextFor)));
}

export const policies = buildPolicies();

export const packArgs: PolicyPackArgs = {
  description: "Isolation of the Mina environments: no stack shares a resource, name or credential with another environment.",
  enforcementLevel: "mandatory",
  policies,
};
