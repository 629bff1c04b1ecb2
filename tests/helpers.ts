/** Shared test fixtures: realistic raw stack configs, as the engine would pass them. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type RawStackConfig, SecureValue } from "../config/raw";

export const STAGING_ACCOUNT = "210987654321";
export const PRODUCTION_ACCOUNT = "123456789012";

/** A valid staging stack in server mode, secrets decrypted (as under `pulumi up`). */
export function stagingRaw(overrides: Record<string, unknown> = {}, stack = "staging"): RawStackConfig {
  return {
    stack,
    file: `Pulumi.${stack}.yaml`,
    values: withOverrides(
      {
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": [STAGING_ACCOUNT],
        "upstash:email": `upstash-${stack}@mina.app`,
        "upstash:apiKey": new SecureValue(`upstash-${stack}-key`),
        "mina:deployRunner": ["self-hosted", `mina-${stack}`],
        "mina:databaseMode": "server",
        "mina:dbServerHost": "pg-shared.internal.mina.app",
        "mina:dbServerAdminUser": "mina_provisioner",
        "mina:dbServerAdminPassword": new SecureValue("admin pass/with@odd:chars"),
        "mina:shareDomain": `${stack}.mina.app`,
        "mina:dnsZoneId": `Z0${stack.toUpperCase().replace(/-/g, "")}ZONE`,
        "mina:appHost": "203.0.113.20",
        "mina:openaiApiKey": new SecureValue(`sk-${stack}-openai`),
      },
      overrides,
    ),
  };
}

/** A valid production stack in instance mode, secrets decrypted. */
export function productionRaw(overrides: Record<string, unknown> = {}): RawStackConfig {
  return {
    stack: "production",
    file: "Pulumi.production.yaml",
    values: withOverrides(
      {
        "aws:region": "us-east-1",
        "aws:allowedAccountIds": [PRODUCTION_ACCOUNT],
        "upstash:email": "upstash-production@mina.app",
        "upstash:apiKey": new SecureValue("upstash-production-key"),
        "mina:deployRunner": ["self-hosted", "mina-production"],
        "mina:databaseMode": "instance",
        "mina:vpcId": "vpc-0a1b2c3d4e5f60001",
        "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60011", "subnet-0a1b2c3d4e5f60012"],
        "mina:dbAllowedCidrs": ["10.20.0.0/16"],
        "mina:shareDomain": "mina.app",
        "mina:dnsZoneId": "Z0PRODUCTIONZONE",
        "mina:appHost": "203.0.113.10",
        "mina:openaiApiKey": new SecureValue("sk-production-openai"),
        "mina:sendgridApiKey": new SecureValue("SG.production"),
        "mina:sentryOrganization": "mina",
        "mina:sentryTeam": "platform",
        "mina:sentryToken": new SecureValue("sntrys_production_token"),
      },
      overrides,
    ),
  };
}

/** `undefined` in overrides removes a key. */
function withOverrides(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete out[k];
  return out;
}

/** A temporary project directory holding the given stack files; removed by the returned function. */
export function tempProject(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-project-"));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const REPO = path.resolve(__dirname, "..");

/** The project's stacks, as its stack files say: tests never hard-code the list. */
export function stacksOf(dir = REPO): string[] {
  const { listStackFiles } = require("../config") as typeof import("../config");
  return listStackFiles(dir).map((s: { stack: string }) => s.stack);
}

/** A valid stack name that no stack file of `dir` has: for "missing stack" cases. */
export function missingStack(dir = REPO): string {
  const taken = new Set(stacksOf(dir));
  let name = "missing";
  while (taken.has(name)) name += "x";
  return name;
}

/** A second production-tier environment, `eu` (or `stack`), with identifiers of its own. */
export function euRaw(overrides: Record<string, unknown> = {}, stack = "eu"): RawStackConfig {
  const raw = productionRaw({
    "mina:profile": "production",
    "mina:deployRunner": ["self-hosted", `mina-${stack}`],
    "aws:allowedAccountIds": ["444444444444"],
    "upstash:email": "upstash-eu@mina.app",
    "upstash:apiKey": new SecureValue("u-eu"),
    "mina:vpcId": "vpc-0a1b2c3d4e5f60004",
    "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60041", "subnet-0a1b2c3d4e5f60042"],
    "mina:dbAllowedCidrs": ["10.40.0.0/16"],
    "mina:shareDomain": "eu.mina.app",
    "mina:dnsZoneId": "Z0EUZONE",
    "mina:appHost": "203.0.113.40",
    "mina:openaiApiKey": new SecureValue("sk-eu"),
    "mina:sendgridApiKey": new SecureValue("SG.eu"),
    ...overrides,
  });
  return { ...raw, stack, file: `Pulumi.${stack}.yaml` };
}

/** Git's author and committer for commits the tests make in temporary repositories. */
export const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "Mina Test",
  GIT_AUTHOR_EMAIL: "test@mina.invalid",
  GIT_COMMITTER_NAME: "Mina Test",
  GIT_COMMITTER_EMAIL: "test@mina.invalid",
};

/** The code a commit of the project needs to plan itself, for tests that copy it into a temporary repository. */
export const PROJECT_SOURCES = [
  "bluegreen",
  "cli",
  "config",
  "components",
  "envfiles",
  "gate",
  "lib",
  "plan",
  "policy",
  "verify",
  "index.ts",
  "Pulumi.yaml",
  "package.json",
  "tsconfig.json",
];

/** The error lines of a stack, validated offline in a project made of these files; [] when it validates. */
export function projectErrors(files: Record<string, string>, stack = "staging", setup?: (dir: string) => void): string[] {
  const { ConfigError, ConfigErrors, loadStackOffline } = require("../config") as typeof import("../config");
  const { dir, cleanup } = tempProject(files);
  try {
    setup?.(dir);
    loadStackOffline(dir, stack);
    return [];
  } catch (e) {
    if (e instanceof ConfigErrors) return e.errors.map((x) => x.message);
    if (e instanceof ConfigError) return [e.message];
    throw e;
  } finally {
    cleanup();
  }
}

/** The error lines of a raw config validated under the engine (secrets required) against these siblings; [] when it validates. */
export function validationErrors(raw: RawStackConfig, siblings: readonly RawStackConfig[]): string[] {
  const { ConfigErrors } = require("../config/raw") as typeof import("../config/raw");
  const { validateStack } = require("../config/validation/validate") as typeof import("../config/validation/validate");
  try {
    validateStack(raw, { siblings, requireSecrets: true });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigErrors)) throw e;
    return e.errors.map((x) => x.message);
  }
}
