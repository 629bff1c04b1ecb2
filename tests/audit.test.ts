/**
 * audit and verify --against compare parsed, normalised values: the same server,
 * database, role or password spelt differently is still shared. Only fingerprints
 * are ever reported.
 */
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fingerprint } from "../lib/fingerprint";
import { auditEnvs, type AuditResult } from "../verify/audit";
import { expectationsFor } from "../config/expectations";
import { ITEMS, offlineChecklist } from "../verify/checklist";
import { spawnCli } from "./cli";
import { REPO } from "./helpers";

const STAGING: Record<string, string> = {
  ENVIRONMENT: "staging",
  DATABASE_URL: "postgresql://mina_staging_app:stagingDbPass1@pg-shared.internal.mina.app:5432/mina_staging?sslmode=require",
  REDIS_URL: "rediss://default:stagingRedisPass1@mina-staging-0a9fe.upstash.io:6379",
  AWS_S3_BUCKET: "mina-audio-staging",
  AWS_ACCESS_KEY_ID: "AKIASTAGING000000001",
  AWS_SECRET_ACCESS_KEY: "stagingAwsSecret1",
  SECRET_KEY: "a".repeat(64),
  SESSION_SECRET: "b".repeat(64),
  OPENAI_API_KEY: "sk-staging-1",
  SENTRY_DSN: "https://stagingkey@o1.ingest.sentry.io/11",
  SENTRY_ENVIRONMENT: "staging",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B1/stagingHook",
  SLACK_CHANNEL: "#mina-staging-alerts",
  SHARE_BASE_URL: "https://staging.mina.app",
};

const PRODUCTION: Record<string, string> = {
  ENVIRONMENT: "production",
  DATABASE_URL: "postgresql://mina_production_admin:prodDbPass1@mina-production.abc.us-east-1.rds.amazonaws.com:5432/mina_production?sslmode=verify-full",
  REDIS_URL: "rediss://default:prodRedisPass1@mina-production-7c1d2.upstash.io:6379",
  AWS_S3_BUCKET: "mina-audio-production",
  AWS_ACCESS_KEY_ID: "AKIAPRODUCTION000001",
  AWS_SECRET_ACCESS_KEY: "prodAwsSecret1",
  SECRET_KEY: "c".repeat(64),
  SESSION_SECRET: "d".repeat(64),
  OPENAI_API_KEY: "sk-production-1",
  SENTRY_DSN: "https://prodkey@o1.ingest.sentry.io/22",
  SENTRY_ENVIRONMENT: "production",
  SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B2/prodHook",
  SLACK_CHANNEL: "#mina-alerts",
  SHARE_BASE_URL: "https://mina.app",
};

const audit = (staging: Record<string, string>, production: Record<string, string>): AuditResult =>
  auditEnvs([
    { environment: "staging", source: ".env.staging.local", env: staging },
    { environment: "production", source: ".env.production.local", env: production },
  ]);
const sharedKeys = (r: AuditResult) => r.shared.map((s) => s.key);

/** Every secret of STAGING: whole values of secret keys and the passwords inside its URLs. */
const STAGING_SECRETS = [
  ...["DATABASE_URL", "REDIS_URL", "AWS_SECRET_ACCESS_KEY", "SECRET_KEY", "SESSION_SECRET", "OPENAI_API_KEY", "SENTRY_DSN", "SLACK_WEBHOOK_URL"].map(
    (k) => STAGING[k]!,
  ),
  "stagingDbPass1",
  "stagingRedisPass1",
  "stagingkey",
  "stagingHook",
];

/** Asserts that no secret appears anywhere in the result. */
function assertNoSecrets(r: unknown): void {
  const text = JSON.stringify(r);
  for (const secret of STAGING_SECRETS) assert.ok(!text.includes(secret), `a secret appears in ${text}`);
}

