/**
 * Blue/green: the smoke check against a real HTTP server on 127.0.0.1; the swap
 * decision on recorded checklist and smoke results; the share domain's weighted
 * records, under the mock runtime and in the plan diff (becoming a front and a
 * swap update the same record); the stack-file edit; and `swap` itself, in-process
 * and through the bin, against real PostgreSQL, Redis over TLS and version endpoints.
 */
import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { type ColourProof, decideSwap, editStackFile, type KeyChange, nextSteps, type SwapRequest, swapTarget } from "../ops/swap";
import { CANARY_SET_IDENTIFIER, canaryRecordArgs, SHARE_SET_IDENTIFIER, shareRecordArgs } from "../components/dns";
import { CommandError } from "../lib/errors";
import type { Front } from "../config/stackConfig";
import type { CheckResult } from "../verify/live";
import { smokeCheck } from "../verify/smoke";
import { GIT_ENV } from "./helpers";

/** A server on 127.0.0.1 whose answers the test sets per request path. */
function server(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
  let hits = 0;
  const s = http.createServer((req, res) => {
    hits++;
    handler(req, res);
  });
  return new Promise((resolve) =>
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/api/version`,
        hits: () => hits,
        close: () =>
          new Promise((r) => {
            s.closeAllConnections();
            s.close(() => r());
          }),
      });
    }),
  );
}

const json = (status: number, body: unknown) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};

describe("smoke check: GET /api/version reports the environment", function () {
  this.timeout(20000);

  it("passes on a 200 that reports the expected environment", async () => {
    const s = await server(json(200, { environment: "staging-green", version: "abc" }));
    try {
      const r = await smokeCheck(s.url, "staging-green");
      assert.deepEqual([r.ok, r.status, r.environment, r.attempts], [true, 200, "staging-green", 1]);
      assert.equal(r.reason, `GET ${s.url} answered 200, environment "staging-green"`);
    } finally {
      await s.close();
    }
  });

  it("fails, naming both, when another environment answers on this host, and does not retry that", async () => {
    const s = await server(json(200, { environment: "production" }));
    try {
      const r = await smokeCheck(s.url, "staging", { retries: 3, backoffMs: 10 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, `GET ${s.url} reports environment "production", but this is staging's host: another environment is answering here`);
      assert.equal(s.hits(), 1);
    } finally {
      await s.close();
    }
  });

  it("retries a 500 with backoff while a deploy rolls out, then passes", async () => {
    let n = 0;
    const s = await server((req, res) => (++n < 3 ? json(500, {})(req, res) : json(200, { environment: "staging" })(req, res)));
    try {
      const r = await smokeCheck(s.url, "staging", { retries: 3, backoffMs: 10 });
      assert.deepEqual([r.ok, r.attempts], [true, 3]);
    } finally {
      await s.close();
    }
  });

  it("fails on a 500 that stays, after its retries", async () => {
    const s = await server(json(500, { error: "boom" }));
    try {
      const r = await smokeCheck(s.url, "staging", { retries: 1, backoffMs: 10 });
      assert.deepEqual([r.ok, r.status, r.attempts, r.reason], [false, 500, 2, `GET ${s.url} answered 500`]);
    } finally {
      await s.close();
    }
  });

  it("fails within its timeout when the server does not answer", async () => {
    const s = await server(() => undefined);
    try {
      const t0 = Date.now();
      const r = await smokeCheck(s.url, "staging", { timeoutMs: 300 });
      assert.equal(r.ok, false);
      assert.equal(r.reason, `GET ${s.url}: no answer within 300 ms`);
      assert.ok(Date.now() - t0 < 3000);
    } finally {
      await s.close();
    }
  });

  it("refuses a redirect to another host instead of following it", async () => {
    const s = await server((_req, res) => {
      res.writeHead(302, { location: "https://mina.app/api/version" });
      res.end();
    });
    try {
      const r = await smokeCheck(s.url, "staging");
      assert.equal(r.ok, false);
      assert.equal(r.reason, `GET ${s.url} answered 302, a redirect to mina.app: the version endpoint must answer itself`);
    } finally {
      await s.close();
    }
  });

  it("fails on a body that is not JSON or has no environment", async () => {
    const s = await server((req, res) => {
      if (req.url !== "/api/version") return json(200, { version: 1 })(req, res);
      res.writeHead(200);
      res.end("<html>");
    });
    try {
      assert.equal((await smokeCheck(s.url, "staging")).reason, `GET ${s.url} answered 200 but not JSON`);
      const other = s.url.replace("/api/version", "/other");
      assert.equal((await smokeCheck(other, "staging")).reason, `GET ${other} answered 200 with no "environment"`);
    } finally {
      await s.close();
    }
  });
});

