/**
 * One way to call every command: the same flag names and units, `--json` with
 * errors as JSON too, the documented exit codes (0 ok, 1 check failed or
 * refused, 2 usage error), `--version`, `help COMMAND`, hints that work when
 * typed, and paths relative to where the user stands. Walks every command of the
 * bin's table (cli/main.ts), so a new command is held to it without a line here.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commandHint, durationValue, userCwd } from "../cli/lib/run";
import { COMMANDS } from "../cli/main";
import { run, spawnCli, withoutNpm } from "./cli";
import { REPO } from "./helpers";

/** Runs a command of the bin's table in-process, standing in `cwd`, with `env` as its whole environment. */
const call = (name: string, args: readonly string[], env: NodeJS.ProcessEnv = withoutNpm(process.env), cwd = REPO) => run(name, args, { env, cwd });

interface HelpOption {
  readonly flag: string;
  readonly arg: string | undefined;
  readonly description: string;
}

/** The options `--help` lists: flag, argument and description (wrapped lines joined). */
function optionsOf(help: string): HelpOption[] {
  const block = help.slice(help.indexOf("\nOptions:\n") + 10).split(/\n(?=\S)/)[0];
  const entries = block.split(/\n(?= {2}(?:-\w, )?--)/).map((e) => e.trim().replace(/\s+/g, " "));
  return entries.map((e) => {
    const m = /^(?:-\w, )?(--[a-z-]+)(?: ([<[][^>\]]+[>\]]))?\s*(.*)$/.exec(e);
    assert.ok(m, `cannot read the option line "${e}"`);
    return { flag: m[1], arg: m[2], description: m[3] };
  });
}

/** What a failure with --json prints on standard output: one document. */
function jsonFailure(r: { readonly stdout: string; readonly stderr: string }, exitCode: number): { ok: false; exitCode: number; error: string } {
  let doc: { ok: false; exitCode: number; error: string };
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    assert.fail(`not one JSON document on standard output: ${JSON.stringify(r.stdout)} (stderr: ${r.stderr})`);
  }
  assert.equal(doc.ok, false);
  assert.equal(doc.exitCode, exitCode);
  assert.equal(typeof doc.error, "string");
  assert.ok(doc.error.length > 0 && !doc.error.includes("\n"), doc.error);
  return doc;
}

const DURATION_NAMES = /^--(timeout|poll|ttl|interval|wait|delay|backoff)(-|$)/;

