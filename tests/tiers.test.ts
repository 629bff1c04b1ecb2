/**
 * Tiers (config/tiers.ts): one rule set for what environments may share, at every
 * place it is enforced: config validation, the policy pack's context, env export,
 * verify and audit. Each pair of tiers (production/production,
 * production/non-production, non-production/non-production) against each kind
 * of value: account, hosted zone, database server, marked and unmarked supplied
 * keys, share domain, bucket, database, Redis, generated secrets.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { ConfigErrors, type RawStackConfig, SecureValue } from "../config/raw";
import { validateStack } from "../config/validation/validate";
import { expectationsFor } from "../config/expectations";
import { mayShareKey, sharingOfRaw, tierOf, tierOfRaw, TIER_MARKABLE_KEYS } from "../config/tiers";
import { foreignProblems } from "../envfiles/export";
import { isolationForeignIdentifiers, isolationPhysicalNames } from "../policy/rules/isolation";
import { type PlannedResource, ruleContext } from "../policy/rules";
import { auditEnvs, type EnvSource } from "../verify/audit";
import { ITEMS, offlineChecklist } from "../verify/checklist";
import { run } from "./cli";
import { euRaw, PRODUCTION_ACCOUNT, productionRaw, STAGING_ACCOUNT, stagingRaw, tempProject } from "./helpers";

// ---------------------------------------------------------------- the environments

/** The hosted zone staging and review share. */
const PREVIEW_ZONE = { "mina:dnsZoneId": "Z0PREVIEWZONE", "mina:dnsZoneName": "preview.mina.app" };
/** What every non-production stack here marks shareable within the tier. */
const MARKS = { "mina:shareWithinTier": ["upstash:email", "upstash:apiKey", "mina:openaiApiKey", "mina:appHost"] };

/** A non-production stack in the shared account, zone and database server, with the shared Upstash account and app host marked. */
function nonProduction(stack: string, overrides: Record<string, unknown> = {}): RawStackConfig {
  return stagingRaw(
    {
      ...PREVIEW_ZONE,
      ...MARKS,
      "mina:shareDomain": `${stack}.preview.mina.app`,
      "upstash:email": "upstash-preview@mina.app",
      ...overrides,
    },
    stack,
  );
}

const staging = (o: Record<string, unknown> = {}) => nonProduction("staging", o);
const review = (o: Record<string, unknown> = {}) => nonProduction("review", o);

const eu = (overrides: Record<string, unknown> = {}) => euRaw(overrides);