describe("swap decision", () => {
  const ok: CheckResult[] = [
    { item: "ENVIRONMENT matches the stack", ok: true, reason: "ENVIRONMENT=staging-green" },
    { item: "redis: environment marker", ok: true, reason: "says staging-green" },
  ];
  const smokeOk = { ok: true, reason: "GET https://green.staging.mina.app/api/version answered 200", attempts: 1 };
  const proof = (stack: string, over: Partial<ColourProof> = {}): ColourProof => ({ stack, checklist: ok, smoke: smokeOk, ...over });
  const request = (over: Partial<SwapRequest> = {}): SwapRequest => ({ front: "staging", current: "blue", to: "green", currentCanary: 0, ...over });
  const green = { green: proof("staging-green") };

  it("flips the live colour by changing mina:liveColour when the colour proved itself", () => {
    const d = decideSwap(request(), green);
    assert.equal(d.ok, true);
    assert.deepEqual(d.changes, [{ key: "mina:liveColour", from: "blue", to: "green" }]);
    assert.deepEqual(d.serving, ["green"]);
    assert.match(d.reasons[0], /staging sends 100% of traffic to green \(was: blue live, 0% canary\); roll back with --to blue$/);
  });

  it("refuses when any checklist item failed, naming it, and changes nothing", () => {
    const d = decideSwap(request(), {
      green: proof("staging-green", { checklist: [...ok, { item: "postgres: connect", ok: false, reason: "cannot connect" }] }),
    });
    assert.equal(d.ok, false);
    assert.deepEqual(d.reasons, ["staging-green: ✗ postgres: connect: cannot connect"]);
    assert.deepEqual(d.changes, []);
  });

  it("refuses when the smoke check failed, verify did not run, or the colour was not checked at all", () => {
    assert.deepEqual(decideSwap(request(), { green: proof("staging-green", { smoke: { ok: false, reason: "GET x answered 500", attempts: 3 } }) }).reasons, [
      "staging-green: smoke check failed: GET x answered 500",
    ]);
    assert.deepEqual(decideSwap(request(), { green: proof("staging-green", { checklist: [] }) }).reasons, [
      "staging-green: no checklist result: verify did not run",
    ]);
    assert.deepEqual(decideSwap(request(), { blue: proof("staging-blue") }).reasons, ["staging-green: not checked, but it would take 100% of the traffic"]);
  });

  it("with a canary share, the other colour takes traffic too, so it must prove itself as well", () => {
    const t = swapTarget(request({ to: "blue", canary: 10 }));
    assert.deepEqual([t.live, t.canary, t.serving], ["blue", 10, ["blue", "green"]]);
    assert.deepEqual(t.changes, [{ key: "mina:canaryPercent", from: 0, to: 10 }]);
    // blue is live and proved; green would get 10% and did not prove itself
    const refused = decideSwap(request({ to: "blue", canary: 10 }), {
      blue: proof("staging-blue"),
      green: proof("staging-green", { smoke: { ok: false, reason: "GET y answered 502", attempts: 1 } }),
    });
    assert.deepEqual([refused.ok, refused.reasons], [false, ["staging-green: smoke check failed: GET y answered 502"]]);
    assert.deepEqual(decideSwap(request({ to: "blue", canary: 10 }), { blue: proof("staging-blue") }).reasons, [
      "staging-green: not checked, but it would take 10% of the traffic",
    ]);
    const both = decideSwap(request({ to: "blue", canary: 10 }), { blue: proof("staging-blue"), green: proof("staging-green") });
    assert.equal(both.ok, true);
    assert.match(both.reasons[0], /90% of traffic to blue and 10% to green \(was: blue live, 0% canary\); roll back with --to blue --canary 0$/);
    // a share of 0 takes no traffic: only the target is checked
    assert.deepEqual(swapTarget(request({ currentCanary: 10, canary: 0 })).serving, ["green"]);
  });

  it("writes mina:canaryPercent only when it changes, as unset when the file does not set it, and changes nothing when the colour is already live with that share", () => {
    assert.deepEqual(swapTarget(request({ canary: 10, canarySet: false })).changes, [
      { key: "mina:liveColour", from: "blue", to: "green" },
      { key: "mina:canaryPercent", to: 10 },
    ]);
    assert.deepEqual(swapTarget(request({ canary: 0, canarySet: false })).changes, [{ key: "mina:liveColour", from: "blue", to: "green" }]);
    const same = decideSwap(request({ to: "blue" }), { blue: proof("staging-blue") });
    assert.deepEqual([same.ok, same.changes], [true, []]);
    assert.equal(same.reasons[0], "blue is already staging's live colour with 0% canary: nothing to change");
  });

  it("says what to run next: review, commit, pull request; the deploy workflow on main, or a dispatch for a production-tier stack", () => {
    const steps = nextSteps({ front: "staging", to: "green", canary: 10, file: "Pulumi.staging.yaml", productionTier: false });
    assert.deepEqual(steps.slice(0, 3), [
      "git diff -- Pulumi.staging.yaml",
      "git switch -c swap-staging-green-canary-10",
      'git commit -m "staging: send 90% of traffic to green, 10% to blue" -- Pulumi.staging.yaml',
    ]);
    assert.match(steps[4], /^merge it: on the push to main the deploy workflow deploys staging through preview, the data-safety gate and pulumi up --plan$/);
    const prod = nextSteps({ front: "eu", to: "blue", canary: 0, file: "Pulumi.eu.yaml", productionTier: true });
    assert.match(prod[4], /^merge it, then dispatch the deploy workflow with stack: eu /);
    assert.ok(!prod.some((l) => /pulumi up --stack|--yes/.test(l)), "never a pulumi command to run by hand");
  });
});

describe("editing the front's stack file: the intended key, and nothing else", () => {
  const FILE = `# The staging front.
config:
  aws:region: us-east-1   # spacing kept
  aws:allowedAccountIds: ["210987654321"]
  # which colour serves staging.mina.app
  mina:liveColour: blue    # changed by npm run swap
  mina:openaiApiKey:
    secure: v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==
# after config
`;
  const differing = (a: string, b: string) => {
    const x = a.split("\n");
    const y = b.split("\n");
    return { removed: x.filter((l) => !y.includes(l)), added: y.filter((l) => !x.includes(l)), lines: [x.length, y.length] };
  };

  it("replaces only the value's characters: comments, spacing, quoting and every other line stay byte for byte", () => {
    const out = editStackFile(FILE, "Pulumi.staging.yaml", [{ key: "mina:liveColour", from: "blue", to: "green" }]);
    assert.equal(out, FILE.replace("mina:liveColour: blue    #", "mina:liveColour: green    #"));
  });

  it("adds a key the file lacks as the last entry of config, indented like the others, after a nested value", () => {
    const out = editStackFile(FILE, "Pulumi.staging.yaml", [{ key: "mina:canaryPercent", to: 10 }]);
    assert.deepEqual(differing(FILE, out), { removed: [], added: ["  mina:canaryPercent: 10"], lines: [10, 11] });
    assert.ok(
      out.indexOf("  mina:canaryPercent: 10\n") > out.indexOf("secure: v1:") && out.indexOf("  mina:canaryPercent: 10\n") < out.indexOf("# after config"),
    );
  });

  it("finds a key written without its namespace, and a quoted value; keeps CRLF line ends", () => {
    const text = 'config:\r\n  liveColour: blue\r\n  mina:canaryPercent: "5"\r\n';
    const out = editStackFile(text, "Pulumi.staging.yaml", [
      { key: "mina:liveColour", from: "blue", to: "green" },
      { key: "mina:canaryPercent", from: 5, to: 20 },
    ]);
    assert.equal(out, "config:\r\n  liveColour: green\r\n  mina:canaryPercent: 20\r\n");
    assert.equal(
      editStackFile("config:\r\n  mina:liveColour: blue", "f", [{ key: "mina:canaryPercent", to: 1 }]),
      "config:\r\n  mina:liveColour: blue\r\n  mina:canaryPercent: 1\r\n",
    );
  });

  it("refuses, in one line naming the file, what it cannot change alone", () => {
    const refused = (text: string, change: KeyChange = { key: "mina:liveColour", to: "green" }) => {
      try {
        editStackFile(text, "Pulumi.staging.yaml", [change]);
      } catch (e) {
        assert.ok(e instanceof CommandError);
        assert.ok(!(e as Error).message.includes("\n"));
        return (e as Error).message;
      }
      assert.fail("not refused");
    };
    assert.match(
      refused("config: {mina:liveColour: blue}\n"),
      /^Pulumi\.staging\.yaml: config is not a block mapping of keys, so mina:liveColour cannot be changed alone; change it by hand$/,
    );
    assert.match(refused("config:\n  mina:liveColour: &c blue\n  other: *c\n"), /^Pulumi\.staging\.yaml: mina:liveColour is not a plain value/);
    assert.match(refused("config:\n  mina:liveColour: [blue]\n"), /^Pulumi\.staging\.yaml: mina:liveColour is not a plain value/);
    assert.match(refused("config:\n  a: 1\n  a: 2\n"), /^Pulumi\.staging\.yaml: not valid YAML: /);
    assert.match(refused("nothing: here\n"), /^Pulumi\.staging\.yaml: config is not a block mapping/);
  });
});

