/**
 * Blue/green: the smoke check against a real HTTP server on 127.0.0.1, the swap
 * decision on recorded checklist and smoke results, and the share domain's
 * weighted records, under the mock runtime and in the plan diff (becoming a
 * front and a swap update the same record).
 */
import { strict as assert } from "node:assert";
import * as http from "http";
import type { AddressInfo } from "net";
import { decideSwap, SwapInput } from "../bluegreen/swap";
import { CANARY_SET_IDENTIFIER, canaryRecordArgs, SHARE_SET_IDENTIFIER, shareRecordArgs } from "../components/dns";
import type { Front } from "../config/validate";
import type { CheckResult } from "../verify/live";
import { smokeCheck } from "../verify/smoke";

/** A server on 127.0.0.1 whose answers the test sets per request path. */
function server(handler: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<{ url: string; close: () => Promise<void>; hits: () => number }> {
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
    const s = await server((req, res) => (req.url === "/api/version" ? (res.writeHead(200), res.end("<html>")) : json(200, { version: 1 })(req, res)));
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
  const input = (over: Partial<SwapInput> = {}): SwapInput => ({ front: "staging", current: "blue", to: "green", currentCanary: 0, checklist: ok, smoke: smokeOk, ...over });

  it("flips the live colour through a config change and pulumi up when the colour proved itself", () => {
    const d = decideSwap(input());
    assert.equal(d.ok, true);
    assert.deepEqual(d.commands, [
      ["config", "set", "mina:liveColour", "green", "--stack", "staging"],
      ["up", "--stack", "staging", "--yes"],
    ]);
    assert.match(d.reasons[0], /staging sends 100% of traffic to green \(was: blue live, 0% canary\); roll back with --to blue$/);
  });

  it("refuses when any checklist item failed, naming it", () => {
    const d = decideSwap(input({ checklist: [...ok, { item: "postgres: connect", ok: false, reason: "cannot connect" }] }));
    assert.equal(d.ok, false);
    assert.deepEqual(d.reasons, ["staging-green: ✗ postgres: connect: cannot connect"]);
    assert.deepEqual(d.commands, []);
  });

  it("refuses when the smoke check failed or verify did not run", () => {
    assert.deepEqual(decideSwap(input({ smoke: { ok: false, reason: "GET x answered 500", attempts: 3 } })).reasons, ["staging-green: smoke check failed: GET x answered 500"]);
    assert.deepEqual(decideSwap(input({ checklist: [] })).reasons, ["staging-green: no checklist result: verify did not run"]);
  });

  it("sets a canary share, and does nothing when the colour is already live with that share", () => {
    const canary = decideSwap(input({ to: "blue", canary: 10 }));
    assert.deepEqual(canary.commands, [
      ["config", "set", "mina:canaryPercent", "10", "--stack", "staging"],
      ["up", "--stack", "staging", "--yes"],
    ]);
    assert.match(canary.reasons[0], /90% of traffic to blue and 10% to green/);
    const same = decideSwap(input({ to: "blue" }));
    assert.deepEqual([same.ok, same.commands], [true, []]);
    assert.equal(decideSwap(input({ canary: 60 })).ok, false);
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
    assert.deepEqual(a, { zoneId: "Z0STAGING", name: "staging.mina.app", setIdentifier: SHARE_SET_IDENTIFIER, allowOverwrite: false, type: "A", ttl: 60, records: ["203.0.113.20"], weightedRoutingPolicies: [{ weight: 100 }] });
    const cname = shareRecordArgs({ shareDomain: "app.staging.mina.app", zoneId: "Z0STAGING", appHost: "mina-staging.example.net" });
    assert.deepEqual([cname.type, cname.setIdentifier, cname.weightedRoutingPolicies, cname.records], ["CNAME", "live", [{ weight: 100 }], ["mina-staging.example.net"]]);
  });

  it("on a front: the same record aliases the live colour, weighted 100 - canary; a second weighted alias sends the canary share to the other colour", () => {
    const share = shareRecordArgs({ ...base, appHost: "", front });
    const canary = canaryRecordArgs({ ...base, front });
    assert.deepEqual(
      [share, canary].map((r) => [r.name, r.type, r.setIdentifier, r.weightedRoutingPolicies[0].weight, r.aliases![0].name, r.aliases![0].zoneId, r.ttl, r.records]),
      [
        ["staging.mina.app", "A", "live", 90, "green.staging.mina.app", "Z0STAGING", undefined, undefined],
        ["staging.mina.app", "A", "canary", 10, "blue.staging.mina.app", "Z0STAGING", undefined, undefined],
      ],
    );
    assert.equal(CANARY_SET_IDENTIFIER, "canary");
  });
});

