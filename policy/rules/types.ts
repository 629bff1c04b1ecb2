/**
 * The shapes every isolation rule works on, shared by the offline plan (recorded
 * resources) and the policy pack (resources the engine sends). Nothing here
 * imports `@pulumi/policy`: the rules are plain functions of plain data.
 */
import type { Profile } from "../../config/defaults";
import type { IdentityIndex } from "../../config/isolation";
import type { Names } from "../../config/naming";

/** One resource of a stack, as declared: its inputs (plan, `validateResource`) or state (`validateStack`). */
export interface PlannedResource {
  /** Pulumi type token, e.g. `aws:s3/bucket:Bucket`. */
  readonly type: string;
  /** Logical name, e.g. `mina-staging-bucket-bucket`. */
  readonly name: string;
  readonly props: Record<string, unknown>;
  /** The `protect` resource option. */
  readonly protect: boolean;
  /** The URN, when known: lets rules relate resources through `dependencies`. */
  readonly urn?: string;
  /** Property name to the URNs that property's value came from (the engine's property dependencies). */
  readonly dependencies?: Readonly<Record<string, readonly string[]>>;
}

/** What a rule knows about the stack under check. */
export interface RuleContext {
  /** The stack's environment (= stack name). */
  readonly environment: string;
  readonly profile: Profile;
  /** This environment's identifiers and every other known environment's. */
  readonly index: IdentityIndex;
  /** The environment's derived names (with the stack's overrides); `deriveNames(environment)` when absent. */
  readonly names?: Names;
  /** On a blue/green front: each colour's stack and the host the front's alias records may name. */
  readonly frontColours?: Readonly<Record<string, string>>;
}

/**
 * A rule. `scope: "resource"` rules judge one resource alone (a `ResourceValidationPolicy`);
 * `scope: "stack"` rules need the other resources of the stack (a `StackValidationPolicy`).
 */
export interface Rule {
  /** Policy name, kebab-case, unique in the pack. */
  readonly name: string;
  /** One sentence, shown with every violation. */
  readonly description: string;
  readonly scope: "resource" | "stack";
  /** Violations of one resource, as one-line messages. `stack` is every resource of the stack (stack scope only). */
  readonly checkResource?: (resource: PlannedResource, ctx: RuleContext, stack: readonly PlannedResource[]) => string[];
  /** Violations of the stack as a whole, tied to no single resource. */
  readonly checkStack?: (resources: readonly PlannedResource[], ctx: RuleContext) => string[];
}

/** One violation found by `checkResources`. */
export interface Violation {
  readonly rule: string;
  /** The resource's logical name, or `STACK_SUBJECT` for a violation of the stack as a whole. */
  readonly resource: string;
  readonly message: string;
}

/** The `resource` of a violation that concerns the stack as a whole. */
export const STACK_SUBJECT = "(stack)";

/**
 * A value the engine cannot know during `pulumi preview` (an output of a resource not
 * created yet). Rules never judge an unknown value: `pulumi up` checks it again once known.
 */
export const UNKNOWN: unique symbol = Symbol("unknown during preview");

export function isUnknown(v: unknown): v is typeof UNKNOWN {
  return v === UNKNOWN;
}

/** The marker the Pulumi SDK wraps a secret value in (as recorded by the mock runtime). */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** True for a secret wrapped the SDK's way: `{ <sig>: <secret sig>, value }`. Rules never read into one. */
export function isWrappedSecret(v: unknown): boolean {
  return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !isWrappedSecret(v);
}

/** Reads `props[key]` as an object, also when the engine passed it JSON-encoded (provider inputs are). */
export function objectProp(v: unknown): Record<string, unknown> | undefined | typeof UNKNOWN {
  if (isUnknown(v)) return UNKNOWN;
  if (typeof v === "string") {
    try {
      const parsed: unknown = JSON.parse(v);
      return isRecord(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return isRecord(v) ? v : undefined;
}

/** Lists a value that may be one item or an array (IAM's `Action`, `Resource`, `Statement`). */
export function listOf(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}