describe("the share domain's weighted records", () => {
  const front: Front = {
    live: "green",
    canaryPercent: 10,
    colours: { blue: { stack: "staging-blue", host: "blue.staging.mina.app" }, green: { stack: "staging-green", host: "green.staging.mina.app" } },
  };
  const base = { shareDomain: "staging.mina.app", zoneId: "Z0STAGING" };

  it("outside a front: one record, weighted 100 under the set identifier every stack keeps, A for an IPv4 address and CNAME for a hostname", () => {
    const a = shareRecordArgs({ ...base, appHost: "203.0.113.20" });
    assert.deepEqual(a, {
      zoneId: "Z0STAGING",
      name: "staging.mina.app",
      setIdentifier: SHARE_SET_IDENTIFIER,
      allowOverwrite: false,
      type: "A",
      ttl: 60,
      records: ["203.0.113.20"],
      weightedRoutingPolicies: [{ weight: 100 }],
    });
    const cname = shareRecordArgs({ shareDomain: "app.staging.mina.app", zoneId: "Z0STAGING", appHost: "mina-staging.example.net" });
    assert.deepEqual(
      [cname.type, cname.setIdentifier, cname.weightedRoutingPolicies, cname.records],
      ["CNAME", "live", [{ weight: 100 }], ["mina-staging.example.net"]],
    );
  });

  it("on a front: the same record aliases the live colour, weighted 100 - canary; a second weighted alias sends the canary share to the other colour", () => {
    const share = shareRecordArgs({ ...base, appHost: "", front });
    const canary = canaryRecordArgs({ ...base, front });
    assert.deepEqual(
      [share, canary].map((r) => [
        r.name,
        r.type,
        r.setIdentifier,
        r.weightedRoutingPolicies[0].weight,
        r.aliases![0].name,
        r.aliases![0].zoneId,
        r.ttl,
        r.records,
      ]),
      [
        ["staging.mina.app", "A", "live", 90, "green.staging.mina.app", "Z0STAGING", undefined, undefined],
        ["staging.mina.app", "A", "canary", 10, "blue.staging.mina.app", "Z0STAGING", undefined, undefined],
      ],
    );
    assert.equal(CANARY_SET_IDENTIFIER, "canary");
  });
});

describe("a blue/green front in config", () => {
  const { validateStack } = require("../config/validation/validate") as typeof import("../config/validation/validate");
  const { ConfigErrors } = require("../config/raw") as typeof import("../config/raw");
  const { productionRaw, stagingRaw } = require("./helpers") as typeof import("./helpers");
  const colour = (c: "blue" | "green", over: Record<string, unknown> = {}) =>
    stagingRaw(
      {
        "mina:shareDomain": `${c}.staging.mina.app`,
        "mina:dnsZoneName": "staging.mina.app",
        "mina:dnsZoneId": "Z0STAGINGZONE",
        "mina:appHost": c === "blue" ? "203.0.113.21" : "203.0.113.22",
        ...over,
      },
      `staging-${c}`,
    );
  const front = (over: Record<string, unknown> = {}) => stagingRaw({ "mina:liveColour": "blue", "mina:appHost": undefined, ...over });
  const errorsOf = (raw: ReturnType<typeof stagingRaw>, siblings = [raw, colour("blue"), colour("green"), productionRaw()]) => {
    try {
      return { config: validateStack(raw, { siblings, requireSecrets: true }).config, errors: [] as string[] };
    } catch (e) {
      if (!(e instanceof ConfigErrors)) throw e;
      return { config: undefined, errors: e.errors.map((x) => x.message) };
    }
  };

  it("validates the front and both colours, which share the non-production tier's account and zone", () => {
    const { config, errors } = errorsOf(front({ "mina:canaryPercent": 10 }));
    assert.deepEqual(errors, []);
    assert.deepEqual(config!.dns.front, {
      live: "blue",
      canaryPercent: 10,
      colours: { blue: { stack: "staging-blue", host: "blue.staging.mina.app" }, green: { stack: "staging-green", host: "green.staging.mina.app" } },
    });
    for (const c of ["blue", "green"] as const)
      assert.deepEqual(errorsOf(colour(c), [front(), colour("blue"), colour("green"), productionRaw()]).errors, [], c);
  });

  it("refuses a front in the production tier, without its colours, or with colours elsewhere", () => {
    const prod = errorsOf(productionRaw({ "mina:liveColour": "green", "mina:appHost": undefined }), [productionRaw(), stagingRaw()]);
    assert.ok(
      prod.errors.some((l) => /^Pulumi\.production\.yaml: mina:liveColour: is refused in production/.test(l)),
      prod.errors.join("\n"),
    );
    const lonely = errorsOf(front(), [front(), productionRaw()]);
    assert.ok(
      lonely.errors.includes("Pulumi.staging.yaml: mina:liveColour: needs the blue colour's stack file Pulumi.staging-blue.yaml"),
      lonely.errors.join("\n"),
    );
    const elsewhere = errorsOf(front(), [
      front(),
      colour("blue", { "mina:shareDomain": "blue.staging.mina.app", "mina:dnsZoneId": "Z0OTHERZONE" }),
      colour("green", { "mina:appHost": "app.example.net", "mina:shareDomain": "green.staging.mina.app" }),
      productionRaw(),
    ]);
    assert.ok(
      elsewhere.errors.some((l) => l.includes("Pulumi.staging-blue.yaml must use this front's hosted zone")),
      elsewhere.errors.join("\n"),
    );
    assert.ok(
      elsewhere.errors.some((l) => l.includes("Pulumi.staging-green.yaml must point its host at an IPv4 address")),
      elsewhere.errors.join("\n"),
    );
  });

  it("refuses an app host on the front, a canary above 50, and a canary without a front", () => {
    assert.ok(
      errorsOf(front({ "mina:appHost": "203.0.113.20" })).errors.includes(
        "Pulumi.staging.yaml: mina:appHost: is set on a blue/green front, whose share domain points at the live colour; remove it",
      ),
    );
    assert.ok(
      errorsOf(front({ "mina:canaryPercent": 60 })).errors.includes("Pulumi.staging.yaml: mina:canaryPercent: is 60; at most 50 (above that, swap instead)"),
    );
    assert.ok(
      errorsOf(stagingRaw({ "mina:canaryPercent": 5 })).errors.includes(
        "Pulumi.staging.yaml: mina:canaryPercent: is set without mina:liveColour: only a blue/green front splits traffic",
      ),
    );
  });
});

interface BlueGreenOptions {
  /** The front stack (default staging). */
  readonly front?: string;
  /** Whether the front is a front yet (default: yes); otherwise it points its share domain at its own app host. */
  readonly asFront?: boolean;
  readonly live?: "blue" | "green";
  readonly canary?: number;
}

/** The share domain of a front named `front` in staging's zone. */

/** The share domain of a front named `front`: staging's, or its own, which is also its zone's name. */
const shareOf = (front: string) => (front === "staging" ? "staging.mina.app" : `${front}.mina.app`);

/** Another front than staging names no other environment: a zone of its own (its colours share it). */
function ownZone(doc: import("yaml").Document, front: string): void {
  if (front === "staging") return;
  doc.setIn(["config", "mina:dnsZoneName"], shareOf(front));
  doc.setIn(["config", "mina:dnsZoneId"], `Z0${front.toUpperCase()}ZONE`);
}

