/**
 * Isolation checks that look beyond one value: the stack file's other fields, the
 * project file, the config namespaces, and values two stack files hold in common.
 * Each check is a small function from what it reads to a list of problems
 * (`[key, detail]`); `validateStack` turns them into one-line errors.
 */
import { isIP } from "node:net";
import { profileFor, type Profile, PROFILES } from "../defaults";
import { type IdentityIndex, describeForeign } from "../isolation";
import type { ProjectFile } from "../project";
import { type RawStackConfig, SecureValue, STACK_FILE_KEYS } from "../raw";
import { KEYS } from "../schema";
import { mayShareKey, SHARE_WITHIN_TIER, type Sharing, sharingOfRaw, TIER_MARKABLE_KEYS } from "../tiers";
import { hostIdentity, normalizeHost } from "../../lib/hosts";

export type Problem = readonly [key: string | undefined, detail: string];

// ---------------------------------------------------------------- normalising

// Hosts have one normaliser, lib/hosts.ts, shared with audit and verify --against.
export { normalizeHost } from "../../lib/hosts";

/** A Route53 hosted zone id, with or without the `/hostedzone/` prefix the API sometimes returns. */
export function normalizeZoneId(id: string): string {
  return id
    .trim()
    .replace(/^\/?hostedzone\//i, "")
    .toUpperCase();
}

/** A Slack channel, with or without its leading `#`. */
export function normalizeSlackChannel(channel: string): string {
  return channel.trim().toLowerCase().replace(/^#/, "");
}

/** How two values of `key` are compared: trimmed, case-folded, and the key's own normal form. */
export function normalizeValue(key: string, value: string): string {
  switch (key) {
    case "mina:dnsZoneId":
      return normalizeZoneId(value);
    case "mina:slackChannel":
      return normalizeSlackChannel(value);
    case "mina:shareDomain":
    case "mina:dnsZoneName":
      return normalizeHost(value);
    // Where a record or a connection goes: by the address, where the name spells it out (lib/hosts.ts).
    case "mina:appHost":
    case "mina:dbServerHost":
      return hostIdentity(value);
    default:
      return value.trim().toLowerCase();
  }
}

// ---------------------------------------------------------------- value shapes

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/**
 * What each value that becomes part of a URL, a name or an API call must look like.
 * Checked before anything is interpolated: no URL syntax (`@ / ? # : ,`) survives into a host or a role.
 */
const SHAPES: Readonly<Record<string, { readonly test: (v: string) => boolean; readonly what: string }>> = {
  "mina:redisPrimaryRegion": { test: (v) => REGION.test(v), what: "a region like us-east-1" },
  "upstash:email": { test: (v) => /^[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(v), what: "an email address" },
  "mina:dbServerHost": {
    test: (v) => HOSTNAME.test(normalizeHost(v)) || isIP(v) !== 0,
    what: "a bare host name or IP address (no scheme, user, port, path or list)",
  },
  "mina:dbServerAdminUser": { test: (v) => /^[a-z_][a-z0-9_]{0,62}$/.test(v), what: "a PostgreSQL role name (lowercase letters, digits, underscores)" },
  "mina:dnsZoneId": { test: (v) => /^Z[A-Z0-9]{1,32}$/.test(normalizeZoneId(v)), what: "a Route53 hosted zone id like Z0123456789ABC" },
  "mina:dnsZoneName": { test: (v) => HOSTNAME.test(normalizeHost(v)), what: "a domain name" },
  "mina:vpcId": { test: (v) => /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(v), what: "a VPC id like vpc-0123456789abcdef0" },
  "mina:dbSubnetIds": { test: (v) => /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(v), what: "a subnet id like subnet-0123456789abcdef0" },
  "mina:dbInstanceClass": { test: (v) => /^db\.[a-z0-9]+\.[a-z0-9]+$/.test(v), what: "an RDS instance class like db.t4g.micro" },
  "mina:dbEngineVersion": { test: (v) => /^\d+(?:\.\d+)*$/.test(v), what: "a PostgreSQL version like 16 or 16.4" },
  "mina:slackChannel": { test: (v) => /^#?[a-z0-9][a-z0-9._-]{0,79}$/.test(v), what: "a Slack channel like #mina-staging-alerts" },
};

let providerRegions: { readonly regions: readonly string[]; readonly provider: string } | undefined;

/**
 * The AWS regions the installed provider knows: the values of @pulumi/aws's `Region` enum, read
 * from the package on first use (not a copy kept here, which would go stale as the provider is upgraded).
 * Only the enums module is loaded: all of @pulumi/aws takes seconds, this some tens of milliseconds.
 */
export function awsRegions(): { readonly regions: readonly string[]; readonly provider: string } {
  if (providerRegions === undefined) {
    const { Region } = require("@pulumi/aws/types/enums") as { Region?: Record<string, unknown> };
    const { version } = require("@pulumi/aws/package.json") as { version: string };
    const regions = Object.values(Region ?? {}).filter((r): r is string => typeof r === "string");
    if (regions.length === 0) throw new Error(`@pulumi/aws ${version} has no Region enum in types/enums`);
    providerRegions = { regions, provider: `@pulumi/aws ${version}` };
  }
  return providerRegions;
}

/** Why `region` is not an AWS region the installed provider knows, with the nearest one it does; undefined when it is one. */
function awsRegionProblem(region: string): string | undefined {
  let known: ReturnType<typeof awsRegions>;
  try {
    known = awsRegions();
  } catch (e) {
    return `${JSON.stringify(region)} cannot be checked against the AWS regions the installed provider knows: ${String((e as Error).message).split("\n")[0]}`;
  }
  if (known.regions.includes(region)) return undefined;
  const near = nearest(known.regions, region.toLowerCase());
  const hint = near ? ` (did you mean ${near}?)` : "";
  return `${JSON.stringify(region)} is not an AWS region the installed provider (${known.provider}) knows${hint}`;
}

/** Values that are not what their key needs (checked on the strings the stack file holds). */
export function shapeProblems(values: Readonly<Record<string, unknown>>): Problem[] {
  const out: Problem[] = [];
  const region = values["aws:region"];
  if (typeof region === "string" && region.trim() !== "" && region === region.trim()) {
    const problem = awsRegionProblem(region);
    if (problem) out.push(["aws:region", problem]);
  }
  for (const [key, shape] of Object.entries(SHAPES)) {
    const v = values[key];
    for (const s of Array.isArray(v) ? v : [v]) {
      if (typeof s !== "string" || s.trim() === "" || s !== s.trim()) continue; // type and whitespace are reported elsewhere
      if (!shape.test(s)) out.push([key, `${JSON.stringify(s)} is not ${shape.what}`]);
    }
  }
  return out;
}

/** Values with leading or trailing whitespace: refused as malformed rather than silently trimmed. */
export function whitespaceProblems(values: Readonly<Record<string, unknown>>): Problem[] {
  const out: Problem[] = [];
  const visit = (key: string, v: unknown): boolean => {
    if (v instanceof SecureValue) return v.plaintext !== undefined && v.plaintext !== v.plaintext.trim();
    if (typeof v === "string") return v !== v.trim();
    if (Array.isArray(v)) return v.some((x) => visit(key, x));
    if (v && typeof v === "object") return Object.entries(v).some(([k, x]) => k !== k.trim() || visit(key, x));
    return false;
  };
  for (const [key, v] of Object.entries(values)) {
    if (visit(key, v)) out.push([key, "has leading or trailing whitespace: values are compared exactly, so remove it"]);
  }
  return out;
}

// ---------------------------------------------------------------- namespaces

/** The namespaces this program reads. Any other is refused: nothing here would read it, or check it. */
export const NAMESPACES = ["mina", "aws", "upstash", "postgresql", "sentry", "pulumi"] as const;

/** Provider credentials that a stack file might carry although this program never reads them. */
export const PROVIDER_CREDENTIAL_KEYS = [
  "aws:accessKey",
  "aws:secretKey",
  "aws:token",
  "aws:profile",
  "aws:sharedCredentialsFiles",
  "aws:assumeRole",
  "postgresql:password",
  "postgresql:username",
  "postgresql:host",
  "upstash:apiKey",
  "sentry:token",
] as const;

/** Keys this program once read and no longer does, with what replaced them. */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
  "mina:sentryDsn":
    "is no longer read: a DSN is not pasted any more; each environment declares its own Sentry project and key (mina:sentryOrganization, mina:sentryTeam, mina:sentryToken); remove it",
};

/** `pulumi:` keys the project uses; every other engine setting (autonaming, for one) could change names or providers. */
export const PULUMI_KEYS = ["pulumi:disable-default-providers"] as const;

/** Default providers that must stay disabled: each resource takes its stack's explicit provider. */
export const DISABLED_DEFAULT_PROVIDERS = ["aws", "upstash", "postgresql", "sentry"] as const;

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The candidate closest to `value` (as `key` spells each), when it is at most 3 edits away. */
function nearest(candidates: readonly string[], value: string, key: (s: string) => string = (s) => s): string | undefined {
  const best = candidates.map((c) => ({ c, d: levenshtein(key(c), key(value)) })).sort((a, b) => a.d - b.d)[0];
  return best && best.d <= 3 ? best.c : undefined;
}

/** ` (did you mean aws:region?)` when a known key is close. */
export function suggestion(key: string): string {
  const near = nearest([...Object.keys(KEYS), ...PULUMI_KEYS], key, (k) => k.toLowerCase());
  return near ? ` (did you mean ${near}?)` : "";
}

/** Keys outside the schema, in every namespace: unknown ones, plaintext credentials, foreign namespaces. */
export function namespaceProblems(values: Readonly<Record<string, unknown>>): Problem[] {
  const out: Problem[] = [];
  for (const [key, v] of Object.entries(values)) {
    if (key in KEYS) continue;
    const ns = key.split(":")[0];
    if ((PULUMI_KEYS as readonly string[]).includes(key)) {
      const list = Array.isArray(v) ? v.map(String) : [];
      const missing = DISABLED_DEFAULT_PROVIDERS.filter((p) => !list.includes(p) && !list.includes("*"));
      if (missing.length > 0) {
        out.push([
          key,
          `must keep the default ${missing.join(", ")} provider${missing.length > 1 ? "s" : ""} disabled: every resource uses its stack's explicit provider, never the caller's ambient credentials`,
        ]);
      }
      continue;
    }
    if (key in RETIRED_KEYS) {
      out.push([key, RETIRED_KEYS[key]]);
      continue;
    }
    if ((PROVIDER_CREDENTIAL_KEYS as readonly string[]).includes(key)) {
      out.push([
        key,
        v instanceof SecureValue
          ? "is never read: each stack's explicit provider gets its credentials from the program's own keys or the caller's environment; remove it"
          : "is a credential stored in plaintext: remove it (and rotate it: it is in the file's history); each stack's explicit provider never reads it",
      ]);
      continue;
    }
    if (!(NAMESPACES as readonly string[]).includes(ns)) {
      out.push([key, `namespace "${ns}" is not read by this program (it reads ${NAMESPACES.map((n) => `${n}:`).join(", ")})${suggestion(key)}`]);
      continue;
    }
    out.push([key, `unknown key${suggestion(key)}`]);
  }
  return out;
}

// ---------------------------------------------------------------- stack-file fields

/** Secrets providers whose meaning is known; any other scheme is refused. */
const SECRETS_PROVIDERS = /^(default|passphrase|awskms:\/\/.+|azurekeyvault:\/\/.+|gcpkms:\/\/.+|hashivault:\/\/.+)$/i;

/** Providers whose key is per stack anyway (the passphrase's salt is compared separately). */
const PER_STACK_PROVIDERS = /^(default|passphrase)$/i;

/**
 * Everything a stack file says outside `config:`, against its siblings: unknown fields,
 * ESC imports, secrets provider and keys, and secure ciphertexts another file also holds.
 */
export function stackFileProblems(raw: RawStackConfig, siblings: readonly RawStackConfig[], index: IdentityIndex): Problem[] {
  const meta = raw.meta;
  if (!meta) return [];
  const out: Problem[] = [];
  for (const key of meta.unknownKeys) out.push([key, `unknown top-level key of a stack file (known: ${STACK_FILE_KEYS.join(", ")})`]);
  for (const m of meta.malformed) out.push([m.key, m.detail]);
  if (meta.environmentProblem) out.push(["environment", meta.environmentProblem]);
  if (meta.secretsProvider !== undefined && !SECRETS_PROVIDERS.test(meta.secretsProvider.trim())) {
    out.push([
      "secretsprovider",
      `"${meta.secretsProvider}" is not a known secrets provider (default, passphrase, awskms://, azurekeyvault://, gcpkms://, hashivault://)`,
    ]);
  }

  const foreign = (key: string, value: string) => {
    for (const m of index.findForeign(value, raw.stack)) out.push([key, describeForeign(m)]);
  };
  for (const imp of meta.environmentImports) foreign("environment", imp);
  if (meta.secretsProvider) foreign("secretsprovider", meta.secretsProvider);

  for (const other of siblings) {
    if (other.stack === raw.stack || !other.meta) continue;
    const o = other.meta;
    const theirs = new Set(o.environmentImports.map((i) => i.trim().toLowerCase()));
    for (const imp of meta.environmentImports) {
      if (theirs.has(imp.trim().toLowerCase())) {
        out.push([
          "environment",
          `imports the ESC environment "${imp}", which ${other.file} also imports: its values and secrets would reach both stacks; give each stack an environment of its own`,
        ]);
      }
    }
    const sp = meta.secretsProvider?.trim();
    if (sp && !PER_STACK_PROVIDERS.test(sp) && o.secretsProvider?.trim().toLowerCase() === sp.toLowerCase()) {
      out.push([
        "secretsprovider",
        `is the same key as ${other.file}'s: whoever may decrypt one stack's secrets could decrypt the other's; give each stack a key of its own`,
      ]);
    }
    if (meta.encryptedKey && meta.encryptedKey.trim() === o.encryptedKey?.trim()) {
      out.push([
        "encryptedkey",
        `is byte-identical to ${other.file}'s (a copied stack file): both stacks would share one data key; run pulumi stack change-secrets-provider on one of them`,
      ]);
    }
    if (meta.encryptionSalt && meta.encryptionSalt.trim() === o.encryptionSalt?.trim()) {
      out.push([
        "encryptionsalt",
        `is byte-identical to ${other.file}'s (a copied stack file): with one passphrase both stacks would share one key; run pulumi stack change-secrets-provider passphrase on one of them`,
      ]);
    }
    const copied = new Map(o.ciphertexts.map((c) => [c.digest, c.key]));
    for (const c of meta.ciphertexts) {
      const theirKey = copied.get(c.digest);
      if (theirKey !== undefined) {
        out.push([
          c.key,
          `its ciphertext is byte-identical to ${other.file}'s ${theirKey} (copied between stack files): the stacks share this secret; set it anew with: pulumi config set --secret ${c.key} <value> --stack ${raw.stack}`,
        ]);
      }
    }
  }
  return out;
}

/** Siblings that cannot be read: this stack cannot be proven to carry none of their identifiers, so it fails closed. */
export function unreadableSiblingProblems(raw: RawStackConfig, siblings: readonly RawStackConfig[]): Problem[] {
  return siblings
    .filter((s) => s.stack !== raw.stack && s.unreadable)
    .map(
      (s) =>
        [
          undefined,
          `cannot be checked against ${s.file}, which cannot be read (${s.unreadable!.replace(/^[^:]+: /, "")}); fix or remove that file first`,
        ] as const,
    );
}

// ---------------------------------------------------------------- values two environments hold

/**
 * Settings any two environments may hold the same value for, production included:
 * sizes, versions, levels, limits, regions. Every other supplied value (accounts,
 * hosts, emails, zones, networks, channels...) is one environment's own, except
 * what the non-production tier shares (config/tiers.ts). A short list, reviewed:
 * a new key is not shareable until it is added here.
 */
export const SHAREABLE_KEYS: readonly string[] = [
  "aws:region",
  "mina:profile",
  "mina:databaseMode",
  "mina:dbInstanceClass",
  "mina:dbAllocatedStorageGb",
  "mina:dbEngineVersion",
  "mina:dbBackupRetentionDays",
  "mina:dbMultiAz",
  "mina:dbServerPort",
  "mina:dbServerAdminUser",
  "mina:dbServerSslMode",
  // Compared by its own rule (config/runner.ts): labels such as self-hosted are everyone's.
  "mina:deployRunner",
  "mina:redisMode",
  "mina:redisPrimaryRegion",
  "mina:redisBudget",
  "mina:bucketExpireDays",
  "mina:emailEnabled",
  "mina:logLevel",
  "mina:rateLimitPerMinute",
  "mina:rateLimitPerHour",
  "mina:featureFlags",
  "mina:liveColour",
  "mina:canaryPercent",
  // One Sentry organization and team hold every environment's own project and key.
  "mina:sentryOrganization",
  "mina:sentryTeam",
  "pulumi:disable-default-providers",
];

/** The profile a raw stack declares (or its default). */
export function profileOfRaw(raw: RawStackConfig): Profile {
  const declared = raw.values["mina:profile"];
  return profileFor(raw.stack, (PROFILES as readonly unknown[]).includes(declared) ? (declared as Profile) : undefined);
}

function comparable(key: string, v: unknown): string[] {
  if (typeof v === "string") return [normalizeValue(key, v)];
  if (typeof v === "number") return [String(v)];
  if (typeof v === "boolean") return [String(v)];
  if (Array.isArray(v)) return v.flatMap((x) => comparable(key, x));
  if (v && typeof v === "object" && !(v instanceof SecureValue)) return Object.entries(v).flatMap(([k, x]) => [k.toLowerCase(), ...comparable(key, x)]);
  return [];
}

/**
 * Values another stack file holds too. A production environment shares no supplied
 * value with any other environment, and no other environment shares one with it.
 * Two environments of the non-production tier may hold the same account, hosted
 * zone and database server, and the keys both list in `mina:shareWithinTier`
 * (config/tiers.ts); nothing else. Secrets are compared by ciphertext in
 * `stackFileProblems` (their plaintext is known only for the stack being deployed);
 * `audit` and `verify --against` compare the values.
 */
export function sharedValueProblems(raw: RawStackConfig, siblings: readonly RawStackConfig[]): Problem[] {
  const out: Problem[] = [];
  const mine = sharingOfRaw(raw);
  const inherited = new Set(raw.inherited ?? []);
  for (const other of siblings) {
    if (other.stack === raw.stack || other.unreadable) continue;
    const theirs = sharingOfRaw(other);
    const otherInherited = new Set(other.inherited ?? []);
    for (const [key, v] of Object.entries(raw.values)) {
      if (SHAREABLE_KEYS.includes(key) || key === SHARE_WITHIN_TIER || inherited.has(key) || v instanceof SecureValue) continue;
      if (mayShareKey(key, mine, theirs)) continue;
      const theirValue = other.values[key];
      if (theirValue === undefined || otherInherited.has(key)) continue;
      const own = new Set(comparable(key, v));
      const both = comparable(key, theirValue).filter((x) => own.has(x));
      if (both.length > 0) out.push([key, `holds ${JSON.stringify(both[0])}, as ${other.file} does: ${whyNotShared(key, raw, mine, other, theirs)}`]);
    }
  }
  return out;
}

/** Why two environments may not hold the same value of `key`, in words. */
function whyNotShared(key: string, raw: RawStackConfig, mine: Sharing, other: RawStackConfig, theirs: Sharing): string {
  if (mine.tier === "production") return "production shares no supplied value with another environment";
  if (theirs.tier === "production") return `${other.stack}, a production environment, shares no supplied value with another environment`;
  if (mine.group !== theirs.group) {
    const [review, lived] = mine.group === "review" ? [raw, other] : [other, raw];
    return `${review.stack} is a review environment (its deploy runs pull request code), so it shares no account, server, admin role, zone or credential with ${lived.stack}, a long-lived environment; review environments have their own (Pulumi.review.template.yaml)`;
  }
  if (TIER_MARKABLE_KEYS.includes(key)) {
    const unmarked = [[raw, mine] as const, [other, theirs] as const].filter(([, s]) => !s.marked.includes(key)).map(([r]) => r.file);
    return `non-production environments share ${key} only when both stack files list it in ${SHARE_WITHIN_TIER} (${unmarked.join(" and ")} ${unmarked.length > 1 ? "do" : "does"} not)`;
  }
  return `non-production environments share only an AWS account, a hosted zone, a database server and the keys both list in ${SHARE_WITHIN_TIER}`;
}

// ---------------------------------------------------------------- the project file

/**
 * Project-level config applies to every stack, so it may hold only shareable settings,
 * and no value in it may name any environment.
 */
export function projectProblems(project: ProjectFile | undefined, index: IdentityIndex): { file: string; key: string | undefined; detail: string }[] {
  if (!project) return [];
  // Each problem names its own file: the project file, another one Pulumi would read, a stray stack file, package.json.
  const out: { file: string; key: string | undefined; detail: string }[] = project.problems.map((p) => ({ file: p.file, key: p.key, detail: p.detail }));
  if (!project.file) return out;
  const file = project.file;
  for (const [key, v] of Object.entries(project.config)) {
    if (!SHAREABLE_KEYS.includes(key)) {
      out.push({
        file,
        key,
        detail: "is set for every stack in the project file: only shared settings may be (an environment's own values and secrets belong in its stack file)",
      });
      continue;
    }
    for (const s of comparable(key, v)) {
      for (const m of index.scan(s)) out.push({ file, key, detail: `${describeForeign(m)}: a value in the project file applies to every stack` });
    }
  }
  for (const [key, detail] of namespaceProblems(project.config)) {
    if (key !== undefined && SHAREABLE_KEYS.includes(key)) out.push({ file, key, detail });
  }
  if (!("pulumi:disable-default-providers" in project.config)) {
    out.push({
      file,
      key: "pulumi:disable-default-providers",
      detail: `is not set: set it to [${DISABLED_DEFAULT_PROVIDERS.join(", ")}] so that no resource falls back to the caller's ambient credentials`,
    });
  }
  return out;
}
