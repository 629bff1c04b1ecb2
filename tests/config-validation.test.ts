import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { awsRegions } from "../config/validation/checks";
import { ConfigErrors, fromEngine, parseStackFile, SecureValue } from "../config/raw";
import { defaultsFor } from "../config/defaults";
import { validateStack } from "../config/validation/validate";
import { productionRaw, REPO, stagingRaw } from "./helpers";

/** The error lines a stack's config produces, validated against its siblings. */
function errorsOf(raw: ReturnType<typeof stagingRaw>, siblings = [stagingRaw(), productionRaw()], requireSecrets = true): string[] {
  try {
    validateStack(raw, { siblings, requireSecrets });
  } catch (e) {
    assert.ok(e instanceof ConfigErrors, String(e));
    return e.errors.map((x) => x.message);
  }
  return [];
}

describe("config validation: one line per problem, naming the file and the key", () => {
  it("accepts the happy-path staging and production configs", () => {
    assert.deepEqual(errorsOf(stagingRaw()), []);
    assert.deepEqual(errorsOf(productionRaw()), []);
  });

  it("refuses a missing required value with the command that sets it", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "aws:region": undefined })), [
      "Pulumi.staging.yaml: aws:region: is required; set it with: pulumi config set aws:region <value> --stack staging",
    ]);
  });

  it("refuses a missing mode-specific value, naming the mode", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:dbServerHost": undefined })), [
      "Pulumi.staging.yaml: mina:dbServerHost: is required in server mode; set it with: pulumi config set mina:dbServerHost <value> --stack staging",
    ]);
  });

  it("refuses a missing secret under the engine with the --secret command", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:openaiApiKey": undefined })), [
      "Pulumi.staging.yaml: mina:openaiApiKey: is required; set it with: pulumi config set --secret mina:openaiApiKey <value> --stack staging",
    ]);
  });

  it("lists missing secrets instead of refusing them offline", () => {
    const v = validateStack(stagingRaw({ "mina:openaiApiKey": undefined, "upstash:apiKey": undefined }), { requireSecrets: false });
    assert.deepEqual(v.missingSecrets, ["mina:openaiApiKey", "upstash:apiKey"]);
  });

  it("refuses a wrong type", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:rateLimitPerMinute": "lots" })), [
      'Pulumi.staging.yaml: mina:rateLimitPerMinute: expected a whole number >= 0, got "lots"',
    ]);
    assert.deepEqual(errorsOf(stagingRaw({ "mina:emailEnabled": "yes" })), ['Pulumi.staging.yaml: mina:emailEnabled: expected true or false, got "yes"']);
  });

  it("refuses an unknown database mode", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:databaseMode": "cluster" })), [
      'Pulumi.staging.yaml: mina:databaseMode: expected one of instance, server, got "cluster"',
    ]);
  });

  it("refuses the shared-database schema mode and says why", () => {
    const [line] = errorsOf(stagingRaw({ "mina:databaseMode": "schema" }));
    assert.match(
      line,
      /^Pulumi\.staging\.yaml: mina:databaseMode: expected one of instance, server, got "schema": one database with a schema per environment is refused, because staging and production would share/,
    );
    assert.match(line, /a staging credential could read production data/);
  });

  for (const mode of ["shared-server", "db-number"]) {
    it(`refuses one Redis server with another DB number (mina:redisMode ${mode}) and says why`, () => {
      const [line, ...rest] = errorsOf(stagingRaw({ "mina:redisMode": mode }));
      assert.deepEqual(rest, []);
      assert.equal(
        line,
        `Pulumi.staging.yaml: mina:redisMode: expected one of database, got "${mode}": one Redis server with another DB number per environment is refused, because it means one memory limit and eviction policy for both, a FLUSHALL or a runaway key space in staging hits production, one password for both; use "database" (an Upstash database of its own)`,
      );
    });
  }

  it("accepts mina:redisMode database in both environments, and refuses any other mode", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:redisMode": "database" })), []);
    assert.equal(
      validateStack(productionRaw({ "mina:redisMode": "database" }), { requireSecrets: true, siblings: [stagingRaw({ "mina:redisMode": "database" })] }).config
        .environment,
      "production",
    );
    assert.deepEqual(errorsOf(stagingRaw({ "mina:redisMode": "cluster" })), ['Pulumi.staging.yaml: mina:redisMode: expected one of database, got "cluster"']);
  });

  it("refuses an unknown key of its own namespace, suggesting the right one", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:shareDomian": "x" })), [
      "Pulumi.staging.yaml: mina:shareDomian: unknown key (did you mean mina:shareDomain?)",
    ]);
  });

  it("refuses a secret stored in plaintext, without printing it", () => {
    const lines = errorsOf(stagingRaw({ "mina:openaiApiKey": "sk-live-plaintext" }));
    assert.deepEqual(lines, [
      "Pulumi.staging.yaml: mina:openaiApiKey: is a secret but is stored in plaintext; remove it and run: pulumi config set --secret mina:openaiApiKey <value>",
    ]);
    assert.ok(!lines.join("\n").includes("sk-live-plaintext"));
  });

  it("refuses a stack file that names another environment as its own", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:environment": "production" })), [
      'Pulumi.staging.yaml: mina:environment: is "production" but this is the staging stack: a stack\'s environment is its own name',
      'Pulumi.staging.yaml: mina:environment: names environment "production" ("production")',
    ]);
  });

  it("refuses another environment's name in a host", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:dbServerHost": "pg-prod.internal" })), [
      'Pulumi.staging.yaml: mina:dbServerHost: names environment "production" ("prod")',
    ]);
  });

  it("refuses another environment's domain, account, channel and zone", () => {
    assert.deepEqual(
      errorsOf(
        stagingRaw({
          "mina:shareDomain": "mina.app",
          "mina:dnsZoneName": "mina.app",
          "aws:allowedAccountIds": ["123456789012"],
          "mina:slackChannel": "#mina-alerts",
          "mina:dnsZoneId": "Z0PRODUCTIONZONE",
        }),
      ),
      [
        'Pulumi.staging.yaml: aws:allowedAccountIds: carries production\'s account id "123456789012"',
        'Pulumi.staging.yaml: mina:shareDomain: carries production\'s share domain "mina.app"',
        'Pulumi.staging.yaml: mina:dnsZoneId: carries production\'s hosted zone "Z0PRODUCTIONZONE"',
        'Pulumi.staging.yaml: mina:dnsZoneName: carries production\'s share domain "mina.app"',
        'Pulumi.staging.yaml: mina:slackChannel: carries production\'s Slack channel "#mina-alerts"',
      ],
    );
  });

  it("refuses a production identifier inside a secret without printing the secret", () => {
    const lines = errorsOf(stagingRaw({ "mina:slackWebhookUrl": new SecureValue("https://hooks.slack.com/services/T0/B0/mina-production-hook") }));
    assert.deepEqual(lines, ['Pulumi.staging.yaml: mina:slackWebhookUrl: names environment "production" ("production")']);
    assert.ok(!lines[0].includes("hooks.slack.com"));
  });

  it("keeps production's minimum backups and Multi-AZ", () => {
    assert.deepEqual(errorsOf(productionRaw({ "mina:dbBackupRetentionDays": 3, "mina:dbMultiAz": false }), [stagingRaw(), productionRaw()]), [
      "Pulumi.production.yaml: mina:dbBackupRetentionDays: is 3; production keeps backups for at least 7 days",
      "Pulumi.production.yaml: mina:dbMultiAz: is false; production runs Multi-AZ",
    ]);
  });

  it("refuses a bucket name override that drops the environment", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:bucketName": "mina-audio-test" })), [
      'Pulumi.staging.yaml: mina:bucketName: "mina-audio-test" does not contain the environment name "staging"; a name override must still carry its environment',
    ]);
    assert.deepEqual(errorsOf(stagingRaw({ "mina:bucketName": "acme-mina-staging-audio" })), []);
  });

  it("refuses a database open to the internet", () => {
    assert.deepEqual(errorsOf(productionRaw({ "mina:dbAllowedCidrs": ["0.0.0.0/0"] })), [
      'Pulumi.production.yaml: mina:dbAllowedCidrs: "0.0.0.0/0" opens PostgreSQL to the whole internet; list the app hosts\' CIDRs',
    ]);
  });

  it("refuses a CNAME at the zone apex", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:appHost": "app.example.net" })), [
      'Pulumi.staging.yaml: mina:appHost: is a hostname, which needs a CNAME record, and DNS forbids a CNAME at the zone apex "staging.mina.app"; use an IPv4 address or a share domain below the apex',
    ]);
    assert.deepEqual(
      errorsOf(stagingRaw({ "mina:appHost": "app.staging.mina.app", "mina:shareDomain": "share.staging.mina.app", "mina:dnsZoneName": "staging.mina.app" })),
      [],
    );
    // Below the apex, a name outside the zone is refused too (tests/hosts.test.ts).
    assert.equal(
      errorsOf(stagingRaw({ "mina:appHost": "app.example.net", "mina:shareDomain": "share.staging.mina.app", "mina:dnsZoneName": "staging.mina.app" })).length,
      1,
    );
  });

  it("needs a SendGrid key when email is on", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:emailEnabled": true, "mina:emailRedirectTo": "qa-inbox@example.com" })), [
      "Pulumi.staging.yaml: mina:sendgridApiKey: is required because email is enabled; set it with: pulumi config set --secret mina:sendgridApiKey <value> --stack staging, or set mina:emailEnabled false",
    ]);
  });

  describe("email outside production goes to one catch-all inbox (mina:emailRedirectTo)", () => {
    const sendgrid = { "mina:emailEnabled": true, "mina:sendgridApiKey": new SecureValue("SG.staging-own") };
    it("is required when a non-production stack enables email", () => {
      assert.deepEqual(errorsOf(stagingRaw(sendgrid)), [
        "Pulumi.staging.yaml: mina:emailRedirectTo: is required because email is enabled in a non-production environment: every message must go to one inbox; set it with: pulumi config set mina:emailRedirectTo <address> --stack staging, or set mina:emailEnabled false",
      ]);
      assert.deepEqual(
        errorsOf(stagingRaw({ ...sendgrid, "mina:profile": "review" })).map((l) => l.split(": ")[1]),
        ["mina:emailRedirectTo"],
      );
    });
    it("is emitted when email is on, and empty when it is off", () => {
      const on = validateStack(stagingRaw({ ...sendgrid, "mina:emailRedirectTo": "qa-inbox@example.com" }), {
        requireSecrets: true,
        siblings: [stagingRaw(), productionRaw()],
      }).config;
      assert.deepEqual([on.settings.emailEnabled, on.settings.emailRedirectTo], [true, "qa-inbox@example.com"]);
      const off = validateStack(stagingRaw({ "mina:emailRedirectTo": "qa-inbox@example.com" }), {
        requireSecrets: true,
        siblings: [stagingRaw(), productionRaw()],
      }).config;
      assert.deepEqual([off.settings.emailEnabled, off.settings.emailRedirectTo], [false, ""]);
      assert.equal(validateStack(productionRaw(), { requireSecrets: true, siblings: [stagingRaw(), productionRaw()] }).config.settings.emailRedirectTo, "");
    });
    it("refuses an address at a production domain, and one that is not an address", () => {
      assert.deepEqual(errorsOf(stagingRaw({ ...sendgrid, "mina:emailRedirectTo": "support@Mina.app" })), [
        "Pulumi.staging.yaml: mina:emailRedirectTo: is an address at the production domain mina.app: the catch-all inbox must not be a production mailbox",
      ]);
      assert.deepEqual(errorsOf(stagingRaw({ ...sendgrid, "mina:emailRedirectTo": "qa@staging.mina.app" })), []);
      assert.deepEqual(errorsOf(stagingRaw({ ...sendgrid, "mina:emailRedirectTo": "qa-inbox" })), [
        "Pulumi.staging.yaml: mina:emailRedirectTo: is not an email address like qa-inbox@example.com",
      ]);
    });
    it("may be the same inbox in two non-production stacks", () => {
      const inbox = { "mina:emailRedirectTo": "qa-inbox@example.com" };
      assert.deepEqual(
        errorsOf(stagingRaw({ ...sendgrid, ...inbox }), [
          stagingRaw(),
          productionRaw(),
          stagingRaw({ ...inbox, "mina:appHost": "203.0.113.21" }, "staging-blue"),
        ]),
        [],
      );
      // the control: the same inbox in a production stack is refused there, whatever the tier-mates do
      assert.deepEqual(errorsOf(productionRaw(inbox)).length, 1);
    });
    it("is refused in production", () => {
      assert.deepEqual(errorsOf(productionRaw({ "mina:emailRedirectTo": "qa-inbox@example.com" })), [
        "Pulumi.production.yaml: mina:emailRedirectTo: is refused in production: production sends email to its users, never to one inbox",
      ]);
    });
  });

  it("refuses production audio expiry", () => {
    assert.deepEqual(errorsOf(productionRaw({ "mina:bucketExpireDays": 30 }), [stagingRaw(), productionRaw()]), [
      "Pulumi.production.yaml: mina:bucketExpireDays: is refused in production: production audio never expires",
    ]);
  });

  it("refuses a stack name that cannot be an environment", () => {
    assert.deepEqual(errorsOf(stagingRaw({}, "Staging_1")), [
      'Pulumi.Staging_1.yaml: stack name "Staging_1" cannot name an environment: use lowercase letters, digits and single hyphens, starting with a letter, at most 24 characters',
    ]);
  });

  it("reports every problem at once", () => {
    assert.equal(errorsOf(stagingRaw({ "aws:region": undefined, "mina:logLevel": "LOUD", "mina:rateLimitPerHour": -1 })).length, 3);
  });
});

