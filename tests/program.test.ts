/**
 * The program under Pulumi's own mock runtime: the real components declare their
 * resources; the mock only answers with realistic computed values. Resource
 * options (`protect`) are read from the registration requests the SDK sends.
 */
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { BUILTIN_ENVIRONMENTS } from "../config/isolation";
import { SecureValue } from "../config/raw";
import type { StackConfig } from "../config/stackConfig";
import { identityIndexFor, validateStack } from "../config/validation/validate";
import { VARIABLES } from "../config/variables";
import { promiseOf, type RecordedResource, runUnderMocks } from "../plan/mockRuntime";
import { STATEFUL_TYPES } from "../config/protection";
import { replacementFor } from "../config/replacement";
import { APP_ROLE, PUBLIC_DATABASE_PRIVILEGES } from "../config/databasePrivileges";
import { physicalNameOf } from "../plan/plan";
import { parseEnvFile } from "../envfiles/format";
import { productionRaw, stagingRaw } from "./helpers";

type EnvironmentModule = typeof import("../components/environment");

interface Run {
  config: StackConfig;
  resources: RecordedResource[];
  env: Record<string, string>;
  outputs: Awaited<ReturnType<EnvironmentModule["defineEnvironment"]>>;
  environment: InstanceType<EnvironmentModule["Environment"]>;
}

const blueRaw = () => stagingRaw({ "aws:allowedAccountIds": ["333333333333"], "mina:appHost": "203.0.113.30" }, "staging-blue");
const siblings = () => [stagingRaw(), productionRaw(), blueRaw()];

async function run(raw: ReturnType<typeof stagingRaw>): Promise<Run> {
  // Imported only after the mock runtime is set, as Pulumi's own examples do.
  const { config } = validateStack(raw, { siblings: siblings(), requireSecrets: true });
  let mod: EnvironmentModule | undefined;
  const { result, resources } = await runUnderMocks("mina", raw.stack, () => {
    mod = require("../components/environment") as EnvironmentModule;
    const environment = new mod.Environment(`${config.names.prefix}-probe`, { config });
    return { environment, outputs: mod.defineEnvironment(config) };
  });
  const env = await promiseOf(result.outputs.env);
  return { config, resources: resources.filter((r) => !r.name.includes("-probe")), env, outputs: result.outputs, environment: result.environment };
}

const byType = (r: Run, type: string) => r.resources.filter((x) => x.type === type);
const one = (r: Run, type: string) => {
  const found = byType(r, type);
  assert.equal(found.length, 1, `expected one ${type}, found ${found.length}`);
  return found[0];
};

