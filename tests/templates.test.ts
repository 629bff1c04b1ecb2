import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as dotenvParse } from "dotenv";
import { listStackFiles, loadStackOffline } from "../config";
import { TEMPLATE_FILE } from "../envfiles/templates";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { run } from "./cli";
import { REPO, tempProject } from "./helpers";

describe(`the committed ${TEMPLATE_FILE} matches the program`, function () {
  this.timeout(60000);
  const template = () => dotenvParse(fs.readFileSync(path.join(REPO, TEMPLATE_FILE)));

  for (const { stack } of listStackFiles(REPO)) {
    it(`lists exactly the variables the ${stack} stack emits, and no value of any stack`, async () => {
      const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
      const { config } = loadStackOffline(REPO, stack);
      const { result } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
      const env = await promiseOf(result.env);
      const t = template();
      for (const k of Object.keys(env)) assert.ok(k in t, `${k} is missing from ${TEMPLATE_FILE}`);
      for (const v of Object.values(t)) assert.equal(v, "<from npm run env -- --stack NAME>");
    });
  }

  it("npm run templates -- --check passes on the committed file, fails on a drifted one, and ignores new stacks", async () => {
    const check = (dir: string) => run("templates", ["--check", "--dir", dir]);
    assert.equal((await check(REPO)).status, 0);
    const { dir, cleanup } = tempProject({ [TEMPLATE_FILE]: fs.readFileSync(path.join(REPO, TEMPLATE_FILE), "utf8") });
    try {
      fs.copyFileSync(path.join(REPO, "Pulumi.staging.yaml"), path.join(dir, "Pulumi.another.yaml"));
      assert.equal((await check(dir)).status, 0, "a new stack file changes nothing in the template");
      fs.appendFileSync(path.join(dir, TEMPLATE_FILE), "EXTRA=1\n");
      const r = await check(dir);
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), `error: ${TEMPLATE_FILE} differs from the program; run mina-infra templates`);
    } finally {
      cleanup();
    }
  });
});
