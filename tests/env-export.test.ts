/**
 * The checks `npm run env` makes before writing, in-process: values carrying
 * another environment's identifiers (as written or percent-decoded) and
 * connection URLs the strict parser refuses.
 */
import { strict as assert } from "node:assert";
import { foreignProblems } from "../envfiles/export";
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
    assert.deepEqual(problemsWith({ AWS_S3_BUCKET: "mina-audio-%70roduction" }), [`AWS_S3_BUCKET carries production's bucket "mina-audio-production" once percent-decoded`]);
  });

  it("still names an identifier written plainly without the note", () => {
    assert.deepEqual(problemsWith({ DATABASE_URL: "postgresql://u:p@host/mina_production" }), [`DATABASE_URL carries production's database name "mina_production"`]);
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
    assert.deepEqual(problemsWith({ REDIS_URL: "rediss://default:pw@a.upstash.io,b.upstash.io:6379" }), [`REDIS_URL: lists more than one host ("host1,host2"): only one host is accepted`]);
  });
});