describe("config: a third environment needs no code change", () => {
  it("validates staging-blue with staging defaults and its own names", () => {
    const blue = stagingRaw({ "aws:allowedAccountIds": ["333333333333"], "mina:appHost": "203.0.113.30" }, "staging-blue");
    const { config } = validateStack(blue, { siblings: [stagingRaw(), productionRaw(), blue], requireSecrets: true });
    assert.equal(config.profile, "staging");
    assert.equal(config.names.databaseName, "mina_staging_blue");
    assert.equal(config.settings.slackChannel, "#mina-staging-blue-alerts");
    assert.equal(config.dns.shareDomain, "staging-blue.mina.app");
  });

  it("lets staging-blue share staging's account (both non-production), but not production's", () => {
    const blue = stagingRaw({ "mina:appHost": "203.0.113.30" }, "staging-blue");
    assert.deepEqual(errorsOf(blue, [stagingRaw(), productionRaw(), blue]), []);
    const prodAccount = stagingRaw({ "mina:appHost": "203.0.113.30", "aws:allowedAccountIds": ["123456789012"] }, "staging-blue");
    assert.deepEqual(errorsOf(prodAccount, [stagingRaw(), productionRaw(), prodAccount]), [
      'Pulumi.staging-blue.yaml: aws:allowedAccountIds: carries production\'s account id "123456789012"',
    ]);
  });
});

