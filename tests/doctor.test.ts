/**
 * `doctor`: what must be true before a stack's first `pulumi up`, checked against
 * real local servers: moto's AWS API (STS, Route53), a DNS server on loopback
 * (dns2) answering delegated and undelegated zones, this machine's PostgreSQL with
 * non-superuser admin roles of just the right, too much and too little power, and
 * HTTP servers on loopback standing in for the Upstash and Sentry APIs.
 */
import { GetHostedZoneCommand, NoSuchHostedZone, Route53Client } from "@aws-sdk/client-route-53";
import { mockClient } from "aws-sdk-client-mock";
import { strict as assert } from "node:assert";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { placeholderReason, placeholders } from "../doctor/placeholders";
import { run, spawnCliAsync, withoutNpm } from "./cli";
import { PRODUCTION_ACCOUNT, productionRaw, REPO, stagingRaw } from "./helpers";
import { type Moto, startMoto } from "./moto";

// eslint-disable-next-line @typescript-eslint/no-require-imports
/** The account of the stack the live items check: moto's, not one of the documentation's examples. */
const ACCOUNT = "493827160553";

const dns2 = require("dns2") as { createServer(o: unknown): DnsServer; Packet: DnsPacket };
interface DnsServer {
  listen(o: unknown): Promise<unknown>;
  addresses(): { udp?: { port: number } };
  close(): Promise<void>;
}
interface DnsPacket {
  createResponseFromRequest(r: unknown): { answers: unknown[]; header: { rcode: number } };
  TYPE: Record<string, number>;
  CLASS: Record<string, number>;
}

describe("doctor: example values in a stack file", () => {
  it("names documentation account ids, EXAMPLE ids, documentation address ranges, reserved domains and example resource ids", () => {
    for (const [value, why] of [
      ["123456789012", /example AWS account id/],
      ["111122223333", /example AWS account id/],
      ["999999999999", /example AWS account id/],
      ["Z0STAGING0EXAMPLE", /EXAMPLE/],
      ["203.0.113.20", /reserved for documentation/],
      ["198.51.100.0/24", /reserved for documentation/],
      ["192.0.2.7", /reserved for documentation/],
      ["2001:db8::1", /2001:db8::\/32/],
      ["pg.example.com", /RFC 2606|EXAMPLE/],
      ["postgres://admin@db.staging.test:5432", /RFC 2606/],
      ["db.example", /RFC 2606|EXAMPLE/],
      ["vpc-0a1b2c3d4e5f60001", /example resource id/],
      ["changeme", /placeholder word/],
    ] as const) {
      assert.match(placeholderReason(value) ?? "(none)", why, value);
    }
    for (const real of [
      "493827160553",
      "Z04417391TQ2ZP6HLMJXA",
      "52.44.10.8",
      "10.20.0.0/16",
      "pg.staging.mina.app",
      "vpc-07e3b5a9c1d2f4e61",
      "upstash-staging@mina.app",
      "mina-staging",
    ]) {
      assert.equal(placeholderReason(real), undefined, real);
    }
  });

  it("finds them in every key and list entry, never reading a secret", () => {
    const found = placeholders(stagingRaw()).map((p) => p.key);
    assert.deepEqual(found.sort(), ["aws:allowedAccountIds[0]", "mina:appHost"].sort());
    assert.deepEqual(
      placeholders(productionRaw()).map((p) => p.key),
      ["aws:allowedAccountIds[0]", "mina:vpcId", "mina:dbSubnetIds[0]", "mina:dbSubnetIds[1]", "mina:appHost"],
    );
  });

  it("refuses the committed stack files as they are (their values are examples), in one line with exit 1, through the bin", async () => {
    const r = await spawnCliAsync("doctor", ["--stack", "production", "--only", "placeholders"]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^✗ placeholders: Pulumi\.production\.yaml: aws:allowedAccountIds\[0\] is an example AWS account id/m);
    assert.match(r.stdout, /mina:dnsZoneId holds EXAMPLE/);
    assert.match(r.stdout, /^1 of 1 checks failed$/m);
  });
});

