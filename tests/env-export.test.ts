/**
 * The checks `npm run env` makes before writing, in-process: only the program's
 * own variable names, values carrying another environment's identifiers (as
 * written or percent-decoded) and connection URLs the strict parser refuses.
 */
import { strict as assert } from "node:assert";
import {
  FEATURE_VARIABLE,
  foreignProblems,
  isDangerousVariable,
  isProgramVariable,
  renderEnvFile,
  renderStoredEnvFile,
  unexpectedVariables,
} from "../envfiles/export";
import { parseEnvFile } from "../envfiles/format";
import { featureVariable, VARIABLES } from "../config/variables";
import { REPO } from "./helpers";

const STAGING: Record<string, string> = {
  ENVIRONMENT: "staging",
  DATABASE_URL: "postgresql://mina_staging_app:pw@pg-shared.internal.mina.app:5432/mina_staging?sslmode=require",
  REDIS_URL: "rediss://default:pw@mina-staging-0a9fe.upstash.io:6379",
  AWS_S3_BUCKET: "mina-audio-staging",
};

const problemsWith = (change: Record<string, string>) => foreignProblems({ ...STAGING, ...change }, "staging", REPO);

describe("env export: foreign identifiers and connection URLs", () => {
  it("a staging env of its own has no problem (control)", () => {
    assert.deepEqual(foreignProblems(STAGING, "staging", REPO), []);
  });

  it("refuses production's database name hidden by percent-encoding", () => {
    assert.deepEqual(problemsWith({ DATABASE_URL: "postgresql://u:p@host/%6d%69%6e%61_production" }), [
      `DATABASE_URL carries production's database name "mina_production" once percent-decoded`,
    ]);
  });

  it("refuses production's identifiers percent-encoded in any part or any key", () => {
    assert.deepEqual(problemsWith({ DATABASE_URL: "postgresql://mina_%70roduction_admin:p@pg-shared.internal.mina.app/mina_staging" }), [
      `DATABASE_URL names environment "production" ("production") once percent-decoded`,
    ]);
    assert.deepEqual(problemsWith({ REDIS_URL: "rediss://default:p@mina-%70roduction-7c1d2.upstash.io:6379" }), [
      `REDIS_URL names environment "production" ("production") once percent-decoded`,
    ]);
    assert.deepEqual(problemsWith({ AWS_S3_BUCKET: "mina-audio-%70roduction" }), [
      `AWS_S3_BUCKET carries production's bucket "mina-audio-production" once percent-decoded`,
    ]);
  });

  it("still names an identifier written plainly without the note", () => {
    assert.deepEqual(problemsWith({ DATABASE_URL: "postgresql://u:p@host/mina_production" }), [
      `DATABASE_URL carries production's database name "mina_production"`,
    ]);
  });

  it("refuses a DATABASE_URL whose query redirects the connection, by parameter name", () => {
    assert.deepEqual(problemsWith({ DATABASE_URL: `${STAGING.DATABASE_URL}&%68ost=db.elsewhere.example` }), [
      `DATABASE_URL: query parameter "host" can redirect the connection; only sslmode, sslrootcert, connect_timeout, application_name are accepted`,
    ]);
  });

  it("refuses a REDIS_URL with a query or several hosts", () => {
    assert.deepEqual(problemsWith({ REDIS_URL: `${STAGING.REDIS_URL}?db=2` }), [
      `REDIS_URL: query parameter "db" is not accepted: REDIS_URL takes no query parameters (redis-py reads db, ssl_cert_reqs and other connection settings from them, over the URL's own)`,
    ]);
    assert.deepEqual(problemsWith({ REDIS_URL: "rediss://default:pw@a.upstash.io,b.upstash.io:6379" }), [
      `REDIS_URL: lists more than one host ("host1,host2"): only one host is accepted`,
    ]);
  });
});

