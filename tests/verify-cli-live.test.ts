/**
 * `npm run verify -- FILE --live` end to end, against the real PostgreSQL and
 * Redis on this machine: an environment created exactly as server mode creates it,
 * by a provisioner that is not a superuser (tests/pg.ts).
 */
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createClient } from "@redis/client";
import { buildDatabaseUrl } from "../components/urls";
import { deriveNames } from "../config/naming";
import { REDIS_MARKER_KEY } from "../verify/live";
import { run } from "./cli";
import { REPO } from "./helpers";
import { createProvisioner, type Provisioner } from "./pg";
import { releaseRedisIndexes, reserveRedisIndex } from "./redis";

const env = `tcli${randomBytes(3).toString("hex")}`;
const other = `${env}x`;
const names = deriveNames(env);
const password = `p@ss:${randomBytes(6).toString("hex")}`;

/** The server's admin, not a superuser (tests/pg.ts): it provisions the environment as server mode's admin does. */
let provisioner: Provisioner;

describe("npm run verify -- --live (real PostgreSQL and Redis)", function () {
  this.timeout(60000);
  let work: string;
  let redisIndex = -1;

  before(async () => {
    provisioner = await createProvisioner();
    await provisioner.provision({ appRole: names.databaseRole, database: names.databaseName, password });
    redisIndex = await reserveRedisIndex(env);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-verify-live-"));
    // A project in which both test environments are stacks (verify refuses a stack it does not know).
    for (const f of ["Pulumi.yaml", "Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(work, f));
    for (const e of [env, other]) fs.writeFileSync(path.join(work, `Pulumi.${e}.yaml`), "config: {}\n");
    spawnSync("git", ["init", "-q"], { cwd: work });
    fs.writeFileSync(path.join(work, ".gitignore"), ".env.*.local\n");
  });

  after(async () => {
    const r = createClient({ url: `redis://127.0.0.1:6379/${redisIndex}` });
    await r.connect();
    if ([env, other].includes((await r.get(REDIS_MARKER_KEY)) ?? "")) await r.del(REDIS_MARKER_KEY);
    await r.quit();
    await releaseRedisIndexes(env);
    if (provisioner) {
      await provisioner.sql("postgres", `DROP DATABASE IF EXISTS ${names.databaseName} WITH (FORCE)`);
      await provisioner.sql("postgres", `DROP ROLE IF EXISTS ${names.databaseRole}`);
      await provisioner.drop();
    }
    fs.rmSync(work, { recursive: true, force: true });
  });

  const envFile = (environment: string) => {
    const n = deriveNames(environment);
    const values: Record<string, string> = {
      ENVIRONMENT: environment,
      DATABASE_URL: buildDatabaseUrl({ user: names.databaseRole, password, host: "127.0.0.1", port: 5432, database: names.databaseName, sslMode: "disable" }),
      REDIS_URL: `redis://127.0.0.1:6379/${redisIndex}`,
      AWS_S3_BUCKET: n.bucket,
      SHARE_BASE_URL: `https://${environment}.example.org`,
      SENTRY_ENVIRONMENT: environment,
      SLACK_CHANNEL: n.slackChannel,
      EMAIL_ENABLED: "false",
      SENDGRID_API_KEY: "",
    };
    const file = path.join(work, `.env.${environment}.local`);
    fs.writeFileSync(
      file,
      `${Object.entries(values)
        .map(([k, v]) => `${k}='${v}'`)
        .join("\n")}\n`,
      { mode: 0o600 },
    );
    return file;
  };
  const verify = async (file: string, ...extra: string[]) => {
    const r = await run("verify", [file, "--live", "--json", ...extra, "--dir", work, "--timeout", "3s"]);
    return {
      status: r.status,
      out: JSON.parse(r.stdout) as { ok: boolean; results: { item: string; ok: boolean; reason: string }[] },
      raw: r.stdout + r.stderr,
    };
  };
  const marker = (r: Awaited<ReturnType<typeof verify>>) => r.out.results.find((x) => x.item === "redis: environment marker")!;

  it("without --claim, an unmarked Redis database fails the marker item and stays unmarked", async () => {
    const r = await verify(envFile(env));
    assert.equal(r.status, 1);
    assert.equal(marker(r).ok, false);
    assert.equal(
      marker(r).reason,
      `no environment marker on 127.0.0.1:6379/${redisIndex}: the deploy job claims it with verify --live --claim right after pulumi up`,
    );
    const c = createClient({ url: `redis://127.0.0.1:6379/${redisIndex}` });
    await c.connect();
    try {
      assert.equal(await c.get(REDIS_MARKER_KEY), null);
    } finally {
      await c.quit();
    }
  });

  it("--claim without --live is a usage error", async () => {
    const r = await run("verify", [envFile(env), "--claim", "--dir", work]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "error: --claim needs --live: it sets the Redis environment marker on the live server\n");
    assert.equal(r.stdout, "");
  });

  it("with --claim passes every live item with the file's own credentials, and proves the role cannot open the other environments' databases", async () => {
    const r = await verify(envFile(env), "--claim");
    const live = r.out.results.filter((x) => /^(postgres|redis):/.test(x.item));
    assert.deepEqual(
      live.filter((x) => !x.ok),
      [],
      r.raw,
    );
    for (const item of [
      "postgres: connect",
      "postgres: database",
      "postgres: no access to mina_staging",
      "postgres: no access to mina_production",
      "postgres: sessions table",
      "redis: PING",
      "redis: environment marker",
    ]) {
      assert.ok(
        live.some((x) => x.item === item),
        item,
      );
    }
    assert.match(marker(r).reason, new RegExp(`claimed for ${env}$`));
    // Locally Redis has no TLS: the offline item says so, and it is the only failure.
    assert.deepEqual(
      r.out.results.filter((x) => !x.ok).map((x) => x.item),
      ["REDIS_URL is this environment's Redis, over TLS"],
    );
    assert.equal(r.status, 1);
    assert.ok(!r.raw.includes(password) && !r.raw.includes(encodeURIComponent(password)), "no password printed");
    // afterwards a plain verify reads the marker and passes it
    assert.equal(marker(await verify(envFile(env))).ok, true);
  });

  it("fails loudly when another environment's file points at the same Redis database, even with --claim", async () => {
    for (const extra of [[], ["--claim"]]) {
      const r = await verify(envFile(other), ...extra);
      assert.equal(marker(r).ok, false);
      assert.match(marker(r).reason, new RegExp(`this Redis database belongs to ${env}`));
      const db = r.out.results.find((x) => x.item === "postgres: database")!;
      assert.equal(db.ok, false, "its DATABASE_URL is the first environment's database");
    }
  });
});
