import { strict as assert } from "node:assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { REPO } from "./helpers";

const COMMANDS = ["plan", "env", "verify", "audit", "templates", "gate", "account-check", "bench"];
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
      assert.match(bad.stderr, /^error: /);
      assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
    });
  }
});