describe("a blue/green front in config", () => {
  const { validateStack } = require("../config/validate") as typeof import("../config/validate");
  const { ConfigErrors } = require("../config/raw") as typeof import("../config/raw");
  const { productionRaw, stagingRaw } = require("./helpers") as typeof import("./helpers");
  const colour = (c: "blue" | "green", over: Record<string, unknown> = {}) =>
    stagingRaw({ "mina:shareDomain": `${c}.staging.mina.app`, "mina:dnsZoneName": "staging.mina.app", "mina:dnsZoneId": "Z0STAGINGZONE", "mina:appHost": c === "blue" ? "203.0.113.21" : "203.0.113.22", ...over }, `staging-${c}`);
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
    for (const c of ["blue", "green"] as const) assert.deepEqual(errorsOf(colour(c), [front(), colour("blue"), colour("green"), productionRaw()]).errors, [], c);
  });

  it("refuses a front in the production tier, without its colours, or with colours elsewhere", () => {
    const prod = errorsOf(productionRaw({ "mina:liveColour": "green", "mina:appHost": undefined }), [productionRaw(), stagingRaw()]);
    assert.ok(prod.errors.some((l) => /^Pulumi\.production\.yaml: mina:liveColour: is refused in production/.test(l)), prod.errors.join("\n"));
    const lonely = errorsOf(front(), [front(), productionRaw()]);
    assert.ok(lonely.errors.includes("Pulumi.staging.yaml: mina:liveColour: needs the blue colour's stack file Pulumi.staging-blue.yaml"), lonely.errors.join("\n"));
    const elsewhere = errorsOf(front(), [front(), colour("blue", { "mina:shareDomain": "blue.staging.mina.app", "mina:dnsZoneId": "Z0OTHERZONE" }), colour("green", { "mina:appHost": "app.example.net", "mina:shareDomain": "green.staging.mina.app" }), productionRaw()]);
    assert.ok(elsewhere.errors.some((l) => l.includes("Pulumi.staging-blue.yaml must use this front's hosted zone")), elsewhere.errors.join("\n"));
    assert.ok(elsewhere.errors.some((l) => l.includes("Pulumi.staging-green.yaml must point its host at an IPv4 address")), elsewhere.errors.join("\n"));
  });

  it("refuses an app host on the front, a canary above 50, and a canary without a front", () => {
    assert.ok(errorsOf(front({ "mina:appHost": "203.0.113.20" })).errors.includes("Pulumi.staging.yaml: mina:appHost: is set on a blue/green front, whose share domain points at the live colour; remove it"));
    assert.ok(errorsOf(front({ "mina:canaryPercent": 60 })).errors.includes("Pulumi.staging.yaml: mina:canaryPercent: is 60; at most 50 (above that, swap instead)"));
    assert.ok(errorsOf(stagingRaw({ "mina:canaryPercent": 5 })).errors.includes("Pulumi.staging.yaml: mina:canaryPercent: is set without mina:liveColour: only a blue/green front splits traffic"));
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
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
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
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  const YAML = require("yaml") as typeof import("yaml");
  const { tempProject, REPO } = require("./helpers") as typeof import("./helpers");
  const front = o.front ?? "staging";
  const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");
  const project = tempProject({ "Pulumi.yaml": read("Pulumi.yaml"), "Pulumi.production.yaml": read("Pulumi.production.yaml") });
  for (const [colour, ip] of [["blue", "203.0.113.21"], ["green", "203.0.113.22"]] as const) {
    const doc = YAML.parseDocument(read("Pulumi.staging.yaml"));
    doc.setIn(["config", "mina:shareDomain"], `${colour}.${shareOf(front)}`);
    ownZone(doc, front);
    doc.setIn(["config", "mina:appHost"], ip);
    doc.setIn(["config", "mina:shareWithinTier"], ["upstash:email", "upstash:apiKey"]);
    // A shared value names no one environment: the non-production tier's Upstash account.
    doc.setIn(["config", "upstash:email"], "upstash-nonprod@mina.app");
    fs.writeFileSync(path.join(project.dir, `Pulumi.${front}-${colour}.yaml`), doc.toString());
  }
  fs.writeFileSync(path.join(project.dir, `Pulumi.${front}.yaml`), frontFile(o));
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
  const check = (name: string, stack = "staging") => isolationForeignIdentifiers().checkResource!(alias(name) as never, ruleContext(stack, readAllStacks(project.dir)), []);

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
      assert.deepEqual(front.resources.filter((r) => r.type === "aws:route53/record:Record").map((r) => r.name).sort(), ["mina-staging-dns-canary", "mina-staging-dns-share"]);
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
    const i = r.inputs as { name: string; type: string; setIdentifier?: string; weightedRoutingPolicies?: { weight: number }[]; records?: string[]; aliases?: { name: string }[] };
    return { urn: r.urn, name: i.name, type: i.type, setIdentifier: i.setIdentifier, weight: i.weightedRoutingPolicies?.[0]?.weight, to: i.records?.[0] ?? i.aliases?.[0]?.name };
  };
  /** Route53's rule: for one name and type, either one simple record or only weighted ones with distinct set identifiers. */
  const route53Accepts = (rs: Recorded[]) => {
    const sets = new Map<string, (string | undefined)[]>();
    for (const s of rs.map(shape)) sets.set(`${s.name} ${s.type}`, [...(sets.get(`${s.name} ${s.type}`) ?? []), s.setIdentifier]);
    return [...sets.values()].every((ids) => (ids.length === 1 && ids[0] === undefined) || (ids.every((id) => id !== undefined) && new Set(ids).size === ids.length));
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
    assert.deepEqual(plain.map(shape), [{ urn: "urn:pulumi:staging::mina::aws:route53/record:Record::mina-staging-dns-share", name: "staging.mina.app", type: "A", setIdentifier: "live", weight: 100, to: "203.0.113.20" }]);
  });

  it("as a front, keeps that record (same URN, name, type and set identifier) and adds one weighted record; nothing is replaced or removed", () => {
    assert.deepEqual(front.map(shape), [
      { urn: "urn:pulumi:staging::mina::aws:route53/record:Record::mina-staging-dns-canary", name: "staging.mina.app", type: "A", setIdentifier: "canary", weight: 0, to: "green.staging.mina.app" },
      { urn: plain[0].urn, name: "staging.mina.app", type: "A", setIdentifier: "live", weight: 100, to: "blue.staging.mina.app" },
    ]);
    for (const rs of [plain, front, swapped]) assert.ok(route53Accepts(rs), JSON.stringify(rs.map(shape)));
  });

  it("creates the canary record only after the share record is updated (a CNAME share record must be an A record first)", () => {
    const canary = front.find((r) => r.name === "mina-staging-dns-canary")!;
    assert.ok(canary.dependencies!.some((u) => u.endsWith("$aws:route53/record:Record::mina-staging-dns-share")), JSON.stringify(canary.dependencies));
  });

  it("a swap with a canary share changes only weights and alias targets of the same two records", () => {
    assert.deepEqual(swapped.map((r) => r.urn), front.map((r) => r.urn));
    assert.deepEqual(
      swapped.map(shape).map((s) => [s.setIdentifier, s.type, s.weight, s.to]),
      [
        ["canary", "A", 10, "blue.staging.mina.app"],
        ["live", "A", 90, "green.staging.mina.app"],
      ],
    );
  });
});