describe("one convention for every command (walks cli/main.ts's COMMANDS)", () => {
  const names = Object.keys(COMMANDS);
  const helps = new Map<string, HelpOption[]>();

  before(async () => {
    for (const name of names) {
      const help = await call(name, ["--help"]);
      assert.equal(help.status, 0, `${name} --help: ${help.stderr}`);
      helps.set(name, optionsOf(help.stdout));
    }
  });

  it("has commands to walk", () => assert.ok(names.length >= 20, names.join(", ")));

  it("every command takes --json and --help", () => {
    for (const name of names) {
      const flags = helps.get(name)!.map((o) => o.flag);
      assert.ok(flags.includes("--json"), `${name} has no --json`);
      assert.ok(flags.includes("--help"), `${name} has no --help`);
    }
  });

  it("several stacks are --stack NAME... everywhere: no --stacks, and --stack takes <name> or <name...>", () => {
    for (const name of names) {
      const options = helps.get(name)!;
      assert.ok(!options.some((o) => o.flag === "--stacks"), `${name} has --stacks`);
      const stack = options.find((o) => o.flag === "--stack");
      if (stack) assert.match(stack.arg ?? "", /^<name(\.\.\.)?>$/, `${name} --stack ${stack.arg}`);
    }
  });

  it("--dir is the project directory in every command that has one", () => {
    for (const name of names) {
      const dir = helps.get(name)!.find((o) => o.flag === "--dir");
      if (dir) assert.match(dir.description, /^project directory\b/, `${name} --dir: ${dir.description}`);
    }
  });

  it("every duration option is <duration>, shows its default with a unit, and refuses a bare number (exit 2, in JSON too)", async () => {
    let seen = 0;
    for (const name of names) {
      for (const o of helps.get(name)!) {
        if (DURATION_NAMES.test(o.flag)) assert.equal(o.arg, "<duration>", `${name} ${o.flag} takes ${o.arg}`);
        if (o.arg !== "<duration>") continue;
        seen++;
        const shown = /\(default: ([^)]+)\)/.exec(o.description);
        if (shown) assert.match(shown[1], /^\d+(ms|s|m|h|d)$/, `${name} ${o.flag} default ${shown[1]}`);
        const bare = await call(name, [o.flag, "5000"]);
        assert.equal(bare.status, 2, `${name} ${o.flag} 5000: ${bare.stderr}`);
        assert.equal(bare.stderr, `error: ${o.flag} needs a unit, as in 5s or 500ms, got "5000"\n`, name);
        assert.equal(bare.stdout, "");
        const json = await call(name, [o.flag, "5000", "--json"]);
        assert.equal(json.status, 2);
        assert.equal(jsonFailure(json, 2).error, `${o.flag} needs a unit, as in 5s or 500ms, got "5000"`);
      }
    }
    assert.ok(seen >= 8, `only ${seen} duration options`);
  });

  it("an unknown option exits 2 with a hint the user can type, through the bin and under npm, and as JSON with --json", async () => {
    for (const name of names) {
      const bad = await call(name, ["--no-such-option"]);
      assert.equal(bad.status, 2, name);
      assert.equal(bad.stderr.trimEnd().split("\n").pop(), `(run 'mina-infra ${name} --help' for usage)`, name);
      assert.equal(bad.stdout, "", name);
      const npm = await call(name, ["--no-such-option"], { npm_lifecycle_event: name });
      assert.equal(npm.stderr.trimEnd().split("\n").pop(), `(run 'npm run -s ${name} -- --help' for usage)`, name);
      const json = await call(name, ["--no-such-option", "--json"]);
      assert.equal(json.status, 2, name);
      assert.match(jsonFailure(json, 2).error, /^(unknown option '--no-such-option'|required option '--[a-z-]+ <[a-z]+>' not specified)$/, name);
    }
  });

  it("an option npm took for itself is a usage error, in JSON when it was --json", async () => {
    const r = await call("stacks", [], { npm_lifecycle_event: "stacks", npm_config_json: "true" });
    assert.equal(r.status, 2);
    assert.match(jsonFailure(r, 2).error, /^npm took --json for itself.*npm run stacks -- --json$/);
  });

  it("the commands that print text print one JSON document with --json: account-check, templates", async () => {
    const staging = /aws:allowedAccountIds:\n\s+- "?(\d{12})/.exec(fs.readFileSync(path.join(REPO, "Pulumi.staging.yaml"), "utf8"))![1];
    const ok = await call("account-check", ["--stack", "staging", "--account", staging, "--json"]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).ok, true);
    const mismatch = await call("account-check", ["--stack", "staging", "--account", "000000000000", "--json"]);
    assert.equal(mismatch.status, 1);
    assert.equal(JSON.parse(mismatch.stdout).ok, false);
    const templates = await call("templates", ["--check", "--json"]);
    assert.equal(templates.status, 0, templates.stderr);
    assert.deepEqual(JSON.parse(templates.stdout), { ok: true, file: ".env.template", written: false });
  });

  it("a failure inside a command is JSON with --json: a usage error (2) and a refusal (1)", async () => {
    const missing = await call("verify", ["no-such-dir/.env.staging.local", "--json"]);
    assert.equal(missing.status, 2);
    assert.equal(jsonFailure(missing, 2).error, "cannot read no-such-dir/.env.staging.local: no such file");
    assert.match(missing.stderr, /^error: cannot read no-such-dir\/\.env\.staging\.local: no such file\n$/);
    const noOutputs = await call("env", ["--stack", "staging", "--outputs-file", "no-such-outputs.json", "--json"]);
    assert.equal(noOutputs.status, 2, noOutputs.stderr);
    assert.match(jsonFailure(noOutputs, 2).error, /^cannot read outputs file .*no-such-outputs\.json: no such file$/);
    const refused = await call("refresh", ["--from", "staging", "--to", "production", "--json"]);
    assert.equal(refused.status, 1);
    assert.match(jsonFailure(refused, 1).error, /^refusing to refresh production: it is a production-tier stack/);
    const unknownStack = await call("account-check", ["--stack", "nope", "--account", "123456789012", "--json"]);
    assert.equal(unknownStack.status, 2);
    assert.match(jsonFailure(unknownStack, 2).error, /^no stack named nope \(stacks: /);
  });
});

