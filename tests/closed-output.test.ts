/**
 * A reader that stops reading (`npm run stacks | head -1`) is not a failure of
 * the command: through the compiled bin, a closed standard output ends in the
 * exit code the command returns, with nothing on standard error; output that
 * is lost otherwise (a full disk) is a failure, in one line.
 */
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { cliCommand, type CliResult } from "./cli";
import { REPO } from "./helpers";

/**
 * Runs the bin with a standard output whose reader is gone before the command
 * writes anything: the read end of the pipe is closed as soon as the process
 * starts, so its first write fails with EPIPE, every time.
 */
function withClosedStdout(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = cliCommand(args);
    const child = spawn(cmd, argv, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy();
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? 1, stdout: "", stderr }));
  });
}

describe("a closed standard output ends a command quietly, with its own exit code (through the bin)", function () {
  this.timeout(60_000);

  /** `mina-infra ARGS` as a shell word list, for pipelines. */
  const shell = (args: readonly string[]) =>
    cliCommand(args)
      .flat()
      .map((w) => `'${w}'`)
      .join(" ");

  it("a command that succeeds exits 0 and prints no error, in text, JSON and help", async () => {
    // A command's text, its JSON, a command's help and the bin's own help: each exits 0 as it would with a reader.
    for (const args of [["stacks"], ["stacks", "--matrix"], ["stacks", "--help"], ["--help"]]) {
      const r = await withClosedStdout(args);
      assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
      assert.equal(r.stderr, "", args.join(" "));
    }
  });

  it("a command that fails keeps its code and its one line on standard error", async () => {
    const usage = await withClosedStdout(["stacks", "--dispatched", "production"]);
    assert.equal(usage.status, 2);
    assert.equal(usage.stderr, "error: --dispatched goes with --matrix\n");
    const unknown = await withClosedStdout(["no-such-command"]);
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /^error: no command named "no-such-command" \(commands: [^\n]*\)\n$/);
  });

  it("a pipeline whose reader takes one line and leaves succeeds", () => {
    const r = spawnSync("bash", ["-c", `set -o pipefail; ${shell(["stacks"])} | head -1`], { cwd: REPO, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, "");
    assert.equal(r.stdout.split("\n").length, 2, r.stdout);
  });

  it("output lost otherwise (a full disk) fails in one line, whatever the command returns", function () {
    if (!fs.existsSync("/dev/full")) this.skip();
    for (const args of [["stacks"], ["stacks", "--help"]]) {
      const r = spawnSync("bash", ["-c", `${shell(args)} > /dev/full`], { cwd: REPO, encoding: "utf8" });
      assert.equal(r.status, 1, args.join(" "));
      assert.equal(r.stderr, "error: cannot write to standard output (ENOSPC): treat the command as failed\n");
    }
  });
});