describe("program under the mock runtime", function () {
  this.timeout(60000);
  const runs: Record<string, Run> = {};

  before(async () => {
    runs.staging = await run(stagingRaw());
    runs.production = await run(productionRaw());
    runs["staging-blue"] = await run(blueRaw());
  });

  for (const stack of ["staging", "production", "staging-blue"]) {
    describe(stack, () => {
      it("gives every physical name its own environment and no other's", () => {
        const r = runs[stack];
        const index = identityIndexFor(siblings().find((s) => s.stack === stack)!, siblings());
        const named = r.resources.map((x) => ({ x, name: physicalNameOf(x) })).filter((x) => x.name);
        assert.ok(named.length >= 10, `only ${named.length} named resources`);
        for (const { x, name } of named) {
          assert.deepEqual(index.findForeign(name!, stack), [], `${x.type} ${name}`);
          const carriesOwn = name!.includes(stack) || name!.includes(stack.replace(/-/g, "_")) || name === r.config.dns.shareDomain;
          assert.ok(carriesOwn, `${x.type} ${name} does not carry ${stack}`);
        }
      });

      it("tags every taggable resource with its environment", () => {
        const tagged = runs[stack].resources.filter((x) => x.inputs.tags !== undefined);
        assert.ok(tagged.length >= 2);
        for (const x of tagged) assert.equal((x.inputs.tags as Record<string, string>).environment, stack, x.name);
      });

      it("guards the AWS provider with the stack's own account and default tags", () => {
        const p = one(runs[stack], "pulumi:providers:aws");
        assert.deepEqual(JSON.parse(String(p.inputs.allowedAccountIds)), runs[stack].config.aws.allowedAccountIds);
        assert.deepEqual(JSON.parse(String(p.inputs.defaultTags)).tags, { environment: stack, app: "mina", "managed-by": "pulumi" });
      });

      it("gives every cloud resource this stack's explicit provider (Pulumi.yaml disables the defaults)", () => {
        const cloud = runs[stack].resources.filter((x) => x.custom && /^(aws|upstash|postgresql|sentry):/.test(x.type));
        assert.ok(cloud.length >= 10);
        for (const x of cloud) {
          const pkg = x.type.split(":")[0];
          assert.match(x.provider, new RegExp(`[:$]pulumi:providers:${pkg}::mina-${stack}-`), `${x.type} ${x.name}`);
        }
        const pulumiYaml = require("yaml").parse(require("node:fs").readFileSync(require("node:path").join(__dirname, "..", "Pulumi.yaml"), "utf8"));
        assert.deepEqual(pulumiYaml.config["pulumi:disable-default-providers"], ["aws", "upstash", "postgresql", "sentry"]);
      });

      it("emits every variable in the env output", () => {
        const names = Object.keys(runs[stack].env);
        for (const v of VARIABLES) assert.ok(names.includes(v.name), v.name);
        assert.equal(runs[stack].env.ENVIRONMENT, stack);
        assert.equal(runs[stack].env.SENTRY_ENVIRONMENT, stack);
        assert.equal(runs[stack].env.JSON_LOGS, "true");
        assert.match(runs[stack].env.SECRET_KEY, /^[0-9a-f]{64}$/);
        assert.match(runs[stack].env.SESSION_SECRET, /^[0-9a-f]{64}$/);
        assert.notEqual(runs[stack].env.SECRET_KEY, runs[stack].env.SESSION_SECRET);
        assert.match(runs[stack].env.REDIS_URL, /^rediss:\/\/default:[^@]+@mina-[a-z-]+-[0-9a-f]{5}\.upstash\.io:6379$/);
        assert.equal(runs[stack].env.AWS_S3_BUCKET, `mina-audio-${stack}`);
        assert.equal(runs[stack].env.SHARE_BASE_URL, `https://${runs[stack].config.dns.shareDomain}`);
      });

      it("marks every secret value secret and leaks none into non-secret outputs", async () => {
        const r = runs[stack];
        assert.equal(await pulumi.isSecret(r.outputs.env), true);
        const e = r.environment;
        for (const [what, o] of Object.entries({
          "database.url": e.database.url,
          "cache.url": e.cache.url,
          "bucket.accessKeyId": e.bucket.accessKeyId,
          "bucket.secretAccessKey": e.bucket.secretAccessKey,
          "secrets.secretKey": e.secrets.secretKey,
          "secrets.sessionSecret": e.secrets.sessionSecret,
          "secrets.openaiApiKey": e.secrets.openaiApiKey,
          ...(e.sentry ? { "sentry.dsn": e.sentry.dsn } : {}),
          "secrets.sendgridApiKey": e.secrets.sendgridApiKey,
          "secrets.slackWebhookUrl": e.secrets.slackWebhookUrl,
        })) {
          assert.equal(await pulumi.isSecret(o), true, what);
        }
        const secretValues = VARIABLES.filter((v) => v.secret)
          .map((v) => r.env[v.name])
          .filter((v) => v.length >= 8);
        const supplied = Object.values(stack === "production" ? productionRaw().values : stagingRaw({}, stack).values)
          .filter((v): v is SecureValue => v instanceof SecureValue)
          .map((v) => v.plaintext!);
        assert.ok(secretValues.length >= 6);
        const { env: _env, ...plain } = r.outputs;
        const visible = JSON.stringify(plain);
        for (const s of [...secretValues, ...supplied]) {
          assert.ok(!visible.includes(s), `a secret value appears in the non-secret outputs`);
          for (const x of r.resources) assert.ok(!(physicalNameOf(x) ?? "").includes(s));
        }
        // Every input that carries a secret value is registered secret: the app env secret's text among them.
        for (const x of r.resources) {
          for (const [k, v] of Object.entries(x.inputs)) {
            if ((x.secretInputs ?? []).includes(k)) continue;
            const text = JSON.stringify(v) ?? "";
            for (const s of [...secretValues, ...supplied]) assert.ok(!text.includes(s), `${x.type} ${x.name}: input ${k} carries a secret value in the clear`);
          }
        }
        const version = one(r, "aws:secretsmanager/secretVersion:SecretVersion");
        assert.deepEqual(version.secretInputs, ["secretString"]);
        assert.equal(await pulumi.isSecret(e.appEnv.secretArn), false, "the ARN is no secret");
        assert.equal(typeof r.outputs.appEnvSecretName, "string");
      });

      it("stores the env in a secret of its own account, as the env file's text, readable only by the app's IAM user", () => {
        const r = runs[stack];
        const secret = one(r, "aws:secretsmanager/secret:Secret");
        assert.equal(secret.inputs.name, `mina/${stack}/app-env`);
        assert.equal((secret.inputs.tags as Record<string, string>).environment, stack);
        assert.equal(r.outputs.appEnvSecretName, `mina/${stack}/app-env`);
        assert.match(secret.provider, new RegExp(`pulumi:providers:aws::mina-${stack}-aws`), "the stack's own account");

        const stored = one(r, "aws:secretsmanager/secretVersion:SecretVersion").inputs.secretString as { value: string };
        const text = stored.value;
        assert.deepEqual(parseEnvFile(text), r.env, "the same variables and values as the env output");
        assert.match(text, new RegExp(`^# Mina environment for stack ${stack}\n`));
        assert.doesNotMatch(text, /generated at/, "no time of writing: the same env is the same text, so no new version");

        const user = one(r, "aws:iam/user:User");
        const read = one(r, "aws:iam/userPolicy:UserPolicy");
        assert.deepEqual([read.inputs.name, read.inputs.user], [`mina-${stack}-app-env-read`, user.inputs.name]);
        const arn = `arn:aws:secretsmanager:us-east-1:000000000000:secret:mina/${stack}/app-env-`;
        const doc = JSON.parse(String(read.inputs.policy));
        assert.equal(doc.Statement.length, 1);
        assert.deepEqual([doc.Statement[0].Effect, doc.Statement[0].Action], ["Allow", "secretsmanager:GetSecretValue"]);
        assert.ok(String(doc.Statement[0].Resource).startsWith(arn) && String(doc.Statement[0].Resource).length === arn.length + 6, doc.Statement[0].Resource);

        const policy = one(r, "aws:secretsmanager/secretPolicy:SecretPolicy");
        assert.equal(policy.inputs.blockPublicPolicy, true);
        const fence = JSON.parse(String(policy.inputs.policy)).Statement;
        assert.ok(
          fence.every((st: { Effect: string }) => st.Effect === "Deny"),
          "the resource policy only denies",
        );
        assert.deepEqual(fence[0].Condition, { StringNotEquals: { "aws:PrincipalAccount": r.config.aws.allowedAccountIds } });
        assert.deepEqual(fence[1].Condition.ArnLike, { "aws:PrincipalArn": "arn:*:iam::*:user/mina/*" });
        assert.match(fence[1].Condition.ArnNotEquals["aws:PrincipalArn"], new RegExp(`mina-audio-${stack}$`));
      });

      it("gives every cloud resource a reviewed replacement decision, and applies it (deleteBeforeReplace, namePrefix)", () => {
        const cloud = runs[stack].resources.filter((x) => x.custom && !x.type.startsWith("pulumi:providers:"));
        assert.ok(cloud.length >= 10);
        for (const x of cloud) {
          const d = replacementFor(x.type);
          assert.ok(d.reviewed, `${x.type} has no replacement decision in config/replacement.ts`);
          assert.equal(x.deleteBeforeReplace, d.kind === "delete-first", `${x.type} ${x.name}: deleteBeforeReplace`);
          if (d.kind === "name-prefix") {
            assert.equal(x.inputs.name, undefined, `${x.type} ${x.name} has a fixed name`);
            assert.match(String(x.inputs.namePrefix), new RegExp(`^mina-${stack}-[a-z0-9]+-$`));
          } else if (d.nameInput !== undefined) {
            assert.equal(x.inputs.namePrefix, undefined, `${x.type} ${x.name}`);
          }
        }
      });

      it("lets the bucket policy and the IAM policy reference only the own bucket", () => {
        const r = runs[stack];
        const own = `arn:aws:s3:::mina-audio-${stack}`;
        for (const type of ["aws:s3/bucketPolicy:BucketPolicy", "aws:iam/groupPolicy:GroupPolicy"]) {
          const doc = JSON.parse(String(one(r, type).inputs.policy));
          const resources = doc.Statement.flatMap((s: { Resource: string | string[] }) => [s.Resource].flat());
          assert.ok(resources.length > 0);
          for (const res of resources) assert.ok(res === own || res === `${own}/*`, `${type}: ${res}`);
          if (type.startsWith("aws:iam")) {
            const actions = doc.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
            for (const a of actions) assert.ok(!a.includes("*"), a);
          }
        }
        const tls = JSON.parse(String(one(r, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy)).Statement[0];
        assert.deepEqual([tls.Effect, tls.Condition], ["Deny", { Bool: { "aws:SecureTransport": "false" } }]);
      });

      it("blocks public access, encrypts, and turns TLS on for Redis", () => {
        const r = runs[stack];
        const pab = one(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
        assert.deepEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
        one(r, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
        assert.equal(one(r, "upstash:index/redisDatabase:RedisDatabase").inputs.tls, true);
        assert.equal(one(r, "upstash:index/redisDatabase:RedisDatabase").inputs.databaseName, `mina-${stack}`);
      });
    });
  }

  it("protects production's stateful resources and only production's", () => {
    for (const [stack, expected] of [
      ["production", true],
      ["staging", false],
      ["staging-blue", false],
    ] as const) {
      const stateful = runs[stack].resources.filter((x) => STATEFUL_TYPES.includes(x.type));
      assert.ok(stateful.length >= 3, stack);
      for (const x of stateful) assert.equal(x.protect, expected, `${stack} ${x.type}`);
    }
  });

  it("protects production's app env secret and keeps it 30 days after deletion; staging's 7, never protected", () => {
    const prod = one(runs.production, "aws:secretsmanager/secret:Secret");
    const staging = one(runs.staging, "aws:secretsmanager/secret:Secret");
    assert.deepEqual([prod.protect, prod.inputs.recoveryWindowInDays], [true, 30]);
    assert.deepEqual([staging.protect, staging.inputs.recoveryWindowInDays], [false, 7]);
    assert.equal(
      one(runs.production, "aws:secretsmanager/secretVersion:SecretVersion").protect,
      false,
      "a protected version could not be replaced by the next env",
    );
  });

  it("gives production an RDS instance with deletion protection, final snapshot, 7+ days of backups and Multi-AZ", () => {
    const db = one(runs.production, "aws:rds/instance:Instance").inputs;
    assert.equal(db.identifier, "mina-production");
    assert.equal(db.storageEncrypted, true);
    assert.equal(db.publiclyAccessible, false);
    assert.equal(db.deletionProtection, true);
    assert.equal(db.skipFinalSnapshot, false);
    assert.equal(db.finalSnapshotIdentifier, "mina-production-final");
    assert.ok(Number(db.backupRetentionPeriod) >= 7);
    assert.equal(db.multiAz, true);
    assert.notEqual(db.username, "postgres");
  });

  /** The app's role, the admin's membership, the database and PUBLIC's revoke, through the admin provider (config/databasePrivileges.ts). */
  const appDatabase = (r: Run, adminUser: string) => {
    const provider = one(r, "pulumi:providers:postgresql");
    const role = one(r, "postgresql:index/role:Role");
    const member = one(r, "postgresql:index/grantRole:GrantRole");
    const db = one(r, "postgresql:index/database:Database");
    const grant = one(r, "postgresql:index/grant:Grant");
    const n = r.config.names;
    for (const x of [role, member, db, grant]) assert.ok(x.provider.endsWith(`$pulumi:providers:postgresql::${provider.name}::mock-${provider.name}`), x.name);
    assert.equal(role.inputs.name, n.databaseRole);
    assert.deepEqual(Object.fromEntries(Object.keys(APP_ROLE).map((k) => [k, role.inputs[k]])), APP_ROLE);
    assert.deepEqual([member.inputs.role, member.inputs.grantRole, member.inputs.withAdminOption], [adminUser, n.databaseRole, false]);
    assert.deepEqual([db.inputs.name, db.inputs.owner], [n.databaseName, n.databaseRole]);
    assert.deepEqual(
      [grant.inputs.database, grant.inputs.role, grant.inputs.objectType, grant.inputs.privileges],
      [n.databaseName, "public", "database", [...PUBLIC_DATABASE_PRIVILEGES]],
    );
    // the membership first: the provider then runs CREATE DATABASE and the REVOKE with the owner's rights
    const waitsFor = (x: RecordedResource, y: RecordedResource) => (x.dependencies ?? []).some((u) => u.endsWith(`$${y.type}::${y.name}`));
    assert.ok(waitsFor(db, member), "the database waits for the admin's membership");
    assert.ok(waitsFor(grant, member), "the grant waits for the admin's membership");
    assert.ok(!waitsFor(member, db), "and not the other way round");
    assert.equal(provider.inputs.superuser, "false");
    assert.equal(provider.inputs.username, adminUser);
    assert.deepEqual(provider.secretInputs, ["password"]);
    return provider;
  };

  it("in instance mode, the app connects as a role of its own that owns the database the master user creates; the master password stays in state", async () => {
    const r = runs.production;
    const instance = one(r, "aws:rds/instance:Instance");
    assert.equal(instance.inputs.dbName, undefined, "RDS would create the database owned by the master user");
    assert.equal(instance.inputs.username, "mina_production_admin");
    const provider = appDatabase(r, "mina_production_admin");
    assert.match(String(provider.inputs.host), /^mina-production\.[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com$/);
    assert.deepEqual([provider.inputs.port, provider.inputs.sslmode, provider.inputs.database], ["5432", "require", "postgres"]);
    assert.match(
      r.env.DATABASE_URL,
      /^postgresql:\/\/mina_production_app:[A-Za-z0-9]{40}@mina-production\.[a-z0-9]+\.us-east-1\.rds\.amazonaws\.com:5432\/mina_production\?sslmode=require$/,
    );
    const { mockState } = require("../plan/mockRuntime") as typeof import("../plan/mockRuntime");
    const masterPassword = String(
      mockState("random:index/randomPassword:RandomPassword", "mina-production-database-master-password", { length: 32 }).state.result,
    );
    const outputs = JSON.stringify(
      await Promise.all(Object.values(r.outputs).map((o) => (pulumi.Output.isInstance(o) ? promiseOf(o as pulumi.Output<unknown>) : o))),
    );
    assert.ok(!outputs.includes(masterPassword), "no output carries the master password");
    assert.ok(!Object.values(r.env).some((v) => v.includes(masterPassword)), "no variable carries the master password");
    // the search finds a password where there is one: the app role's, in DATABASE_URL
    assert.ok(outputs.includes(r.env.DATABASE_URL.split("@")[0]!.split(":")[2]!));
  });

  it("gives each Redis database its profile's monthly budget (the provider's default would throttle production at $20)", () => {
    assert.equal(one(runs.production, "upstash:index/redisDatabase:RedisDatabase").inputs.budget, 100);
    assert.equal(one(runs.staging, "upstash:index/redisDatabase:RedisDatabase").inputs.budget, 20);
    assert.equal(one(runs["staging-blue"], "upstash:index/redisDatabase:RedisDatabase").inputs.budget, 20);
  });

  it("names production's security group and parameter group by prefix; the instance uses the names the provider completes", () => {
    const sg = one(runs.production, "aws:ec2/securityGroup:SecurityGroup").inputs;
    const params = one(runs.production, "aws:rds/parameterGroup:ParameterGroup").inputs;
    assert.deepEqual([sg.namePrefix, sg.name], ["mina-production-db-", undefined]);
    assert.deepEqual([params.namePrefix, params.name, params.family], ["mina-production-pg16-", undefined, "postgres16"]);
    const db = one(runs.production, "aws:rds/instance:Instance").inputs;
    assert.match(String(db.parameterGroupName), /^mina-production-pg16-\d{26}$/);
    assert.match(JSON.stringify(db.vpcSecurityGroupIds), /mina-production-db-\d{26}/);
    assert.equal(one(runs.production, "aws:rds/subnetGroup:SubnetGroup").inputs.name, "mina-production-db", "the subnet group keeps its name");
  });

  it("gives production a versioned bucket and staging an expiring one", () => {
    assert.deepEqual(one(runs.production, "aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration, { status: "Enabled" });
    assert.equal(byType(runs.staging, "aws:s3/bucketVersioning:BucketVersioning").length, 0);
    const rules = one(runs.staging, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as { expiration?: { days: number } }[];
    assert.ok(rules.some((x) => x.expiration?.days === 30));
    const prodRules = one(runs.production, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs.rules as { expiration?: unknown }[];
    assert.ok(prodRules.every((x) => x.expiration === undefined));
  });

  it("in server mode, gives the role only its own database, the admin its membership, and PUBLIC nothing", () => {
    const r = runs.staging;
    assert.equal(r.config.database.mode, "server");
    const provider = appDatabase(r, r.config.database.mode === "server" ? r.config.database.adminUser : "");
    assert.equal(provider.inputs.host, "pg-shared.internal.mina.app");
    assert.match(r.env.DATABASE_URL, /^postgresql:\/\/mina_staging_app:[A-Za-z0-9]+@pg-shared\.internal\.mina\.app:5432\/mina_staging\?sslmode=require$/);
  });

  it("differs between environments where the guide says so", () => {
    assert.deepEqual([runs.production.env.RATE_LIMIT_PER_MINUTE, runs.production.env.RATE_LIMIT_PER_HOUR], ["100", "1000"]);
    assert.deepEqual([runs.staging.env.RATE_LIMIT_PER_MINUTE, runs.staging.env.RATE_LIMIT_PER_HOUR], ["200", "2000"]);
    assert.equal(runs.production.env.SLACK_CHANNEL, "#mina-alerts");
    assert.equal(runs.staging.env.SLACK_CHANNEL, "#mina-staging-alerts");
    assert.equal(runs.staging.env.EMAIL_ENABLED, "false");
    assert.equal(runs.staging.env.SENDGRID_API_KEY, "");
    assert.equal(runs.production.env.EMAIL_ENABLED, "true");
    assert.equal(runs.production.env.FEATURE_BETA_FEATURES, "false");
    assert.equal(runs.staging.env.FEATURE_BETA_FEATURES, "true");
    assert.equal(runs.staging.env.EMAIL_REDIRECT_TO, "");
    assert.equal(runs.production.env.EMAIL_REDIRECT_TO, "");
    // the staging guide's example flag: on in staging, off in production
    assert.equal(runs.production.env.FEATURE_NEW_AI_INSIGHTS, "false");
    assert.equal(runs.staging.env.FEATURE_NEW_AI_INSIGHTS, "true");
  });

  it("shares no value that must be unique between any two environments", () => {
    const stacks = Object.keys(runs);
    const unique = [
      "DATABASE_URL",
      "REDIS_URL",
      "AWS_S3_BUCKET",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "SECRET_KEY",
      "SESSION_SECRET",
      "OPENAI_API_KEY",
      "SHARE_BASE_URL",
      "SLACK_CHANNEL",
      "SENTRY_ENVIRONMENT",
    ];
    for (const key of unique) {
      const values = stacks.map((s) => runs[s].env[key]);
      assert.equal(new Set(values).size, stacks.length, key);
    }
    assert.deepEqual([...BUILTIN_ENVIRONMENTS].sort(), ["production", "staging"]);
  });
});