describe("config: defaults per profile", () => {
  it("gives staging twice production's rate limits, its own channel and no email", () => {
    const s = validateStack(stagingRaw(), { requireSecrets: true }).config;
    const p = validateStack(productionRaw(), { requireSecrets: true }).config;
    assert.deepEqual([p.settings.rateLimitPerMinute, p.settings.rateLimitPerHour], [100, 1000]);
    assert.deepEqual([s.settings.rateLimitPerMinute, s.settings.rateLimitPerHour], [200, 2000]);
    assert.equal(p.settings.slackChannel, "#mina-alerts");
    assert.equal(s.settings.slackChannel, "#mina-staging-alerts");
    assert.equal(s.settings.emailEnabled, false);
    assert.equal(p.settings.emailEnabled, true);
    assert.equal(s.settings.logLevel, "INFO");
    assert.equal(p.settings.logLevel, "INFO");
    assert.equal(validateStack(stagingRaw({ "mina:logLevel": "DEBUG" }), { requireSecrets: true }).config.settings.logLevel, "DEBUG");
    assert.equal(s.bucket.expireDays, 30);
    assert.deepEqual([s.settings.featureFlags.new_ai_insights, p.settings.featureFlags.new_ai_insights], [true, false]);
    assert.equal(defaultsFor("review").featureFlags.new_ai_insights, true);
    const off = validateStack(stagingRaw({ "mina:featureFlags": { new_ai_insights: false } }), { requireSecrets: true }).config;
    assert.equal(off.settings.featureFlags.new_ai_insights, false);
    assert.equal(p.bucket.expireDays, undefined);
  });

  it("protects production only", () => {
    const s = validateStack(stagingRaw(), { requireSecrets: true }).config;
    const p = validateStack(productionRaw(), { requireSecrets: true }).config;
    assert.deepEqual(p.protection, {
      protect: true,
      deletionProtection: true,
      finalSnapshot: true,
      versioning: true,
      forceDestroy: false,
      secretRecoveryDays: 30,
    });
    assert.deepEqual(s.protection, {
      protect: false,
      deletionProtection: false,
      finalSnapshot: false,
      versioning: false,
      forceDestroy: false,
      secretRecoveryDays: 7,
    });
  });
});

