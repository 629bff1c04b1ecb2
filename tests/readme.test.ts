import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { REPO } from "./helpers";

/**
 * The README itself. What it used to list (config keys, variables, every command
 * and option) is in the generated reference pages now, checked by tests/docs.test.ts.
 */
describe("README documents what the code does", () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));

  it("gives a fresh machine exactly the two commands, and both exist", () => {
    assert.match(readme, /^npm ci && npm run plan/m);
    assert.match(readme, /^npm test/m);
    assert.ok(pkg.scripts.plan && pkg.scripts.test);
  });

  it("says how to run one test file, with a script that exists", () => {
    assert.ok(readme.includes("npm run test:one -- tests/"), "npm run test:one");
    assert.ok(pkg.scripts["test:one"]);
  });

  it("points at the generated reference pages", () => {
    for (const page of ["docs/reference/commands.md", "docs/reference/config-keys.md", "docs/reference/variables.md"]) {
      assert.ok(readme.includes(`(${page})`), page);
    }
  });

  it("names only npm scripts that exist", () => {
    for (const [, script] of readme.matchAll(/npm run ([a-z]+)/g)) assert.ok(pkg.scripts[script], `npm run ${script}`);
  });
});
