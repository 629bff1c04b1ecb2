/**
 * Isolation rules: every name, tag and reference a stack declares belongs to the
 * stack's own environment, and to no other known environment.
 */
import { describeForeign } from "../../config/isolation";
import { PROJECT } from "../../config/naming";
import { isRecord, isUnknown, isWrappedSecret, objectProp, type PlannedResource, type Rule, type RuleContext } from "./types";

/** Properties that hold a resource's physical name (or the name of the bucket it configures, or the prefix the provider completes). */
export const PHYSICAL_NAME_PROPS = ["bucket", "identifier", "name", "namePrefix", "databaseName", "dbName"] as const;

/** AWS types the project declares with tags: each must carry `environment` (others get it from the provider's default tags). */
export const TAGGED_TYPES = [
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:rds/instance:Instance",
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:iam/user:User",
  "aws:secretsmanager/secret:Secret",
] as const;

const STACK_REFERENCE = "pulumi:pulumi:StackReference";
const AWS_PROVIDER = "pulumi:providers:aws";
const ROUTE53_RECORD = "aws:route53/record:Record";

/** Property names whose values are credentials: never scanned, never quoted. */
const SECRET_KEY = /password|secret|api_?key|token|dsn|webhook|private_?key|credential/i;

/** Types that carry no physical name of their own: providers, the stack itself, stack references. */
function hasPhysicalName(type: string): boolean {
  return !type.startsWith("pulumi:");
}

/** The message for a value that carries another environment's identifiers, or none of its own. */
function nameProblems(what: string, value: string, ctx: RuleContext): string[] {
  const foreign = ctx.index.findForeign(value, ctx.environment);
  if (foreign.length > 0) {
    return [...new Set(foreign.map((m) => `${what} "${value}" ${describeForeign(m)}`))];
  }
  if (!ctx.index.scan(value).some((m) => m.environment === ctx.environment)) {
    return [`${what} "${value}" does not carry the environment "${ctx.environment}"`];
  }
  return [];
}

/**
 * Physical names (`bucket`, `identifier`, `name`, `databaseName`, `dbName`) carry the stack's
 * environment and no other environment's identifiers.
 */
export function isolationPhysicalNames(): Rule {
  return {
    name: "isolation-physical-names",
    description: "Every physical name carries its stack's environment and no other environment's identifiers.",
    scope: "resource",
    checkResource(r, ctx) {
      if (!hasPhysicalName(r.type)) return [];
      return PHYSICAL_NAME_PROPS.flatMap((key) => {
        const v = r.props[key];
        return typeof v === "string" && v !== "" ? nameProblems(key, v, ctx) : [];
      });
    },
  };
}

/** The `environment` tag of a resource's tags, or of the AWS provider's default tags. */
function environmentTagOf(r: PlannedResource): { where: string; tags: Record<string, unknown> | undefined } | undefined {
  if (r.type === AWS_PROVIDER) {
    const defaults = objectProp(r.props.defaultTags);
    if (isUnknown(defaults)) return undefined;
    const tags = defaults ? objectProp(defaults.tags) : undefined;
    return isUnknown(tags) ? undefined : { where: "defaultTags.tags", tags };
  }
  if (!("tags" in r.props) && !(TAGGED_TYPES as readonly string[]).includes(r.type)) return undefined;
  const tags = objectProp(r.props.tags);
  return isUnknown(tags) ? undefined : { where: "tags", tags };
}

/**
 * The `environment` tag (resource tags, the AWS provider's default tags) is the stack's
 * environment; the types the project tags must carry it.
 */
export function isolationEnvironmentTag(): Rule {
  return {
    name: "isolation-environment-tag",
    description: "Every tagged resource, and the AWS provider's default tags, carry environment=<the stack's environment>.",
    scope: "resource",
    checkResource(r, ctx) {
      const found = environmentTagOf(r);
      if (!found) return [];
      const env = found.tags?.environment;
      if (isUnknown(env)) return [];
      if (env === undefined) return [`${found.where} has no environment tag; it must be "${ctx.environment}"`];
      if (env !== ctx.environment) return [`${found.where}.environment is "${String(env)}" but this is the ${ctx.environment} stack`];
      return [];
    },
  };
}

/** Every string in a value with its path, skipping credentials, secrets and unknowns. */
function stringsIn(v: unknown, path: string, out: { path: string; value: string }[]): void {
  if (isUnknown(v) || isWrappedSecret(v)) return;
  if (typeof v === "string") {
    out.push({ path, value: v });
  } else if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) stringsIn(x, `${path}[${i}]`, out);
  } else if (isRecord(v)) {
    for (const [k, x] of Object.entries(v)) if (!SECRET_KEY.test(k)) stringsIn(x, path ? `${path}.${k}` : k, out);
  }
}

