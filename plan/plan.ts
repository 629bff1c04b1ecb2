/**
 * The offline plan: for each stack file, validate its config, run the real
 * program under Pulumi's mock runtime, and record what it declares. Then audit
 * isolation across all stacks. Nothing here talks to a cloud or to the Pulumi CLI.
 */
import { type RetentionFacts, retentionFacts } from "../config/retention";
import { workflowSettings } from "../config/workflowKeys";
import { createHash, scryptSync } from "node:crypto";
import * as path from "node:path";
import type * as Pulumi from "@pulumi/pulumi";
import { ConfigErrors, listStackFiles, misnamedStackFiles, readAllStacks, readProject, readStacksLeniently, validateStack } from "../config";
import { checkStackName } from "../config/validation/steps";
import { KEYS } from "../config/schema";
import { STATEFUL_TYPES } from "../config/protection";
import type { StackConfig } from "../config/stackConfig";
import { isSecretVariable } from "../config/variables";
import { shareGroupOfRaw, tierMates } from "../config/tiers";
import type { RecordedResource } from "./mockRuntime";

export const PLAN_NOTE =
  "This is a plan of what the program declares for each stack, run offline under Pulumi's mock runtime; it is not a diff against deployed state (only `pulumi preview` shows that).";

export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  /** The provider-side name (bucket, identifier, name...), when the program sets one. */
  readonly physicalName?: string;
  readonly protected: boolean;
  readonly stateful: boolean;
  readonly custom: boolean;
  /** Hash of the declared inputs: a changed hash means a changed resource. Values are never shown. */
  readonly inputsHash: string;
  /** The explicit provider the resource uses, as `<provider type>::<provider name>`; absent for a default provider. */
  readonly provider?: string;
  /** Provider resources only: their inputs, a secret one as a fingerprint, never its value. */
  readonly providerInputs?: Readonly<Record<string, ProviderInput>>;
  /** The inputs that decide how long the resource's data lives (config/retention.ts), for the types that have some. */
  readonly retention?: RetentionFacts;
}

/** A provider input in the plan: its value, or for a secret one a fingerprint that changes when the value does. */
export type ProviderInput = { readonly value: unknown } | { readonly secret: true; readonly fingerprint: string };

export interface MissingSecret {
  readonly key: string;
  readonly command: string;
}

export interface StackPlan {
  readonly stack: string;
  readonly file: string;
  readonly ok: boolean;
  readonly errors: readonly string[];
  readonly environment?: string;
  readonly profile?: string;
  readonly databaseMode?: string;
  readonly resources: readonly PlannedResource[];
  readonly variables: readonly { readonly name: string; readonly secret: boolean }[];
  readonly missingSecrets: readonly MissingSecret[];
  /** What a reviewer should know that no resource shows (e.g. that Sentry is off). */
  readonly notes?: readonly string[];
  /** Non-secret stack outputs, as a reviewer reads them in a preview. */
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Violations of the policy pack's rules over the planned resources. */
  readonly violations: readonly { readonly rule: string; readonly resource: string; readonly message: string }[];
  /** The stack's settings that workflows and commands act on, not the program (config/workflowKeys.ts), as written. */
  readonly settings?: Readonly<Record<string, string>>;
}

export interface AuditConflict {
  readonly kind: string;
  readonly value: string;
  readonly stacks: readonly string[];
}

/** A stack the isolation audit could not cover: its file could not be read, or its config did not validate, so its identifiers are unknown. */
export interface UnauditedStack {
  readonly stack: string;
  readonly file: string;
  readonly reason: string;
}

export interface Plan {
  readonly note: string;
  readonly stacks: readonly StackPlan[];
  /** `ok` only when every stack was audited and no two share anything they may not. */
  readonly audit: { readonly ok: boolean; readonly conflicts: readonly AuditConflict[]; readonly unaudited: readonly UnauditedStack[] };
  readonly ok: boolean;
}

/** Hook for rules run over planned resources (the policy pack plugs in here). */
export type ResourceChecker = (resources: readonly RecordedResource[], config: StackConfig) => { rule: string; resource: string; message: string }[];

