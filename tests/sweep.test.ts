/**
 * The sweeper: the pure decision on recorded stack listings (fixed clock), and the
 * command end to end in-process against a fake `pulumi` that records its calls.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { decideSweep, formatAge, type ListedStack, parseStackList, type SweepOptions } from "../ops/sweep";
import { parseDuration } from "../lib/duration";
import { run } from "./cli";
import { REPO } from "./helpers";

const FIXTURES = path.join(REPO, "tests", "fixtures", "sweep");
const NOW = Date.parse("2025-06-10T12:00:00Z");
const HOUR = 3_600_000;
const TTL = 72 * HOUR;

/** The recorded listing with each stack's recorded tags, as the command assembles it. */
function recorded(): ListedStack[] {
  const { stacks } = parseStackList(JSON.parse(fs.readFileSync(path.join(FIXTURES, "stack-ls.json"), "utf8")));
  const tags = JSON.parse(fs.readFileSync(path.join(FIXTURES, "tags.json"), "utf8")) as Record<string, Record<string, string>>;
  return stacks.map((s) => ({ ...s, tags: tags[s.name] }));
}
const decide = (stacks: ListedStack[], opts: Partial<SweepOptions> = {}) =>
  decideSweep(stacks, { now: NOW, ttlMs: TTL, ttlText: "72h", productionStackFiles: ["production"], ...opts });
const decisions = (stacks: ListedStack[], opts: Partial<SweepOptions> = {}) => Object.fromEntries(decide(stacks, opts).rows.map((r) => [r.stack, r.decision]));
const reasonOf = (stacks: ListedStack[], name: string, opts: Partial<SweepOptions> = {}) => decide(stacks, opts).rows.find((r) => r.stack === name)?.reason;
const marked = (name: string, hoursAgo: number | undefined, extra: Record<string, string> = {}): ListedStack => ({
  name,
  lastUpdate: hoursAgo === undefined ? undefined : NOW - hoursAgo * HOUR,
  tags: { "mina:created-by": "env:new", "pulumi:project": "mina", ...extra },
});

