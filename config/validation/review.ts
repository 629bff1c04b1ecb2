/**
 * The review profile: throwaway environments, one per pull request, made from a
 * committed template by `env:new`. Production's protections never apply to them, so
 * neither may a production name: a stack that names a production environment is
 * never a review one.
 */
import { profileOfRaw } from "./checks";
import { REVIEW_PROFILE } from "../defaults";
import { identity, IdentityIndex } from "../isolation";
import type { RawStackConfig } from "../raw";
import type { ParsedContext } from "./steps";

export { REVIEW_PROFILE } from "../defaults";

/**
 * The production environment `name` names, if any: `production` and its aliases
 * (`prod`, `prd`), and every sibling whose profile is production, each on word
 * boundaries (`prod-fix` names production, `reproduce` does not).
 */
export function productionEnvironmentNamed(name: string, siblings: readonly RawStackConfig[]): string | undefined {
  const production = new Set(["production", ...siblings.filter((s) => profileOfRaw(s) === "production").map((s) => s.stack)]);
  const index = new IdentityIndex([...production].map((e) => identity(e)));
  return index.scan(name).find((m) => m.kind === "environment name")?.environment;
}

/** Refuses the review profile on a stack whose name names a production environment. */
export function checkReviewProfile(ctx: ParsedContext): void {
  if (ctx.profile !== REVIEW_PROFILE) return;
  const named = productionEnvironmentNamed(ctx.environment, ctx.siblings);
  if (named !== undefined) {
    ctx.fail(
      "mina:profile",
      `is review, but the stack name "${ctx.environment}" names the production environment "${named}": a throwaway environment never carries a production name`,
    );
  }
}
