/**
 * One host, many names: a wildcard DNS name (`203.0.113.10.nip.io`) is the address
 * it spells out, and `mina:appHost` may only be an IPv4 address or a name in the
 * stack's own hosted zone, so another environment's address cannot come back under
 * a name. Hosts are compared by lib/hosts.ts everywhere (config checks here; audit
 * and verify --against in tests/audit.test.ts).
 */
import { strict as assert } from "node:assert";
import { normalizeValue, sharedValueProblems } from "../config/validation/checks";
import { embeddedAddress, hostIdentity, isCanonicalIPv4, wildcardDnsDomain } from "../lib/hosts";
import { productionRaw, stagingRaw, validationErrors } from "./helpers";

const errorsOf = (raw: ReturnType<typeof stagingRaw>, siblings = [raw.stack === "production" ? stagingRaw() : productionRaw(), raw]) =>
  validationErrors(raw, siblings);

describe("lib/hosts: the address a name spells out, in every wildcard DNS service's forms", () => {
  it("reads dotted, dashed, hex and IPv6 forms, with a prefix or a subdomain, in any case", () => {
    const cases: [string, string][] = [
      ["203.0.113.10.nip.io", "203.0.113.10"],
      ["app.203.0.113.10.nip.io", "203.0.113.10"],
      ["app-203-0-113-10.nip.io", "203.0.113.10"],
      ["203-0-113-10.NIP.IO.", "203.0.113.10"],
      ["cb00710a.nip.io", "203.0.113.10"],
      ["app-CB00710A.nip.io", "203.0.113.10"],
      ["203.0.113.10.sslip.io", "203.0.113.10"],
      ["www.203-0-113-10.sslip.io", "203.0.113.10"],
      ["www-203-0-113-10.sslip.io", "203.0.113.10"],
      ["--1.sslip.io", "::1"],
      ["2607-f8b0-400a-800--200e.sslip.io", "2607:f8b0:400a:800::200e"],
      ["203.0.113.10.xip.io", "203.0.113.10"],
      ["203.0.113.10.traefik.me", "203.0.113.10"],
      ["app-203-0-113-10.traefik.me", "203.0.113.10"],
      ["app.localtest.me", "127.0.0.1"],
      ["lvh.me", "127.0.0.1"],
      ["x.vcap.me", "127.0.0.1"],
      ["foo.localhost", "127.0.0.1"],
      ["203.000.113.010.nip.io", "203.0.113.10"],
    ];
    for (const [host, address] of cases) assert.equal(embeddedAddress(host), address, host);
  });

  it("knows the service of a name that spells out no address, and nothing of other names", () => {
    for (const host of ["nip.io", "app.nip.io", "256.0.0.1.nip.io", "x.sslip.io"]) {
      assert.equal(embeddedAddress(host), undefined, host);
      assert.ok(wildcardDnsDomain(host), host);
    }
    for (const host of ["app.example.net", "nip.io.example.net", "203.0.113.10.example.net", "mynip.io", "staging.mina.app"]) {
      assert.equal(wildcardDnsDomain(host), undefined, host);
      assert.equal(embeddedAddress(host), undefined, host);
    }
  });

  it("compares hosts by address: every spelling of one address is one host", () => {
    const same: string[][] = [
      ["203.0.113.10", "203.0.113.10.nip.io", "203-0-113-10.sslip.io", "app-cb00710a.nip.io", " 203.0.113.10.traefik.me."],
      ["127.0.0.1", "localhost", "LOCALHOST.", "::1", "[::1]", "0:0:0:0:0:0:0:1", "127.0.0.2", "app.localtest.me", "--1.sslip.io"],
      ["2001:db8::1", "[2001:DB8:0::1]", "2001-db8--1.sslip.io"],
      ["pg.internal.mina.app", "PG.Internal.Mina.App."],
    ];
    for (const group of same) for (const h of group) assert.equal(hostIdentity(h), hostIdentity(group[0]!), `${h} ~ ${group[0]}`);
    assert.notEqual(hostIdentity("203.0.113.11.nip.io"), hostIdentity("203.0.113.10"));
    assert.notEqual(hostIdentity("app.example.net"), hostIdentity("app.example.org"));
  });

  it("writes an IPv4 address canonically or not at all", () => {
    for (const a of ["203.0.113.10", "0.0.0.0", "10.0.0.1"]) assert.ok(isCanonicalIPv4(a), a);
    for (const a of ["203.0.113.010", "01.2.3.4", "127.1", "0x7f.0.0.1", "203.0.113.10.nip.io", "::1"]) assert.ok(!isCanonicalIPv4(a), a);
  });
});