/** The error lines of `raw` validated under the engine against the given stacks (itself included). */
function errorsOf(raw: RawStackConfig, others: RawStackConfig[]): string[] {
  try {
    validateStack(raw, { siblings: [raw, ...others.filter((o) => o.stack !== raw.stack)], requireSecrets: true });
    return [];
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
}

/** Every stack of the project here, with overrides of one. */
function project(change: Partial<Record<"staging" | "review" | "production" | "eu", RawStackConfig>> = {}): RawStackConfig[] {
  return [change.staging ?? staging(), change.review ?? review(), change.production ?? productionRaw(), change.eu ?? eu()];
}

// ---------------------------------------------------------------- the rule itself

describe("tiers: the rule", () => {
  it("puts the production profile in the production tier and every other profile, a review profile included, in the non-production tier", () => {
    assert.equal(tierOf("production"), "production");
    for (const p of ["staging", "review", "anything"]) assert.equal(tierOf(p), "non-production");
  });

  it("reads a stack's tier from its profile, the production stack's always production, an unknown declared profile as production", () => {
    assert.equal(tierOfRaw(stagingRaw()), "non-production");
    assert.equal(tierOfRaw(productionRaw()), "production");
    assert.equal(tierOfRaw(eu()), "production");
    assert.equal(tierOfRaw(productionRaw({ "mina:profile": "staging" })), "production");
    assert.equal(tierOfRaw(stagingRaw({ "mina:profile": "prod" })), "production");
  });

  it("counts only markable keys, and none in production", () => {
    assert.deepEqual(sharingOfRaw(review({ "mina:shareWithinTier": ["mina:openaiApiKey", "mina:shareDomain"] })).marked, ["mina:openaiApiKey"]);
    assert.deepEqual(sharingOfRaw(eu({ "mina:shareWithinTier": ["mina:openaiApiKey"] })), { tier: "production", group: "production", marked: [] });
  });

  it("shares a key only between two non-production environments, when the tier shares it or both mark it", () => {
    const np = (...marked: string[]) => ({ tier: "non-production" as const, group: "non-production" as const, marked });
    const prod = { tier: "production" as const, group: "production" as const, marked: [] };
    const rv = (...marked: string[]) => ({ tier: "non-production" as const, group: "review" as const, marked });
    // A review environment shares nothing with a long-lived one, not even what the tier shares; review environments share with each other.
    for (const key of ["aws:allowedAccountIds", "mina:dbServerHost", "mina:dbServerAdminUser", "mina:dnsZoneId", "mina:openaiApiKey"]) {
      assert.equal(mayShareKey(key, rv(key), np(key)), false, key);
      assert.equal(mayShareKey(key, np(key), rv(key)), false, key);
    }
    assert.equal(mayShareKey("mina:dbServerHost", rv(), rv()), true);
    assert.equal(mayShareKey("aws:allowedAccountIds", np(), np()), true);
    assert.equal(mayShareKey("mina:dbServerHost", np(), np()), true);
    assert.equal(mayShareKey("mina:openaiApiKey", np("mina:openaiApiKey"), np("mina:openaiApiKey")), true);
    assert.equal(mayShareKey("mina:openaiApiKey", np("mina:openaiApiKey"), np()), false);
    assert.equal(mayShareKey("mina:shareDomain", np(), np()), false);
    for (const key of ["aws:allowedAccountIds", "mina:openaiApiKey"]) {
      assert.equal(mayShareKey(key, prod, np(key)), false);
      assert.equal(mayShareKey(key, prod, prod), false);
      assert.equal(mayShareKey(key, undefined, np(key)), false);
    }
  });
});

// ---------------------------------------------------------------- config validation

describe("tiers at config validation", () => {
  describe("non-production / non-production", () => {
    it("share an account, a hosted zone, a database server and the supplied keys both mark", () => {
      assert.deepEqual(errorsOf(review(), project()), []);
      assert.deepEqual(errorsOf(staging(), project()), []);
      // the shared values really are equal
      assert.deepEqual(review().values["aws:allowedAccountIds"], [STAGING_ACCOUNT]);
      assert.equal(review().values["mina:dbServerHost"], staging().values["mina:dbServerHost"]);
    });

    it("refuse a supplied key that only one of them marks, naming the file that does not", () => {
      const unmarked = review({ "mina:shareWithinTier": ["upstash:email"] });
      assert.deepEqual(errorsOf(unmarked, project({ review: unmarked })), [
        'Pulumi.review.yaml: mina:appHost: holds "203.0.113.20", as Pulumi.staging.yaml does: non-production environments share mina:appHost only when both stack files list it in mina:shareWithinTier (Pulumi.review.yaml does not)',
      ]);
      // and from the side that marks it
      assert.deepEqual(errorsOf(staging(), project({ review: unmarked })), [
        'Pulumi.staging.yaml: mina:appHost: holds "203.0.113.20", as Pulumi.review.yaml does: non-production environments share mina:appHost only when both stack files list it in mina:shareWithinTier (Pulumi.review.yaml does not)',
      ]);
    });

    it("refuse a supplied key neither marks", () => {
      const a = review({ "mina:shareWithinTier": undefined });
      const b = staging({ "mina:shareWithinTier": undefined });
      const lines = errorsOf(a, project({ review: a, staging: b }));
      assert.deepEqual(
        lines.map((l) => l.split(":").slice(1, 3).join(":").trim()),
        ["upstash:email", "mina:appHost"],
      );
      assert.ok(
        lines.every((l) => l.endsWith("(Pulumi.review.yaml and Pulumi.staging.yaml do not)")),
        lines.join("\n"),
      );
    });

    it("refuse in mina:shareWithinTier, by name, any key but the reviewed few, and show no value that is not a key name", () => {
      const r = review({ "mina:shareWithinTier": ["mina:openaiApiKey", "mina:dbServerAdminPassword", "mina:shareDomain", "sk-live-pasted-by-mistake"] });
      const only = `only ${TIER_MARKABLE_KEYS.join(", ")} can be`;
      const lines = errorsOf(r, project({ review: r }));
      assert.deepEqual(
        lines.filter((l) => l.includes("mina:shareWithinTier:")),
        [
          `Pulumi.review.yaml: mina:shareWithinTier: "mina:dbServerAdminPassword" cannot be shared within the non-production tier: ${only}`,
          `Pulumi.review.yaml: mina:shareWithinTier: "mina:shareDomain" cannot be shared within the non-production tier: ${only}`,
          `Pulumi.review.yaml: mina:shareWithinTier: entry 4 is not a config key name: ${only}`,
        ],
      );
      assert.ok(!lines.join("\n").includes("sk-live"));
    });

    it("never share a share domain, a bucket, a database, a role, a Redis database or a Slack channel", () => {
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ "mina:shareDomain": "staging.preview.mina.app" }, "mina:shareDomain", /carries staging's share domain "staging\.preview\.mina\.app"/],
        [{ "mina:bucketName": "mina-audio-staging" }, "mina:bucketName", /carries staging's bucket "mina-audio-staging"/],
        [
          { "mina:sentryDsn": new SecureValue("https://k@sentry.example.com/mina_staging") },
          "mina:sentryDsn",
          /carries staging's database name "mina_staging"/,
        ],
        [{ "mina:dbServerAdminUser": "mina_staging_app" }, "mina:dbServerAdminUser", /carries staging's database role "mina_staging_app"/],
        [
          { "mina:slackWebhookUrl": new SecureValue("https://hooks.example.com/mina-staging") },
          "mina:slackWebhookUrl",
          /carries staging's (RDS instance|Redis database) "mina-staging"/,
        ],
        [{ "mina:slackChannel": "#mina-staging-alerts" }, "mina:slackChannel", /carries staging's Slack channel "#mina-staging-alerts"/],
      ];
      for (const [overrides, key, expected] of cases) {
        const r = review(overrides);
        const lines = errorsOf(r, project({ review: r }));
        assert.ok(
          lines.some((l) => l.startsWith(`Pulumi.review.yaml: ${key}: `) && expected.test(l)),
          `${key}\n${lines.join("\n")}`,
        );
        assert.ok(!lines.join("\n").includes("sentry.example.com") && !lines.join("\n").includes("hooks.example.com"), "no secret shown");
      }
    });

    it("let a zone's name be a tier-mate's share domain at the apex of the zone", () => {
      const apex = nonProduction("demo", { "mina:shareDomain": "preview.mina.app", "mina:appHost": "203.0.113.50", "mina:dnsZoneName": undefined });
      assert.deepEqual(errorsOf(review(), [...project(), apex]), []);
      assert.deepEqual(errorsOf(apex, [...project(), apex]), []);
      // but not its share domain
      const same = review({ "mina:shareDomain": "preview.mina.app" });
      assert.ok(
        errorsOf(same, [...project({ review: same }), apex]).includes('Pulumi.review.yaml: mina:shareDomain: carries demo\'s share domain "preview.mina.app"'),
      );
    });
  });

  describe("production / non-production", () => {
    it("refuse an account, a hosted zone or a database server shared, from either side", () => {
      const server = {
        "mina:databaseMode": "server",
        "mina:dbServerHost": "pg-shared.internal.mina.app",
        "mina:dbServerAdminPassword": new SecureValue("p"),
        "mina:vpcId": undefined,
        "mina:dbSubnetIds": undefined,
        "mina:dbAllowedCidrs": undefined,
      };
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{ "aws:allowedAccountIds": [STAGING_ACCOUNT] }, "aws:allowedAccountIds", /carries (staging|review)'s account id "210987654321"/],
        [PREVIEW_ZONE, "mina:dnsZoneId", /carries (staging|review)'s hosted zone "Z0PREVIEWZONE"/],
        [
          server,
          "mina:dbServerHost",
          /holds "pg-shared\.internal\.mina\.app", as Pulumi\.(staging|review)\.yaml does: production shares no supplied value with another environment/,
        ],
      ];
      for (const [overrides, key, expected] of cases) {
        const p = productionRaw(overrides);
        const fromProduction = errorsOf(p, project({ production: p }));
        assert.ok(
          fromProduction.some((l) => l.startsWith(`Pulumi.production.yaml: ${key}: `) && expected.test(l)),
          `${key}\n${fromProduction.join("\n")}`,
        );
        const fromStaging = errorsOf(staging(), project({ production: p }));
        assert.ok(
          fromStaging.some((l) => l.startsWith(`Pulumi.staging.yaml: ${key}: `)),
          `${key}\n${fromStaging.join("\n")}`,
        );
      }
    });

    it("refuse a supplied value production holds, even when the non-production stack marks it", () => {
      const p = productionRaw({ "upstash:email": "upstash-preview@mina.app" });
      assert.ok(
        errorsOf(staging(), project({ production: p })).includes(
          'Pulumi.staging.yaml: upstash:email: holds "upstash-preview@mina.app", as Pulumi.production.yaml does: production, a production environment, shares no supplied value with another environment',
        ),
      );
    });

    it("refuse mina:shareWithinTier outright in a production-tier stack", () => {
      const p = productionRaw({ "mina:shareWithinTier": ["mina:openaiApiKey"] });
      assert.deepEqual(errorsOf(p, project({ production: p })), [
        "Pulumi.production.yaml: mina:shareWithinTier: is refused in a production environment: production shares nothing with any other environment",
      ]);
    });
  });

  describe("production / production", () => {
    it("refuse an account, a hosted zone, a database server and a supplied value shared, and mina:shareWithinTier", () => {
      const serverMode = (host: string) => ({
        "mina:databaseMode": "server",
        "mina:dbServerHost": host,
        "mina:dbServerAdminPassword": new SecureValue("p"),
        "mina:vpcId": undefined,
        "mina:dbSubnetIds": undefined,
        "mina:dbAllowedCidrs": undefined,
      });
      const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
        [{ "aws:allowedAccountIds": [PRODUCTION_ACCOUNT] }, {}, "aws:allowedAccountIds"],
        [{ "mina:dnsZoneId": "Z0PRODUCTIONZONE" }, {}, "mina:dnsZoneId"],
        [serverMode("pg-main.internal.mina.app"), serverMode("pg-main.internal.mina.app"), "mina:dbServerHost"],
        [{ "mina:appHost": "203.0.113.10" }, {}, "mina:appHost"],
        [{ "mina:shareWithinTier": ["mina:appHost"] }, {}, "mina:shareWithinTier"],
      ];
      for (const [mine, theirs, key] of cases) {
        const e = eu(mine);
        const lines = errorsOf(e, project({ eu: e, production: productionRaw(theirs) }));
        assert.ok(
          lines.some((l) => l.startsWith(`Pulumi.eu.yaml: ${key}: `)),
          `${key}\n${lines.join("\n")}`,
        );
      }
    });
  });
});

// ---------------------------------------------------------------- the policy pack's context

describe("tiers in the policy pack's context", () => {
  const stacks = project();
  const foreign = isolationForeignIdentifiers();
  const names = isolationPhysicalNames();
  const provider = (accounts: string[]): PlannedResource => ({
    type: "pulumi:providers:aws",
    name: "aws",
    props: { region: "us-east-1", allowedAccountIds: accounts },
    protect: false,
  });
  const record = (zoneId: string, name: string): PlannedResource => ({
    type: "aws:route53/record:Record",
    name: "share",
    props: { zoneId, name, type: "A", records: ["203.0.113.20"] },
    protect: false,
  });
  const policy = (account: string, bucket: string): PlannedResource => ({
    type: "aws:iam/groupPolicy:GroupPolicy",
    name: "rw",
    props: {
      name: `${bucket}-rw`,
      policy: JSON.stringify({ Statement: [{ Resource: [`arn:aws:s3:::${bucket}/*`, `arn:aws:iam::${account}:user/${bucket}`] }] }),
    },
    protect: false,
  });
  const check = (r: PlannedResource, stack: string) => [
    ...foreign.checkResource!(r, ruleContext(stack, stacks), []),
    ...names.checkResource!(r, ruleContext(stack, stacks), []),
  ];

  it("non-production / non-production: the shared account, zone and database server pass; a tier-mate's bucket, database, Redis database or share domain fails", () => {
    assert.deepEqual(check(provider([STAGING_ACCOUNT]), "review"), []);
    assert.deepEqual(check(record("Z0PREVIEWZONE", "review.preview.mina.app"), "review"), []);
    assert.deepEqual(check(policy(STAGING_ACCOUNT, "mina-audio-review"), "review"), []);
    const server: PlannedResource = {
      type: "pulumi:providers:postgresql",
      name: "pg",
      props: { host: "pg-shared.internal.mina.app", port: 5432, username: "postgres" },
      protect: false,
    };
    assert.deepEqual(check(server, "review"), []);
    assert.deepEqual(check(record("Z0PREVIEWZONE", "staging.preview.mina.app"), "review"), [
      'name "staging.preview.mina.app" carries staging\'s share domain "staging.preview.mina.app"',
    ]);
    assert.deepEqual(check(policy(STAGING_ACCOUNT, "mina-audio-staging"), "review"), [
      'policy carries staging\'s bucket "mina-audio-staging"',
      'name "mina-audio-staging-rw" names environment "staging" ("staging")',
    ]);
    const db: PlannedResource = { type: "postgresql:index/database:Database", name: "db", props: { name: "mina_staging" }, protect: false };
    assert.deepEqual(check(db, "review"), ['name "mina_staging" carries staging\'s database name "mina_staging"']);
    const redis: PlannedResource = {
      type: "upstash:index/redisDatabase:RedisDatabase",
      name: "redis",
      props: { databaseName: "mina-staging" },
      protect: false,
    };
    assert.equal(check(redis, "review").length, 1);
    assert.match(check(redis, "review")[0], /^databaseName "mina-staging" carries staging's/);
  });

  it("production / non-production: a shared account or zone fails from either side", () => {
    assert.deepEqual(check(provider([STAGING_ACCOUNT]), "production"), [
      'allowedAccountIds[0] carries staging\'s account id "210987654321"',
      'allowedAccountIds[0] carries review\'s account id "210987654321"',
    ]);
    assert.deepEqual(check(record("Z0PRODUCTIONZONE", "review.preview.mina.app"), "review"), ['zoneId carries production\'s hosted zone "Z0PRODUCTIONZONE"']);
  });

  it("production / production: a shared account or zone fails", () => {
    assert.deepEqual(check(provider([PRODUCTION_ACCOUNT]), "eu"), ['allowedAccountIds[0] carries production\'s account id "123456789012"']);
    assert.deepEqual(check(record("Z0PRODUCTIONZONE", "eu.mina.app"), "eu"), ['zoneId carries production\'s hosted zone "Z0PRODUCTIONZONE"']);
  });
});

// ---------------------------------------------------------------- env export, verify, audit

/** A stack file's text from a raw config (secrets as per-stack ciphertexts). */
function stackYaml(raw: RawStackConfig): string {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.values)) config[k] = v instanceof SecureValue ? { secure: `v1:${raw.stack}:${k}` } : v;
  return YAML.stringify({ config });
}