/** The front's stack file: staging's, as a front (or not yet), with a comment on mina:liveColour. */
function frontFile(o: BlueGreenOptions = {}): string {
  const fs = require("node:fs") as typeof import("fs");
  const path = require("node:path") as typeof import("path");
  const YAML = require("yaml") as typeof import("yaml");
  const { REPO } = require("./helpers") as typeof import("./helpers");
  const front = o.front ?? "staging";
  const doc = YAML.parseDocument(fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8"));
  doc.setIn(["config", "mina:shareDomain"], shareOf(front));
  ownZone(doc, front);
  doc.setIn(["config", "mina:shareWithinTier"], ["upstash:email", "upstash:apiKey"]);
  doc.setIn(["config", "upstash:email"], "upstash-nonprod@mina.app");
  if (o.asFront !== false) {
    doc.deleteIn(["config", "mina:appHost"]);
    doc.setIn(["config", "mina:liveColour"], o.live ?? "blue");
    if (o.canary !== undefined) doc.setIn(["config", "mina:canaryPercent"], o.canary);
  }
  const live = `  mina:liveColour: ${o.live ?? "blue"}\n`;
  const text = doc.toString();
  if (o.asFront !== false) assert.ok(text.includes(live));
  return text.replace(live, `  # which colour serves the share domain (npm run swap changes it)\n${live.trimEnd()} # keep this comment\n`);
}

/** Blue/green staging as the README sets it up, in a temporary project: the front and its two colours, from staging's file. */
function blueGreenProject(o: BlueGreenOptions = {}): { dir: string; cleanup: () => void } {
  const fs = require("node:fs") as typeof import("fs");
  const path = require("node:path") as typeof import("path");
  const YAML = require("yaml") as typeof import("yaml");
  const { tempProject, REPO } = require("./helpers") as typeof import("./helpers");
  const front = o.front ?? "staging";
  const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");
  const frontText = frontFile(o);
  const project = tempProject({
    "Pulumi.yaml": read("Pulumi.yaml"),
    "Pulumi.production.yaml": read("Pulumi.production.yaml"),
    [`Pulumi.${front}.yaml`]: frontText,
  });
  for (const [colour, ip] of [
    ["blue", "203.0.113.21"],
    ["green", "203.0.113.22"],
  ] as const) {
    const doc = YAML.parseDocument(read("Pulumi.staging.yaml"));
    doc.setIn(["config", "mina:shareDomain"], `${colour}.${shareOf(front)}`);
    ownZone(doc, front);
    doc.setIn(["config", "mina:appHost"], ip);
    doc.setIn(["config", "mina:shareWithinTier"], ["upstash:email", "upstash:apiKey"]);
    // A shared value names no one environment: the non-production tier's Upstash account.
    doc.setIn(["config", "upstash:email"], "upstash-nonprod@mina.app");
    fs.writeFileSync(path.join(project.dir, `Pulumi.${front}-${colour}.yaml`), doc.toString());
  }
  return project;
}

describe("the policy pack and a front's alias records", () => {
  const { isolationForeignIdentifiers } = require("../policy/rules/isolation") as typeof import("../policy/rules/isolation");
  const { ruleContext } = require("../policy/rules/context") as typeof import("../policy/rules/context");
  const { readAllStacks } = require("../config") as typeof import("../config");
  let project: { dir: string; cleanup: () => void };
  before(() => (project = blueGreenProject()));
  after(() => project.cleanup());
  const alias = (name: string) => ({
    type: "aws:route53/record:Record",
    name: "mina-staging-dns-front-x",
    urn: "urn:pulumi:staging::mina::aws:route53/record:Record::mina-staging-dns-front-x",
    props: { name: "staging.mina.app", type: "A", zoneId: "Z0STAGING0EXAMPLE", aliases: [{ name, zoneId: "Z0STAGING0EXAMPLE", evaluateTargetHealth: true }] },
  });
  const check = (name: string, stack = "staging") =>
    isolationForeignIdentifiers().checkResource!(alias(name) as never, ruleContext(stack, readAllStacks(project.dir)), []);

  it("lets the front alias exactly its own colours' hosts", () => {
    assert.deepEqual(check("blue.staging.mina.app"), []);
    assert.deepEqual(check("green.staging.mina.app"), []);
  });

  it("still refuses an alias to production, and a colour aliasing its sibling colour", () => {
    assert.deepEqual(check("mina.app"), ['aliases[0].name carries production\'s share domain "mina.app"']);
    assert.deepEqual(check("green.staging.mina.app", "staging-blue"), ['aliases[0].name carries staging-green\'s share domain "green.staging.mina.app"']);
  });
});

describe("blue/green staging, set up as the README says, plans", function () {
  this.timeout(60000);

  it("makes staging the front of two colours that share its account, zone, server and Upstash account, and the whole project plans clean", async () => {
    const { planAll } = require("../plan/plan") as typeof import("../plan/plan");
    const { policyChecker } = require("../plan/policyCheck") as typeof import("../plan/policyCheck");
    const { dir, cleanup } = blueGreenProject();
    try {
      const plan = await planAll(dir, undefined, policyChecker(dir));
      for (const s of plan.stacks) assert.deepEqual([s.stack, s.errors, s.violations], [s.stack, [], []]);
      assert.equal(plan.audit.ok, true, JSON.stringify(plan.audit));
      const front = plan.stacks.find((s) => s.stack === "staging")!;
      assert.deepEqual(
        front.resources
          .filter((r) => r.type === "aws:route53/record:Record")
          .map((r) => r.name)
          .sort(),
        ["mina-staging-dns-canary", "mina-staging-dns-share"],
      );
    } finally {
      cleanup();
    }
  });
});

describe("becoming a front, and a swap, update the share record: the same resource, the same set identifier", function () {
  this.timeout(120000);
  type Recorded = import("../plan/mockRuntime").RecordedResource;
  const recordsOf = async (o: BlueGreenOptions): Promise<Recorded[]> => {
    const { runUnderMocks } = require("../plan/mockRuntime") as typeof import("../plan/mockRuntime");
    const { loadStackOffline } = require("../config") as typeof import("../config");
    const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
    const { dir, cleanup } = blueGreenProject(o);
    try {
      const { config } = loadStackOffline(dir, "staging");
      const { resources } = await runUnderMocks("mina", "staging", () => defineEnvironment(config));
      return resources.filter((r) => r.type === "aws:route53/record:Record").sort((a, b) => a.name.localeCompare(b.name));
    } finally {
      cleanup();
    }
  };
  const shape = (r: Recorded) => {
    const i = r.inputs as {
      name: string;
      type: string;
      setIdentifier?: string;
      weightedRoutingPolicies?: { weight: number }[];
      records?: string[];
      aliases?: { name: string }[];
    };
    return {
      urn: r.urn,
      name: i.name,
      type: i.type,
      setIdentifier: i.setIdentifier,
      weight: i.weightedRoutingPolicies?.[0]?.weight,
      to: i.records?.[0] ?? i.aliases?.[0]?.name,
    };
  };
  /** Route53's rule: for one name and type, either one simple record or only weighted ones with distinct set identifiers. */
  const route53Accepts = (rs: Recorded[]) => {
    const sets = new Map<string, (string | undefined)[]>();
    for (const s of rs.map(shape)) sets.set(`${s.name} ${s.type}`, [...(sets.get(`${s.name} ${s.type}`) ?? []), s.setIdentifier]);
    return [...sets.values()].every(
      (ids) => (ids.length === 1 && ids[0] === undefined) || (ids.every((id) => id !== undefined) && new Set(ids).size === ids.length),
    );
  };
  let plain: Recorded[];
  let front: Recorded[];
  let swapped: Recorded[];
  before(async () => {
    plain = await recordsOf({ asFront: false });
    front = await recordsOf({ live: "blue" });
    swapped = await recordsOf({ live: "green", canary: 10 });
  });

  it("declares the share record weighted before the stack is a front", () => {
    assert.deepEqual(plain.map(shape), [
      {
        urn: "urn:pulumi:staging::mina::aws:route53/record:Record::mina-staging-dns-share",
        name: "staging.mina.app",
        type: "A",
        setIdentifier: "live",
        weight: 100,
        to: "203.0.113.20",
      },
    ]);
  });

  it("as a front, keeps that record (same URN, name, type and set identifier) and adds one weighted record; nothing is replaced or removed", () => {
    assert.deepEqual(front.map(shape), [
      {
        urn: "urn:pulumi:staging::mina::aws:route53/record:Record::mina-staging-dns-canary",
        name: "staging.mina.app",
        type: "A",
        setIdentifier: "canary",
        weight: 0,
        to: "green.staging.mina.app",
      },
      { urn: plain[0].urn, name: "staging.mina.app", type: "A", setIdentifier: "live", weight: 100, to: "blue.staging.mina.app" },
    ]);
    for (const rs of [plain, front, swapped]) assert.ok(route53Accepts(rs), JSON.stringify(rs.map(shape)));
  });

  it("creates the canary record only after the share record is updated (a CNAME share record must be an A record first)", () => {
    const canary = front.find((r) => r.name === "mina-staging-dns-canary")!;
    assert.ok(
      canary.dependencies!.some((u) => u.endsWith("$aws:route53/record:Record::mina-staging-dns-share")),
      JSON.stringify(canary.dependencies),
    );
  });

  it("a swap with a canary share changes only weights and alias targets of the same two records", () => {
    assert.deepEqual(
      swapped.map((r) => r.urn),
      front.map((r) => r.urn),
    );
    assert.deepEqual(
      swapped.map(shape).map((s) => [s.setIdentifier, s.type, s.weight, s.to]),
      [
        ["canary", "A", 10, "blue.staging.mina.app"],
        ["live", "A", 90, "green.staging.mina.app"],
      ],
    );
  });
});

describe("the plan diff: becoming a front and swapping are updates of the share record, which the gate passes", function () {
  this.timeout(300000);
  const fs = require("node:fs") as typeof import("fs");
  const path = require("node:path") as typeof import("path");
  const { readPlanDiff, decide } = require("../gate/gate") as typeof import("../gate/gate");
  const { planAll } = require("../plan/plan") as typeof import("../plan/plan");
  const { policyChecker } = require("../plan/policyCheck") as typeof import("../plan/policyCheck");
  const { diffPlans } = require("../plan/diff") as typeof import("../plan/diff");
  // The diff of two plans of the same project, before and after a stack file changes (what `plan --base` diffs;
  // its git worktree is covered in tests/plan-diff.test.ts).
  let project: { dir: string; cleanup: () => void };
  let previous: import("../plan/plan").Plan;
  const planNow = () => planAll(project.dir, undefined, policyChecker(project.dir));
  const diffAfter = async (stagingFile: string): Promise<import("../plan/diff").PlanDiff> => {
    fs.writeFileSync(path.join(project.dir, "Pulumi.staging.yaml"), stagingFile);
    const head = await planNow();
    assert.equal(head.ok, true, JSON.stringify(head.stacks.map((s) => s.errors)));
    const diff = diffPlans(previous, head, { base: "the previous plan" });
    previous = head;
    return diff;
  };
  const RECORD = "aws:route53/record:Record";

  before(async () => {
    project = blueGreenProject({ asFront: false });
    previous = await planNow();
  });
  after(() => project?.cleanup());

  it("making staging the front: the share record changes inputs only, the canary record is added, nothing is removed or needs approval", async () => {
    const diff = await diffAfter(frontFile({ live: "blue" }));
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(
      staging.changed.filter((c) => c.type === RECORD).map((c) => [c.name, c.fields]),
      [["mina-staging-dns-share", ["inputs"]]],
    );
    assert.deepEqual(
      staging.added.map((r) => [r.type, r.name]),
      [[RECORD, "mina-staging-dns-canary"]],
    );
    assert.deepEqual(staging.removed, []);
    assert.deepEqual(staging.mayBeReplaced, []);
    assert.deepEqual(diff.needsApproval, []);
    for (const s of diff.stacks.filter((x) => x.stack !== "staging")) assert.equal(s.status, "unchanged", s.stack);
    const gate = readPlanDiff(diff);
    assert.deepEqual([gate.dangerous, gate.incomplete], [[], []]);
    assert.equal(decide(gate.dangerous, []).ok, true);
  });

  it("a swap to green with a canary share: both records change inputs only; nothing added, removed or held", async () => {
    const diff = await diffAfter(frontFile({ live: "green", canary: 10 }));
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(
      staging.changed.map((c) => [c.type, c.name, c.fields]),
      [
        [RECORD, "mina-staging-dns-canary", ["inputs"]],
        [RECORD, "mina-staging-dns-share", ["inputs"]],
      ],
    );
    assert.deepEqual([staging.added, staging.removed, diff.needsApproval], [[], [], []]);
  });
});

/**
 * The version endpoints of a front's colours and (with a key and certificate) a
 * TLS front for the machine's Redis, in a process of their own: a command run
 * through the bin (`spawnCli`, synchronous) must find them answering while this
 * process waits. Each path answers as the test needs; the first line out is the ports.
 */
const SERVERS = `
const [front, key, cert] = process.argv.slice(1);
const http = require("http"), net = require("net"), tls = require("tls"), fs = require("fs");
const answers = {
  "/green/api/version": [200, { environment: front + "-green" }],
  "/blue/api/version": [200, { environment: front + "-blue" }],
  "/production/api/version": [200, { environment: "production" }],
  "/error/api/version": [500, { error: "boom" }],
};
const web = http.createServer((req, res) => {
  const [status, body] = answers[req.url] || [404, {}];
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
});
const redis = key
  ? tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (s) => {
      const up = net.connect(6379, "127.0.0.1");
      s.pipe(up).pipe(s);
      s.on("error", () => up.destroy());
      up.on("error", () => s.destroy());
    })
  : undefined;
web.listen(0, "127.0.0.1", () => {
  const done = () => process.stdout.write(JSON.stringify({ web: web.address().port, redis: redis ? redis.address().port : 0 }) + "\\n");
  if (redis) redis.listen(0, "127.0.0.1", done);
  else done();
});
`;

interface Servers {
  /** The smoke URL that answers as `what`: a colour, production, or a 500. */
  url(what: "blue" | "green" | "production" | "error"): string;
  readonly redisPort: number;
  stop(): void;
}

function startServers(front: string, tlsFiles?: { key: string; cert: string }): Promise<Servers> {
  const { spawn } = require("node:child_process") as typeof import("child_process");
  const child = spawn(process.execPath, ["-e", SERVERS, front, ...(tlsFiles ? [tlsFiles.key, tlsFiles.cert] : [])], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    child.on("error", reject);
    child.on("exit", (code) => reject(new Error(`the test servers exited (${code}) before answering`)));
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      if (!out.includes("\n")) return;
      const ports = JSON.parse(out.split("\n")[0]) as { web: number; redis: number };
      child.removeAllListeners("exit");
      resolve({
        url: (what) => `http://127.0.0.1:${ports.web}/${what}/api/version`,
        redisPort: ports.redis,
        stop: () => child.kill(),
      });
    });
  });
}