/** Inputs that hold a physical name; a `namePrefix` (completed by the provider) stands for the name it starts. */
const PHYSICAL_NAME_KEYS = ["bucket", "identifier", "databaseName", "name", "namePrefix"] as const;

export function physicalNameOf(r: Pick<RecordedResource, "type" | "inputs" | "custom">): string | undefined {
  if (!r.custom || r.type.startsWith("pulumi:providers:")) return undefined;
  for (const k of PHYSICAL_NAME_KEYS) {
    const v = r.inputs[k];
    if (typeof v === "string" && v !== "") return v;
  }
  return undefined;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>::<id>` (a provider reference) → `<type>::<name>`. */
export function providerKey(ref: string): string | undefined {
  const m = /^urn:pulumi:.*?::.*?::(.*?)::(.*)::[^:]*$/s.exec(ref);
  if (!m) return undefined;
  const qualified = m[1].split("$");
  return `${qualified[qualified.length - 1]}::${m[2]}`;
}

/** The value inside the engine's secret wrapper (`{"4dabf1...": "1b4706...", value}`), or the value itself. */
function unwrapSecret(v: unknown): unknown {
  const o = v as Record<string, unknown> | null;
  return o && typeof o === "object" && o["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" ? o.value : v;
}

/** scrypt's cost: 2^12 rounds, a few milliseconds per value. */
const SCRYPT_COST = 4096;

/**
 * A secret's fingerprint: scrypt (slow on purpose, so a guessable secret is not
 * cheap to guess from it), salted with where the value is used, 16 bytes. Equal
 * values at the same place give equal fingerprints, across processes and commits.
 * Offline the plan only ever sees placeholders for secret config (`<unset:KEY>`),
 * never a value: those are hashed without the cost.
 */
export function secretFingerprint(value: unknown, where: string): string {
  const text = stableJson(unwrapSecret(value));
  if (/^"<unset:[a-z]+:[A-Za-z]+>"$/.test(text))
    return createHash("sha256").update(`mina-plan-placeholder\u0000${where}\u0000${text}`).digest("hex").slice(0, 32);
  return scryptSync(text, `mina-plan-secret\u0000${where}`, 16, { N: SCRYPT_COST }).toString("hex");
}

/** Input names treated as secret even when the program passed them in the clear. */
const SECRET_NAME = /password|passphrase|secret|token|api_?key|private_?key/i;

/** A provider resource's inputs: non-secret ones as values, secret ones (marked so, or named like one) as fingerprints. */
export function providerInputsOf(stack: string, r: Pick<RecordedResource, "name" | "inputs" | "secretInputs">): Record<string, ProviderInput> {
  const secret = new Set(r.secretInputs ?? []);
  const out: Record<string, ProviderInput> = {};
  for (const k of Object.keys(r.inputs).sort()) {
    const v = r.inputs[k];
    out[k] = secret.has(k) || SECRET_NAME.test(k) ? { secret: true, fingerprint: secretFingerprint(v, `${stack}\u0000${r.name}\u0000${k}`) } : { value: v };
  }
  return out;
}

function secretCommand(key: string, stack: string): string {
  return `pulumi config set --secret ${key} <value> --stack ${stack}`;
}

/** Plans one stack. A config error is reported in the result, not thrown. */
export async function planStack(dir: string, stack: string, siblings = readAllStacks(dir), check?: ResourceChecker): Promise<StackPlan> {
  const raw = siblings.find((s) => s.stack === stack);
  const file = raw?.file ?? `Pulumi.${stack}.yaml`;
  if (!raw) return notPlanned(stack, file, [`${file}: no such stack file`]);
  let validated;
  try {
    validated = validateStack(raw, { siblings, project: readProject(dir), requireSecrets: false });
  } catch (e) {
    if (e instanceof ConfigErrors)
      return notPlanned(
        stack,
        file,
        e.errors.map((x) => x.message),
      );
    const first = String((e as Error).message).split("\n")[0];
    return notPlanned(stack, file, [`${file}: ${first}`]);
  }
  const { config, missingSecrets } = validated;
  // Loaded on first use: a plan that stops at config errors never loads the SDK or the providers, and the
  // commands that only read plans (the gate, rotate's guard) never do.
  const pulumi = require("@pulumi/pulumi") as typeof Pulumi;
  const { promiseOf, runUnderMocks } = require("./mockRuntime") as typeof import("./mockRuntime");
  const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
  const { result, resources } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
  const env = await promiseOf(result.env);
  const outputs: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (k === "env") continue;
    if (pulumi.Output.isInstance(v)) {
      if (await pulumi.isSecret(v)) continue;
      outputs[k] = await promiseOf(v);
    } else outputs[k] = v;
  }
  const planned = resources
    .filter((r) => r.type !== "pulumi:pulumi:Stack")
    .map((r) => ({
      type: r.type,
      name: r.name,
      physicalName: physicalNameOf(r),
      protected: r.protect,
      stateful: STATEFUL_TYPES.includes(r.type),
      custom: r.custom,
      inputsHash: createHash("sha256").update(stableJson(r.inputs)).digest("hex").slice(0, 16),
      ...(r.provider && providerKey(r.provider) ? { provider: providerKey(r.provider) } : {}),
      ...(r.type.startsWith("pulumi:providers:") ? { providerInputs: providerInputsOf(stack, r) } : {}),
      ...retentionOf(r),
    }));
  return {
    stack,
    file,
    ok: true,
    errors: [],
    environment: config.environment,
    profile: config.profile,
    databaseMode: config.database.mode,
    resources: planned,
    variables: Object.keys(env).map((name) => ({ name, secret: isSecretVariable(name) })),
    missingSecrets: missingSecrets.map((key) => ({
      key,
      command: secretCommand(key, stack) + (KEYS[key as keyof typeof KEYS]?.required === "optional" ? "  # or set mina:emailEnabled false" : ""),
    })),
    notes: config.sentry
      ? [
          `Sentry is on: ${config.sentry.shared ? `a key of its own in the shared project ${config.sentry.project}` : `a project and key of its own, ${config.sentry.project}`} in ${config.sentry.organization}`,
        ]
      : ["Sentry is off: no mina:sentryOrganization, so SENTRY_DSN is empty"],
    outputs,
    violations: check ? check(resources, config) : [],
    settings: workflowSettings(raw),
  };
}

/** A resource's retention facts, when its type has some. */
function retentionOf(r: RecordedResource): { retention?: RetentionFacts } {
  const facts = retentionFacts(r.type, r.inputs);
  return facts ? { retention: facts } : {};
}

/** Values that must be unique to one stack, by kind, from a stack's plan and config. */
function isolationValues(p: StackPlan, raw: Record<string, unknown>): { kind: string; value: string }[] {
  const out: { kind: string; value: string }[] = [];
  for (const r of p.resources) if (r.physicalName) out.push({ kind: `physical name (${r.type})`, value: r.physicalName });
  const ids = raw["aws:allowedAccountIds"];
  for (const id of Array.isArray(ids) ? ids : ids !== undefined ? [ids] : []) out.push({ kind: "AWS account id", value: String(id) });
  for (const [key, kind] of [
    ["mina:shareDomain", "share domain"],
    ["mina:dnsZoneId", "hosted zone"],
    ["mina:vpcId", "VPC"],
  ] as const) {
    if (typeof raw[key] === "string") out.push({ kind, value: String(raw[key]).toLowerCase() });
  }
  const o = p.outputs;
  if (typeof o.databaseName === "string") out.push({ kind: "database", value: o.databaseName });
  if (typeof o.bucketName === "string") out.push({ kind: "bucket", value: o.bucketName });
  if (typeof o.redisDatabaseName === "string") out.push({ kind: "Redis database", value: o.redisDatabaseName });
  return out;
}

/** What stacks of the non-production tier may share (config/tiers.ts): an account and a hosted zone. */
const TIER_SHARED_PLAN_KINDS = ["AWS account id", "hosted zone"];

/** Why a stack that did not plan is not audited: its first error, without the file name it starts with. */
function unauditedReason(p: StackPlan): string {
  const first = (p.errors[0] ?? "not planned").replace(`${p.file}: `, "");
  return p.errors.length > 1 ? `${first} (and ${p.errors.length - 1} more)` : first;
}

/**
 * Fails when any two stacks share a physical name, account id, domain, database, bucket or Redis database;
 * stacks of the non-production tier may share an account and a hosted zone (config/tiers.ts).
 * Fails too when a stack did not plan (unreadable file, invalid config): what it would hold is unknown,
 * so no other stack is proven not to share it. Those stacks are listed, never passed over.
 */
export function auditPlans(plans: readonly StackPlan[], rawByStack: ReadonlyMap<string, Record<string, unknown>>): Plan["audit"] {
  const tier = (stack: string) => shareGroupOfRaw({ stack, values: rawByStack.get(stack) ?? {} });
  const allowed = (kind: string, stacks: readonly string[]) =>
    TIER_SHARED_PLAN_KINDS.includes(kind) && stacks.every((s) => tierMates(tier(s), tier(stacks[0])));
  const seen = new Map<string, { kind: string; value: string; stacks: Set<string> }>();
  for (const p of plans) {
    if (!p.ok) continue;
    for (const { kind, value } of isolationValues(p, rawByStack.get(p.stack) ?? {})) {
      const key = `${kind.startsWith("physical name") ? "physical name" : kind}\u0000${value}`;
      const e = seen.get(key) ?? { kind, value, stacks: new Set<string>() };
      e.stacks.add(p.stack);
      seen.set(key, e);
    }
  }
  const conflicts = [...seen.values()]
    .filter((e) => e.stacks.size > 1 && !allowed(e.kind, [...e.stacks]))
    .map((e) => ({ kind: e.kind, value: e.value, stacks: [...e.stacks].sort() }));
  const unaudited = plans.filter((p) => !p.ok).map((p) => ({ stack: p.stack, file: p.file, reason: unauditedReason(p) }));
  return { ok: conflicts.length === 0 && unaudited.length === 0, conflicts, unaudited };
}

/** Why a misnamed stack file is not a stack: validation's own line, and where a template goes. */
function misnamedProblem(stack: string, file: string): string {
  try {
    checkStackName({ stack, file, values: {} });
  } catch (e) {
    if (e instanceof ConfigErrors) return `${e.errors[0].message} (a template is named Pulumi.<tier>.template.yaml)`;
    throw e;
  }
  return `${file}: not a stack file`;
}

/** A stack that did not plan: its errors, and nothing declared. */
function notPlanned(stack: string, file: string, errors: string[]): StackPlan {
  return { stack, file, ok: false, errors, resources: [], variables: [], missingSecrets: [], outputs: {}, violations: [] };
}

/** Plans the given stacks (default: every stack file) and audits isolation across all of them. */
export async function planAll(dir: string, only?: readonly string[], check?: ResourceChecker): Promise<Plan> {
  const siblings = readStacksLeniently(dir);
  const all = listStackFiles(dir).map((s) => s.stack);
  const unknown = (only ?? []).filter((s) => !all.includes(s));
  if (unknown.length > 0) {
    throw new Error(`no stack file for ${unknown.map((s) => `"${s}"`).join(", ")} in ${dir} (stacks: ${all.join(", ") || "none"})`);
  }
  const stacks: StackPlan[] = [];
  // The audit always covers every stack: a single-stack plan still proves it shares nothing.
  for (const stack of all) {
    const error = siblings.errors.get(stack);
    if (error) {
      stacks.push(notPlanned(stack, `Pulumi.${stack}.yaml`, [error.message]));
      continue;
    }
    stacks.push(await planStack(dir, stack, siblings.stacks, check));
  }
  // Every stack file, not only the ones shown: a stack that did not plan is named as not audited.
  const audit = auditPlans(stacks, new Map(siblings.stacks.map((s) => [s.stack, s.values as Record<string, unknown>])));
  // A file named like a stack file that no environment can use fails the plan, named (not skipped); it is no stack to audit.
  if (!only || only.length === 0) {
    for (const { stack, file } of misnamedStackFiles(dir)) {
      stacks.push(notPlanned(stack, path.basename(file), [misnamedProblem(stack, path.basename(file))]));
    }
  }
  const shown = only && only.length > 0 ? stacks.filter((s) => only.includes(s.stack)) : stacks;
  const ok = shown.every((s) => s.ok && s.violations.length === 0) && audit.ok;
  return { note: PLAN_NOTE, stacks: shown, audit, ok };
}
