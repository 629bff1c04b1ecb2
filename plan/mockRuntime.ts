/**
 * Runs a Pulumi program under Pulumi's own mock runtime (`pulumi.runtime.setMocks`)
 * and records every resource the program registers, with the options the SDK
 * sends the engine (`protect`, `deleteBeforeReplace`, parent, provider). Nothing is deployed: computed
 * values (endpoints, passwords, ARNs) are given realistic fake values here.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  readonly protect: boolean;
  /** The `deleteBeforeReplace` option (config/replacement.ts decides it). */
  readonly deleteBeforeReplace?: boolean;
  readonly parent: string;
  /** The provider reference the SDK sent (`<provider URN>::<id>`), empty for a default provider. */
  readonly provider: string;
  readonly inputs: Record<string, unknown>;
  /** The inputs (top-level names) that are secret, or hold a secret. */
  readonly secretInputs?: readonly string[];
  /** The URNs the resource waits for: its inputs' resources and its `dependsOn`. */
  readonly dependencies?: readonly string[];
}

const hex = (seed: string, n: number) => {
  let out = "";
  for (let i = 0; out.length < n; i++) out += createHash("sha256").update(`${seed}:${i}`).digest("hex");
  return out.slice(0, n);
};

/** Realistic computed outputs for the resource types this program declares. */
export function mockState(type: string, name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  const s = (k: string) => (typeof inputs[k] === "string" ? (inputs[k] as string) : undefined);
  switch (type) {
    case "random:index/randomBytes:RandomBytes": {
      const h = hex(name, Number(inputs.length ?? 32) * 2);
      return { id: `mock-${name}`, state: { ...inputs, hex: h, base64: Buffer.from(h, "hex").toString("base64") } };
    }
    case "random:index/randomPassword:RandomPassword":
      return { id: "none", state: { ...inputs, result: `Mock${hex(name, Number(inputs.length ?? 32) - 4)}` } };
    case "aws:rds/instance:Instance": {
      const id = s("identifier") ?? name;
      const address = `${id}.c${hex(name, 10)}.us-east-1.rds.amazonaws.com`;
      return { id, state: { ...inputs, address, endpoint: `${address}:5432`, port: 5432, arn: `arn:aws:rds:us-east-1:000000000000:db:${id}` } };
    }
    case "upstash:index/redisDatabase:RedisDatabase": {
      const db = s("databaseName") ?? name;
      return {
        id: hex(name, 32),
        state: { ...inputs, databaseId: hex(name, 32), endpoint: `${db}-${hex(name, 5)}.upstash.io`, port: 6379, password: `mock${hex(`${name}-pw`, 28)}` },
      };
    }
    case "sentry:index/sentryKey:SentryKey": {
      const key = `mock${hex(`${name}-sentry`, 28)}`;
      return {
        id: hex(name, 32),
        state: {
          ...inputs,
          public: key,
          secret: `mock${hex(`${name}-sentry-secret`, 28)}`,
          dsnPublic: `https://${key}@sentry.invalid/${parseInt(hex(name, 6), 16)}`,
        },
      };
    }
    case "sentry:index/sentryProject:SentryProject":
      return { id: `${s("organization")}/${s("slug")}`, state: { ...inputs, projectId: String(parseInt(hex(name, 6), 16)) } };
    case "aws:iam/accessKey:AccessKey":
      return { id: `AKIAMOCK${hex(name, 12).toUpperCase()}`, state: { ...inputs, secret: `mock/${hex(`${name}-secret`, 36)}` } };
    case "aws:secretsmanager/secret:Secret": {
      // Secrets Manager appends six random characters to the name in the ARN.
      const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:${s("name") ?? name}-${hex(name, 6)}`;
      return { id: arn, state: { ...inputs, arn } };
    }
    case "aws:s3/bucket:Bucket": {
      const b = s("bucket") ?? name;
      return { id: b, state: { ...inputs, arn: `arn:aws:s3:::${b}`, bucketDomainName: `${b}.s3.amazonaws.com` } };
    }
    default: {
      // A name prefix is completed the provider's way: 26 digits after it.
      const prefix = s("namePrefix");
      const completed =
        prefix !== undefined
          ? `${prefix}${BigInt(`0x${hex(name, 20)}`)
              .toString()
              .padStart(26, "0")
              .slice(0, 26)}`
          : undefined;
      const physical = s("name") ?? completed ?? s("identifier") ?? `${name}-${hex(name, 7)}`;
      const state = { ...inputs, ...(completed !== undefined ? { name: completed } : {}), arn: `arn:mock:${type}:${physical}` };
      return { id: type.startsWith("pulumi:providers:") ? `mock-${name}` : physical, state };
    }
  }
}

type Req = {
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  getType(): string;
  getName(): string;
  getParent(): string;
  getProvider(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean | undefined;
};

/** The signature key and value the SDK marks a serialized secret with. */
const SECRET_SIG = ["4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"] as const;

function holdsSecret(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(holdsSecret);
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return o[SECRET_SIG[0]] === SECRET_SIG[1] || Object.values(o).some(holdsSecret);
}

/** The top-level inputs of a registration that are secret or hold a secret, from its serialized object. */
function secretKeys(req: Req): string[] {
  const obj = req.getObject()?.toJavaScript() ?? {};
  return Object.keys(obj)
    .filter((k) => holdsSecret(obj[k]))
    .sort();
}

/** The SDK's RPC queue drain, internal to its settings module. */
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void>; getMonitor(): unknown };

/**
 * Runs `program` as stack `stack` of `project` under mocks. Resolves when every
 * registration has completed, with the program's result and the resources it declared.
 */
export async function runUnderMocks<T>(project: string, stack: string, program: () => T): Promise<{ result: T; resources: RecordedResource[] }> {
  const inputs = new Map<string, Record<string, unknown>>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        inputs.set(`${args.type}::${args.name}`, args.inputs);
        return mockState(args.type, args.name, args.inputs);
      },
      call(args) {
        // The account of the credentials: invented, as every computed value here is.
        if (args.token === "aws:index/getCallerIdentity:getCallerIdentity")
          return { accountId: "000000000000", arn: "arn:aws:iam::000000000000:user/mock", userId: "MOCK", id: "000000000000" };
        return {};
      },
    },
    project,
    stack,
    false,
  );
  const monitor = settings.getMonitor() as { registerResource(req: Req, cb: unknown): unknown };
  const registered: Omit<RecordedResource, "inputs" | "urn">[] = [];
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: Req, cb: unknown) => {
    registered.push({
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      protect: req.getProtect() === true,
      deleteBeforeReplace: req.getDeletebeforereplace() === true,
      parent: req.getParent(),
      provider: req.getProvider(),
      secretInputs: secretKeys(req),
      dependencies: [...req.getDependenciesList()].sort(),
    });
    return original(req, cb);
  };
  // The SDK captures a stack trace for every promise it makes (to report leaks); a mock
  // run makes thousands and reports none, so none is captured while it runs.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let result: T;
  try {
    result = program();
    await settings.waitForRPCs();
  } finally {
    Error.stackTraceLimit = limit;
  }
  const resources = registered.map((r) => ({
    ...r,
    urn: `urn:pulumi:${stack}::${project}::${r.type}::${r.name}`,
    inputs: inputs.get(`${r.type}::${r.name}`) ?? {},
  }));
  return { result, resources };
}

/** The value of an Output (the SDK's own promise; mock runs only). */
export function promiseOf<T>(o: pulumi.Output<T>): Promise<T> {
  return (o as unknown as { promise(): Promise<T> }).promise();
}
