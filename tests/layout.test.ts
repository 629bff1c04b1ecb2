import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { dependencyRules, FOLDERS, LAYOUT_FILE, renderLayout, sourceFolders } from "../scripts/layout";
import { REPO } from "./helpers";

describe("docs/reference/layout.md: the folders and the dependency rules", () => {
  it("is what npm run layout writes from scripts/layout.ts and .dependency-cruiser.cjs (run it after changing either)", () => {
    const have = fs.readFileSync(path.join(REPO, LAYOUT_FILE), "utf8");
    assert.equal(have, renderLayout(REPO), `${LAYOUT_FILE} is out of date: run npm run layout`);
  });

  it("gives every top-level source folder a job, and names no folder that is gone", () => {
    const described = FOLDERS.map(([f]) => f).filter((f) => f.endsWith("/"));
    for (const folder of sourceFolders(REPO)) assert.ok(described.includes(folder), `${folder} has no job in scripts/layout.ts (FOLDERS)`);
    for (const folder of described) assert.ok(fs.existsSync(path.join(REPO, folder)), `scripts/layout.ts describes ${folder}, which does not exist`);
  });

  it("states every dependency rule in words, with the rules the layout promises among them", () => {
    const rules = dependencyRules(REPO);
    for (const name of ["no-circular", "lib-is-a-leaf", "config-imports-only-lib", "nothing-imports-cli"]) {
      assert.ok(
        rules.some((r) => r.name === name),
        `.dependency-cruiser.cjs has no rule ${name}`,
      );
    }
    for (const r of rules) assert.ok(r.comment && r.comment.length > 10, `rule ${r.name} has no comment to state it`);
  });

  it("notices a folder without a job", () => {
    const tmp = fs.mkdtempSync(path.join(fs.realpathSync(require("node:os").tmpdir()), "mina-layout-"));
    try {
      fs.mkdirSync(path.join(tmp, "newjob", "deep"), { recursive: true });
      fs.writeFileSync(path.join(tmp, "newjob", "deep", "x.ts"), "export {};\n");
      fs.mkdirSync(path.join(tmp, "assets"));
      fs.writeFileSync(path.join(tmp, "assets", "x.png"), "");
      assert.deepEqual(sourceFolders(tmp), ["newjob/"]);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
