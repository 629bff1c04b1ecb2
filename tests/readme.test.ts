import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { KEYS } from "../config/schema";
import { VARIABLES } from "../config/variables";
import { REPO } from "./helpers";

describe("README documents what the code does", () => {
  const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8"));

  it("has a table row for every config key", () => {
    for (const key of Object.keys(KEYS)) assert.match(readme, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
  });

  it("has a table row for every emitted variable", () => {
    for (const v of VARIABLES) assert.match(readme, new RegExp(`^\\| \`${v.name}\` \\| ${v.secret ? "yes" : "no"} \\|`, "m"), v.name);
  });

  it("gives a fresh machine exactly the two commands, and both exist", () => {
    assert.match(readme, /^npm ci && npm run plan/m);
    assert.match(readme, /^npm test/m);
    assert.ok(pkg.scripts.plan && pkg.scripts.test);
  });

  it("documents every command and every option it takes, in the Commands table", async () => {
    const { run } = require("./cli") as typeof import("./cli");
    const table = readme.slice(readme.indexOf("## Commands"), readme.indexOf("## Stack files and the project file"));
    const { COMMANDS } = require("../cli/main") as typeof import("../cli/main");
    for (const name of Object.keys(COMMANDS)) {
      const row = table.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
      assert.ok(row, `no row for ${name}`);
      const help = await run(name, ["--help"]);
      const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]).filter((o) => o !== "--help");
      for (const o of options) assert.ok(row.includes(`\`${o}`) || row.includes(` ${o}`), `${name}: ${o} is not documented`);
    }
  });

  it("names only npm scripts that exist", () => {
    for (const [, script] of readme.matchAll(/npm run ([a-z]+)/g)) assert.ok(pkg.scripts[script], `npm run ${script}`);
  });
});
