/**
 * Stack outputs for trying the env / verify / audit loop with no cloud and no
 * Pulumi backend: the real program runs under the mock runtime, and its outputs
 * are written in exactly the shape `pulumi stack output --json --show-secrets`
 * prints. Every credential is visibly fake: supplied secrets are
 * `fake-not-a-secret-...`, passwords and keys come from the mock runtime
 * (`Mock...`, `AKIAMOCK...`, `mock/...`) and generated hex secrets are hashes of
 * public resource names.
 */
import * as pulumi from "@pulumi/pulumi";
import { listStackFiles, readAllStacks, readProject, SecureValue, validateStack } from "../config";
import { fakeSecret } from "../config/naming";
import { KEYS } from "../config/schema";
import type { RawStackConfig } from "../config/raw";
import { tierOfRaw } from "../config/tiers";
import { promiseOf, runUnderMocks } from "./mockRuntime";

/** The fake value a supplied secret gets in the demo, naming its environment and key. */
export function demoSecret(stack: string, key: string): string {
  return fakeSecret(stack, key.split(":")[1]);
}

/** Fills every secret key the stack needs (and only those) with a visibly fake value. */
function withDemoSecrets(raw: RawStackConfig): RawStackConfig {
  const values: Record<string, unknown> = { ...raw.values };
  for (const [key, spec] of Object.entries(KEYS)) {
    if (spec.kind !== "secret") continue;
    const present = values[key] instanceof SecureValue;
    const needed = spec.required === "always" || spec.required === values["mina:databaseMode"] || (key === "mina:sendgridApiKey" && emailOn(raw));
    if (present || needed) values[key] = new SecureValue(demoSecret(raw.stack, key));
  }
  return { ...raw, values };
}

function emailOn(raw: RawStackConfig): boolean {
  const v = raw.values["mina:emailEnabled"];
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  return tierOfRaw(raw) === "production";
}

/** One stack's outputs, as `pulumi stack output --json --show-secrets` prints them. */
export async function demoOutputs(dir: string, stack: string, siblings = readAllStacks(dir)): Promise<Record<string, unknown>> {
  const raw = siblings.find((s) => s.stack === stack);
  if (!raw) throw new Error(`no stack file for "${stack}"`);
  const { config } = validateStack(withDemoSecrets(raw), { siblings, project: readProject(dir), requireSecrets: true });
  const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
  const { result } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) out[k] = pulumi.Output.isInstance(v) ? await promiseOf(v as pulumi.Output<unknown>) : v;
  return out;
}

/** Every stack of the project, by name. */
export function demoStacks(dir: string): string[] {
  return listStackFiles(dir).map((s) => s.stack);
}
