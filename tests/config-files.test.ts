/**
 * Stack files and the project file are read the way Pulumi reads them, every
 * field of them, and what is not understood is refused: ESC imports, secrets
 * providers and keys, copied ciphertexts, `stackConfigDir`, project-level config,
 * unknown namespaces and keys, plaintext provider credentials. Also: values a
 * production environment would share with another, identifiers compared after
 * normalising, and values that become parts of URLs checked for what they are.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import { ConfigErrors, listStackFiles, loadStackFromEngine, loadStackOffline, readAllStacks, SecureValue } from "../config";
import { validateStack } from "../config/validation/validate";
import { PRODUCTION_ACCOUNT, productionRaw, projectErrors, STAGING_ACCOUNT, stagingRaw, tempProject, validationErrors } from "./helpers";

const PROJECT_FILE = "name: mina\nruntime: nodejs\nconfig:\n  pulumi:disable-default-providers: [aws, upstash, postgresql, sentry]\n";

/** A stack file's text from a raw config (secrets as `secure:` with a per-stack ciphertext unless given). */
function stackYaml(raw: ReturnType<typeof stagingRaw>, extra: Record<string, unknown> = {}): string {
  const config: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw.values)) {
    config[k] = v instanceof SecureValue ? { secure: `v1:${raw.stack}:${k}:${Buffer.from(v.plaintext ?? "").toString("base64")}` } : v;
  }
  return YAML.stringify({ ...extra, config });
}

const errorsIn = (files: Record<string, string>, stack: string) => projectErrors(files, stack);

const project = (extra: Record<string, string> = {}) => ({
  "Pulumi.yaml": PROJECT_FILE,
  "Pulumi.staging.yaml": stackYaml(stagingRaw()),
  "Pulumi.production.yaml": stackYaml(productionRaw()),
  ...extra,
});

