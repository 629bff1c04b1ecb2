/**
 * The policy pack: one mandatory policy per rule, wrapping the same rule functions
 * the plan runs. In-process tests load policy/policies.ts (constructing the
 * PolicyPack in policy/index.ts would start its gRPC server); the last suite runs
 * policy/index.ts under the Pulumi CLI's own policy runner and talks to it the way
 * the engine does.
 */
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import {
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationArgs,
  type StackValidationPolicy,
  unknownCheckingProxy,
} from "@pulumi/policy";
import { buildPolicies, contextsFrom, PACK_NAME, packArgs, policies, toPlain } from "../../policy/policies";
import { ALL_RULES, type PlannedResource, UNKNOWN } from "../../policy/rules";
import { only, recorded, replaced, ROOT, withProps } from "./helpers";

const EMPTY_OPTIONS = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

class NotApplicable extends Error {}

const urnOf = (stack: string, r: Pick<PlannedResource, "type" | "name">, project = "mina") => `urn:pulumi:${stack}::${project}::${r.type}::${r.name}`;

/** What the engine passes `validateResource`: props behind @pulumi/policy's unknown-checking proxy. */
function resourceArgs(stack: string, r: PlannedResource, project = "mina"): ResourceValidationArgs {
  const props = unknownCheckingProxy(r.props) as Record<string, unknown>;
  return {
    type: r.type,
    name: r.name,
    urn: urnOf(stack, r, project),
    props,
    opts: { ...EMPTY_OPTIONS, protect: r.protect },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** What the engine passes `validateStack`. */
function stackArgs(stack: string, resources: readonly PlannedResource[]): StackValidationArgs {
  const policyResources: PolicyResource[] = resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: urnOf(stack, r),
    props: unknownCheckingProxy(r.props) as Record<string, unknown>,
    opts: { ...EMPTY_OPTIONS, protect: r.protect },
    dependencies: [],
    propertyDependencies: {},
    isType: () => false,
    asType: () => undefined,
  }));
  return {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => ({}) as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

interface Reported {
  message: string;
  urn?: string;
}

async function runResourcePolicy(p: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<Reported[]> {
  const out: Reported[] = [];
  const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource!];
  for (const v of validations) await v(args, (message, urn) => out.push({ message, urn }));
  return out;
}

async function runStackPolicy(p: StackValidationPolicy, args: StackValidationArgs): Promise<Reported[]> {
  const out: Reported[] = [];
  await p.validateStack(args, (message, urn) => out.push({ message, urn }));
  return out;
}

const byName = (name: string) => {
  const p = policies.find((x) => x.name === name);
  assert.ok(p, `no policy ${name}`);
  return p;
};

describe("policy: the pack", () => {
  it(`is named ${PACK_NAME} and registers one mandatory policy per rule, in rule order`, () => {
    assert.equal(PACK_NAME, "mina-isolation");
    assert.equal(packArgs.enforcementLevel, "mandatory");
    assert.equal(packArgs.policies, policies);
    assert.deepEqual(
      policies.map((p) => p.name),
      ALL_RULES.map((r) => r.name),
    );
    assert.equal(new Set(policies.map((p) => p.name)).size, ALL_RULES.length);
    for (const p of policies) assert.equal(p.enforcementLevel, "mandatory", p.name);
  });

  it("wraps resource rules as resource policies and stack rules as stack policies", () => {
    for (const [i, rule] of ALL_RULES.entries()) {
      const p = policies[i];
      assert.equal(p.description, rule.description);
      if (rule.scope === "resource") assert.ok("validateResource" in p && !("validateStack" in p), rule.name);
      else assert.ok("validateStack" in p && !("validateResource" in p), rule.name);
    }
  });

  it("covers every rule family the project promises", () => {
    const names = ALL_RULES.map((r) => r.name);
    for (const name of [
      "isolation-physical-names",
      "isolation-environment-tag",
      "isolation-stack-references",
      "isolation-one-environment",
      "s3-public-access-block",
      "s3-encryption",
      "s3-tls-only",
      "s3-versioning-production",
      "rds-storage-encrypted",
      "rds-not-public",
      "rds-deletion-protection-production",
      "rds-backup-retention-production",
      "rds-no-default-username",
      "iam-no-wildcards",
      "iam-bucket-policy-own-bucket",
      "upstash-tls",
      "protect-stateful-production",
    ]) {
      assert.ok(names.includes(name), name);
    }
  });

  describe("resource policies", () => {
    const rds = () => byName("rds-storage-encrypted") as ResourceValidationPolicy;
    const protect = () => byName("protect-stateful-production") as ResourceValidationPolicy;

    it("pass on production's instance as declared", async () => {
      const db = only(await recorded("production"), "aws:rds/instance:Instance");
      for (const p of policies) {
        if ("validateResource" in p) assert.deepEqual(await runResourcePolicy(p, resourceArgs("production", db)), [], p.name);
      }
    });

    it("report the rule's message, learning the stack (production) from the URN", async () => {
      const db = only(await recorded("production"), "aws:rds/instance:Instance");
      assert.deepEqual(await runResourcePolicy(rds(), resourceArgs("production", withProps(db, { storageEncrypted: false }))), [
        { message: "storageEncrypted is false; the database must be encrypted at rest", urn: undefined },
      ]);
      const unprotected = { ...db, protect: false };
      assert.equal((await runResourcePolicy(protect(), resourceArgs("production", unprotected))).length, 1);
      assert.deepEqual(await runResourcePolicy(protect(), resourceArgs("staging", unprotected)), []);
    });

    it("skip a value unknown during preview instead of failing the whole policy", async () => {
      const db = only(await recorded("production"), "aws:rds/instance:Instance");
      // The sentinel the engine sends for an unknown boolean; @pulumi/policy's proxy throws on reading it.
      const unknownBool = "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7";
      const args = resourceArgs("production", withProps(db, { storageEncrypted: unknownBool, username: "postgres" }));
      assert.throws(() => args.props.storageEncrypted);
      assert.deepEqual(await runResourcePolicy(rds(), args), []);
      const plain = toPlain(args.props) as Record<string, unknown>;
      assert.equal(plain.storageEncrypted, UNKNOWN);
      assert.equal(plain.username, "postgres");
      assert.equal((await runResourcePolicy(byName("rds-no-default-username") as ResourceValidationPolicy, args)).length, 1);
    });

    it("are not applicable to another project's resources", async () => {
      const db = withProps(only(await recorded("production"), "aws:rds/instance:Instance"), { storageEncrypted: false });
      await assert.rejects(runResourcePolicy(rds(), resourceArgs("production", db, "network")), NotApplicable);
    });
  });

  describe("stack policies", () => {
    it("pass on both committed stacks as declared", async () => {
      for (const stack of ["staging", "production"] as const) {
        const args = stackArgs(stack, await recorded(stack));
        for (const p of policies) if ("validateStack" in p) assert.deepEqual(await runStackPolicy(p, args), [], `${stack}: ${p.name}`);
      }
    });

    it("report a resource's violation with its URN, and a stack-wide one without", async () => {
      const stack = await recorded("production");
      const pab = only(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
      const args = stackArgs("production", replaced(stack, withProps(pab, { restrictPublicBuckets: false })));
      assert.deepEqual(await runStackPolicy(byName("s3-public-access-block") as StackValidationPolicy, args), [
        { message: "public access block leaves restrictPublicBuckets not true; all four settings must be true", urn: urnOf("production", pab) },
      ]);
      const bucket = only(stack, "aws:s3/bucket:Bucket");
      const mixed = stackArgs("production", replaced(stack, withProps(bucket, { tags: { environment: "staging" } })));
      assert.deepEqual(await runStackPolicy(byName("isolation-one-environment") as StackValidationPolicy, mixed), [
        {
          message: 'the production stack holds resources tagged environment "staging" (mina-production-bucket-bucket): a stack holds one environment',
          urn: undefined,
        },
      ]);
    });

    it("relate sub-resources to their bucket through property dependencies", async () => {
      const stack = await recorded("production");
      const bucket = only(stack, "aws:s3/bucket:Bucket");
      const args = stackArgs("production", stack);
      const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
      const bucketResource = args.resources.find((r) => r.name === bucket.name)!;
      for (const r of args.resources) {
        if (r.type.startsWith("aws:s3/bucket") && r.name !== bucket.name) {
          (r as { props: Record<string, unknown> }).props = unknownCheckingProxy({ ...(toPlain(r.props) as object), bucket: unknownString });
          r.propertyDependencies = { bucket: [bucketResource] };
        }
      }
      for (const p of policies) if ("validateStack" in p) assert.deepEqual(await runStackPolicy(p, args), [], p.name);
    });
  });

  it("builds contexts from the project's stack files, by the URN's stack", () => {
    const lookup = contextsFrom(ROOT);
    assert.equal(lookup("urn:pulumi:production::mina::aws:s3/bucket:Bucket::b")?.profile, "production");
    assert.equal(lookup("urn:pulumi:staging::mina::aws:s3/bucket:Bucket::b")?.environment, "staging");
    assert.equal(lookup("urn:pulumi:staging-blue::mina::aws:s3/bucket:Bucket::b")?.names?.bucket, "mina-audio-staging-blue");
    assert.equal(lookup("urn:pulumi:staging::network::aws:s3/bucket:Bucket::b"), undefined);
    assert.equal(buildPolicies(ALL_RULES, lookup).length, ALL_RULES.length);
  });

  describe("policy/index.ts under the Pulumi policy runner", function () {
    this.timeout(180_000);
    const policyDir = path.join(ROOT, "policy");
    // The modules the engine side of the protocol uses, from the copies @pulumi/policy itself uses.
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    const policyPkgDir = path.dirname(require.resolve("@pulumi/policy/package.json"));
    /* eslint-disable @typescript-eslint/no-require-imports */
    const grpc = require(require.resolve("@grpc/grpc-js", { paths: [policyPkgDir] }));
    const rpc = require(path.join(pulumiDir, "proto", "analyzer_grpc_pb"));
    const pb = require(path.join(pulumiDir, "proto", "analyzer_pb"));
    const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
    const { Empty } = require(require.resolve("google-protobuf/google/protobuf/empty_pb", { paths: [pulumiDir] }));
    /* eslint-enable @typescript-eslint/no-require-imports */

    let child: ChildProcess | undefined;
    let client: { close(): void; [method: string]: unknown } | undefined;
    let stderr = "";

    const call = <T>(method: string, req: unknown): Promise<T> =>
      new Promise((resolve, reject) =>
        (client![method] as (r: unknown, cb: (e: Error | null, res: T) => void) => void).call(client, req, (e, res) => (e ? reject(e) : resolve(res))),
      );

    function resource(stack: string, r: PlannedResource) {
      const res = new pb.AnalyzerResource();
      res.setType(r.type);
      res.setName(r.name);
      res.setUrn(urnOf(stack, r));
      res.setProperties(Struct.fromJavaScript(r.props));
      const opts = new pb.AnalyzerResourceOptions();
      opts.setProtect(r.protect);
      res.setOptions(opts);
      return res;
    }

    async function analyzeStack(
      stack: string,
      resources: readonly PlannedResource[],
    ): Promise<{ policy: string; level: number; message: string; urn: string }[]> {
      const req = new pb.AnalyzeStackRequest();
      req.setResourcesList(resources.map((r) => resource(stack, r)));
      const resp = await call<{ getDiagnosticsList(): { getPolicyname(): string; getEnforcementlevel(): number; getMessage(): string; getUrn(): string }[] }>(
        "analyzeStack",
        req,
      );
      return resp.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() }));
    }

    before(async () => {
      // What the CLI's `pulumi-analyzer-policy` does for `--policy-pack policy`: resolve the runner from the
      // pack's directory (through the root node_modules) and run it there on ".".
      const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [policyDir] });
      const proc = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: policyDir, env: { ...process.env, PULUMI_STACK: "production" } });
      child = proc;
      proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        proc.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const m = /^(\d+)\s*$/m.exec(out);
          if (m) resolve(m[1]);
        });
        proc.on("exit", (code) => reject(new Error(`policy runner exited (${code}): ${stderr}`)));
      });
      client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
      client?.close();
      if (child && child.exitCode === null) child.kill();
    });

    it("serves the mina-isolation pack: every rule's policy, all mandatory", async () => {
      const info = await call<{ getName(): string; getPoliciesList(): { getName(): string; getEnforcementlevel(): number }[] }>("getAnalyzerInfo", new Empty());
      assert.equal(info.getName(), PACK_NAME);
      assert.deepEqual(
        info.getPoliciesList().map((p) => p.getName()),
        ALL_RULES.map((r) => r.name),
      );
      for (const p of info.getPoliciesList()) assert.equal(p.getEnforcementlevel(), pb.EnforcementLevel.MANDATORY, p.getName());
    });

    it("reports a resource's violations with its stack learned from the URN", async () => {
      const db = only(await recorded("production"), "aws:rds/instance:Instance");
      const req = new pb.AnalyzeRequest();
      const bad = withProps({ ...db, protect: false }, { identifier: "mina-staging", username: "postgres" });
      req.setType(bad.type);
      req.setName(bad.name);
      req.setUrn(urnOf("production", bad));
      req.setProperties(Struct.fromJavaScript(bad.props));
      const opts = new pb.AnalyzerResourceOptions();
      opts.setProtect(false);
      req.setOptions(opts);
      const resp = await call<{ getDiagnosticsList(): { getPolicyname(): string; getMessage(): string }[] }>("analyze", req);
      assert.deepEqual(
        resp.getDiagnosticsList().map((d) => `${d.getPolicyname()}: ${d.getMessage().split("\n").pop()}`),
        [
          'isolation-physical-names: identifier "mina-staging" carries staging\'s RDS instance "mina-staging"',
          'rds-no-default-username: username "postgres" is an engine default; the master user is the environment\'s own (e.g. mina_<environment>_admin)',
          "protect-stateful-production: is not protected; in production a resource that holds data is declared with protect: true",
        ],
      );
    });

    it("finds no violation in the committed production stack", async () => {
      assert.deepEqual(await analyzeStack("production", await recorded("production")), []);
    });

    it("reports, on the bucket's URN, a bucket renamed away from its sub-resources", async () => {
      const stack = await recorded("production");
      const bucket = withProps(only(stack, "aws:s3/bucket:Bucket"), { bucket: "mina-audio-staging" });
      const diags = await analyzeStack("production", replaced(stack, bucket));
      assert.ok(diags.length > 0);
      for (const d of diags) assert.equal(d.level, pb.EnforcementLevel.MANDATORY);
      assert.ok(
        diags.some(
          (d) =>
            d.policy === "s3-public-access-block" &&
            d.urn === urnOf("production", bucket) &&
            d.message.endsWith('bucket "mina-audio-staging" has no public access block (aws:s3/bucketPublicAccessBlock)'),
        ),
        JSON.stringify(diags, null, 2),
      );
    });
  });
});