describe("env export: only the program's own variables", () => {
  const own = Object.fromEntries(VARIABLES.map((v) => [v.name, "x"]));

  it("accepts every variable the program lists, and feature flags' variables", () => {
    assert.equal(unexpectedVariables({ ...own, [featureVariable("beta_features")]: "true", FEATURE_DEBUG_TOOLBAR: "false", FEATURE_X2: "true" }), undefined);
    for (const v of VARIABLES) assert.ok(isProgramVariable(v.name), v.name);
  });

  it("takes FEATURE_ names only with an upper-case name after the prefix", () => {
    for (const ok of ["FEATURE_A", "FEATURE_BETA_FEATURES", "FEATURE_X9_"]) assert.match(ok, FEATURE_VARIABLE);
    for (const bad of ["FEATURE_", "FEATURE_9X", "FEATURE__X", "FEATURE_beta", "FEATURES_X", "XFEATURE_A"]) {
      assert.doesNotMatch(bad, FEATURE_VARIABLE, bad);
      // a name a shell could not export is shown quoted
      const shownName = /^[A-Z_][A-Z0-9_]*$/.test(bad) ? bad : JSON.stringify(bad);
      assert.equal(unexpectedVariables({ ...own, [bad]: "true" }), `env output has variables the program does not emit: ${shownName}`);
    }
  });

  it("refuses other names by name, in the env's order, calling out the dangerous ones", () => {
    assert.equal(
      unexpectedVariables({ ...own, PATH: "/tmp/evil:/usr/bin", LD_PRELOAD: "/tmp/evil.so" }),
      "env output has variables the program does not emit: PATH, LD_PRELOAD (dangerous: PATH, LD_PRELOAD change what programs run or load when the file is sourced)",
    );
    assert.equal(unexpectedVariables({ ...own, EXTRA_SETTING: "1" }), "env output has variables the program does not emit: EXTRA_SETTING");
    assert.equal(
      unexpectedVariables({ ...own, EXTRA: "1", NODE_OPTIONS: "--require /tmp/x.js" }),
      "env output has variables the program does not emit: EXTRA, NODE_OPTIONS (dangerous: NODE_OPTIONS changes what programs run or load when the file is sourced)",
    );
  });

  it("knows the dangerous names", () => {
    const dangerous = [
      "PATH",
      "LD_PRELOAD",
      "LD_LIBRARY_PATH",
      "LD_AUDIT",
      "DYLD_INSERT_LIBRARIES",
      "BASH_ENV",
      "ENV",
      "NODE_OPTIONS",
      "PYTHONPATH",
      "PYTHONSTARTUP",
      "PYTHONHOME",
      "PERL5OPT",
      "PERL5LIB",
      "RUBYOPT",
      "IFS",
      "PS4",
      "SHELLOPTS",
      "PROMPT_COMMAND",
      "BASH_FUNC_ls%%",
      "GIT_SSH_COMMAND",
      "GIT_CONFIG_GLOBAL",
      "PGHOST",
      "PGPASSFILE",
      "PGSERVICEFILE",
      "FLASK_APP",
      "FLASK_DEBUG",
      "HTTPS_PROXY",
      "SSL_CERT_FILE",
      "REQUESTS_CA_BUNDLE",
      "JAVA_TOOL_OPTIONS",
    ];
    for (const name of dangerous) assert.ok(isDangerousVariable(name), name);
    for (const name of ["EXTRA", "DATABASE_URL", "FEATURE_PATH", "PAGE_SIZE", "ENVIRONMENT", "MY_PATH"]) assert.ok(!isDangerousVariable(name), name);
  });

  it("shows a name that is not a variable name escaped, on one line", () => {
    const message = unexpectedVariables({ ...own, "A\nB": "1", "x y": "2" })!;
    assert.equal(message, `env output has variables the program does not emit: "A\\nB", "x y"`);
    assert.ok(!message.includes("\n"));
  });

  it("never shows a value", () => {
    const message = unexpectedVariables({ ...own, PATH: "/tmp/secret-path-value", OTHER: "secret-other-value" })!;
    assert.ok(!message.includes("secret-"), message);
  });
});

describe("env export and verify fail closed on a stack file that cannot be read", () => {
  it("refuses to export, and verify fails an item, naming the broken file", () => {
    const fs = require("node:fs") as typeof import("fs");
    const { tempProject } = require("./helpers") as typeof import("./helpers");
    const { expectationsFor } = require("../config/expectations") as typeof import("../config/expectations");
    const { offlineChecklist, ITEMS } = require("../verify/checklist") as typeof import("../verify/checklist");
    const { dir, cleanup } = tempProject({
      "Pulumi.staging.yaml": fs.readFileSync(`${REPO}/Pulumi.staging.yaml`, "utf8"),
      "Pulumi.production.yaml": fs.readFileSync(`${REPO}/Pulumi.production.yaml`, "utf8"),
      "Pulumi.demo.yaml": "config: [broken",
    });
    try {
      const problems = foreignProblems(STAGING, "staging", dir);
      assert.equal(problems.length, 1, problems.join("\n"));
      assert.match(problems[0], /^cannot check against Pulumi\.demo\.yaml: not valid YAML.*: fix or remove that file first$/);
      const file = `${dir}/.env.staging.local`;
      fs.writeFileSync(file, "ENVIRONMENT=staging\n", { mode: 0o600 });
      const results = offlineChecklist({ file, env: STAGING, expected: expectationsFor(dir, "staging") });
      const item = results.find((r) => r.item === ITEMS.stackFiles);
      assert.ok(item && !item.ok, JSON.stringify(results));
      assert.match(item.reason, /Pulumi\.demo\.yaml/);
    } finally {
      cleanup();
    }
  });
});

describe("env export: the text the app env secret stores", () => {
  const env = { ...STAGING, SECRET_KEY: 'pa ss/w$rd "x"', LOG_LEVEL: "INFO" };

  it("is the env file's lines, in the same order and quoting as npm run env writes, loading back to the same values", () => {
    const stored = renderStoredEnvFile(env, "staging", "mina/staging/app-env");
    const written = renderEnvFile(env, "staging", new Date("2025-01-02T03:04:05Z"));
    const lines = (t: string) => t.split("\n").filter((l) => !l.startsWith("#"));
    assert.deepEqual(lines(stored), lines(written));
    assert.deepEqual(parseEnvFile(stored), env);
  });

  it("names where it is stored and carries no time, so the same env is the same text", () => {
    const stored = renderStoredEnvFile(env, "staging", "mina/staging/app-env");
    assert.equal(stored, renderStoredEnvFile({ ...env }, "staging", "mina/staging/app-env"));
    assert.deepEqual(stored.split("\n").slice(0, 2), [
      "# Mina environment for stack staging",
      "# generated by pulumi up into the secret mina/staging/app-env; do not commit: contains secrets",
    ]);
    assert.doesNotMatch(stored, /generated at/);
  });
});