describe("stack files: every field is read, and what is not understood is refused", () => {
  it("accepts the happy-path project", () => {
    assert.deepEqual(errorsIn(project(), "staging"), []);
    assert.deepEqual(errorsIn(project(), "production"), []);
  });

  it("refuses unknown top-level keys, naming the file and the key", () => {
    for (const key of ["enviroment", "backend", "configs", "secretprovider"]) {
      const lines = errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), { [key]: "x" }) }), "staging");
      assert.deepEqual(lines, [
        `Pulumi.staging.yaml: ${key}: unknown top-level key of a stack file (known: config, environment, secretsprovider, encryptedkey, encryptionsalt)`,
      ]);
    }
  });

  it("refuses an ESC environment that another stack file also imports, in any spelling", () => {
    for (const [mine, theirs] of [
      ["mina/shared", "mina/shared"],
      ["Mina/Shared", "mina/shared"],
      [" mina/shared", "mina/shared"],
    ]) {
      const lines = errorsIn(
        project({
          "Pulumi.staging.yaml": stackYaml(stagingRaw(), { environment: [mine] }),
          "Pulumi.production.yaml": stackYaml(productionRaw(), { environment: { imports: [theirs] } }),
        }),
        "staging",
      );
      assert.ok(
        lines.some((l) => l.startsWith("Pulumi.staging.yaml: environment: imports the ESC environment") && l.includes("Pulumi.production.yaml also imports")),
        lines.join("\n"),
      );
    }
  });

  it("refuses an ESC environment that names another environment, or an inline definition", () => {
    assert.deepEqual(errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), { environment: ["mina/production"] }) }), "staging"), [
      'Pulumi.staging.yaml: environment: names environment "production" ("production")',
    ]);
    const inline = errorsIn(
      project({
        "Pulumi.staging.yaml": stackYaml(stagingRaw(), { environment: { imports: ["mina/staging"], values: { pulumiConfig: { "aws:region": "x" } } } }),
      }),
      "staging",
    );
    assert.equal(inline.length, 1);
    assert.match(inline[0], /^Pulumi\.staging\.yaml: environment: an inline environment definition \(values\) is refused/);
    assert.match(
      errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), { environment: "mina/staging" }) }), "staging")[0],
      /environment: expected a list of ESC environment names/,
    );
  });

  it("refuses a secrets provider key, data key or salt that another stack file also uses", () => {
    const kms = "awskms://alias/mina-infra-secrets?region=us-east-1";
    const cases: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [{ secretsprovider: kms }, { secretsprovider: kms }, /secretsprovider: is the same key as Pulumi\.production\.yaml's/],
      [{ secretsprovider: kms.toUpperCase().replace("AWSKMS", "awskms") }, { secretsprovider: kms }, /secretsprovider: is the same key/],
      [{ encryptedkey: "AQICAHh0ZXN0a2V5" }, { encryptedkey: "AQICAHh0ZXN0a2V5" }, /encryptedkey: is byte-identical to Pulumi\.production\.yaml's/],
      [{ encryptionsalt: "v1:c2FsdA==:v1:aXY=:dGFn" }, { encryptionsalt: "v1:c2FsdA==:v1:aXY=:dGFn" }, /encryptionsalt: is byte-identical/],
    ];
    for (const [mine, theirs, expected] of cases) {
      const lines = errorsIn(
        project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), mine), "Pulumi.production.yaml": stackYaml(productionRaw(), theirs) }),
        "staging",
      );
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0], expected);
    }
    // Per-stack keys: the passphrase provider and Pulumi Cloud's default are not shared keys.
    assert.deepEqual(
      errorsIn(
        project({
          "Pulumi.staging.yaml": stackYaml(stagingRaw(), { secretsprovider: "passphrase" }),
          "Pulumi.production.yaml": stackYaml(productionRaw(), { secretsprovider: "passphrase" }),
        }),
        "staging",
      ),
      [],
    );
    assert.match(
      errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), { secretsprovider: "vaultish://x" }) }), "staging")[0],
      /secretsprovider: "vaultish:\/\/x" is not a known secrets provider/,
    );
    assert.match(
      errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw(), { secretsprovider: ["a"] }) }), "staging")[0],
      /secretsprovider: expected a string/,
    );
  });

  it("refuses a secure ciphertext copied from another stack file, under another key too, never printing it", () => {
    const ciphertext = "v1:AAAABBBBCCCCopiedCiphertext==";
    const staging = stackYaml(stagingRaw()).replace(/mina:openaiApiKey:\n {4}secure: .*\n/, `mina:openaiApiKey:\n    secure: ${ciphertext}\n`);
    const production = stackYaml(productionRaw()).replace(/mina:sendgridApiKey:\n {4}secure: .*\n/, `mina:sendgridApiKey:\n    secure: ${ciphertext}\n`);
    const lines = errorsIn(project({ "Pulumi.staging.yaml": staging, "Pulumi.production.yaml": production }), "staging");
    assert.deepEqual(lines, [
      "Pulumi.staging.yaml: mina:openaiApiKey: its ciphertext is byte-identical to Pulumi.production.yaml's mina:sendgridApiKey (copied between stack files): the stacks share this secret; set it anew with: pulumi config set --secret mina:openaiApiKey <value> --stack staging",
    ]);
    assert.ok(!lines.join("").includes("Copied"));
    assert.equal(JSON.stringify(readAllStacks_(project({ "Pulumi.staging.yaml": staging }))).includes("Copied"), false);
  });

  it("fails closed on a sibling that cannot be read, offline and under the engine, in one line naming it", () => {
    const files = project({ "Pulumi.demo.yaml": "config: [unclosed\n" });
    const expected =
      /^Pulumi\.staging\.yaml: cannot be checked against Pulumi\.demo\.yaml, which cannot be read \(not valid YAML: .*\); fix or remove that file first$/;
    const offline = errorsIn(files, "staging");
    assert.equal(offline.length, 1, offline.join("\n"));
    assert.match(offline[0], expected);
    const { dir, cleanup } = tempProject(files);
    try {
      assert.throws(
        () => loadStackFromEngine(dir, "staging", engineConfig(stagingRaw()), isSecretIn(stagingRaw())),
        (e: unknown) => {
          assert.ok(e instanceof ConfigErrors, String(e));
          assert.equal(e.errors.length, 1);
          assert.match(e.errors[0].message, expected);
          return true;
        },
      );
      // The broken file's own stack gets its own parse error, still one line.
      assert.throws(
        () => loadStackFromEngine(dir, "demo", {}, () => false),
        (e: unknown) => e instanceof ConfigErrors && /^Pulumi\.demo\.yaml: not valid YAML/.test(e.message),
      );
    } finally {
      cleanup();
    }
  });

  it("refuses under the engine a stack with no stack file of its own", () => {
    const { dir, cleanup } = tempProject(project());
    try {
      assert.throws(
        () => loadStackFromEngine(dir, "ghost", {}, () => false),
        /^ConfigError: Pulumi\.ghost\.yaml: no such stack file in .*: every stack's config lives in its own stack file/,
      );
    } finally {
      cleanup();
    }
  });

  it("checks a copied ciphertext under the engine too, where the own values arrive decrypted", () => {
    const ciphertext = "v1:SameCipher==";
    const staging = stackYaml(stagingRaw()).replace(/mina:openaiApiKey:\n {4}secure: .*\n/, `mina:openaiApiKey:\n    secure: ${ciphertext}\n`);
    const production = stackYaml(productionRaw()).replace(/mina:openaiApiKey:\n {4}secure: .*\n/, `mina:openaiApiKey:\n    secure: ${ciphertext}\n`);
    const { dir, cleanup } = tempProject(project({ "Pulumi.staging.yaml": staging, "Pulumi.production.yaml": production }));
    try {
      assert.throws(
        () => loadStackFromEngine(dir, "staging", engineConfig(stagingRaw()), isSecretIn(stagingRaw())),
        /mina:openaiApiKey: its ciphertext is byte-identical to Pulumi\.production\.yaml's mina:openaiApiKey/,
      );
    } finally {
      cleanup();
    }
  });
});

