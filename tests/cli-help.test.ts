import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { newCommand, swallowedByNpm } from "../cli/lib/run";
import { REPO } from "./helpers";

const COMMANDS = ["plan", "env", "verify", "audit", "templates", "gate", "account-check", "bench", "demo"];
const tsx = path.join(REPO, "node_modules", ".bin", "tsx");

describe("every command has --help and refuses bad usage in one line", function () {
  this.timeout(60000);
  for (const c of COMMANDS) {
    it(c, () => {
      const help = spawnSync(tsx, [path.join(REPO, "cli", `${c}.ts`), "--help"], { encoding: "utf8" });
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`^Usage: ${c} `));
      const bad = spawnSync(tsx, [path.join(REPO, "cli", `${c}.ts`), "--no-such-option"], { encoding: "utf8" });
      assert.equal(bad.status, 2);
      // The error, then one line pointing at --help: not the whole help text.
      const lines = bad.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 2, bad.stderr);
      assert.match(lines[0], /^error: (unknown option '--no-such-option'|required option '--[a-z-]+ <[a-z]+>' not specified)$/);
      assert.equal(lines[1], `(run '${c} --help' for usage)`);
    });
  }
});

describe("options npm takes for itself are not silently dropped", () => {
  const cmd = () => newCommand("plan").option("--json").option("--stack <name>").option("--dry-run");

  it("names the options npm swallowed when run through npm without --", () => {
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_json: "true" }), ["--json"]);
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_stack: "staging", npm_config_dry_run: "true" }), ["--stack", "--dry-run"]);
  });

  it("says nothing outside npm, or when npm passed everything on", () => {
    assert.deepEqual(swallowedByNpm(cmd(), { npm_config_json: "true" }), []);
    assert.deepEqual(swallowedByNpm(cmd(), { npm_lifecycle_event: "plan", npm_config_cache: "/x", npm_config_loglevel: "silent" }), []);
  });

  it("stops the command with one line saying where the option goes", () => {
    const r = spawnSync(tsx, [path.join(REPO, "cli", "plan.ts")], {
      encoding: "utf8",
      env: { ...process.env, npm_lifecycle_event: "plan", npm_config_json: "true" },
    });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "error: npm took --json for itself, so plan never saw it: put options after --, as in npm run plan -- --json\n");
  });
});
