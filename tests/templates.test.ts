import { strict as assert } from "node:assert";
import * as fs from "fs";
import * as path from "path";
import { parse as dotenvParse } from "dotenv";
import { listStackFiles, loadStackOffline } from "../config";
import { isSecretVariable } from "../config/variables";
import { promiseOf, runUnderMocks } from "../plan/mockRuntime";
import { run } from "./cli";
import { REPO } from "./helpers";

describe("committed env templates (.env.<stack>) match the program", function () {
  this.timeout(60000);

  for (const { stack } of listStackFiles(REPO)) {
    it(`.env.${stack} lists exactly the variables the ${stack} stack emits, with its non-secret values`, async () => {
      const template = dotenvParse(fs.readFileSync(path.join(REPO, `.env.${stack}`)));
      const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
      const { config } = loadStackOffline(REPO, stack);
      const { result } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
      const env = await promiseOf(result.env);
      assert.deepEqual(Object.keys(template), Object.keys(env));
      for (const [k, v] of Object.entries(env)) {
        if (isSecretVariable(k)) assert.equal(template[k], `<from npm run env -- --stack ${stack}>`, k);
        else assert.equal(template[k], v, k);
      }
    });
  }

  it("npm run templates -- --check passes on the committed files and fails on a drifted one", async () => {
    const check = (dir: string) => run("templates", ["--check", "--dir", dir]);
    assert.equal((await check(REPO)).status, 0);
    const tmp = fs.mkdtempSync(path.join(require("os").tmpdir(), "mina-templates-"));
    try {
      for (const f of ["Pulumi.staging.yaml", "Pulumi.production.yaml", ".env.staging", ".env.production"]) fs.copyFileSync(path.join(REPO, f), path.join(tmp, f));
      fs.appendFileSync(path.join(tmp, "Pulumi.staging.yaml"), "  mina:logLevel: WARNING\n");
      const r = (await check(tmp));
      assert.equal(r.status, 1);
      assert.equal(r.stderr.trim(), "error: templates differ from the program: .env.staging; run npm run templates");
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