describe("the project file: stackConfigDir and project-level config", () => {
  it("reads stack files from stackConfigDir, where Pulumi reads them", () => {
    const { dir, cleanup } = tempProject({ "Pulumi.yaml": `${PROJECT_FILE}stackConfigDir: stacks\n` });
    try {
      fs.mkdirSync(path.join(dir, "stacks"));
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.staging.yaml"), stackYaml(stagingRaw()));
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.production.yaml"), stackYaml(productionRaw()));
      // A stray file beside Pulumi.yaml is not a stack: Pulumi would not read it.
      fs.writeFileSync(path.join(dir, "Pulumi.stray.yaml"), "config: {}\n");
      assert.deepEqual(
        listStackFiles(dir).map((s) => s.stack),
        ["production", "staging"],
      );
      assert.equal(loadStackOffline(dir, "staging").config.environment, "staging");
      // Production's identifiers are still foreign to staging when they live in stackConfigDir.
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.staging.yaml"), stackYaml(stagingRaw({ "aws:allowedAccountIds": [PRODUCTION_ACCOUNT] })));
      assert.throws(() => loadStackOffline(dir, "staging"), /carries production's account id/);
    } finally {
      cleanup();
    }
  });

  it("refuses a stackConfigDir outside the project, absolute or missing", () => {
    for (const [value, expected] of [
      ["../elsewhere", /stackConfigDir: "\.\.\/elsewhere" is outside the project/],
      ["/etc", /stackConfigDir: "\/etc" is absolute/],
      ["nope", /stackConfigDir: "nope" is not a directory/],
    ] as const) {
      const lines = errorsIn({ "Pulumi.yaml": `${PROJECT_FILE}stackConfigDir: ${value}\n`, "Pulumi.staging.yaml": stackYaml(stagingRaw()) }, "staging");
      assert.equal(lines.length, 1);
      assert.match(lines[0], new RegExp(`^Pulumi\\.yaml: ${expected.source}`));
    }
  });

  it("applies project-level settings to every stack, as Pulumi does", () => {
    const { dir, cleanup } = tempProject(
      project({ "Pulumi.yaml": `${PROJECT_FILE}  mina:logLevel: WARNING\n  rateLimitPerHour:\n    type: integer\n    default: 1500\n` }),
    );
    try {
      const staging = loadStackOffline(dir, "staging").config;
      assert.equal(staging.settings.logLevel, "WARNING");
      assert.equal(staging.settings.rateLimitPerHour, 1500);
    } finally {
      cleanup();
    }
  });

  it("refuses project-level values that are an environment's own, name an environment, or are secret", () => {
    const cases: [string, RegExp][] = [
      ['  mina:slackChannel: "#mina-alerts"\n', /^Pulumi\.yaml: mina:slackChannel: is set for every stack in the project file: only shared settings may be/],
      ['  aws:allowedAccountIds: ["123456789012"]\n', /^Pulumi\.yaml: aws:allowedAccountIds: is set for every stack/],
      [
        "  mina:featureFlags:\n    staging_only: true\n",
        /^Pulumi\.yaml: mina:featureFlags: names environment "staging" \("staging"\): a value in the project file applies to every stack/,
      ],
      ["  mina:openaiApiKey:\n    secure: v1:abc\n", /^Pulumi\.yaml: mina:openaiApiKey: a secret in the project file would be every stack's secret/],
      ["  mina:logLevel:\n    value: INFO\n    colour: blue\n", /^Pulumi\.yaml: mina:logLevel: unknown attribute colour of a typed config entry/],
    ];
    for (const [config, expected] of cases) {
      const lines = errorsIn(project({ "Pulumi.yaml": PROJECT_FILE + config }), "staging");
      assert.ok(
        lines.some((l) => expected.test(l)),
        `${config}\n${lines.join("\n")}`,
      );
    }
  });

  it("refuses an unknown project-file key, another project name, and default providers left on", () => {
    assert.ok(
      errorsIn(project({ "Pulumi.yaml": `${PROJECT_FILE}stackConfigDirectory: x\n` }), "staging").some((l) =>
        /^Pulumi\.yaml: stackConfigDirectory: unknown top-level key of a project file/.test(l),
      ),
    );
    assert.ok(
      errorsIn(project({ "Pulumi.yaml": PROJECT_FILE.replace("name: mina", "name: other") }), "staging").some((l) =>
        /^Pulumi\.yaml: name: is "other"; this program reads the config namespace "mina"/.test(l),
      ),
    );
    assert.ok(
      errorsIn(project({ "Pulumi.yaml": "name: mina\nruntime: nodejs\n" }), "staging").some((l) =>
        /^Pulumi\.yaml: pulumi:disable-default-providers: is not set/.test(l),
      ),
    );
    // A stack file cannot switch them back on either.
    const lines = errorsIn(project({ "Pulumi.staging.yaml": stackYaml(stagingRaw({ "pulumi:disable-default-providers": ["aws"] })) }), "staging");
    assert.deepEqual(lines, [
      "Pulumi.staging.yaml: pulumi:disable-default-providers: must keep the default upstash, postgresql, sentry providers disabled: every resource uses its stack's explicit provider, never the caller's ambient credentials",
    ]);
  });
});

describe("namespaces: every key the program or a provider could read is known", () => {
  const errorsOf = (raw: ReturnType<typeof stagingRaw>) => validationErrors(raw, [raw, productionRaw()]);

  it("refuses provider credentials in plaintext, in every namespace, never printing them", () => {
    for (const key of ["aws:secretKey", "aws:accessKey", "aws:token", "postgresql:password", "postgresql:username"]) {
      const lines = errorsOf(stagingRaw({ [key]: "AKIAPLAINTEXTVALUE" }));
      assert.deepEqual(lines, [
        `Pulumi.staging.yaml: ${key}: is a credential stored in plaintext: remove it (and rotate it: it is in the file's history); each stack's explicit provider never reads it`,
      ]);
      assert.ok(!lines.join("").includes("PLAINTEXT"));
    }
    assert.deepEqual(errorsOf(stagingRaw({ "upstash:apiKey": "plain" })), [
      "Pulumi.staging.yaml: upstash:apiKey: is a secret but is stored in plaintext; remove it and run: pulumi config set --secret upstash:apiKey <value>",
    ]);
    assert.match(errorsOf(stagingRaw({ "aws:secretKey": new SecureValue("x") }))[0], /aws:secretKey: is never read/);
  });

  it("refuses unknown keys of the provider namespaces with a suggestion, and unknown namespaces", () => {
    assert.deepEqual(errorsOf(stagingRaw({ "aws:regoin": "us-east-1" })), ["Pulumi.staging.yaml: aws:regoin: unknown key (did you mean aws:region?)"]);
    assert.deepEqual(errorsOf(stagingRaw({ "upstash:emial": "x@y.z" })), ["Pulumi.staging.yaml: upstash:emial: unknown key (did you mean upstash:email?)"]);
    assert.deepEqual(errorsOf(stagingRaw({ "postgresql:sslmode": "disable" })), ["Pulumi.staging.yaml: postgresql:sslmode: unknown key"]);
    assert.deepEqual(errorsOf(stagingRaw({ "pulumi:autonaming": { mode: "verbatim" } })), ["Pulumi.staging.yaml: pulumi:autonaming: unknown key"]);
    assert.match(errorsOf(stagingRaw({ "gcp:project": "p" }))[0], /^Pulumi\.staging\.yaml: gcp:project: namespace "gcp" is not read by this program/);
  });
});

describe("identifiers are compared after normalising", () => {
  const errorsOf = (raw: ReturnType<typeof stagingRaw>) => validationErrors(raw, [raw, productionRaw()]);

  it("finds production's zone, domain and channel however they are spelled", () => {
    for (const [key, value] of [
      ["mina:dnsZoneId", "/hostedzone/Z0PRODUCTIONZONE"],
      ["mina:dnsZoneId", "z0productionzone"],
      ["mina:shareDomain", "MINA.APP."],
      ["mina:dnsZoneName", "Mina.App."],
      ["mina:slackChannel", "mina-alerts"],
      ["mina:slackChannel", "#MINA-ALERTS"],
    ]) {
      const lines = errorsOf(stagingRaw({ [key]: value }));
      assert.ok(
        lines.some((l) => l.startsWith(`Pulumi.staging.yaml: ${key}: carries production's`)),
        `${key}=${value}\n${lines.join("\n")}`,
      );
    }
  });

  it("refuses a value with surrounding whitespace as malformed", () => {
    for (const [key, value] of [
      ["aws:allowedAccountIds", [` ${STAGING_ACCOUNT}`]],
      ["mina:shareDomain", "staging.mina.app "],
      ["mina:openaiApiKey", new SecureValue("sk-staging\n")],
    ] as const) {
      const lines = errorsOf(stagingRaw({ [key]: value }));
      assert.ok(lines.includes(`Pulumi.staging.yaml: ${key}: has leading or trailing whitespace: values are compared exactly, so remove it`), lines.join("\n"));
      assert.ok(!lines.join("").includes("sk-staging"));
    }
  });
});

describe("a production environment shares no supplied value", () => {
  const errorsOf = validationErrors;

  it("refuses production's Upstash account, app host, database CIDRs or server in another environment, from either side", () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, string][] = [
      [{ "upstash:email": "platform@mina.app" }, { "upstash:email": "Platform@Mina.App" }, "upstash:email"],
      [{ "mina:appHost": "203.0.113.10" }, {}, "mina:appHost"],
      [
        {
          "mina:databaseMode": "instance",
          "mina:vpcId": "vpc-0a1b2c3d4e5f60009",
          "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60031", "subnet-0a1b2c3d4e5f60032"],
          "mina:dbAllowedCidrs": ["10.30.0.0/16", "10.20.0.0/16"],
        },
        {},
        "mina:dbAllowedCidrs",
      ],
    ];
    for (const [mine, theirs, key] of cases) {
      const staging = stagingRaw(mine);
      const production = productionRaw({ ...theirs, ...(key === "upstash:email" ? { "upstash:email": "platform@mina.app" } : {}) });
      const fromStaging = errorsOf(staging, [staging, production]);
      assert.ok(
        fromStaging.some(
          (l) =>
            l.startsWith(`Pulumi.staging.yaml: ${key}: holds `) &&
            l.endsWith("production, a production environment, shares no supplied value with another environment"),
        ),
        fromStaging.join("\n"),
      );
      const fromProduction = errorsOf(production, [staging, production]);
      assert.ok(
        fromProduction.some(
          (l) => l.startsWith(`Pulumi.production.yaml: ${key}: holds `) && l.includes("as Pulumi.staging.yaml does: production shares no supplied value"),
        ),
        fromProduction.join("\n"),
      );
    }
  });

  it("lets any stack be production-like with mina:profile, with production's protections and production's isolation", () => {
    const eu = productionRaw({
      "aws:allowedAccountIds": ["444444444444"],
      "mina:profile": "production",
      "mina:deployRunner": ["self-hosted", "mina-eu"],
      "mina:shareDomain": "eu.mina.app",
      "mina:dnsZoneId": "Z0EUZONE",
      "mina:vpcId": "vpc-0a1b2c3d4e5f60004",
      "mina:dbSubnetIds": ["subnet-0a1b2c3d4e5f60041", "subnet-0a1b2c3d4e5f60042"],
      "mina:dbAllowedCidrs": ["10.40.0.0/16"],
      "mina:appHost": "203.0.113.40",
      "upstash:email": "upstash-eu@mina.app",
      "upstash:apiKey": new SecureValue("u-eu"),
      "mina:openaiApiKey": new SecureValue("sk-eu"),
      "mina:sendgridApiKey": new SecureValue("SG.eu"),
      "mina:sentryToken": new SecureValue("sntrys_eu_token"),
    });
    const euRaw = { ...eu, stack: "eu", file: "Pulumi.eu.yaml" };
    const siblings = [stagingRaw(), productionRaw(), euRaw];
    const { config } = validateStack(euRaw, { siblings, requireSecrets: true });
    assert.equal(config.profile, "production");
    assert.deepEqual(config.protection, {
      protect: true,
      deletionProtection: true,
      finalSnapshot: true,
      versioning: true,
      forceDestroy: false,
      secretRecoveryDays: 30,
    });
    // A staging value equal to eu's is refused: eu is production-like.
    const staging = stagingRaw({ "mina:appHost": "203.0.113.40" });
    assert.ok(errorsOf(staging, [staging, productionRaw(), euRaw]).some((l) => l.includes("eu, a production environment, shares no supplied value")));
  });

  it("lets two non-production environments hold the same app host only when both stack files mark it (config/tiers.ts)", () => {
    const blue = stagingRaw({ "aws:allowedAccountIds": ["333333333333"] }, "staging-blue");
    assert.deepEqual(errorsOf(blue, [stagingRaw(), productionRaw(), blue]), [
      'Pulumi.staging-blue.yaml: mina:appHost: holds "203.0.113.20", as Pulumi.staging.yaml does: non-production environments share mina:appHost only when both stack files list it in mina:shareWithinTier (Pulumi.staging-blue.yaml and Pulumi.staging.yaml do not)',
    ]);
    const marked = { "mina:shareWithinTier": ["mina:appHost"] };
    const markedBlue = stagingRaw({ ...marked, "aws:allowedAccountIds": ["333333333333"] }, "staging-blue");
    assert.deepEqual(errorsOf(markedBlue, [stagingRaw(marked), productionRaw(), markedBlue]), []);
  });
});

