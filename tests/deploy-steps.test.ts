/**
 * The deploy job's own steps after `pulumi up`: the migrations (a real shell, in
 * a real directory). The snapshot before it has tests/snapshot.test.ts.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { run } from "./cli";
describe("the migrations after pulumi up", () => {
  let work: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-migrate-"));
    fs.mkdirSync(path.join(work, "app"));
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("runs the stack's command in the app checkout with the env file as its environment", async () => {
    const project = fs.mkdtempSync(path.join(os.tmpdir(), "mina-migrate-project-"));
    try {
      const { REPO } = require("./helpers") as typeof import("./helpers");
      for (const f of ["Pulumi.yaml", "Pulumi.production.yaml"]) fs.copyFileSync(path.join(REPO, f), path.join(project, f));
      fs.writeFileSync(
        path.join(project, "Pulumi.staging.yaml"),
        fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8") +
          '  mina:migrateCommand: echo "migrating $ENVIRONMENT in $(basename "$PWD")" > migrated.txt\n',
      );
      fs.writeFileSync(path.join(work, ".env.staging.local"), "ENVIRONMENT=staging\n", { mode: 0o600 });
      const r = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", ".env.staging.local", "--dir", project], { cwd: work });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.readFileSync(path.join(work, "app", "migrated.txt"), "utf8"), "migrating staging in app\n");
      assert.match(r.stdout, /✓ migrations of staging ran: echo/);
      const json = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", ".env.staging.local", "--dir", project, "--json"], {
        cwd: work,
      });
      assert.equal(json.status, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), { ok: true, stack: "staging", command: 'echo "migrating $ENVIRONMENT in $(basename "$PWD")" > migrated.txt' });
    } finally {
      fs.rmSync(project, { recursive: true, force: true });
    }
  });

  it("refuses another environment's env file, and stops on a failing command naming it", async () => {
    fs.writeFileSync(path.join(work, "prod.env"), "ENVIRONMENT=production\n", { mode: 0o600 });
    const wrong = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", "prod.env"], { cwd: work });
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr, "error: prod.env is \"production\"'s env file, not staging's: refusing to migrate with it\n");
    const wrongJson = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", "prod.env", "--json"], { cwd: work });
    assert.deepEqual(JSON.parse(wrongJson.stdout), {
      ok: false,
      exitCode: 1,
      error: "prod.env is \"production\"'s env file, not staging's: refusing to migrate with it",
    });
    fs.writeFileSync(path.join(work, "staging.env"), "ENVIRONMENT=staging\n", { mode: 0o600 });
    const failing = await run("migrate", ["--stack", "staging", "--app-dir", "app", "--env-file", "staging.env"], { cwd: work, env: { PATH: "/nonexistent" } });
    assert.equal(failing.status, 1);
    // The command's own output first (masked), then the one line that says why.
    assert.match(failing.stderr, /\nerror: the migrations of staging failed \(flask db upgrade, exit 127\): [^\n]*flask: not found\n$/);
  });
});
