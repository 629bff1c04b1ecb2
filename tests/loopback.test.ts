/**
 * Plain redis:// is accepted by verify only for the environment named exactly
 * `local`, and only on a loopback host; every other environment, and `local`
 * anywhere else, still needs TLS.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expectationsFor } from "../config/expectations";
import { isLoopbackHost, plainTransportAccepted } from "../lib/loopback";
import { ITEMS, offlineChecklist } from "../verify/checklist";
import { REPO } from "./helpers";

describe("loopback hosts", () => {
  it("accepts 127.0.0.0/8, ::1 in any spelling and localhost", () => {
    for (const host of ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "[::1]", "0:0:0:0:0:0:0:1", "localhost", "LOCALHOST", "localhost."]) {
      assert.equal(isLoopbackHost(host), true, host);
    }
  });

  it("refuses every other host, including look-alikes", () => {
    for (const host of [
      "0.0.0.0",
      "128.0.0.1",
      "10.0.0.1",
      "1.127.0.0",
      "::",
      "::ffff:127.0.0.1",
      "::2",
      "foo.localhost",
      "localhost.example.com",
      "127.0.0.1.nip.io",
      "pg-shared.internal.mina.app",
      "",
    ]) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  it("plain transport: local on loopback only; not LOCAL, local-x or staging", () => {
    assert.equal(plainTransportAccepted("local", "127.0.0.1"), true);
    assert.equal(plainTransportAccepted("local", "::1"), true);
    assert.equal(plainTransportAccepted("local", "10.1.2.3"), false);
    for (const env of ["LOCAL", "Local", "local-x", "xlocal", "staging", "production", " local"]) {
      assert.equal(plainTransportAccepted(env, "127.0.0.1"), false, env);
    }
  });
});

describe("verify: the REDIS_URL item and TLS", () => {
  let work: string;
  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-loopback-"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** The REDIS_URL line of the checklist for an env file of `environment` with this REDIS_URL. */
  function redisItem(environment: string, redisUrl: string) {
    const file = path.join(work, `.env.${environment}.local`);
    fs.writeFileSync(file, `ENVIRONMENT=${environment}\nREDIS_URL=${redisUrl}\n`, { mode: 0o600 });
    const results = offlineChecklist({ file, env: { ENVIRONMENT: environment, REDIS_URL: redisUrl }, expected: expectationsFor(REPO, environment) });
    const found = results.filter((r) => r.item === ITEMS.redis);
    assert.equal(found.length, 1, JSON.stringify(results));
    return found[0]!;
  }

  it("local on a loopback host: redis:// accepted, and the reason says so", () => {
    for (const url of ["redis://127.0.0.1:6379/0", "redis://localhost:6379/3", "redis://[::1]:6379", "redis://:pw@127.0.0.9:6380/1"]) {
      const item = redisItem("local", url);
      assert.equal(item.ok, true, `${url}: ${item.reason}`);
      assert.match(item.reason, /; plain redis:\/\/ accepted: local environment on a loopback address$/, url);
    }
    assert.ok(!redisItem("local", "redis://:pw-secret@127.0.0.1:6379/1").reason.includes("pw-secret"));
  });

  it("local over TLS: accepted without the note", () => {
    const item = redisItem("local", "rediss://127.0.0.1:6379/0");
    assert.equal(item.ok, true, item.reason);
    assert.doesNotMatch(item.reason, /plain/);
  });

  it("local on a host that is not loopback: refused, naming the host", () => {
    for (const url of ["redis://10.0.0.5:6379/0", "redis://cache.example.com:6379", "redis://0.0.0.0:6379", "redis://localhost.example.com:6379"]) {
      const item = redisItem("local", url);
      assert.equal(item.ok, false, url);
      assert.match(
        item.reason,
        /^REDIS_URL uses redis:\/\/ \(no TLS\) to .+, which is not a loopback address \(127\.0\.0\.0\/8, ::1, localhost\): plain redis:\/\/ is accepted only for the local environment on this machine$/,
        url,
      );
    }
  });

  it("staging, production and other names on a loopback host: still refused", () => {
    for (const env of ["staging", "production", "local-x", "xlocal", "dev"]) {
      const item = redisItem(env, "redis://127.0.0.1:6379/0");
      assert.equal(item.ok, false, env);
      assert.equal(item.reason, "REDIS_URL uses redis:// (no TLS); Upstash databases are reached with rediss://", env);
    }
  });

  it("LOCAL is not local", () => {
    const file = path.join(work, ".env.LOCAL.local");
    fs.writeFileSync(file, "REDIS_URL=redis://127.0.0.1:6379/0\n", { mode: 0o600 });
    const expected = { ...expectationsFor(REPO, "local"), environment: "LOCAL" };
    const item = offlineChecklist({ file, env: { REDIS_URL: "redis://127.0.0.1:6379/0" }, expected }).find((r) => r.item === ITEMS.redis)!;
    assert.equal(item.ok, false);
    assert.match(item.reason, /Upstash databases are reached with rediss:\/\//);
  });
});