describe("config: the Upstash budget (mina:redisBudget)", () => {
  it("defaults by profile: production 100, staging 20, review 10 US dollars a month", () => {
    assert.equal(validateStack(productionRaw(), { requireSecrets: true }).config.cache.budget, 100);
    assert.equal(validateStack(stagingRaw(), { requireSecrets: true }).config.cache.budget, 20);
    assert.deepEqual([defaultsFor("production").redisBudget, defaultsFor("staging").redisBudget, defaultsFor("review").redisBudget], [100, 20, 10]);
  });

  it("takes a stack's own whole number of dollars, as the engine passes it (a string)", () => {
    assert.equal(validateStack(productionRaw({ "mina:redisBudget": "250" }), { requireSecrets: true }).config.cache.budget, 250);
    assert.equal(validateStack(stagingRaw({ "mina:redisBudget": 1 }), { requireSecrets: true }).config.cache.budget, 1);
    assert.equal(validateStack(productionRaw({ "mina:redisBudget": 1000 }), { requireSecrets: true }).config.cache.budget, 1000);
  });

  it("refuses 0, more than 1000, a fraction, a negative number and words, one line each", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "mina:redisBudget": 0 })), [
      "Pulumi.staging.yaml: mina:redisBudget: is 0; the budget is in whole US dollars per month, at least 1",
    ]);
    assert.deepEqual(errorsOf(productionRaw({ "mina:redisBudget": 5000 })), [
      "Pulumi.production.yaml: mina:redisBudget: is 5000; at most 1000 US dollars per month (a larger bill is a mistake, not a cache)",
    ]);
    for (const bad of [12.5, -5, "twenty"]) {
      assert.deepEqual(errorsOf(stagingRaw({ "mina:redisBudget": bad })), [
        `Pulumi.staging.yaml: mina:redisBudget: expected a whole number >= 0, got ${JSON.stringify(bad)}`,
      ]);
    }
  });

  it("is a setting production may hold the same value of as another environment", () => {
    assert.deepEqual(
      errorsOf(productionRaw({ "mina:redisBudget": 50 }), [stagingRaw({ "mina:redisBudget": 50 }), productionRaw({ "mina:redisBudget": 50 })]),
      [],
    );
  });
});