describe("sweep: the decision (recorded listings, fixed clock)", () => {
  it("reads the recorded pulumi stack ls --json: names, last updates, updates in progress", () => {
    const { stacks, skipped } = parseStackList(JSON.parse(fs.readFileSync(path.join(FIXTURES, "stack-ls.json"), "utf8")));
    assert.deepEqual(skipped, []);
    assert.equal(stacks.length, 8);
    assert.equal(stacks.find((s) => s.name === "pr-101")?.lastUpdate, Date.parse("2025-06-05T09:00:00Z"));
    assert.equal(stacks.find((s) => s.name === "pr-104")?.lastUpdate, undefined);
    assert.equal(stacks.find((s) => s.name === "pr-105")?.updateInProgress, true);
    assert.equal(stacks.find((s) => s.name === "staging")?.resourceCount, 36);
    assert.ok(
      stacks.every((s) => s.tags === undefined),
      "the listing carries no tags",
    );
  });

  it("decides every recorded stack, with its reason", () => {
    const plan = decide(recorded());
    assert.deepEqual(
      plan.rows.map((r) => [r.stack, r.decision, r.reason]),
      [
        ["demo-alice", "destroy", "idle 7d 19h, past the TTL of 72h"],
        ["pr-101", "destroy", "idle 5d 3h, past the TTL of 72h"],
        ["pr-102", "keep", "updated 4h 0m ago, within the TTL of 72h"],
        ["pr-103", "keep", "tag mina:keep=true"],
        ["pr-104", "keep", "last update unknown (never updated?): not swept by age; tear it down by name with --stack if it is abandoned"],
        ["pr-105", "keep", "an update is in progress"],
        ["production", "keep", "production tier (tag mina:tier=production; its name reads as production; Pulumi.production.yaml is production's)"],
        ["staging", "keep", "not created by env:new (no tag mina:created-by=env:new)"],
      ],
    );
    assert.deepEqual(
      plan.destroy.map((r) => r.stack),
      ["demo-alice", "pr-101"],
      "oldest-updated first",
    );
    assert.deepEqual(plan.refused, []);
  });

  it("counts the TTL from the last update, not from creation: a stack updated an hour ago stays", () => {
    // The same review stack, first idle 80 hours, then just updated.
    assert.equal(decisions([marked("pr-7", 80)])["pr-7"], "destroy");
    assert.equal(decisions([marked("pr-7", 1)])["pr-7"], "keep");
    // At exactly the TTL it goes; a minute before, it stays.
    assert.equal(decisions([marked("pr-7", 72)])["pr-7"], "destroy");
    assert.equal(decisions([{ ...marked("pr-7", 72), lastUpdate: NOW - TTL + 60_000 }])["pr-7"], "keep");
    // A last update in the future (clock skew) counts as now.
    assert.equal(decisions([marked("pr-7", -5)])["pr-7"], "keep");
  });

  it("keeps a stack with a keep tag, whatever its age; an explicit no does not keep", () => {
    assert.equal(decisions([marked("pr-8", 500, { "mina:keep": "true" })])["pr-8"], "keep");
    assert.equal(decisions([marked("pr-8", 500, { "mina:keep": "until friday" })])["pr-8"], "keep", "any value but no keeps");
    assert.equal(decisions([marked("pr-8", 500, { "mina:keep": "false" })])["pr-8"], "destroy");
  });

  it("caps the review stacks with --max: beyond it the oldest-updated go first, the TTL's first", () => {
    const stacks = [
      marked("pr-1", 10),
      marked("pr-2", 50),
      marked("pr-3", 5),
      marked("pr-4", 30),
      marked("pr-5", 100),
      marked("pr-6", 20, { "mina:keep": "true" }),
    ];
    const plan = decide(stacks, { max: 2 });
    assert.deepEqual(
      plan.destroy.map((r) => r.stack),
      ["pr-5", "pr-2", "pr-4"],
      "past the TTL, then the oldest within it",
    );
    assert.equal(plan.rows.find((r) => r.stack === "pr-2")?.reason, "over --max 2: 4 review stacks idle within the TTL, the oldest-updated go first");
    assert.deepEqual(
      plan.rows.filter((r) => r.decision === "keep").map((r) => r.stack),
      ["pr-1", "pr-3", "pr-6"],
      "the two newest, and the kept one (not counted)",
    );
    assert.deepEqual(
      decide(stacks, { max: 4 }).destroy.map((r) => r.stack),
      ["pr-5"],
      "within the cap: only the TTL",
    );
    assert.deepEqual(
      decide(stacks, { max: 0 }).destroy.map((r) => r.stack),
      ["pr-5", "pr-2", "pr-4", "pr-1", "pr-3"],
    );
  });

  it("never touches a stack env:new did not create", () => {
    const unmarked: ListedStack[] = [
      { name: "pr-9", lastUpdate: NOW - 1000 * HOUR, tags: { "pulumi:project": "mina" } },
      { name: "pr-10", lastUpdate: NOW - 1000 * HOUR, tags: { "mina:created-by": "someone" } },
      { name: "pr-11", lastUpdate: NOW - 1000 * HOUR, tags: { "mina:created-by": "ENV:NEW" } },
      { name: "pr-12", lastUpdate: NOW - 1000 * HOUR, tagsProblem: "pulumi stack tag ls --json --stack pr-12 failed: 403" },
    ];
    const plan = decide(unmarked, { max: 0 });
    assert.deepEqual(plan.destroy, []);
    assert.equal(plan.rows[3].reason, "its tags could not be read (pulumi stack tag ls --json --stack pr-12 failed: 403)");
  });

  it("refuses production-tier stacks even when marked: by tag, by name, by stack file", () => {
    const cases: [ListedStack, string][] = [
      [marked("eu", 500, { "mina:tier": "production" }), "tag mina:tier=production"],
      [marked("eu", 500, { "mina:tier": "Production" }), "tag mina:tier=Production"],
      [marked("prod-copy", 500), "its name reads as production"],
      [marked("mina-app/mina/production", 500), "its name reads as production"],
      [marked("eu", 500), "Pulumi.eu.yaml is production's"],
    ];
    for (const [s, why] of cases) {
      const plan = decide([s, marked("pr-1", 500)], { productionStackFiles: ["production", "eu"] });
      assert.deepEqual(
        plan.refused.map((r) => r.stack),
        [s.name],
        why,
      );
      assert.match(
        plan.refused[0].reason,
        new RegExp(
          `^production tier \\(.*${why.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}.*\\) yet tagged mina:created-by=env:new: never destroyed; remove the tag$`,
        ),
      );
      assert.ok(!plan.destroy.some((r) => r.stack === s.name));
    }
    // Unmarked, a production-tier stack is simply kept.
    assert.deepEqual(decide([{ name: "eu", lastUpdate: NOW - 500 * HOUR, tags: {} }], { productionStackFiles: ["eu"] }).refused, []);
  });

  it("keeps a stack whose last update is unknown, and reports why", () => {
    const plan = decide([marked("pr-20", undefined), { ...marked("pr-21", undefined), updateInProgress: true }], { max: 0 });
    assert.deepEqual(plan.destroy, []);
    assert.match(plan.rows[0].reason, /^last update unknown/);
    assert.equal(plan.rows[1].reason, "an update is in progress");
  });

  it("with a prefix, considers only its stacks", () => {
    const d = decisions(recorded(), { prefix: "pr-" });
    assert.equal(d["demo-alice"], "keep");
    assert.equal(d["pr-101"], "destroy");
    assert.equal(reasonOf(recorded(), "demo-alice", { prefix: "pr-" }), "not a pr-* stack");
  });

  it("tears down named stacks whatever their age, with every other rule", () => {
    let plan = decide(recorded(), { only: ["pr-102", "pr-104", "pr-103", "pr-404"] });
    assert.deepEqual(
      plan.rows.map((r) => [r.stack, r.decision]),
      [
        ["pr-102", "destroy"],
        ["pr-103", "keep"],
        ["pr-104", "destroy"],
      ],
    );
    assert.deepEqual(plan.missing, ["pr-404"]);
    assert.deepEqual(
      plan.destroy.map((r) => r.stack),
      ["pr-102", "pr-104"],
      "known last updates first, the never-updated after",
    );
    plan = decide(recorded(), { only: ["staging", "production"] });
    assert.deepEqual(plan.destroy, []);
  });

  it("parses durations and prints ages", () => {
    assert.equal(parseDuration("72h"), 72 * HOUR);
    assert.equal(parseDuration("3d"), 72 * HOUR);
    assert.equal(parseDuration("90m"), 90 * 60_000);
    for (const bad of ["", "72", "h", "-3d", "1.5h", "3w", "72 h", "3d4h", "1e3m"]) assert.equal(parseDuration(bad), undefined, bad);
    assert.deepEqual([formatAge(45 * 60_000), formatAge(5 * HOUR + 12 * 60_000), formatAge(76 * HOUR)], ["45m", "5h 12m", "3d 4h"]);
  });

  it("reads listings defensively: null, entries without a name, odd times, tags in the listing", () => {
    assert.deepEqual(parseStackList(null), { stacks: [], skipped: [] });
    assert.throws(() => parseStackList({ stacks: [] }), /expected a JSON array/);
    const { stacks, skipped } = parseStackList([
      { current: false },
      "pr-1",
      { name: "pr-2", lastUpdate: "yesterday" },
      { name: "pr-3", lastUpdate: "2025-06-01T00:00:00" },
      { name: "pr-4", lastUpdate: 1748736000 },
      { name: "pr-5", lastUpdate: "2025-06-01T02:00:00+02:00", tags: { "mina:created-by": "env:new" } },
      { name: "pr-6", tags: { "mina:keep": true } },
    ]);
    assert.deepEqual(skipped, ["entry 0 has no stack name", "entry 1 has no stack name"]);
    assert.deepEqual(
      stacks.map((s) => [s.name, s.lastUpdate, s.tags]),
      [
        ["pr-2", undefined, undefined],
        ["pr-3", undefined, undefined],
        ["pr-4", Date.parse("2025-06-01T00:00:00Z"), undefined],
        ["pr-5", Date.parse("2025-06-01T00:00:00Z"), { "mina:created-by": "env:new" }],
        ["pr-6", undefined, undefined],
      ],
    );
  });
});