/** A DNS server on 127.0.0.1 answering NS queries from `zones` (name -> name servers); other names NXDOMAIN. */
async function dnsServer(zones: Record<string, string[]>): Promise<{ resolver: string; close(): Promise<void> }> {
  const { Packet } = dns2;
  const server = dns2.createServer({
    udp: true,
    handle: (request: { questions: { name: string; type: number }[] }, send: (r: unknown) => void) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      const name = q.name.toLowerCase().replace(/\.$/, "");
      const ns = zones[name];
      if (!ns) response.header.rcode = 3;
      else if (q.type === Packet.TYPE.NS)
        for (const n of ns) response.answers.push({ name: q.name, type: Packet.TYPE.NS, class: Packet.CLASS.IN, ttl: 60, ns: n });
      send(response);
    },
  });
  await server.listen({ udp: { port: 0, address: "127.0.0.1" } });
  return { resolver: `127.0.0.1:${server.addresses().udp!.port}`, close: () => server.close() };
}

/** An HTTP server on 127.0.0.1 that answers 200 with `body` when the Authorization header is `accepted`, else 401. */
async function apiServer(accepted: string, body: unknown = []): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const s = http.createServer((req, res) => {
    paths.push(req.url ?? "");
    const okAuth = req.headers.authorization === accepted;
    res.writeHead(okAuth ? 200 : 401, { "content-type": "application/json" }).end(okAuth ? JSON.stringify(body) : '{"error":"unauthorized"}');
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`,
    paths,
    close: () => new Promise((r) => s.close(() => r())),
  };
}

describe("doctor: live items against local servers", function () {
  this.timeout(60_000);
  const id = randomBytes(3).toString("hex");
  const roles = { right: `doc_admin_${id}`, superuser: `doc_super_${id}`, weak: `doc_weak_${id}` };
  let moto: Moto;
  const route53 = mockClient(Route53Client);
  let work: string;
  let zoneId = "";
  let zoneName = "";
  let nameServers: string[] = [];
  const superuser = async (sql: string) => {
    const c = new Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres" });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };

  before(async () => {
    moto = await startMoto();
    // The roles doctor judges: the documented admin, one with too much power, one with too little (the superuser only creates them).
    await superuser(`CREATE ROLE ${roles.right} LOGIN CREATEDB CREATEROLE NOSUPERUSER PASSWORD 'doc-pass'`);
    await superuser(`CREATE ROLE ${roles.superuser} LOGIN SUPERUSER PASSWORD 'doc-pass'`);
    await superuser(`CREATE ROLE ${roles.weak} LOGIN CREATEDB NOSUPERUSER PASSWORD 'doc-pass'`);
    zoneName = `doc-${id}.mina.app`;
    zoneId = "Z04417391TQ2ZP6HLMJXA";
    nameServers = ["ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com", "ns-1024.awsdns-00.org", "ns-512.awsdns-00.net"];
    // Route53 as the SDK sees it (moto's zone ids do not have Route53's form).
    route53
      .on(GetHostedZoneCommand, { Id: zoneId })
      .resolves({ HostedZone: { Id: `/hostedzone/${zoneId}`, Name: `${zoneName}.`, CallerReference: id }, DelegationSet: { NameServers: nameServers } });
    route53
      .on(GetHostedZoneCommand, { Id: "Z0MISSING1ZONE" })
      .rejects(new NoSuchHostedZone({ message: "No hosted zone found with ID: Z0MISSING1ZONE", $metadata: {} }));
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-doctor-"));
  });

  after(async () => {
    route53.restore();
    await moto?.stop();
    for (const r of Object.values(roles)) await superuser(`DROP ROLE IF EXISTS ${r}`);
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  /** A project with a staging stack file of real-looking values pointing at the local servers. */
  const project = (over: Record<string, string> = {}) => {
    const dir = fs.mkdtempSync(path.join(work, "p-"));
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.copyFileSync(path.join(REPO, "Pulumi.production.yaml"), path.join(dir, "Pulumi.production.yaml"));
    const values: Record<string, string> = {
      "aws:region": "us-east-1",
      "aws:allowedAccountIds": `["${ACCOUNT}"]`,
      "upstash:email": "ops+staging@mina.app",
      "mina:deployRunner": "[self-hosted, mina-staging]",
      "mina:databaseMode": "server",
      "mina:dbServerHost": "127.0.0.1",
      "mina:dbServerAdminUser": roles.right,
      "mina:dbServerSslMode": "disable",
      "mina:shareDomain": `staging.${zoneName}`,
      "mina:dnsZoneId": zoneId,
      "mina:dnsZoneName": zoneName,
      "mina:appHost": "52.44.10.8",
      "mina:sentryOrganization": "mina",
      "mina:sentryTeam": "core",
      ...over,
    };
    fs.writeFileSync(
      path.join(dir, "Pulumi.staging.yaml"),
      "config:\n" +
        Object.entries(values)
          .map(([k, v]) => `  ${k}: ${v}\n`)
          .join(""),
    );
    return dir;
  };

  it("passes every item for a stack that is ready, as JSON, with no secret in the output (through the bin)", async () => {
    const dns = await dnsServer({ [zoneName]: nameServers });
    const upstash = await apiServer(`Basic ${Buffer.from("ops+staging@mina.app:upstash-key-123").toString("base64")}`);
    const sentry = await apiServer("Bearer sentry-token-456");
    try {
      const env = {
        ...(await moto.env(ACCOUNT)),
        DB_SERVER_ADMIN_PASSWORD: "doc-pass",
        UPSTASH_API_KEY: "upstash-key-123",
        SENTRY_AUTH_TOKEN: "sentry-token-456",
        MINA_UPSTASH_API: upstash.url,
        MINA_SENTRY_API: sentry.url,
      };
      const dir = project();
      const r = await spawnCliAsync(
        "doctor",
        ["--stack", "staging", "--dir", dir, "--only", "placeholders,aws,database,upstash,sentry", "--resolver", dns.resolver, "--json", "--timeout", "2s"],
        { env },
      );
      assert.ok(r.stdout.startsWith("{"), r.stderr);
      const out = JSON.parse(r.stdout) as { ok: boolean; results: { item: string; ok: boolean; reason: string }[] };
      assert.deepEqual(
        out.results.filter((x) => !x.ok),
        [],
        r.stdout,
      );
      assert.equal(out.ok, true);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(
        out.results.map((x) => x.item),
        ["placeholders", "aws", "database", "upstash", "sentry"],
      );
      // The zone item, in-process: the Route53 client mocked, the DNS server real.
      const zone = await run("doctor", ["--stack", "staging", "--dir", dir, "--only", "zone", "--resolver", dns.resolver, "--json"], {
        env: withoutNpm(process.env),
      });
      assert.equal(zone.status, 0, zone.stdout);
      assert.match(
        JSON.parse(zone.stdout).results[0].reason,
        new RegExp(`${zoneName.replace(/\./g, "\\.")} \\(${zoneId}\\) is in the account and delegated to its 4 name servers`),
      );
      assert.deepEqual(upstash.paths, ["/v2/redis/databases"]);
      assert.deepEqual(sentry.paths, ["/api/0/organizations/mina/"]);
      for (const secret of ["doc-pass", "upstash-key-123", "sentry-token-456"]) assert.ok(!(r.stdout + r.stderr).includes(secret), secret);
    } finally {
      await Promise.all([dns.close(), upstash.close(), sentry.close()]);
    }
  });

  it("fails the account item for another account's credentials, and the zone item for a zone that is not delegated or not there", async () => {
    const dns = await dnsServer({ [zoneName]: ["ns1.other-dns.net", "ns2.other-dns.net"] });
    try {
      const wrong = await spawnCliAsync("doctor", ["--stack", "staging", "--dir", project(), "--only", "aws", "--json"], {
        env: await moto.env(PRODUCTION_ACCOUNT),
      });
      assert.equal(wrong.status, 1);
      assert.match(
        JSON.parse(wrong.stdout).results[0].reason,
        new RegExp(`the credentials are for account ${PRODUCTION_ACCOUNT}, but Pulumi\\.staging\\.yaml pins ${ACCOUNT}`),
      );
      const env = withoutNpm(process.env);
      const undelegated = await run("doctor", ["--stack", "staging", "--dir", project(), "--only", "zone", "--resolver", dns.resolver, "--json"], { env });
      assert.equal(undelegated.status, 1);
      assert.match(
        JSON.parse(undelegated.stdout).results[0].reason,
        /is delegated to ns1\.other-dns\.net, ns2\.other-dns\.net, not to the zone's name servers/,
      );
      const nowhere = await dnsServer({});
      try {
        const none = await run("doctor", ["--stack", "staging", "--dir", project(), "--only", "zone", "--resolver", nowhere.resolver, "--json"], { env });
        assert.match(JSON.parse(none.stdout).results[0].reason, /has no NS records where the parent domain delegates \(ENOTFOUND\)/);
      } finally {
        await nowhere.close();
      }
      const missing = await run("doctor", ["--stack", "staging", "--dir", project({ "mina:dnsZoneId": "Z0MISSING1ZONE" }), "--only", "zone", "--json"], {
        env,
      });
      assert.match(JSON.parse(missing.stdout).results[0].reason, /hosted zone Z0MISSING1ZONE does not exist in this account/);
    } finally {
      await dns.close();
    }
  });

  it("judges the admin role: exactly LOGIN, CREATEDB, CREATEROLE and no superuser; too much and too little both fail", async () => {
    const db = (user: string, extra: Record<string, string> = {}) =>
      run("doctor", ["--stack", "staging", "--dir", project({ "mina:dbServerAdminUser": user, ...extra }), "--only", "database", "--json", "--timeout", "1s"], {
        env: { ...withoutNpm(process.env), DB_SERVER_ADMIN_PASSWORD: "doc-pass" },
      });
    const right = await db(roles.right);
    assert.equal(right.status, 0, right.stdout);
    const tooMuch = JSON.parse((await db(roles.superuser)).stdout).results[0];
    assert.equal(tooMuch.ok, false);
    assert.match(tooMuch.reason, /it must be [A-Z, ]*not SUPER$/);
    const tooLittle = JSON.parse((await db(roles.weak)).stdout).results[0];
    assert.match(tooLittle.reason, /it must be CREATEROLE$/);
    const closed = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
    });
    const unreachable = JSON.parse((await db(roles.right, { "mina:dbServerPort": String(closed) })).stdout).results[0];
    assert.match(unreachable.reason, new RegExp(`127\\.0\\.0\\.1:${closed} cannot be reached from here: ECONNREFUSED`));
    assert.match(unreachable.fix, /inside the database's network \(mina:deployRunner\)/);
  });

  it("fails the Upstash and Sentry items when their APIs refuse the credentials or the secrets are not set", async () => {
    const upstash = await apiServer("Basic nothing-matches");
    const sentry = await apiServer("Bearer nothing-matches");
    try {
      const env = {
        ...withoutNpm(process.env),
        UPSTASH_API_KEY: "wrong",
        SENTRY_AUTH_TOKEN: "wrong",
        MINA_UPSTASH_API: upstash.url,
        MINA_SENTRY_API: sentry.url,
      };
      const r = await run("doctor", ["--stack", "staging", "--dir", project(), "--only", "upstash,sentry", "--json"], { env });
      const [u, s] = JSON.parse(r.stdout).results;
      assert.equal(r.status, 1);
      assert.equal(u.reason, "the Upstash API did not accept ops+staging@mina.app's key: answered 401");
      assert.equal(s.reason, "the Sentry API did not accept the token for mina: answered 401");
      const unset = await run("doctor", ["--stack", "staging", "--dir", project(), "--only", "upstash"], { env: withoutNpm(process.env) });
      // A key that reaches production's Redis database is production's account, whatever the email says.
      const shared = await apiServer(`Basic ${Buffer.from("ops+staging@mina.app:k").toString("base64")}`, [
        { database_name: "mina-staging-old", customer_id: "x" },
        { database_name: "mina-production", customer_id: "x" },
      ]);
      try {
        const p = await run("doctor", ["--stack", "staging", "--dir", project(), "--only", "upstash", "--json"], {
          env: { ...withoutNpm(process.env), UPSTASH_API_KEY: "k", MINA_UPSTASH_API: shared.url },
        });
        assert.equal(p.status, 1);
        assert.equal(
          JSON.parse(p.stdout).results[0].reason,
          "ops+staging@mina.app's key reaches production's Redis database mina-production: this is production's Upstash account",
        );
      } finally {
        await shared.close();
      }
      assert.match(unset.stdout, /✗ upstash: the Upstash key of ops\+staging@mina\.app was not checked: UPSTASH_API_KEY is not set/);
    } finally {
      await Promise.all([upstash.close(), sentry.close()]);
    }
  });

  it("refuses an unknown item or resolver as a usage error (exit 2), through the bin", async () => {
    const r = await spawnCliAsync("doctor", ["--stack", "staging", "--only", "placeholders,dns"]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'error: --only takes placeholders, aws, zone, database, upstash, sentry; got "placeholders,dns"\n');
    const res = await spawnCliAsync("doctor", ["--stack", "staging", "--resolver", "8.8.8.8; rm -rf /"]);
    assert.equal(res.status, 2);
  });
});