/**
 * No other property (references, policies, records, descriptions, other tags) carries
 * another environment's identifiers. Credentials are never read; messages quote only the identifier.
 */
export function isolationForeignIdentifiers(): Rule {
  const own = new Set<string>(PHYSICAL_NAME_PROPS);
  return {
    name: "isolation-foreign-identifiers",
    description: "No resource property refers to another environment's identifiers (buckets, databases, domains, accounts, zones, networks).",
    scope: "resource",
    checkResource(r, ctx) {
      if (r.type === "pulumi:pulumi:Stack" || r.type === STACK_REFERENCE) return [];
      const strings: { path: string; value: string }[] = [];
      for (const [k, v] of Object.entries(r.props)) {
        if (SECRET_KEY.test(k) || (own.has(k) && hasPhysicalName(r.type))) continue;
        if (k === "tags" && isRecord(v)) {
          const { environment: _checkedByTagRule, ...rest } = v;
          stringsIn(rest, k, strings);
        } else if (k === "defaultTags" && r.type === AWS_PROVIDER) {
        } else {
          stringsIn(v, k, strings);
        }
      }
      const seen = new Set<string>();
      const out: string[] = [];
      for (const s of strings) {
        for (const m of ctx.index.findForeign(s.value, ctx.environment)) {
          if (isFrontAlias(r, s, m, ctx)) continue;
          const line = `${s.path} ${describeForeign(m)}`;
          if (!seen.has(line)) {
            seen.add(line);
            out.push(line);
          }
        }
      }
      return out;
    },
  };
}

/** A blue/green front's alias record naming one of its own colours' hosts (and only that, exactly). */
function isFrontAlias(r: PlannedResource, s: { path: string; value: string }, m: { environment: string; kind: string }, ctx: RuleContext): boolean {
  return (
    r.type === ROUTE53_RECORD &&
    /^aliases\[\d+\]\.name$/.test(s.path) &&
    m.kind === "share domain" &&
    ctx.frontColours?.[m.environment] !== undefined &&
    ctx.frontColours[m.environment] === s.value.toLowerCase().replace(/\.$/, "")
  );
}

/** Splits a stack reference name: `stack`, `org/stack` or `org/project/stack`. */
function referencedStack(name: string): { project?: string; stack: string } {
  const parts = name.split("/");
  return parts.length >= 3 ? { project: parts[parts.length - 2], stack: parts[parts.length - 1] } : { stack: parts[parts.length - 1] };
}

/** No `StackReference` reads another environment's stack (of this project or any other). */
export function isolationStackReferences(): Rule {
  return {
    name: "isolation-stack-references",
    description: "No stack reads another environment's stack outputs through a StackReference.",
    // Stack scope: a StackReference is read, not registered, so only stack validation sees it.
    scope: "stack",
    checkResource(r, ctx) {
      if (r.type !== STACK_REFERENCE) return [];
      const name = r.props.name;
      if (typeof name !== "string") return [];
      const target = referencedStack(name);
      const foreign = ctx.index.findForeign(name, ctx.environment);
      if (foreign.length > 0) {
        return [...new Set(foreign.map((m) => `StackReference "${name}" ${describeForeign(m)}: a stack reads no other environment's outputs`))];
      }
      if ((target.project === undefined || target.project === PROJECT) && target.stack !== ctx.environment) {
        return [`StackReference "${name}" reads the ${PROJECT} stack "${target.stack}": a stack reads no other environment's outputs`];
      }
      return [];
    },
  };
}

/** All environment tags of the stack (resources' and the AWS provider's defaults) name one environment: the stack's. */
export function isolationOneEnvironment(): Rule {
  return {
    name: "isolation-one-environment",
    description: "A stack holds one environment: every environment tag in it is the stack's own.",
    scope: "stack",
    checkStack(resources, ctx) {
      const others = new Map<string, string[]>();
      for (const r of resources) {
        const env = environmentTagOf(r)?.tags?.environment;
        if (typeof env !== "string" || env === ctx.environment) continue;
        others.set(env, [...(others.get(env) ?? []), r.name]);
      }
      return [...others].map(
        ([env, names]) => `the ${ctx.environment} stack holds resources tagged environment "${env}" (${names.join(", ")}): a stack holds one environment`,
      );
    },
  };
}
