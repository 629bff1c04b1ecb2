/**
 * Stack settings that the workflows and commands act on, not the program: what the
 * deploy job runs (the migration command), where a refresh copies data from, and
 * on which runners the deploy jobs run. A change of one changes what a deploy does
 * without changing a resource, so the plan records them, the plan diff shows each
 * change, and the data-safety gate holds it like data loss ("changes what a deploy
 * runs"). A key a workflow or command reads from the stack file belongs here.
 */
import type { RawStackConfig } from "./raw";

/** Each key, and why a change of it needs approval. */
export const WORKFLOW_KEYS: Readonly<Record<string, string>> = {
  "mina:migrateCommand": "the deploy job runs it with the stack's secrets and the deploy role's credentials",
  "mina:refreshFrom": "npm run refresh copies that stack's data here",
  "mina:deployRunner": "the deploy jobs run there, with the stack's credentials, inside a network",
};

/** The stack's values of the workflow keys, as written (lists joined with `, `); unset keys are absent. */
export function workflowSettings(raw: Pick<RawStackConfig, "values"> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(WORKFLOW_KEYS)) {
    const v = raw?.values[key];
    if (v === undefined) continue;
    out[key] = Array.isArray(v) ? v.map(String).join(", ") : typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