/** An env file's values for an environment (visibly fake credentials of its own). */
function envOf(environment: string, change: Record<string, string> = {}): Record<string, string> {
  const id = environment.replace(/-/g, "_");
  return {
    ENVIRONMENT: environment,
    DATABASE_URL: `postgresql://mina_${id}_app:db-${environment}@pg-shared.internal.mina.app:5432/mina_${id}?sslmode=require`,
    REDIS_URL: `rediss://default:redis-${environment}@r${environment.length}x${id.slice(0, 3)}.upstash.io:6379`,
    AWS_S3_BUCKET: `mina-audio-${environment}`,
    AWS_ACCESS_KEY_ID: `AKIAFAKE${id.toUpperCase()}`,
    AWS_SECRET_ACCESS_KEY: `aws-secret-${environment}`,
    SECRET_KEY: `secret-key-${environment}`,
    SESSION_SECRET: `session-${environment}`,
    OPENAI_API_KEY: `sk-${environment}`,
    SENTRY_ENVIRONMENT: environment,
    SLACK_CHANNEL: `#mina-${environment}-alerts`,
    SHARE_BASE_URL:
      environment === "production" ? "https://mina.app" : environment === "eu" ? "https://eu.mina.app" : `https://${environment}.preview.mina.app`,
    ...change,
  };
}