/** A blue/green project in a git repository, committed, with env files ignored. */
function blueGreenRepo(o: BlueGreenOptions = {}): { dir: string; git: (...args: string[]) => string; cleanup: () => void } {
  const fs = require("node:fs") as typeof import("fs");
  const path = require("node:path") as typeof import("path");
  const { execFileSync } = require("node:child_process") as typeof import("child_process");
  const project = blueGreenProject(o);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: project.dir, env: GIT_ENV, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(project.dir, ".gitignore"), ".env.*.local\n");
  git("add", "-A");
  git("commit", "-q", "-m", "blue/green front and colours");
  return { ...project, git };
}

describe("npm run swap: refusals, in-process and through the bin; the stack file stays as it was", function () {
  this.timeout(60000);
  const fs = require("node:fs") as typeof import("fs");
  const path = require("node:path") as typeof import("path");
  const { run, spawnCli } = require("./cli") as typeof import("./cli");
  const { missingStack } = require("./helpers") as typeof import("./helpers");
  let repo: ReturnType<typeof blueGreenRepo>;
  let servers: Servers;
  let original: string;
  const stackFile = () => fs.readFileSync(path.join(repo.dir, "Pulumi.staging.yaml"), "utf8");
  /**
   * In-process, and with `viaBin` the compiled bin in a child process too: once for each exit path (a refusal,
   * in text and JSON; a usage error), where the exit code is the process's own.
   */
  const both = async (args: string[], viaBin = false) => {
    const argv = ["--dir", repo.dir, "--timeout", "2s", "--retries", "0", ...args];
    const inProcess = await run("swap", argv, { cwd: repo.dir });
    const runs = [{ how: "in-process", status: inProcess.status, stdout: inProcess.stdout, stderr: inProcess.stderr }];
    if (viaBin) {
      const bin = spawnCli("swap", argv, { cwd: repo.dir });
      runs.push({ how: "bin", status: bin.status ?? -1, stdout: bin.stdout, stderr: bin.stderr });
    }
    return runs;
  };
  const noTrace = (s: string) => assert.doesNotMatch(s, /^\s+at /m);

  before(async () => {
    repo = blueGreenRepo();
    original = stackFile();
    servers = await startServers("staging");
  });
  after(() => {
    servers?.stop();
    repo?.cleanup();
  });
  afterEach(() => assert.equal(stackFile(), original, "the stack file is unchanged"));

  it("refuses when the colour's checks fail: exit 1, every failure named, the file unchanged", async () => {
    for (const r of await both(["--to", "green", "--url", servers.url("production")], true)) {
      assert.equal(r.status, 1, `${r.how}: ${r.stderr}`);
      assert.match(r.stderr, /^✗ staging-green: ✗ env file: cannot read \.env\.staging-green\.local: no such file$/m, r.how);
      assert.match(
        r.stderr,
        /^✗ staging-green: smoke check failed: GET http:\/\/127\.0\.0\.1:\d+\/production\/api\/version reports environment "production", but this is staging-green's host/m,
        r.how,
      );
      assert.match(
        r.stderr,
        /\nerror: refusing to swap staging to green: staging-green did not prove itself \(2 problems above\); Pulumi\.staging\.yaml is unchanged\n$/,
        r.how,
      );
      assert.equal(r.stdout, "", r.how);
      noTrace(r.stderr);
    }
  });

  it("with --json, gives the refusal for machines on stdout and still exits 1", async () => {
    for (const r of await both(["--to", "green", "--url", servers.url("error"), "--json"], true)) {
      assert.equal(r.status, 1, r.how);
      const out = JSON.parse(r.stdout);
      assert.deepEqual(
        [out.ok, out.written, out.changes, out.serving, out.front, out.file],
        [false, false, [], ["green"], "staging", "Pulumi.staging.yaml"],
        r.how,
      );
      assert.deepEqual(out.proofs.green.smoke.status, 500);
      assert.match(
        r.stderr,
        /^error: refusing to swap staging to green: staging-green did not prove itself \(2 problems in the JSON\); Pulumi\.staging\.yaml is unchanged\n$/,
        r.how,
      );
    }
  });

  it("refuses a canary share for a colour that did not prove itself, naming that colour", async () => {
    // blue is live and answers as blue; green, which would get 10%, answers 500
    for (const r of await both(["--to", "blue", "--canary", "10", "--url", servers.url("blue"), "--other-url", servers.url("error")])) {
      assert.equal(r.status, 1, r.how);
      assert.match(r.stderr, /^✗ staging-green: smoke check failed: GET http:\/\/127\.0\.0\.1:\d+\/error\/api\/version answered 500$/m, r.how);
      assert.match(r.stderr, /^✗ staging-green: ✗ env file: cannot read \.env\.staging-green\.local/m, r.how);
      assert.doesNotMatch(r.stderr, /^✗ staging-blue: smoke/m, r.how);
      assert.match(r.stderr, /error: refusing to swap staging to blue: staging-blue and staging-green did not prove themselves/, r.how);
    }
  });

  it("refuses a stack file with uncommitted changes, before checking anything, and leaves those changes alone", async () => {
    const dirty = original.replace("mina:databaseMode: server", "mina:databaseMode: server # edited");
    fs.writeFileSync(path.join(repo.dir, "Pulumi.staging.yaml"), dirty);
    try {
      for (const r of await both(["--to", "green", "--url", servers.url("green")])) {
        assert.equal(r.status, 1, r.how);
        assert.equal(
          r.stderr,
          "error: Pulumi.staging.yaml has uncommitted changes (git status: M Pulumi.staging.yaml): commit or discard them first, so the swap's commit holds the swap alone\n",
          r.how,
        );
        assert.equal(stackFile(), dirty, r.how);
      }
      repo.git("add", "Pulumi.staging.yaml");
      const [staged] = await both(["--to", "green"]);
      assert.match(staged.stderr, /^error: Pulumi\.staging\.yaml has uncommitted changes \(git status: M {1,2}Pulumi\.staging\.yaml\)/);
    } finally {
      repo.git("reset", "-q", "--", "Pulumi.staging.yaml");
      fs.writeFileSync(path.join(repo.dir, "Pulumi.staging.yaml"), original);
    }
  });

  it("refuses an unknown stack and a stack that is not a front (exit 2)", async () => {
    const missing = missingStack(repo.dir);
    for (const r of await both(["--to", "green", "--stack", missing], true)) {
      assert.equal(r.status, 2, r.how);
      assert.match(r.stderr, new RegExp(`^error: no stack named ${missing} \\(stacks: production, staging, staging-blue, staging-green\\)\n$`), r.how);
    }
    for (const r of await both(["--to", "green", "--stack", "staging-blue"])) {
      assert.equal(r.status, 2, r.how);
      assert.equal(
        r.stderr,
        "error: staging-blue is not a blue/green front: set mina:liveColour in Pulumi.staging-blue.yaml (see README, Blue/green)\n",
        r.how,
      );
    }
  });

  it("refuses --yes, which used to run pulumi up, saying the swap now deploys through a commit; and a canary above 50", async () => {
    for (const r of await both(["--to", "green", "--yes"], true)) {
      assert.equal(r.status, 2, r.how);
      assert.equal(
        r.stderr,
        `error: --yes is refused: swap no longer runs pulumi; it writes the front's stack file, and the swap deploys through a commit of it (pull request, merge, the deploy workflow's gate); run it without --yes\n`,
        r.how,
      );
    }
    for (const r of await both(["--to", "green", "--canary", "60"])) {
      assert.equal(r.status, 2, r.how);
      assert.equal(r.stderr, 'error: --canary must be at most 50 (above that, swap instead), got "60"\n', r.how);
    }
    for (const r of await both(["--to", "green", "--other-url", servers.url("blue")])) {
      assert.equal(r.status, 2, r.how);
      assert.equal(r.stderr, "error: --other-env-file and --other-url are for a canary share, and blue would take no traffic\n", r.how);
    }
  });

  it("changes nothing, and checks nothing, when the colour is already live with that share", async () => {
    for (const r of await both(["--to", "blue"])) {
      assert.deepEqual([r.status, r.stdout, r.stderr], [0, "✓ blue is already staging's live colour with 0% canary: nothing to change\n", ""], r.how);
    }
  });
});