describe("audit: parsed, normalised comparison", () => {
  it("two environments that share nothing pass (control)", () => {
    const r = audit(STAGING, PRODUCTION);
    assert.deepEqual(r.shared, []);
    assert.deepEqual(r.problems, []);
    assert.equal(r.ok, true);
  });

  describe("REDIS_URL server is host:port", () => {
    const sameServer: [string, string][] = [
      ["another database index", "rediss://default:prodRedisPass1@mina-staging-0a9fe.upstash.io:6379/3"],
      ["another user", "rediss://someone:prodRedisPass1@mina-staging-0a9fe.upstash.io:6379"],
      ["an uppercase host", "rediss://default:prodRedisPass1@MINA-Staging-0A9FE.Upstash.IO:6379"],
      ["a trailing dot", "rediss://default:prodRedisPass1@mina-staging-0a9fe.upstash.io.:6379"],
      ["the default port left out", "rediss://default:prodRedisPass1@mina-staging-0a9fe.upstash.io"],
      ["a percent-encoded host", "rediss://default:prodRedisPass1@%6dina-staging-0a9fe.upstash.io:6379/1"],
    ];
    for (const [what, url] of sameServer) {
      it(`the same server with ${what} is shared`, () => {
        const r = audit(STAGING, { ...PRODUCTION, REDIS_URL: url });
        assert.deepEqual(sharedKeys(r), ["REDIS_URL server"]);
        assert.equal(r.shared[0]!.fingerprint, fingerprint("mina-staging-0a9fe.upstash.io:6379"));
        assert.deepEqual(r.shared[0]!.environments, ["production", "staging"]);
        assert.match(
          r.shared[0]!.reason ?? "",
          /one memory limit and eviction policy for both, a FLUSHALL or a runaway key space in one hits the other, one password for both/,
        );
        assert.equal(r.ok, false);
      });
    }
    it("another port is another server (control)", () => {
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, REDIS_URL: "rediss://default:prodRedisPass1@mina-staging-0a9fe.upstash.io:6380" })), []);
    });
  });

  describe("DATABASE_URL server+database and role", () => {
    it("the same database spelt with capitals, a trailing dot, no port and a percent-encoded name is shared", () => {
      const url = "postgresql://mina_production_admin:prodDbPass1@PG-Shared.Internal.MINA.app./%6d%69%6e%61_staging?sslmode=require";
      const r = audit(STAGING, { ...PRODUCTION, DATABASE_URL: url });
      // production shares no server either (config/tiers.ts)
      assert.deepEqual(sharedKeys(r), ["DATABASE_URL server", "DATABASE_URL server+database"]);
      assert.equal(r.shared[1]!.fingerprint, fingerprint("pg-shared.internal.mina.app:5432/mina_staging"));
    });

    it("the same role on the same server is shared, even for another database", () => {
      const url = "postgresql://mina_staging_app:prodDbPass1@pg-shared.internal.mina.app.:5432/mina_production";
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, DATABASE_URL: url })), ["DATABASE_URL role", "DATABASE_URL server"]);
    });

    it("another database on a shared server, as another role, is shared only by two non-production environments (server mode)", () => {
      const url = "postgresql://mina_production_app:prodDbPass1@pg-shared.internal.mina.app:5432/mina_production";
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, DATABASE_URL: url })), ["DATABASE_URL server"]);
      const tierMates = auditEnvs([
        { environment: "staging", source: ".env.staging.local", env: STAGING, sharing: { tier: "non-production", group: "non-production", marked: [] } },
        {
          environment: "review",
          source: ".env.review.local",
          env: { ...PRODUCTION, DATABASE_URL: url },
          sharing: { tier: "non-production", group: "non-production", marked: [] },
        },
      ]);
      assert.deepEqual(sharedKeys(tierMates), []);
      assert.deepEqual(
        tierMates.withinTier.map((s) => s.key),
        ["DATABASE_URL server"],
      );
    });
  });

  describe("passwords and secrets are compared wherever they appear", () => {
    it("DATABASE_URL's password equal to another environment's REDIS_URL password", () => {
      const r = audit(STAGING, { ...PRODUCTION, REDIS_URL: "rediss://default:stagingDbPass1@mina-production-7c1d2.upstash.io:6379" });
      assert.deepEqual(sharedKeys(r), ["DATABASE_URL password = REDIS_URL password"]);
      assert.deepEqual(r.shared[0]!.keys, ["DATABASE_URL", "REDIS_URL"]);
      assert.equal(r.shared[0]!.fingerprint, fingerprint("stagingDbPass1"));
    });

    it("the same password percent-encoded differently", () => {
      const r = audit(STAGING, { ...PRODUCTION, DATABASE_URL: PRODUCTION.DATABASE_URL.replace("prodDbPass1", "%73tagingDbPass%31") });
      assert.deepEqual(sharedKeys(r), ["DATABASE_URL password"]);
    });

    it("a URL password equal to another environment's SECRET_KEY", () => {
      const r = audit(STAGING, { ...PRODUCTION, SECRET_KEY: "stagingRedisPass1" });
      assert.deepEqual(sharedKeys(r), ["REDIS_URL password = SECRET_KEY"]);
    });

    it("one secret key reused as another (SESSION_SECRET of one is SECRET_KEY of the other)", () => {
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SECRET_KEY: STAGING.SESSION_SECRET })), ["SECRET_KEY = SESSION_SECRET"]);
    });

    it("the same key in the same variable keeps its name", () => {
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, OPENAI_API_KEY: STAGING.OPENAI_API_KEY })), ["OPENAI_API_KEY"]);
    });
  });

  describe("SENTRY_DSN and SLACK_WEBHOOK_URL", () => {
    it("the same Sentry project, spelt differently or with another key, is shared", () => {
      // Another key for the project: the project is shared.
      for (const dsn of [
        "https://otherkey@o1.ingest.sentry.io/11",
        "https://otherkey@o1.ingest.us.sentry.io/11",
        "https://otherkey@o1.ingest.de.sentry.io/11/",
        "http://otherkey@o1.ingest.sentry.io/11",
        "https://otherkey@sentry.io/11",
        "https://otherkey:oldsecret@o99.ingest.sentry.io/011?x=1#y",
      ]) {
        const r = audit(STAGING, { ...PRODUCTION, SENTRY_DSN: dsn });
        assert.deepEqual(sharedKeys(r), ["SENTRY_DSN project"], dsn);
      }
      // The same key, in any spelling: the client key is shared as well.
      for (const dsn of [
        "HTTPS://stagingkey@O1.Ingest.Sentry.IO.:443/11",
        "https://STAGINGKEY@o1.ingest.us.sentry.io/11/",
        "http://stagingkey@o1.ingest.sentry.io:80/11",
        " https://stagingkey@o1.ingest.sentry.io/11 ",
      ]) {
        assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SENTRY_DSN: dsn })), ["SENTRY_DSN key", "SENTRY_DSN project"], dsn);
      }
      assert.deepEqual(
        sharedKeys(audit(STAGING, { ...PRODUCTION, SENTRY_DSN: "https://stagingkey@o1.ingest.sentry.io/12" })),
        ["SENTRY_DSN key"],
        "the same key in another project",
      );
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SENTRY_DSN: "https://prodkey@o1.ingest.sentry.io/12" })), [], "another project (control)");
    });

    it("a self-hosted Sentry's project is its host, port and path; a DSN that is not one cannot be compared", () => {
      const selfHosted = { ...STAGING, SENTRY_DSN: "https://stagingkey@sentry.mina.app/prefix/11" };
      for (const dsn of ["http://otherkey@SENTRY.mina.app.:443/prefix/11/", "https://otherkey@sentry.mina.app/PREFIX/11"]) {
        assert.deepEqual(sharedKeys(audit(selfHosted, { ...PRODUCTION, SENTRY_DSN: dsn })), ["SENTRY_DSN project"], dsn);
      }
      for (const dsn of [
        "https://otherkey@sentry.mina.app:9000/prefix/11",
        "https://otherkey@sentry.mina.app/other/11",
        "https://otherkey@o1.ingest.sentry.io/11",
      ]) {
        assert.deepEqual(sharedKeys(audit(selfHosted, { ...PRODUCTION, SENTRY_DSN: dsn })), [], dsn);
      }
      for (const dsn of ["https://o1.ingest.sentry.io/11", "https://key@o1.ingest.sentry.io/", "not a dsn", "https://key@o1.ingest.sentry.io/project"]) {
        const r = audit(STAGING, { ...PRODUCTION, SENTRY_DSN: dsn });
        assert.equal(r.ok, false, dsn);
        assert.deepEqual(
          r.problems.map((p) => [p.environment, p.problem]),
          [["production", "SENTRY_DSN: is not a Sentry DSN (https://KEY@HOST/PROJECT_ID), so it cannot be compared"]],
          dsn,
        );
      }
      // Sentry off: an empty DSN is no value.
      assert.deepEqual(audit({ ...STAGING, SENTRY_DSN: "" }, { ...PRODUCTION, SENTRY_DSN: "" }).problems, []);
    });

    it("a DSN's deprecated secret key is a secret, compared with every other", () => {
      const r = audit({ ...STAGING, SENTRY_DSN: "https://stagingkey:s3cretPart@o1.ingest.sentry.io/11" }, { ...PRODUCTION, SECRET_KEY: "s3cretPart" });
      assert.deepEqual(sharedKeys(r), ["SECRET_KEY = SENTRY_DSN secret key"]);
      assert.ok(!JSON.stringify(r).includes("s3cretPart"));
    });

    it("the same Slack webhook spelt differently is shared; another path is not", () => {
      for (const hook of [
        "https://HOOKS.slack.com.:443/services/T0/B1/stagingHook",
        "https://hooks.slack.com/services/T0/B1/stagingHook#x",
        "https://hooks.slack.com/%73ervices/T0/B1/stagingHook",
        "http://hooks.slack.com/services/T0/B1/stagingHook",
        "https://hooks.slack.com/services/T0/B1/stagingHook/",
        " https://hooks.slack.com/services/T0/B1/stagingHook",
      ]) {
        assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SLACK_WEBHOOK_URL: hook })), ["SLACK_WEBHOOK_URL"], hook);
      }
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SLACK_WEBHOOK_URL: "https://hooks.slack.com/services/T0/B1/STAGINGHOOK" })), []);
    });
  });

  describe("every other value, with the normaliser of its kind that the config checks use", () => {
    it("a Slack channel with or without its #, in any case, is one channel", () => {
      for (const channel of ["mina-staging-alerts", "#MINA-STAGING-ALERTS", " #mina-staging-alerts"]) {
        assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SLACK_CHANNEL: channel })), ["SLACK_CHANNEL"], channel);
      }
      assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, SLACK_CHANNEL: "mina-staging-alerts-archive" })), [], "another channel (control)");
    });

    it("a server named by a wildcard DNS name of its address, or by another loopback name, is one server", () => {
      const byAddress = {
        ...STAGING,
        DATABASE_URL: "postgresql://mina_staging_app:stagingDbPass1@203.0.113.50:5432/mina_staging",
        REDIS_URL: "rediss://default:stagingRedisPass1@203.0.113.60:6379",
      };
      for (const host of ["203.0.113.50.nip.io", "203-0-113-50.sslip.io", "app-cb007132.nip.io", "www.203.0.113.50.xip.io"]) {
        const r = audit(byAddress, { ...PRODUCTION, DATABASE_URL: `postgresql://mina_production_admin:prodDbPass1@${host}:5432/mina_production` });
        assert.deepEqual(sharedKeys(r), ["DATABASE_URL server"], host);
        assert.equal(r.shared[0]!.fingerprint, fingerprint("203.0.113.50:5432"));
      }
      for (const host of ["203-0-113-60.traefik.me", "203.0.113.60.sslip.io"]) {
        assert.deepEqual(
          sharedKeys(audit(byAddress, { ...PRODUCTION, REDIS_URL: `rediss://default:prodRedisPass1@${host}:6379` })),
          ["REDIS_URL server"],
          host,
        );
      }
      const local = { ...STAGING, REDIS_URL: "rediss://default:stagingRedisPass1@localhost:6379" };
      for (const host of ["127.0.0.1", "[::1]", "app.localtest.me", "127-0-0-1.nip.io"]) {
        assert.deepEqual(sharedKeys(audit(local, { ...PRODUCTION, REDIS_URL: `rediss://default:prodRedisPass1@${host}:6379` })), ["REDIS_URL server"], host);
      }
      assert.deepEqual(
        sharedKeys(
          audit(byAddress, { ...PRODUCTION, DATABASE_URL: "postgresql://mina_production_admin:prodDbPass1@203.0.113.51.nip.io:5432/mina_production" }),
        ),
        [],
        "another address (control)",
      );
    });

    it("a share domain, a bucket, an access key id and a Sentry environment in another case, and a secret with whitespace around it", () => {
      const cases: [Record<string, string>, string][] = [
        [{ SHARE_BASE_URL: "http://STAGING.mina.app.:443/" }, "SHARE_BASE_URL host"],
        [{ AWS_S3_BUCKET: "MINA-AUDIO-STAGING" }, "AWS_S3_BUCKET"],
        [{ AWS_ACCESS_KEY_ID: "akiastaging000000001" }, "AWS_ACCESS_KEY_ID"],
        [{ SENTRY_ENVIRONMENT: "Staging" }, "SENTRY_ENVIRONMENT"],
        [{ OPENAI_API_KEY: " sk-staging-1\n" }, "OPENAI_API_KEY"],
      ];
      for (const [changed, key] of cases) assert.deepEqual(sharedKeys(audit(STAGING, { ...PRODUCTION, ...changed })), [key], key);
    });
  });

  it("a URL the strict parser refuses cannot be compared: the audit fails naming it", () => {
    const r = audit({ ...STAGING, DATABASE_URL: `${STAGING.DATABASE_URL}&host=mina-production.abc.us-east-1.rds.amazonaws.com` }, PRODUCTION);
    assert.equal(r.ok, false);
    assert.deepEqual(r.problems, [
      {
        environment: "staging",
        source: ".env.staging.local",
        problem: `DATABASE_URL: query parameter "host" can redirect the connection; only sslmode, sslrootcert, connect_timeout, application_name are accepted`,
      },
    ]);
  });

  it("never reports a value, only fingerprints", () => {
    const leaky = {
      ...PRODUCTION,
      DATABASE_URL: STAGING.DATABASE_URL,
      REDIS_URL: STAGING.REDIS_URL,
      SENTRY_DSN: STAGING.SENTRY_DSN,
      SLACK_WEBHOOK_URL: STAGING.SLACK_WEBHOOK_URL,
      SECRET_KEY: STAGING.SECRET_KEY,
    };
    const r = audit(STAGING, leaky);
    assert.ok(r.shared.length >= 7, JSON.stringify(r.shared));
    for (const s of r.shared) assert.match(s.fingerprint, /^sha256:[0-9a-f]{8}$/);
    assertNoSecrets(r);
  });
});