describe("config sources", () => {
  it("reads a stack file, with secure values as secrets of unknown plaintext", () => {
    const raw = parseStackFile("config:\n  mina:openaiApiKey:\n    secure: v1:abc\n  shareDomain: x.mina.app\n", "staging", "Pulumi.staging.yaml");
    assert.ok(raw.values["mina:openaiApiKey"] instanceof SecureValue);
    assert.equal((raw.values["mina:openaiApiKey"] as SecureValue).plaintext, undefined);
    assert.equal(raw.values["mina:shareDomain"], "x.mina.app");
  });

  it("refuses a stack file that is not YAML, naming the file", () => {
    assert.throws(() => parseStackFile("config: [unclosed", "staging", "Pulumi.staging.yaml"), /^ConfigError: Pulumi\.staging\.yaml: not valid YAML/);
  });

  it("decodes the engine's strings: JSON lists, booleans and numbers", () => {
    const raw = fromEngine(
      "staging",
      {
        ...Object.fromEntries(
          Object.entries(stagingRaw().values)
            .filter(([, v]) => !(v instanceof SecureValue))
            .map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        ),
        "mina:emailEnabled": "false",
        "mina:rateLimitPerMinute": "250",
        "mina:openaiApiKey": "sk-x",
        "upstash:apiKey": "u",
        "mina:dbServerAdminPassword": "p",
      },
      (k) => ["mina:openaiApiKey", "upstash:apiKey", "mina:dbServerAdminPassword"].includes(k),
    );
    const { config } = validateStack(raw, { requireSecrets: true });
    assert.deepEqual(config.aws.allowedAccountIds, ["210987654321"]);
    assert.equal(config.settings.rateLimitPerMinute, 250);
    assert.equal(config.secrets.openaiApiKey.plaintext, "sk-x");
  });
});