describe("the convention's parts", () => {
  it("one duration parser: every unit, a bare number refused with the flag named, a floor", () => {
    const ms = (t: string) => durationValue("--timeout", t);
    assert.deepEqual(["500ms", "5s", "10m", "1h", "3d", " 15s "].map(ms), [500, 5000, 600_000, 3_600_000, 259_200_000, 15_000]);
    for (const bare of ["5000", "0", "1.5", "-3"]) assert.throws(() => ms(bare), { message: `--timeout needs a unit, as in 5s or 500ms, got "${bare}"` });
    for (const bad of ["", "5 s", "1.5h", "3w", "1e3ms", "-5s", "s"]) assert.throws(() => ms(bad), /^Error: --timeout must be a whole number with a unit/);
    assert.throws(() => durationValue("--ttl", "30s", 60_000), { message: '--ttl must be at least 1m, got "30s"' });
  });

  it("where the user stands: INIT_CWD under npm run only, and only when it is a directory", () => {
    const here = "/somewhere/else";
    assert.equal(userCwd({ npm_lifecycle_event: "plan", INIT_CWD: os.tmpdir() }, here), os.tmpdir());
    assert.equal(userCwd({ INIT_CWD: os.tmpdir() }, here), here);
    assert.equal(userCwd({ npm_lifecycle_event: "npx", INIT_CWD: os.tmpdir() }, here), here);
    assert.equal(userCwd({ npm_lifecycle_event: "plan", INIT_CWD: path.join(os.tmpdir(), "no-such-dir-mina") }, here), here);
    assert.equal(userCwd({ npm_lifecycle_event: "plan", INIT_CWD: "relative" }, here), here);
  });

  it("hints are commands that can be typed: the bin's, npm's under npm run, and the bin's under npx", () => {
    assert.equal(commandHint({}, "verify", "FILE --live"), "mina-infra verify FILE --live");
    assert.equal(commandHint({ npm_lifecycle_event: "local" }, "verify", "FILE --live"), "npm run -s verify -- FILE --live");
    assert.equal(commandHint({ npm_lifecycle_event: "npx" }, "templates"), "mina-infra templates");
    assert.equal(commandHint({ npm_lifecycle_event: "templates" }, "templates"), "npm run -s templates");
  });
});

describe("the mina-infra bin: --version, help, hints and where paths resolve (end to end)", function () {
  this.timeout(60_000);
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string };

  it("--version and -V print the package's version and exit 0", () => {
    for (const flag of ["--version", "-V"]) {
      const r = spawnCli(flag, []);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `${pkg.version}\n`);
    }
  });

  it("help lists the commands and the exit codes (0); help COMMAND is COMMAND --help (0); help of no command is a usage error (2)", () => {
    const list = spawnCli("help", []);
    assert.equal(list.status, 0, list.stderr);
    for (const name of Object.keys(COMMANDS)) assert.match(list.stdout, new RegExp(`^ {2}${name} `, "m"));
    assert.match(list.stdout, /^Exit codes: 0 ok; 1 a check failed, or the command refused or failed; 2 usage error/m);
    const plan = spawnCli("help", ["plan"]);
    assert.equal(plan.status, 0, plan.stderr);
    assert.match(plan.stdout, /^Usage: plan \[options\]/);
    assert.match(plan.stdout, /--json/);
    const nope = spawnCli("help", ["nope", "--json"]);
    assert.equal(nope.status, 2);
    assert.match(nope.stderr, /^error: no command named "nope" \(commands: plan, /);
    assert.match(jsonFailure(nope, 2).error, /^no command named "nope"/);
    const bad = spawnCli("templates", ["--no-such-option"]);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, "error: unknown option '--no-such-option'\n(run 'mina-infra templates --help' for usage)\n");
  });

  it("under npm run, relative paths (a file, --dir) resolve where the user stands (INIT_CWD), and the hint is an npm command", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "mina-convention-"));
    try {
      fs.mkdirSync(path.join(work, "sub"));
      fs.writeFileSync(path.join(work, "sub", ".env.staging.local"), "ENVIRONMENT=staging\n", { mode: 0o600 });
      // npm runs the script in the project's root; the user stood in `work`.
      const env = { ...withoutNpm(process.env), npm_lifecycle_event: "verify", INIT_CWD: work };
      const r = spawnCli("verify", ["sub/.env.staging.local", "--dir", path.relative(work, REPO), "--json"], { cwd: REPO, env });
      // Read (not "no such file", exit 2), checked (a one-line file fails the checklist: exit 1).
      assert.equal(r.status, 1, r.stderr);
      const out = JSON.parse(r.stdout) as { file: string; stack: string; results: unknown[] };
      assert.equal(out.file, "sub/.env.staging.local");
      assert.equal(out.stack, "staging");
      assert.ok(out.results.length > 3);
      const bad = spawnCli("templates", ["--no-such-option"], { cwd: REPO, env: { ...env, npm_lifecycle_event: "templates" } });
      assert.equal(bad.status, 2);
      assert.equal(bad.stderr, "error: unknown option '--no-such-option'\n(run 'npm run -s templates -- --help' for usage)\n");
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});
