import { strict as assert } from "node:assert";
import { newCommand, swallowedByNpm } from "../cli/lib/run";
import { COMMANDS as TABLE } from "../cli/main";
import { run, spawnCli } from "./cli";

const COMMANDS = Object.keys(TABLE);

describe("every command has --help and refuses bad usage in one line", () => {
  for (const c of COMMANDS) {
    it(c, async () => {
      const help = await run(c, ["--help"]);
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`^Usage: ${c} `));
      const bad = await run(c, ["--no-such-option"]);
      assert.equal(bad.status, 2);
      // The error, then one line pointing at --help: not the whole help text.
      const lines = bad.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, bad.stderr);
      assert.match(lines[0], /^error: (unknown option '--no-such-option'|required option '--[a-z-]+ <[a-z]+>' not specified)$/);
      assert.equal(lines[1], `(run 'mina-infra ${c} --help' for usage)`);
    });
  }
});

describe("the mina-infra bin", function () {
  this.timeout(60000);

  it("lists its commands, runs one, and refuses an unknown one in one line (end to end)", () => {
    const usage = spawnCli("--help", []);
    assert.equal(usage.status, 0, usage.stderr);
    for (const c of COMMANDS) assert.match(usage.stdout, new RegExp(`^  ${c} `, "m"));
    const help = spawnCli("gate", ["--help"]);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: gate /);
    const bad = spawnCli("plann", []);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^error: no command named "plann" \(commands: plan, env, /);
  });
});

describe("options npm takes for itself are not silently dropped", () => {
  const cmd = () => newCommand("plan").option("--json").option("--stack <name>").option("--dry-run");

  it("names the options npm swallowed when run through npm without --", () => {
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_json: "true" }), ["--json"]);
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_stack: "staging", npm_config_dry_run: "true" }), ["--stack", "--dry-run"]);
  });

  it("says nothing outside npm run (npx passes every option on), or when npm passed everything on", () => {
    assert.deepEqual(swallowedByNpm(cmd(), { npm_config_json: "true" }), []);
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "npx", npm_config_json: "true" }), []);
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_cache: "/x", npm_config_loglevel: "silent" }), []);
  });

  it("stops the command with one line saying where the option goes", async () => {
    const r = await run("plan", [], { env: { npm_lifecycle_event: "plan", npm_config_json: "true" } });
    assert.equal(r.status, 2);
    const message = "npm took --json for itself, so plan never saw it: put options after --, as in npm run plan -- --json";
    assert.equal(r.stderr, `error: ${message}\n`);
    // --json was asked for: the refusal is JSON on standard output too.
    assert.deepEqual(JSON.parse(r.stdout), { ok: false, exitCode: 2, error: message });
  });
});

describe("numeric options are whole numbers, and durations carry a unit, within their bounds", () => {
  const cases: [string, string[], string][] = [
    ["verify", [".env.staging.local", "--timeout", "50ms"], `--timeout must be at least 100ms, got "50ms"`],
    ["local", ["--timeout", "1.5"], `--timeout needs a unit, as in 5s or 500ms, got "1.5"`],
    [
      "refresh",
      ["--from", "production", "--to", "staging", "--timeout", "soon"],
      `--timeout must be a whole number with a unit (ms, s, m, h or d), as in 5s or 500ms, got "soon"`,
    ],
    ["smoke", ["--stack", "staging", "--retries", "-1"], `--retries must be a whole number >= 0, got "-1"`],
    ["swap", ["--to", "blue", "--timeout", "99"], `--timeout needs a unit, as in 5s or 500ms, got "99"`],
    ["snapshot", ["--stack", "production", "--commit", "x", "--poll", "15"], `--poll needs a unit, as in 5s or 500ms, got "15"`],
    ["bench", ["--runs", "0"], `--runs must be a whole number >= 1, got "0"`],
  ];
  for (const [c, args, message] of cases) {
    it(`${c} ${args.join(" ")}`, async () => {
      const r = await run(c, args);
      assert.equal(r.status, 2, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, `error: ${message}\n`);
    });
  }
});