describe("verify --against: the credentials item compares parsed values", () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-against-"));
    execFileSync("git", ["init", "-q"], { cwd: dir });
    fs.writeFileSync(path.join(dir, ".gitignore"), ".env.*.local\n");
    file = path.join(dir, ".env.staging.local");
    fs.writeFileSync(file, "", { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const credentials = (other: Record<string, string>) => {
    const results = offlineChecklist({
      file,
      env: STAGING,
      expected: expectationsFor(REPO, "staging"),
      against: { file: ".env.production.local", env: other },
    });
    const item = results.find((r) => r.item === ITEMS.credentials);
    assert.ok(item);
    assertNoSecrets(results);
    return item;
  };

  it("passes when nothing is shared, counting the credentials it compared", () => {
    const item = credentials(PRODUCTION);
    assert.equal(item.ok, true);
    assert.equal(item.reason, "none of 10 credentials is shared with .env.production.local");
  });

  it("fails for the same Redis server under another index and user, and for a password reused across keys", () => {
    const item = credentials({
      ...PRODUCTION,
      REDIS_URL: "rediss://someone:stagingDbPass1@MINA-STAGING-0a9fe.upstash.io.:6379/2",
    });
    assert.equal(item.ok, false);
    assert.equal(
      item.reason,
      `shared with .env.production.local: DATABASE_URL password = REDIS_URL password (${fingerprint("stagingDbPass1")}), REDIS_URL server (${fingerprint("mina-staging-0a9fe.upstash.io:6379")})` +
        "; REDIS_URL server: one Redis server for two environments, whatever the DB number: one memory limit and eviction policy for both, a FLUSHALL or a runaway key space in one hits the other, one password for both",
    );
  });

  it("fails for the same database spelt differently and for the same Sentry project", () => {
    const item = credentials({
      ...PRODUCTION,
      DATABASE_URL: "postgresql://mina_production_admin:prodDbPass1@PG-SHARED.internal.mina.app.:5432/%6dina_staging",
      SENTRY_DSN: "https://prodkey@O1.ingest.sentry.io/11",
    });
    assert.equal(item.ok, false);
    assert.match(
      item.reason,
      /^shared with \.env\.production\.local: DATABASE_URL server \(sha256:[0-9a-f]{8}\), DATABASE_URL server\+database \(sha256:[0-9a-f]{8}\), SENTRY_DSN project \(sha256:[0-9a-f]{8}\)$/,
    );
  });

  it("fails for the same Sentry project or Slack webhook spelt another way, and the same key with whitespace around it", () => {
    const item = credentials({
      ...PRODUCTION,
      SENTRY_DSN: "http://prodkey@o1.ingest.us.sentry.io/11/",
      SLACK_WEBHOOK_URL: "http://hooks.slack.com/services/T0/B1/stagingHook/",
    });
    assert.equal(item.ok, false);
    assert.match(item.reason, /^shared with \.env\.production\.local: SENTRY_DSN project \(sha256:[0-9a-f]{8}\), SLACK_WEBHOOK_URL \(sha256:[0-9a-f]{8}\)$/);
    const results = offlineChecklist({
      file,
      env: STAGING,
      expected: expectationsFor(REPO, "staging"),
      against: { file: ".env.production.local", env: { ...PRODUCTION, OPENAI_API_KEY: `${STAGING.OPENAI_API_KEY} ` } },
    });
    const openai = results.find((r) => r.item === ITEMS.openai)!;
    assert.equal(openai.ok, false);
    assert.match(openai.reason, /^OPENAI_API_KEY is the same as in \.env\.production\.local/);
    assertNoSecrets(results);
  });

  it("reads the file's own Slack channel with or without its #, as the config checks do", () => {
    for (const channel of ["#mina-staging-alerts", "mina-staging-alerts", "#MINA-staging-alerts"]) {
      const results = offlineChecklist({ file, env: { ...STAGING, SLACK_CHANNEL: channel }, expected: expectationsFor(REPO, "staging") });
      assert.equal(results.find((r) => r.item === ITEMS.slack)!.ok, true, channel);
    }
    const other = offlineChecklist({ file, env: { ...STAGING, SLACK_CHANNEL: "mina-alerts" }, expected: expectationsFor(REPO, "staging") });
    assert.equal(other.find((r) => r.item === ITEMS.slack)!.ok, false);
  });

  it("does not count shared non-credentials (they have items of their own)", () => {
    const item = credentials({ ...PRODUCTION, SLACK_CHANNEL: STAGING.SLACK_CHANNEL });
    assert.equal(item.ok, true);
  });
});

describe("verify: the email item outside production wants one catch-all inbox and a SendGrid key of its own", () => {
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-email-"));
    file = path.join(dir, ".env.staging.local");
    fs.writeFileSync(file, "", { mode: 0o600 });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const EMAIL_ON = { ...STAGING, EMAIL_ENABLED: "true", SENDGRID_API_KEY: "SG.staging-own", EMAIL_REDIRECT_TO: "qa-inbox@example.com" };
  const email = (env: Record<string, string>, other?: Record<string, string>, environment = "staging") => {
    const results = offlineChecklist({
      file,
      env: { ...env, ENVIRONMENT: environment },
      expected: expectationsFor(REPO, environment),
      ...(other ? { against: { file: ".env.production.local", env: other } } : {}),
    });
    const item = results.find((r) => r.item === ITEMS.email);
    assert.ok(item);
    assert.ok(!item.reason.includes("SG.staging-own"));
    return item;
  };

  it("passes with its own key and a redirect, naming only the inbox's domain", () => {
    const item = email(EMAIL_ON, { ...PRODUCTION, EMAIL_ENABLED: "true", SENDGRID_API_KEY: "SG.production-own" });
    assert.equal(item.ok, true);
    assert.equal(item.reason, `email enabled with its own key (${fingerprint("SG.staging-own")}), every message to EMAIL_REDIRECT_TO (@example.com)`);
  });

  it("fails without EMAIL_REDIRECT_TO", () => {
    const item = email({ ...EMAIL_ON, EMAIL_REDIRECT_TO: "" });
    assert.deepEqual(
      [item.ok, item.reason],
      [false, "EMAIL_ENABLED=true in a non-production environment but EMAIL_REDIRECT_TO is empty: every message must go to one catch-all inbox"],
    );
  });

  it("fails for an inbox at the production domain", () => {
    const item = email({ ...EMAIL_ON, EMAIL_REDIRECT_TO: "support@mina.app" });
    assert.deepEqual(
      [item.ok, item.reason],
      [false, "EMAIL_REDIRECT_TO is an address at the production domain mina.app: the catch-all inbox must not be a production mailbox"],
    );
  });

  it("fails for the production SendGrid key", () => {
    const item = email(EMAIL_ON, { ...PRODUCTION, EMAIL_ENABLED: "true", SENDGRID_API_KEY: "SG.staging-own" });
    assert.deepEqual([item.ok, item.reason], [false, `SENDGRID_API_KEY is the same as in .env.production.local (${fingerprint("SG.staging-own")})`]);
  });

  it("fails for a redirect while email is off, and for one in production", () => {
    assert.equal(email({ ...STAGING, EMAIL_ENABLED: "false", EMAIL_REDIRECT_TO: "qa-inbox@example.com" }).ok, false);
    const production = email(
      { ...PRODUCTION, EMAIL_ENABLED: "true", SENDGRID_API_KEY: "SG.production-own", EMAIL_REDIRECT_TO: "qa-inbox@example.com" },
      undefined,
      "production",
    );
    assert.deepEqual(
      [production.ok, production.reason],
      [false, "EMAIL_REDIRECT_TO is set in a production environment: production sends to its users, never to one inbox"],
    );
  });
});

describe("audit and verify --against through the bin: spellings of one value are one value", function () {
  this.timeout(60_000);
  let dir: string;
  const envText = (env: Record<string, string>) =>
    `${Object.entries(env)
      .map(([k, v]) => `${k}='${v}'`)
      .join("\n")}\n`;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-audit-bin-"));
    fs.writeFileSync(path.join(dir, ".env.staging.local"), envText(STAGING), { mode: 0o600 });
    fs.writeFileSync(
      path.join(dir, ".env.production.local"),
      envText({ ...PRODUCTION, SLACK_CHANNEL: "mina-staging-alerts", SENTRY_DSN: "http://prodkey@o1.ingest.us.sentry.io/11/" }),
      { mode: 0o600 },
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("audit fails, naming each shared value by fingerprint", () => {
    const r = spawnCli("audit", [".env.staging.local", ".env.production.local", "--dir", REPO], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^ {2}production \+ staging: SENTRY_DSN project \(sha256:[0-9a-f]{8}\)$/m);
    assert.match(r.stdout, /^ {2}production \+ staging: SLACK_CHANNEL \(sha256:[0-9a-f]{8}\)$/m);
    assert.ok(!r.stdout.includes("prodkey") && !r.stdout.includes("stagingkey"));
  });

  it("verify --against fails its credentials item", () => {
    const r = spawnCli("verify", [".env.staging.local", "--against", ".env.production.local", "--dir", REPO], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(
      r.stdout,
      /^✗ no credential shared with the other environment: shared with \.env\.production\.local: SENTRY_DSN project \(sha256:[0-9a-f]{8}\)$/m,
    );
  });
});
