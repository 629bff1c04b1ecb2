/** Protection rule: in production, the resources that hold data cannot be deleted by a Pulumi run. */
import { STATEFUL_TYPES } from "../../config/protection";
import type { Rule } from "./types";

/** In production every stateful resource has `protect: true`. */
export function protectStatefulInProduction(): Rule {
  return {
    name: "protect-stateful-production",
    description: "In production every stateful resource (database, bucket, cache, role, hosted zone) is protected.",
    scope: "resource",
    checkResource(r, ctx) {
      if (ctx.profile !== "production" || !(STATEFUL_TYPES as readonly string[]).includes(r.type) || r.protect) return [];
      return ["is not protected; in production a resource that holds data is declared with protect: true"];
    },
  };
}