describe("tiers at env export, verify and audit", () => {
  let dir: string;
  let cleanup: () => void;
  before(() => {
    const files = Object.fromEntries(project().map((s) => [s.file, stackYaml(s)]));
    ({ dir, cleanup } = tempProject({
      "Pulumi.yaml": "name: mina\nruntime: nodejs\nconfig:\n  pulumi:disable-default-providers: [aws, upstash, postgresql, sentry]\n",
      ...files,
      ".gitignore": ".env.*.local\n",
    }));
    execFileSync("git", ["init", "-q"], { cwd: dir });
  });
  after(() => cleanup());

  describe("env export", () => {
    const exportProblems = (stack: string, change: Record<string, string>) => foreignProblems(envOf(stack, change), stack, dir);

    it("non-production / non-production: a value with the shared account or zone, and the shared database server, pass", () => {
      assert.deepEqual(exportProblems("review", {}), []);
      assert.deepEqual(
        exportProblems("review", {
          SENTRY_DSN: `https://k@sentry.example.com/${STAGING_ACCOUNT}`,
          SLACK_WEBHOOK_URL: "https://hooks.example.com/Z0PREVIEWZONE",
        }),
        [],
      );
    });

    it("non-production / non-production: a tier-mate's share domain, bucket, database, role or Redis database is refused", () => {
      const cases: [Record<string, string>, string][] = [
        [{ SHARE_BASE_URL: "https://staging.preview.mina.app" }, `SHARE_BASE_URL carries staging's share domain "staging.preview.mina.app"`],
        [{ AWS_S3_BUCKET: "mina-audio-staging" }, `AWS_S3_BUCKET carries staging's bucket "mina-audio-staging"`],
        [
          { DATABASE_URL: "postgresql://mina_review_app:p@pg-shared.internal.mina.app:5432/mina_staging" },
          `DATABASE_URL carries staging's database name "mina_staging"`,
        ],
        [
          { DATABASE_URL: "postgresql://mina_staging_app:p@pg-shared.internal.mina.app:5432/mina_review" },
          `DATABASE_URL carries staging's database role "mina_staging_app"`,
        ],
        [{ REDIS_URL: "rediss://default:p@mina-staging.upstash.io:6379" }, `REDIS_URL carries staging's RDS instance "mina-staging"`],
      ];
      for (const [change, expected] of cases) assert.deepEqual(exportProblems("review", change), [expected], JSON.stringify(change));
    });

    it("production / non-production and production / production: a shared account or zone is refused, never showing a secret", () => {
      // the account is staging's and review's: the first owner found is named
      const shared = exportProblems("production", { SENTRY_DSN: `https://k@sentry.example.com/${STAGING_ACCOUNT}` });
      assert.equal(shared.length, 1);
      assert.match(shared[0], new RegExp(`^SENTRY_DSN carries (staging|review)'s account id "${STAGING_ACCOUNT}"$`));
      assert.deepEqual(exportProblems("review", { SLACK_WEBHOOK_URL: "https://hooks.example.com/Z0PRODUCTIONZONE" }), [
        `SLACK_WEBHOOK_URL carries production's hosted zone "Z0PRODUCTIONZONE"`,
      ]);
      assert.deepEqual(exportProblems("eu", { SENTRY_DSN: `https://k@sentry.example.com/${PRODUCTION_ACCOUNT}` }), [
        `SENTRY_DSN carries production's account id "${PRODUCTION_ACCOUNT}"`,
      ]);
    });
  });

  describe("verify", () => {
    const file = (name: string) => {
      const f = path.join(dir, name);
      fs.writeFileSync(f, "", { mode: 0o600 });
      return f;
    };
    const verify = (stack: string, env: Record<string, string>, against?: { file: string; env: Record<string, string> }) => {
      const results = offlineChecklist({ file: file(`.env.${stack}.local`), env, expected: expectationsFor(dir, stack), against });
      assert.ok(!JSON.stringify(results).includes("db-staging") && !JSON.stringify(results).includes("secret-key-"), "no secret shown");
      return (item: string) => results.find((r) => r.item === item)!;
    };

    it("an account id in a value is fine when a tier-mate shares it, not when it is production's", () => {
      const url = (account: string) => `postgresql://mina_review_app:p@db.${account}.internal:5432/mina_review`;
      assert.equal(verify("review", envOf("review", { DATABASE_URL: url(STAGING_ACCOUNT) }))(ITEMS.database).ok, true);
      const bad = verify("review", envOf("review", { DATABASE_URL: url(PRODUCTION_ACCOUNT) }))(ITEMS.database);
      assert.deepEqual([bad.ok, bad.reason], [false, `DATABASE_URL carries production's account id "${PRODUCTION_ACCOUNT}"`]);
      assert.equal(
        verify("eu", envOf("eu", { DATABASE_URL: `postgresql://mina_eu_admin:p@db.${PRODUCTION_ACCOUNT}.internal:5432/mina_eu` }))(ITEMS.database).ok,
        false,
      );
    });

    it("non-production / non-production: a marked key and the database server may be shared; an unmarked key, a database or a generated secret may not", () => {
      const against = { file: ".env.staging.local", env: envOf("staging", { OPENAI_API_KEY: "sk-shared" }) };
      const item = verify("review", envOf("review", { OPENAI_API_KEY: "sk-shared" }), against);
      assert.equal(item(ITEMS.openai).ok, true);
      assert.match(
        item(ITEMS.openai).reason,
        /^the same as in \.env\.staging\.local \(sha256:[0-9a-f]{8}\), which both stack files allow \(mina:openaiApiKey in mina:shareWithinTier, non-production tier\)$/,
      );
      assert.equal(item(ITEMS.credentials).ok, true);
      assert.match(
        item(ITEMS.credentials).reason,
        /beyond what both stack files allow within the non-production tier: DATABASE_URL server \(sha256:[0-9a-f]{8}\), OPENAI_API_KEY \(sha256:[0-9a-f]{8}\)$/,
      );

      const email = { EMAIL_ENABLED: "true", SENDGRID_API_KEY: "SG.shared" };
      const unmarked = verify("review", envOf("review", email), { file: ".env.staging.local", env: envOf("staging", email) });
      assert.equal(unmarked(ITEMS.email).ok, false);
      assert.match(unmarked(ITEMS.credentials).reason, /^shared with \.env\.staging\.local: SENDGRID_API_KEY \(sha256:[0-9a-f]{8}\)$/);

      const generated = verify("review", envOf("review", { SECRET_KEY: "secret-key-staging" }), { file: ".env.staging.local", env: envOf("staging") });
      assert.match(generated(ITEMS.credentials).reason, /^shared with \.env\.staging\.local: SECRET_KEY \(sha256:[0-9a-f]{8}\)$/);
      const database = verify("review", envOf("review", { DATABASE_URL: envOf("staging").DATABASE_URL }), {
        file: ".env.staging.local",
        env: envOf("staging"),
      });
      assert.equal(database(ITEMS.credentials).ok, false);
    });

    it("production / non-production and production / production: a marked key is still refused, and so is the database server", () => {
      const shared = { OPENAI_API_KEY: "sk-shared" };
      const withProduction = verify("review", envOf("review", shared), { file: ".env.production.local", env: envOf("production", shared) });
      assert.equal(withProduction(ITEMS.openai).ok, false);
      assert.match(
        withProduction(ITEMS.credentials).reason,
        /^shared with \.env\.production\.local: DATABASE_URL server \(sha256:[0-9a-f]{8}\), OPENAI_API_KEY \(sha256:[0-9a-f]{8}\)$/,
      );
      const prodProd = verify("eu", envOf("eu", shared), { file: ".env.production.local", env: envOf("production", shared) });
      assert.equal(prodProd(ITEMS.openai).ok, false);
      assert.equal(prodProd(ITEMS.credentials).ok, false);
    });
  });

  describe("audit", () => {
    const source = (environment: string, env: Record<string, string>): EnvSource => ({
      environment,
      source: `.env.${environment}.local`,
      env,
      sharing: expectationsFor(dir, environment).sharing.get(environment),
    });
    const audit = (a: [string, Record<string, string>], b: [string, Record<string, string>]) => auditEnvs([source(...a), source(...b)]);
    const keys = (xs: readonly { key: string }[]) => xs.map((x) => x.key);

    it("non-production / non-production: the database server and marked keys are listed apart; nothing else may be shared", () => {
      const r = audit(["staging", envOf("staging", { OPENAI_API_KEY: "sk-shared" })], ["review", envOf("review", { OPENAI_API_KEY: "sk-shared" })]);
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual(keys(r.withinTier), ["DATABASE_URL server", "OPENAI_API_KEY"]);
      const everything = audit(
        ["staging", envOf("staging")],
        [
          "review",
          envOf("review", {
            SENDGRID_API_KEY: "unused",
            DATABASE_URL: envOf("staging").DATABASE_URL,
            REDIS_URL: envOf("staging").REDIS_URL,
            AWS_S3_BUCKET: "mina-audio-staging",
            AWS_ACCESS_KEY_ID: envOf("staging").AWS_ACCESS_KEY_ID,
            SECRET_KEY: envOf("staging").SECRET_KEY,
            SHARE_BASE_URL: envOf("staging").SHARE_BASE_URL,
            SLACK_CHANNEL: envOf("staging").SLACK_CHANNEL,
          }),
        ],
      );
      assert.equal(everything.ok, false);
      assert.deepEqual(keys(everything.shared), [
        "AWS_ACCESS_KEY_ID",
        "AWS_S3_BUCKET",
        "DATABASE_URL password",
        "DATABASE_URL role",
        "DATABASE_URL server+database",
        "REDIS_URL password",
        "REDIS_URL server",
        "SECRET_KEY",
        "SHARE_BASE_URL host",
        "SLACK_CHANNEL",
      ]);
      assert.deepEqual(keys(everything.withinTier), ["DATABASE_URL server"]);
    });

    it("non-production / non-production: an unmarked supplied key, or a marked one in another variable, fails", () => {
      const unmarked = audit(
        ["staging", envOf("staging", { SENTRY_DSN: "https://a@o1.ingest.sentry.io/7" })],
        ["review", envOf("review", { SENTRY_DSN: "https://b@o1.ingest.sentry.io/7" })],
      );
      assert.deepEqual(keys(unmarked.shared), ["SENTRY_DSN project"]);
      const crossed = audit(["staging", envOf("staging", { OPENAI_API_KEY: "k-1" })], ["review", envOf("review", { SESSION_SECRET: "k-1" })]);
      assert.deepEqual(keys(crossed.shared), ["OPENAI_API_KEY = SESSION_SECRET"]);
    });

    it("production / non-production: anything shared fails, the database server and a key the other side marks included", () => {
      const r = audit(["review", envOf("review", { OPENAI_API_KEY: "sk-shared" })], ["production", envOf("production", { OPENAI_API_KEY: "sk-shared" })]);
      assert.equal(r.ok, false);
      assert.deepEqual(keys(r.shared), ["DATABASE_URL server", "OPENAI_API_KEY"]);
      assert.deepEqual(r.withinTier, []);
    });

    it("production / production: anything shared fails", () => {
      const r = audit(["eu", envOf("eu", { OPENAI_API_KEY: "sk-shared" })], ["production", envOf("production", { OPENAI_API_KEY: "sk-shared" })]);
      assert.deepEqual(keys(r.shared), ["DATABASE_URL server", "OPENAI_API_KEY"]);
    });

    it("an environment without a stack file shares nothing", () => {
      const r = audit(["review", envOf("review", { OPENAI_API_KEY: "sk-shared" })], ["qa", envOf("qa", { OPENAI_API_KEY: "sk-shared" })]);
      assert.deepEqual(keys(r.shared), ["DATABASE_URL server", "OPENAI_API_KEY"]);
    });

    it("the command reads the stack files of --dir and lists what the tier shares apart, never a value", async () => {
      const write = (name: string, env: Record<string, string>) => {
        const f = path.join(dir, name);
        fs.writeFileSync(
          f,
          Object.entries(env)
            .map(([k, v]) => `${k}='${v}'`)
            .join("\n"),
          { mode: 0o600 },
        );
        return f;
      };
      const a = write(".env.staging.local", envOf("staging", { OPENAI_API_KEY: "sk-shared-value" }));
      const b = write(".env.review.local", envOf("review", { OPENAI_API_KEY: "sk-shared-value" }));
      const ok = await run("audit", [a, b, "--dir", dir]);
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(
        ok.stdout,
        /^✓ 2 environments share no isolation-critical value beyond what their stack files allow\n✓ shared within the non-production tier, as both stack files allow in mina:shareWithinTier \(2\):\n {2}review \+ staging: DATABASE_URL server \(sha256:[0-9a-f]{8}\)\n {2}review \+ staging: OPENAI_API_KEY \(sha256:[0-9a-f]{8}\)\n$/,
      );
      assert.ok(!ok.stdout.includes("sk-shared-value"));
      const c = write(".env.production.local", envOf("production", { OPENAI_API_KEY: "sk-shared-value" }));
      const failed = await run("audit", [a, c, "--dir", dir]);
      assert.equal(failed.status, 1);
      assert.match(
        failed.stdout,
        /^✗ shared between environments \(2\):\n {2}production \+ staging: DATABASE_URL server \(sha256:[0-9a-f]{8}\)\n {2}production \+ staging: OPENAI_API_KEY \(sha256:[0-9a-f]{8}\)\n$/,
      );
    });
  });
});