describe("npm run swap through the bin, with colours that prove themselves (real PostgreSQL, Redis over TLS, version endpoints)", function () {
  this.timeout(120000);
  const fs = require("node:fs") as typeof import("fs");
  const os = require("node:os") as typeof import("os");
  const path = require("node:path") as typeof import("path");
  const { execFileSync } = require("node:child_process") as typeof import("child_process");
  const { randomBytes } = require("node:crypto") as typeof import("crypto");
  const { Client } = require("pg") as typeof import("pg");
  const { createClient } = require("@redis/client") as typeof import("@redis/client");
  const { spawnCli, withoutNpm } = require("./cli") as typeof import("./cli");
  const { releaseRedisIndexes, reserveRedisIndex } = require("./redis") as typeof import("./redis");
  const { buildDatabaseUrl } = require("../components/urls") as typeof import("../components/urls");
  const { deriveNames } = require("../config/naming") as typeof import("../config/naming");
  const { loadStackOffline } = require("../config") as typeof import("../config");
  const { REDIS_MARKER_KEY } = require("../verify/live") as typeof import("../verify/live");
  const front = `t${randomBytes(3).toString("hex")}`;
  const password = `p@ss:${randomBytes(6).toString("hex")}`;
  const COLOURS = ["blue", "green"] as const;
  const fileName = `Pulumi.${front}.yaml`;
  let repo: ReturnType<typeof blueGreenRepo>;
  let servers: Servers;
  let work: string;
  const redisIndex: Record<string, number> = {};
  const stackFile = () => fs.readFileSync(path.join(repo.dir, fileName), "utf8");
  const admin = async (sql: string[]) => {
    const c = new Client({ host: "127.0.0.1", port: 5432, user: "postgres", database: "postgres" });
    await c.connect();
    try {
      for (const q of sql) await c.query(q);
    } finally {
      await c.end();
    }
  };
  const swap = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawnCli("swap", ["--dir", repo.dir, "--stack", front, "--timeout", "5s", "--retries", "0", ...args], {
      cwd: repo.dir,
      // The bin trusts the test's certificate authority, as a machine trusts Upstash's.
      env: { ...withoutNpm(process.env), NODE_EXTRA_CA_CERTS: path.join(work, "ca.crt"), ...extraEnv },
    });

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-swap-tls-"));
    const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: work, stdio: ["ignore", "pipe", "pipe"] });
    const newEcKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl("req", "-x509", ...newEcKey, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=mina test CA");
    openssl("req", ...newEcKey, "-keyout", "redis.key", "-out", "redis.csr", "-subj", "/CN=127.0.0.1");
    fs.writeFileSync(path.join(work, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
    openssl(
      "x509",
      "-req",
      "-in",
      "redis.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "redis.crt",
      "-days",
      "1",
      "-extfile",
      "san.ext",
    );
    servers = await startServers(front, { key: path.join(work, "redis.key"), cert: path.join(work, "redis.crt") });

    const r = createClient({ url: "redis://127.0.0.1:6379" });
    await r.connect();
    try {
      for (const colour of COLOURS) {
        // A database index of the machine's Redis for the colour, reserved for this test (tests/redis.ts), then claimed.
        const i = await reserveRedisIndex(front, Object.values(redisIndex));
        await r.select(i);
        assert.equal(await r.set(REDIS_MARKER_KEY, `${front}-${colour}`, { condition: "NX" }), "OK");
        redisIndex[colour] = i;
      }
    } finally {
      await r.quit();
    }
    for (const colour of COLOURS) {
      const n = deriveNames(`${front}-${colour}`);
      await admin([
        `CREATE ROLE ${n.databaseRole} LOGIN PASSWORD '${password}' NOSUPERUSER NOCREATEDB NOCREATEROLE INHERIT`,
        `CREATE DATABASE ${n.databaseName} OWNER ${n.databaseRole}`,
        `REVOKE CONNECT, TEMPORARY ON DATABASE ${n.databaseName} FROM PUBLIC`,
      ]);
    }

    repo = blueGreenRepo({ front, live: "blue" });
    for (const colour of COLOURS) {
      const stack = `${front}-${colour}`;
      const n = deriveNames(stack);
      const values: Record<string, string> = {
        ENVIRONMENT: stack,
        DATABASE_URL: buildDatabaseUrl({ user: n.databaseRole, password, host: "127.0.0.1", port: 5432, database: n.databaseName, sslMode: "disable" }),
        REDIS_URL: `rediss://127.0.0.1:${servers.redisPort}/${redisIndex[colour]}`,
        AWS_S3_BUCKET: n.bucket,
        SHARE_BASE_URL: `https://${colour}.${front}.mina.app`,
        SENTRY_ENVIRONMENT: stack,
        SLACK_CHANNEL: n.slackChannel,
        EMAIL_ENABLED: "false",
        SENDGRID_API_KEY: "",
      };
      fs.writeFileSync(
        path.join(repo.dir, `.env.${stack}.local`),
        `${Object.entries(values)
          .map(([k, v]) => `${k}='${v}'`)
          .join("\n")}\n`,
        { mode: 0o600 },
      );
    }
  });

  after(async () => {
    servers?.stop();
    const r = createClient({ url: "redis://127.0.0.1:6379" });
    await r.connect();
    try {
      for (const colour of COLOURS) {
        if (redisIndex[colour] === undefined) continue;
        await r.select(redisIndex[colour]);
        if ((await r.get(REDIS_MARKER_KEY)) === `${front}-${colour}`) await r.del(REDIS_MARKER_KEY);
      }
    } finally {
      await r.quit();
    }
    for (const colour of COLOURS) {
      const n = deriveNames(`${front}-${colour}`);
      await admin([`DROP DATABASE IF EXISTS ${n.databaseName}`, `DROP ROLE IF EXISTS ${n.databaseRole}`]);
    }
    await releaseRedisIndexes(front);
    repo?.cleanup();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it("writes mina:liveColour into the stack file and nothing else (comments kept), prints how it deploys, and never runs pulumi", async () => {
    const before = stackFile();
    const bin = path.join(work, "bin");
    fs.mkdirSync(bin);
    const called = path.join(work, "pulumi-was-called");
    fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\ntouch '${called}'\n`, { mode: 0o755 });
    const r = swap(["--to", "green", "--url", servers.url("green")], {
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      MINA_PULUMI_BIN: path.join(bin, "pulumi"),
    });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stderr, "");
    assert.match(
      r.stdout,
      new RegExp(
        `^✓ ${front}-green: all \\d+ checklist items passed\n✓ GET http://127\\.0\\.0\\.1:\\d+/green/api/version answered 200, environment "${front}-green"\n`,
      ),
    );
    assert.match(r.stdout, new RegExp(`\n→ ${front} sends 100% of traffic to green \\(was: blue live, 0% canary\\); roll back with --to blue\n`));
    assert.match(r.stdout, new RegExp(`\n✓ wrote ${fileName.replace(/\./g, "\\.")}: mina:liveColour blue → green \\(nothing else in it changed\\)\n`));
    assert.ok(r.stdout.includes(`  git switch -c swap-${front}-green\n`), r.stdout);
    assert.ok(
      r.stdout.includes(`  merge it: on the push to main the deploy workflow deploys ${front} through preview, the data-safety gate and pulumi up --plan\n`),
      r.stdout,
    );
    assert.equal(fs.existsSync(called), false, "pulumi was not run");

    const after = stackFile();
    assert.equal(after, before.replace("mina:liveColour: blue # keep this comment", "mina:liveColour: green # keep this comment"));
    assert.ok(after.includes("# which colour serves the share domain (npm run swap changes it)\n"));
    assert.equal(repo.git("diff", "--numstat"), `1\t1\t${fileName}`);
    assert.equal(fs.statSync(path.join(repo.dir, fileName)).mode & 0o777, 0o644);
    assert.equal(loadStackOffline(repo.dir, front).config.dns.front!.live, "green");
    repo.git("commit", "-q", "-am", `${front}: swap to green`);
  });

  it("refuses a canary share for the other colour when its smoke check fails, though the target passes", async () => {
    const before = stackFile();
    const r = swap(["--to", "green", "--canary", "10", "--url", servers.url("green"), "--other-url", servers.url("production")]);
    assert.equal(r.status, 1, r.stdout);
    assert.deepEqual(r.stderr.trimEnd().split("\n"), [
      `✗ ${front}-blue: smoke check failed: GET ${servers.url("production")} reports environment "production", but this is ${front}-blue's host: another environment is answering here`,
      `error: refusing to swap ${front} to green: ${front}-green and ${front}-blue did not prove themselves (1 problem above); ${fileName} is unchanged`,
    ]);
    assert.equal(stackFile(), before);
  });

  it("with --json and both colours proved: adds mina:canaryPercent and says what was written, for machines", async () => {
    const before = stackFile();
    const r = swap(["--to", "green", "--canary", "10", "--url", servers.url("green"), "--other-url", servers.url("blue"), "--json"]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.ok, out.written, out.serving, out.changes], [true, true, ["green", "blue"], [{ key: "mina:canaryPercent", to: 10 }]]);
    assert.deepEqual(
      [out.from, out.to],
      [
        { liveColour: "green", canaryPercent: 0 },
        { liveColour: "green", canaryPercent: 10 },
      ],
    );
    for (const colour of COLOURS)
      assert.deepEqual(
        [out.proofs[colour].stack, out.proofs[colour].smoke.ok, out.proofs[colour].checklist.every((c: { ok: boolean }) => c.ok)],
        [`${front}-${colour}`, true, true],
      );
    assert.ok(out.next.some((l: string) => l.startsWith(`git switch -c swap-${front}-green-canary-10`)));
    const added = stackFile()
      .split("\n")
      .filter((l) => !before.split("\n").includes(l));
    assert.deepEqual(added, ["  mina:canaryPercent: 10"]);
    assert.equal(repo.git("diff", "--numstat"), `1\t0\t${fileName}`);
    assert.equal(loadStackOffline(repo.dir, front).config.dns.front!.canaryPercent, 10);
  });
});