/** The code a commit of the project needs to plan itself (as tests/plan-diff.test.ts copies it). */
const SOURCES = ["bluegreen", "cli", "config", "components", "envfiles", "gate", "lib", "plan", "policy", "verify", "index.ts", "Pulumi.yaml", "package.json", "tsconfig.json"];

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "Mina Test",
  GIT_AUTHOR_EMAIL: "test@mina.invalid",
  GIT_COMMITTER_NAME: "Mina Test",
  GIT_COMMITTER_EMAIL: "test@mina.invalid",
};

describe("npm run plan -- --base: becoming a front and swapping are updates of the share record, which the gate passes", function () {
  this.timeout(300000);
  const fs = require("fs") as typeof import("fs");
  const path = require("path") as typeof import("path");
  const { execFileSync } = require("child_process") as typeof import("child_process");
  const { run } = require("./cli") as typeof import("./cli");
  const { readPlanDiff, decide } = require("../gate/gate") as typeof import("../gate/gate");
  const { REPO } = require("./helpers") as typeof import("./helpers");
  let project: { dir: string; cleanup: () => void };
  const git = (...args: string[]) => execFileSync("git", args, { cwd: project.dir, env: GIT_ENV, encoding: "utf8" }).trim();
  const commit = (message: string) => {
    git("add", "-A");
    git("commit", "-q", "-m", message);
  };
  const diffOfLast = async (): Promise<import("../plan/diff").PlanDiff> => {
    const r = await run("plan", ["--dir", project.dir, "--base", "HEAD~1", "--json"], { cwd: project.dir });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const RECORD = "aws:route53/record:Record";

  before(() => {
    project = blueGreenProject({ asFront: false });
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(project.dir, ".gitignore"), "node_modules/\n");
    for (const s of SOURCES) if (fs.existsSync(path.join(REPO, s))) fs.cpSync(path.join(REPO, s), path.join(project.dir, s), { recursive: true });
    fs.symlinkSync(path.join(REPO, "node_modules"), path.join(project.dir, "node_modules"), "dir");
    commit("staging and its two colours; staging not a front yet");
  });
  after(() => project?.cleanup());

  it("making staging the front: the share record changes inputs only, the canary record is added, nothing is removed or needs approval", async () => {
    fs.writeFileSync(path.join(project.dir, "Pulumi.staging.yaml"), frontFile({ live: "blue" }));
    commit("staging becomes the blue/green front");
    const diff = await diffOfLast();
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(staging.changed.filter((c) => c.type === RECORD).map((c) => [c.name, c.fields]), [["mina-staging-dns-share", ["inputs"]]]);
    assert.deepEqual(staging.added.map((r) => [r.type, r.name]), [[RECORD, "mina-staging-dns-canary"]]);
    assert.deepEqual(staging.removed, []);
    assert.deepEqual(staging.mayBeReplaced, []);
    assert.deepEqual(diff.needsApproval, []);
    for (const s of diff.stacks.filter((x) => x.stack !== "staging")) assert.equal(s.status, "unchanged", s.stack);
    const gate = readPlanDiff(diff);
    assert.deepEqual([gate.dangerous, gate.incomplete], [[], []]);
    assert.equal(decide(gate.dangerous, []).ok, true);
  });

  it("a swap to green with a canary share: both records change inputs only; nothing added, removed or held", async () => {
    fs.writeFileSync(path.join(project.dir, "Pulumi.staging.yaml"), frontFile({ live: "green", canary: 10 }));
    commit("staging: swap to green, 10% canary on blue");
    const diff = await diffOfLast();
    const staging = diff.stacks.find((s) => s.stack === "staging")!;
    assert.deepEqual(staging.changed.map((c) => [c.type, c.name, c.fields]), [
      [RECORD, "mina-staging-dns-canary", ["inputs"]],
      [RECORD, "mina-staging-dns-share", ["inputs"]],
    ]);
    assert.deepEqual([staging.added, staging.removed, diff.needsApproval], [[], [], []]);
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
      assert.equal(bad.stderr, `error: smoke check of staging failed: GET ${wrong.url} reports environment "production", but this is staging's host: another environment is answering here\n`);
    } finally {
      await good.close();
      await wrong.close();
    }
  });

  it("refuses a stack it does not know and a path without its slash", async () => {
    const { missingStack } = require("./helpers") as typeof import("./helpers");
    const missing = missingStack();
    assert.match((await run("smoke", ["--stack", missing])).stderr, new RegExp(`^error: no stack named ${missing} \\(stacks: `));
    assert.equal((await run("smoke", ["--stack", "staging", "--path", "api/version"])).stderr, 'error: --path must start with /, got "api/version"\n');
  });
});