describe("mina:appHost: an IPv4 address or a name in the stack's own zone", () => {
  const share = { "mina:shareDomain": "share.staging.mina.app", "mina:dnsZoneName": "staging.mina.app" };

  it("refuses production's address under a wildcard DNS name, in every form, from either side", () => {
    for (const host of [
      "203.0.113.10.nip.io",
      "app.203.0.113.10.nip.io",
      "203-0-113-10.sslip.io",
      "www-203-0-113-10.sslip.io",
      "cb00710a.nip.io",
      "203.0.113.10.xip.io",
      "203-0-113-10.traefik.me",
    ]) {
      const lines = errorsOf(stagingRaw({ ...share, "mina:appHost": host }));
      assert.ok(
        lines.includes(
          'Pulumi.staging.yaml: mina:appHost: holds "203.0.113.10", as Pulumi.production.yaml does: production, a production environment, shares no supplied value with another environment',
        ),
        `${host}\n${lines.join("\n")}`,
      );
      assert.ok(
        lines.some((l) =>
          new RegExp(
            `^Pulumi\\.staging\\.yaml: mina:appHost: "${host.toLowerCase().replace(/\./g, "\\.")}" is a name of the wildcard DNS service [a-z.]+, which resolves it to 203\\.0\\.113\\.10 by its text alone: write the address itself$`,
          ).test(l),
        ),
        `${host}\n${lines.join("\n")}`,
      );
    }
    // From production's side: staging's address under a name.
    const production = productionRaw({ "mina:appHost": "203-0-113-20.sslip.io" });
    const lines = errorsOf(production, [stagingRaw(), production]);
    assert.ok(
      lines.some((l) => l.startsWith('Pulumi.production.yaml: mina:appHost: holds "203.0.113.20", as Pulumi.staging.yaml does')),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => l.startsWith('Pulumi.production.yaml: mina:appHost: "203-0-113-20.sslip.io" is a name of the wildcard DNS service sslip.io')),
      lines.join("\n"),
    );
  });

  it("refuses any wildcard DNS name, even of an address no one else has", () => {
    for (const [host, expected] of [
      ["198.51.100.7.nip.io", /is a name of the wildcard DNS service nip\.io, which resolves it to 198\.51\.100\.7 by its text alone/],
      ["app.localtest.me", /is a name of the wildcard DNS service localtest\.me, which resolves it to 127\.0\.0\.1/],
      ["app.nip.io", /is a name of the wildcard DNS service nip\.io, which resolves names by their text, not by records this stack keeps/],
    ] as const) {
      const lines = errorsOf(stagingRaw({ ...share, "mina:appHost": host }));
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.match(lines[0]!, expected);
    }
  });

  it("refuses a name outside the stack's hosted zone, and the share domain itself", () => {
    for (const host of ["app.example.net", "mina.app", "app.mina.app", "staging.mina.app.example.net", "app.production.mina.app"]) {
      const lines = errorsOf(stagingRaw({ ...share, "mina:appHost": host }));
      assert.ok(
        lines.includes(
          `Pulumi.staging.yaml: mina:appHost: "${host}" is outside this stack's hosted zone "staging.mina.app": where a name outside it resolves is not this stack's to say (another environment's address could come back under it); use an IPv4 address, or a name in the zone`,
        ),
        `${host}\n${lines.join("\n")}`,
      );
    }
    assert.deepEqual(errorsOf(stagingRaw({ ...share, "mina:appHost": "Share.Staging.Mina.App." })), [
      "Pulumi.staging.yaml: mina:appHost: is the share domain itself: its record cannot point at its own name",
    ]);
  });

  it("accepts an IPv4 address and a name inside the zone (control)", () => {
    for (const host of ["203.0.113.20", "198.51.100.7", "app.staging.mina.app", "APP.Staging.Mina.App.", "staging.mina.app", "lb.eu.staging.mina.app"]) {
      assert.deepEqual(errorsOf(stagingRaw({ ...share, "mina:appHost": host })), [], host);
    }
  });

  it("refuses an address that is not written as a.b.c.d", () => {
    for (const host of ["203.0.113.010", "203.0.113", "01.2.3.4", "3405803786"]) {
      assert.deepEqual(
        errorsOf(stagingRaw({ ...share, "mina:appHost": host })),
        [`Pulumi.staging.yaml: mina:appHost: "${host}" is not an IPv4 address written as a.b.c.d (decimal, no leading zeros)`],
        host,
      );
    }
  });

  it("refuses a share domain or hosted zone of a wildcard DNS service", () => {
    const lines = errorsOf(stagingRaw({ "mina:shareDomain": "staging.203.0.113.10.nip.io", "mina:dnsZoneName": "nip.io", "mina:appHost": "203.0.113.20" }));
    assert.ok(
      lines.includes(
        'Pulumi.staging.yaml: mina:shareDomain: "staging.203.0.113.10.nip.io" is a name of the wildcard DNS service nip.io, whose names resolve by their text, not by the records of this stack\'s hosted zone',
      ),
      lines.join("\n"),
    );
    assert.ok(
      lines.includes(
        'Pulumi.staging.yaml: mina:dnsZoneName: "nip.io" is a name of the wildcard DNS service nip.io, whose names resolve by their text, not by the records of this stack\'s hosted zone',
      ),
      lines.join("\n"),
    );
  });

  it("compares app hosts and database servers by address between stack files", () => {
    for (const key of ["mina:appHost", "mina:dbServerHost"]) {
      assert.equal(normalizeValue(key, "10-0-0-5.sslip.io"), normalizeValue(key, "10.0.0.5"));
      assert.equal(normalizeValue(key, "localhost"), normalizeValue(key, "127.0.0.1"));
    }
    const eu = {
      ...productionRaw({ "mina:profile": "production", "mina:databaseMode": "server", "mina:dbServerHost": "10.0.0.5" }),
      stack: "eu",
      file: "Pulumi.eu.yaml",
    };
    const staging = stagingRaw({ "mina:dbServerHost": "10-0-0-5.nip.io" });
    assert.deepEqual(
      sharedValueProblems(staging, [staging, eu]).filter(([k]) => k === "mina:dbServerHost"),
      [["mina:dbServerHost", 'holds "10.0.0.5", as Pulumi.eu.yaml does: eu, a production environment, shares no supplied value with another environment']],
    );
  });
});