describe("npm run smoke", function () {
  this.timeout(20000);
  const { run } = require("./cli") as typeof import("./cli");

  it("passes when the stack's host reports the stack, and fails in one line naming both when production answers on staging's host", async () => {
    const good = await server(json(200, { environment: "staging" }));
    const wrong = await server(json(200, { environment: "production" }));
    try {
      const ok = await run("smoke", ["--stack", "staging", "--url", good.url, "--retries", "0"]);
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, `✓ GET ${good.url} answered 200, environment "staging"\n`);
      const bad = await run("smoke", ["--stack", "staging", "--url", wrong.url, "--retries", "0"]);
      assert.equal(bad.status, 1);
      assert.equal(
        bad.stderr,
        `error: smoke check of staging failed: GET ${wrong.url} reports environment "production", but this is staging's host: another environment is answering here\n`,
      );
    } finally {
      await good.close();
      await wrong.close();
    }
  });

  it("on a blue/green front, passes when its live colour or its other colour answers, and fails when anything else does", async () => {
    const { dir, cleanup } = blueGreenProject({ live: "blue" });
    const answers = await Promise.all(["staging-blue", "staging-green", "staging", "production"].map((environment) => server(json(200, { environment }))));
    try {
      const smoke = (s: { url: string }) => run("smoke", ["--stack", "staging", "--dir", dir, "--url", s.url, "--retries", "0"], { cwd: dir });
      const [blue, green, own, production] = await Promise.all(answers.map(smoke));
      assert.deepEqual(
        [blue.status, blue.stdout],
        [0, `✓ GET ${answers[0].url} answered 200, environment "staging-blue": staging's live colour\n`],
        blue.stderr,
      );
      assert.deepEqual(
        [green.status, green.stdout],
        [
          0,
          `✓ GET ${answers[1].url} answered 200, environment "staging-green": staging's other colour (a resolver's answer from before a swap, or the canary share); staging-blue is live\n`,
        ],
        green.stderr,
      );
      for (const [r, environment, a] of [
        [own, "staging", answers[2]],
        [production, "production", answers[3]],
      ] as const) {
        assert.equal(r.status, 1);
        assert.equal(
          r.stderr,
          `error: smoke check of staging failed: GET ${a.url} reports environment "${environment}", but staging is a blue/green front answered by staging-blue or staging-green only: another environment is answering here\n`,
        );
      }
    } finally {
      await Promise.all(answers.map((a) => a.close()));
      cleanup();
    }
  });

  it("refuses a stack it does not know and a path without its slash", async () => {
    const { missingStack } = require("./helpers") as typeof import("./helpers");
    const missing = missingStack();
    assert.match((await run("smoke", ["--stack", missing])).stderr, new RegExp(`^error: no stack named ${missing} \\(stacks: `));
    assert.equal((await run("smoke", ["--stack", "staging", "--path", "api/version"])).stderr, 'error: --path must start with /, got "api/version"\n');
  });
});