describe("config validation: aws:region is a region the installed provider knows", () => {
  const provider = `@pulumi/aws ${(require("@pulumi/aws/package.json") as { version: string }).version}`;

  it("refuses a region-shaped name that is no region, with the nearest one", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "aws:region": "us-est-1" })), [
      `Pulumi.staging.yaml: aws:region: "us-est-1" is not an AWS region the installed provider (${provider}) knows (did you mean us-east-1?)`,
    ]);
    assert.deepEqual(errorsOf(stagingRaw({ "aws:region": "eu-wset-2" })), [
      `Pulumi.staging.yaml: aws:region: "eu-wset-2" is not an AWS region the installed provider (${provider}) knows (did you mean eu-west-2?)`,
    ]);
  });

  it("suggests nothing when no region is near, and refuses what is not even shaped like one", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "aws:region": "mars-north-1" })), [
      `Pulumi.staging.yaml: aws:region: "mars-north-1" is not an AWS region the installed provider (${provider}) knows`,
    ]);
    assert.deepEqual(errorsOf(stagingRaw({ "aws:region": "US-EAST-1" })), [
      `Pulumi.staging.yaml: aws:region: "US-EAST-1" is not an AWS region the installed provider (${provider}) knows (did you mean us-east-1?)`,
    ]);
  });

  it("accepts every region of the provider's Region enum, and only those", () => {
    const { regions } = awsRegions();
    assert.ok(regions.length >= 30, regions.join(", "));
    for (const r of ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]) assert.ok(regions.includes(r), r);
    for (const region of regions) assert.deepEqual(errorsOf(stagingRaw({ "aws:region": region })), [], region);
  });

  it("reads the regions without loading the whole provider (config validation runs in every command)", () => {
    const script = `
      const { validateStack } = require("./config/validation/validate");
      const { stagingRaw, productionRaw } = require("./tests/helpers");
      validateStack(stagingRaw({ "aws:region": "us-est-1" }), { siblings: [stagingRaw(), productionRaw()], requireSecrets: true });
    `;
    const probe = `try { ${script} } catch (e) { if (!/did you mean us-east-1/.test(e.message)) throw e; }
      console.log(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes("@pulumi/aws/"))));`;
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", "-e", probe], { cwd: REPO, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const loaded = JSON.parse(r.stdout) as string[];
    assert.ok(loaded.length > 0, "the region list came from @pulumi/aws");
    assert.ok(!loaded.some((f) => f.endsWith("@pulumi/aws/index.js")), loaded.join("\n"));
    assert.ok(
      loaded.every((f) => /@pulumi\/aws\/(types\/enums\/|package\.json$)/.test(f)),
      loaded.join("\n"),
    );
  });
});
