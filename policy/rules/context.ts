/**
 * Builds the `RuleContext` of a stack from the project's stack files: the same
 * identities config validation uses, so the plan, the policy pack and `validate`
 * agree on what belongs to which environment.
 */
import { profileFor, type Profile, PROFILES } from "../../config/defaults";
import { deriveNames, type Names } from "../../config/naming";
import type { RawStackConfig } from "../../config/raw";
import { identityIndexFor } from "../../config/validation/validate";
import type { RuleContext } from "./types";

/**
 * The context of stack `stack`, given every stack file of the project (`readAllStacks`).
 * A stack without a file of its own (yet) is known by its name and the builtin environments.
 */
export function ruleContext(stack: string, stacks: readonly RawStackConfig[]): RuleContext {
  const raw = stacks.find((s) => s.stack === stack) ?? { stack, file: `Pulumi.${stack}.yaml`, values: {} };
  const declared = raw.values["mina:profile"];
  const profile = profileFor(stack, (PROFILES as readonly unknown[]).includes(declared) ? (declared as Profile) : undefined);
  const bucket = raw.values["mina:bucketName"];
  const share = raw.values["mina:shareDomain"];
  const front = raw.values["mina:liveColour"] !== undefined && typeof share === "string";
  return {
    environment: stack,
    profile,
    index: identityIndexFor(raw, stacks),
    names: deriveNames(stack, { bucket: typeof bucket === "string" ? bucket : undefined }),
    // A blue/green front's alias records name its two colours' hosts, and nothing else of theirs.
    ...(front ? { frontColours: { [`${stack}-blue`]: `blue.${share.toLowerCase()}`, [`${stack}-green`]: `green.${share.toLowerCase()}` } } : {}),
  };
}

/**
 * The context of a validated stack (the plan's `StackConfig`): its own profile and names,
 * and the identities of every stack file of the project.
 */
export function contextForConfig(config: { stack: string; profile: Profile; names: Names }, stacks: readonly RawStackConfig[]): RuleContext {
  return { ...ruleContext(config.stack, stacks), profile: config.profile, names: config.names };
}

/** The environment's names: the context's own, or derived from the environment alone. */
export function namesOf(ctx: RuleContext): Names {
  return ctx.names ?? deriveNames(ctx.environment);
}

/**
 * The stack and project a URN names. URNs are `urn:pulumi:<stack>::<project>::<type>::<name>`,
 * so every resource the engine hands the pack carries its stack's name.
 */
export function parseUrn(urn: string): { stack: string; project: string } | undefined {
  const m = /^urn:pulumi:([^:]+)::([^:]+)::/.exec(urn);
  return m ? { stack: m[1], project: m[2] } : undefined;
}