describe("values that become parts of URLs and names are checked for what they are", () => {
  const errorsOf = (overrides: Record<string, unknown>) => {
    const raw = stagingRaw(overrides);
    return validationErrors(raw, [raw, productionRaw()]);
  };

  it("refuses URL syntax in the database server host", () => {
    for (const host of [
      "pg.example.com/other",
      "admin@pg.example.com",
      "pg.example.com:5433",
      "pg1.example.com,pg2.example.com",
      "pg.example.com?host=evil",
      "postgresql://pg.example.com",
      "pg.example.com#x",
    ]) {
      assert.deepEqual(
        errorsOf({ "mina:dbServerHost": host }),
        [`Pulumi.staging.yaml: mina:dbServerHost: ${JSON.stringify(host)} is not a bare host name or IP address (no scheme, user, port, path or list)`],
        host,
      );
    }
    assert.deepEqual(errorsOf({ "mina:dbServerHost": "10.0.0.5" }), []);
    assert.deepEqual(errorsOf({ "mina:dbServerHost": "fd00::5" }), []);
    assert.deepEqual(errorsOf({ "mina:dbServerHost": "PG-Shared.Internal.Mina.App." }), []);
  });

  it("refuses a role, email, region, zone or network id that is not one", () => {
    const cases: [string, unknown, RegExp][] = [
      ["mina:dbServerAdminUser", "admin@host", /is not a PostgreSQL role name/],
      ["mina:dbServerAdminUser", "admin:pw", /is not a PostgreSQL role name/],
      ["mina:dbServerAdminUser", "postgres", /is "postgres", the server's superuser: use a role with exactly LOGIN CREATEDB CREATEROLE and no SUPERUSER/],
      ["mina:dbServerAdminUser", "rdsadmin", /the server's superuser/],
      ["mina:dbServerAdminUser", undefined, /is required in server mode; set it with: pulumi config set mina:dbServerAdminUser <value> --stack staging/],
      ["upstash:email", "not-an-email", /is not an email address/],
      ["aws:region", "us-east-1/../x", /is not an AWS region/],
      ["mina:redisPrimaryRegion", "global", /is not a region/],
      ["mina:dnsZoneId", "zone-1", /is not a Route53 hosted zone id/],
      ["mina:dbInstanceClass", "large", /is not an RDS instance class/],
      ["mina:slackChannel", "#a b", /is not a Slack channel/],
    ];
    for (const [key, value, expected] of cases) {
      const lines = errorsOf({ [key]: value });
      assert.equal(lines.length, 1, `${key}: ${lines.join("\n")}`);
      assert.ok(lines[0].startsWith(`Pulumi.staging.yaml: ${key}: `), lines[0]);
      assert.match(lines[0], expected);
    }
  });
});

function readAllStacks_(files: Record<string, string>) {
  const { dir, cleanup } = tempProject(files);
  try {
    return readAllStacks(dir);
  } finally {
    cleanup();
  }
}

/** What the engine passes the program: every value a string, secrets decrypted. */
function engineConfig(raw: ReturnType<typeof stagingRaw>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(raw.values).map(([k, v]) => [k, v instanceof SecureValue ? (v.plaintext ?? "") : typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

function isSecretIn(raw: ReturnType<typeof stagingRaw>): (key: string) => boolean {
  return (key) => raw.values[key] instanceof SecureValue;
}

describe("percent-encoding hides no identifier from config validation", () => {
  it("finds production's database name in a percent-encoded secret", () => {
    const raw = stagingRaw({ "mina:slackWebhookUrl": new SecureValue("https://hooks.example.com/%6d%69%6e%61_%70roduction") });
    assert.throws(
      () => validateStack(raw, { siblings: [raw, productionRaw()], requireSecrets: true }),
      (e: unknown) =>
        e instanceof ConfigErrors &&
        e.errors.some((x) => x.message === 'Pulumi.staging.yaml: mina:slackWebhookUrl: carries production\'s database name "mina_production"') &&
        !e.message.includes("hooks.example"),
    );
  });
});