describe("npm run sweep (in-process, a fake pulumi that records its calls)", function () {
  this.timeout(60000);
  let work: string;
  let project: string;
  let bin: string;

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-sweep-"));
    project = path.join(work, "project");
    fs.mkdirSync(project);
    fs.copyFileSync(path.join(REPO, "Pulumi.yaml"), path.join(project, "Pulumi.yaml"));
    fs.copyFileSync(path.join(REPO, "Pulumi.staging.yaml"), path.join(project, "Pulumi.staging.yaml"));
    fs.copyFileSync(path.join(REPO, "Pulumi.production.yaml"), path.join(project, "Pulumi.production.yaml"));
    // The fake answers from files in FAKE_PULUMI_DIR and appends each call to calls.log (a shell script: it runs
    // dozens of times, and a Node process per call would cost more than the sweep it tests).
    bin = path.join(work, "pulumi");
    fs.writeFileSync(
      bin,
      `#!/bin/sh
dir="$FAKE_PULUMI_DIR"
echo "$*" >> "$dir/calls.log"
stack="$1"; prev=""
for a in "$@"; do [ "$prev" = "--stack" ] && stack="$a"; prev="$a"; done
fails=""; [ -f "$dir/fail" ] && fails=$(cat "$dir/fail")
if [ -n "$fails" ] && { [ "$fails" = "$1 $2 $stack" ] || [ "$fails" = "$1 $stack" ]; }; then
  echo "Destroying ($stack):"
  echo "error: update failed: deleting urn:pulumi:$stack::mina::aws:rds/instance:Instance::db: protected" >&2
  exit 255
fi
case "$1 $2" in
  "stack ls") cat "$dir/stack-ls.json" ;;
  "stack tag")
    if [ -f "$dir/tags/$stack.json" ]; then cat "$dir/tags/$stack.json"; else echo "error: no stack named '$stack' found" >&2; exit 255; fi ;;
  "stack rm") echo "Stack '$stack' has been removed!" ;;
  *) if [ "$1" = "destroy" ]; then printf 'Resources:\\n    - 31 deleted\\n'; else echo "error: unexpected call" >&2; exit 2; fi ;;
esac
`,
      { mode: 0o755 },
    );
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  /** A fresh fake backend holding these stacks (last updates in hours before now). */
  function backend(stacks: { name: string; hoursAgo?: number; tags: Record<string, string> }[], fail?: string): string {
    const dir = fs.mkdtempSync(path.join(work, "backend-"));
    const now = Date.now();
    fs.writeFileSync(
      path.join(dir, "stack-ls.json"),
      JSON.stringify(
        stacks.map((s) => ({
          name: s.name,
          current: false,
          ...(s.hoursAgo === undefined ? {} : { lastUpdate: new Date(now - s.hoursAgo * HOUR).toISOString(), updateInProgress: false }),
          resourceCount: 31,
        })),
        null,
        4,
      ),
    );
    fs.mkdirSync(path.join(dir, "tags"));
    for (const s of stacks) fs.writeFileSync(path.join(dir, "tags", `${s.name}.json`), `${JSON.stringify(s.tags, null, 4)}\n`);
    if (fail) fs.writeFileSync(path.join(dir, "fail"), fail);
    fs.writeFileSync(path.join(dir, "calls.log"), "");
    return dir;
  }
  const calls = (dir: string) =>
    fs
      .readFileSync(path.join(dir, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => l);
  const sweep = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
    run("sweep", ["--dir", project, ...args], { cwd: work, env: { PATH: process.env.PATH, MINA_PULUMI_BIN: bin, FAKE_PULUMI_DIR: dir, ...env } });
  const M = { "mina:created-by": "env:new" };
  const usual = () =>
    backend([
      { name: "pr-1", hoursAgo: 100, tags: M },
      { name: "pr-2", hoursAgo: 2, tags: M },
      { name: "pr-3", hoursAgo: 200, tags: M },
      { name: "pr-4", hoursAgo: 300, tags: { ...M, "mina:keep": "true" } },
      { name: "staging", hoursAgo: 500, tags: {} },
      { name: "production", hoursAgo: 500, tags: { "mina:tier": "production" } },
    ]);

  it("dry run by default: prints the table and what it would do, runs nothing but the listing", async () => {
    const dir = usual();
    const r = await sweep(dir, [], { CI: "true" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    const lines = r.stdout.split("\n");
    assert.equal(lines[0], "sweep (TTL 72h, dry run): 6 stacks");
    assert.match(lines[1], /^STACK +LAST UPDATE +AGE +DECISION +REASON$/);
    assert.match(r.stdout, /^pr-1 +\d{4}-\d\d-\d\dT\d\d:\d\dZ +4d 4h +destroy +idle 4d 4h, past the TTL of 72h$/m);
    assert.match(r.stdout, /^pr-4 .* keep +tag mina:keep=true$/m);
    assert.match(
      r.stdout,
      /^production .* keep +production tier \(tag mina:tier=production; its name reads as production; Pulumi\.production\.yaml is production's\)$/m,
    );
    assert.match(r.stdout, /^dry run: would destroy 2 stacks \(pr-3, pr-1\), oldest-updated first; nothing was destroyed\. Pass --yes to destroy them\.$/m);
    assert.deepEqual(calls(dir), [
      "stack ls --json",
      ...["pr-1", "pr-2", "pr-3", "pr-4", "staging", "production"].map((s) => `stack tag ls --json --stack ${s}`),
    ]);
    // --dry-run says the same, and so does --json, for machines.
    const explicit = await sweep(dir, ["--dry-run", "--ttl", "3d", "--max", "20"]);
    assert.equal(explicit.status, 0);
    const json = await sweep(dir, ["--json"]);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.dryRun, true);
    assert.deepEqual(doc.destroy, ["pr-3", "pr-1"]);
    assert.deepEqual(doc.destroyed, []);
    assert.equal(doc.stacks.length, 6);
    assert.ok(!calls(dir).some((c) => /^destroy|^stack rm/.test(c)), "nothing destroyed in any dry run");
  });

  it("--yes destroys then removes each stack, oldest-updated first, one by one", async () => {
    const dir = usual();
    const r = await sweep(dir, ["--ttl", "72h", "--max", "20", "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      calls(dir).filter((c) => !c.startsWith("stack ls") && !c.startsWith("stack tag")),
      ["destroy --yes --stack pr-3", "stack rm --yes --stack pr-3", "destroy --yes --stack pr-1", "stack rm --yes --stack pr-1"],
    );
    assert.match(r.stdout, /^✓ pr-3: destroyed and removed\n✓ pr-1: destroyed and removed\ndestroyed 2 stacks\n$/m);
    // The table comes before anything is done.
    assert.ok(r.stdout.indexOf("DECISION") < r.stdout.indexOf("✓ pr-3"));
  });

  it("--max destroys the oldest-updated beyond the cap", async () => {
    const dir = backend([1, 2, 3, 4, 5].map((h) => ({ name: `pr-${h}`, hoursAgo: h * 10, tags: M })));
    const r = await sweep(dir, ["--max", "3", "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(
      calls(dir).filter((c) => c.startsWith("destroy")),
      ["destroy --yes --stack pr-5", "destroy --yes --stack pr-4"],
    );
  });

  it("stops at the first failure, in one line naming what was done and what was not", async () => {
    const dir = backend(
      [
        { name: "pr-1", hoursAgo: 300, tags: M },
        { name: "pr-2", hoursAgo: 200, tags: M },
        { name: "pr-3", hoursAgo: 100, tags: M },
      ],
      "destroy pr-2",
    );
    const r = await sweep(dir, ["--yes"]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stderr,
      "error: pulumi destroy --yes --stack pr-2 failed: update failed: deleting urn:pulumi:pr-2::mina::aws:rds/instance:Instance::db: protected; stopped there (destroyed: pr-1; not attempted: pr-3)\n",
    );
    assert.deepEqual(
      calls(dir).filter((c) => !c.startsWith("stack ls") && !c.startsWith("stack tag")),
      ["destroy --yes --stack pr-1", "stack rm --yes --stack pr-1", "destroy --yes --stack pr-2"],
    );
  });

  it("refuses loudly, and destroys nothing, when a production-tier stack carries the marker", async () => {
    const dir = backend([
      { name: "pr-1", hoursAgo: 300, tags: M },
      { name: "production", hoursAgo: 300, tags: M },
    ]);
    const r = await sweep(dir, ["--yes"]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, "error: refusing to sweep: production is of the production tier yet carries the review marker; nothing was destroyed\n");
    assert.match(
      r.stdout,
      /^production .* refuse +production tier \(its name reads as production; Pulumi\.production\.yaml is production's\) yet tagged mina:created-by=env:new: never destroyed; remove the tag$/m,
    );
    assert.ok(!calls(dir).some((c) => c.startsWith("destroy")));
  });

  it("a stack file with mina:profile: production makes its stack production-tier", async () => {
    fs.writeFileSync(
      path.join(project, "Pulumi.eu.yaml"),
      fs.readFileSync(path.join(project, "Pulumi.production.yaml"), "utf8").replace(/^config:\n/m, "config:\n  mina:profile: production\n"),
    );
    try {
      const dir = backend([{ name: "eu", hoursAgo: 300, tags: M }]);
      const r = await sweep(dir, ["--yes"]);
      assert.equal(r.status, 1);
      assert.match(r.stdout, /^eu .* refuse +production tier \(Pulumi\.eu\.yaml is production's\)/m);
    } finally {
      fs.rmSync(path.join(project, "Pulumi.eu.yaml"));
    }
  });

  it("tears one review stack down by name (the review workflow on close), and says when there is none", async () => {
    const dir = usual();
    let r = await sweep(dir, ["--stack", "pr-2", "--yes"]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(calls(dir).slice(1), ["stack tag ls --json --stack pr-2", "destroy --yes --stack pr-2", "stack rm --yes --stack pr-2"]);
    assert.match(r.stdout, /^sweep \(teardown of pr-2\): 1 stack$/m);
    r = await sweep(dir, ["--stack", "pr-99", "--yes"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^pr-99: no such stack; nothing to tear down\nnothing to destroy\n$/m);
    r = await sweep(dir, ["--stack", "staging", "--yes"]);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^staging .* keep +not created by env:new/m);
    assert.ok(!calls(dir).includes("destroy --yes --stack staging"));
  });

  it("refuses bad usage in one line: durations, counts, contradictions", async () => {
    const dir = usual();
    const cases: [string[], string][] = [
      [["--ttl", "72"], 'error: --ttl needs a unit, as in 5s or 500ms, got "72"'],
      [["--ttl", "0h"], 'error: --ttl must be at least 1m, got "0h"'],
      [["--ttl", "2w"], 'error: --ttl must be a whole number with a unit (ms, s, m, h or d), as in 5s or 500ms, got "2w"'],
      [["--max", "-1"], 'error: --max must be a whole number >= 0, got "-1"'],
      [["--max", "ten"], 'error: --max must be a whole number >= 0, got "ten"'],
      [["--yes", "--dry-run"], "error: --yes and --dry-run contradict each other: give one"],
      [["--stack", "pr-1", "--ttl", "1h"], "error: --stack tears the named stacks down whatever their age: --ttl and --max do not apply to it"],
      [["--name-prefix", "PR_"], 'error: --name-prefix must be the start of a stack name (lower case letters, digits, hyphens), got "PR_"'],
    ];
    for (const [args, line] of cases) {
      const r = await sweep(dir, args);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stderr, `${line}\n`);
    }
    assert.deepEqual(calls(dir), [], "nothing ran");
  });

  it("explains a missing or logged-out Pulumi CLI, and a listing that is not JSON", async () => {
    const dir = usual();
    let r = await sweep(dir, [], { MINA_PULUMI_BIN: "/nonexistent/pulumi" });
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'error: the Pulumi CLI is not installed (no "/nonexistent/pulumi" on PATH); install it and log in (pulumi login)\n');
    fs.writeFileSync(path.join(dir, "stack-ls.json"), "Current stack is staging:\n");
    r = await sweep(dir, []);
    assert.equal(r.stderr, "error: pulumi stack ls --json did not print JSON\n");
    const out = path.join(work, "logged-out");
    fs.writeFileSync(out, "#!/bin/sh\necho 'error: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions' >&2\nexit 255\n", {
      mode: 0o755,
    });
    r = await sweep(dir, [], { MINA_PULUMI_BIN: out });
    assert.equal(r.stderr, "error: the Pulumi CLI is not logged in: run `pulumi login` (or set PULUMI_ACCESS_TOKEN), then retry\n");
  });
});
