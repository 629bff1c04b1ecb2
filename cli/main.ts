#!/usr/bin/env node
/**
 * mina-infra COMMAND [options]: the one entry point of the compiled commands
 * (`npx mina-infra plan --stack staging`). Each command is loaded only when asked
 * for, so a command pays for its own dependencies alone.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot } from "../lib/root";
import { EXIT, jsonError, keepOutputErrorsQuiet, type Main, runCli, wantsJson } from "./lib/run";

export const COMMANDS: Readonly<Record<string, { readonly load: () => Main; readonly what: string }>> = {
  plan: { load: () => require("./plan").main, what: "plan every stack offline under the mock runtime" },
  env: { load: () => require("./env").main, what: "write a stack's env output to .env.<stack>.local" },
  "env:new": { load: () => require("./env-new").main, what: "write a new environment's stack file from a committed template" },
  verify: { load: () => require("./verify").main, what: "check an env file against the safety checklist (--live: against the servers)" },
  audit: { load: () => require("./audit").main, what: "fail when two environments share an isolation-critical value" },
  demo: { load: () => require("./demo").main, what: "try env, verify and audit offline on fake outputs" },
  local: { load: () => require("./local").main, what: "set up the local environment for verify --live" },
  doctor: { load: () => require("./doctor").main, what: "check, live, what must be true before a stack's first pulumi up" },
  iam: { load: () => require("./iam").main, what: "the stack's deploy role: least-privilege policy, trust policy, the app user's boundary" },
  snapshot: { load: () => require("./snapshot").main, what: "an RDS snapshot before a production deploy, named after the commit" },
  migrate: { load: () => require("./migrate").main, what: "run the stack's migrations in the app's checkout with its env file" },
  smoke: { load: () => require("./smoke").main, what: "GET a stack's version endpoint: 200 and its own environment" },
  swap: { load: () => require("./swap").main, what: "blue/green: prove the colours, then write the swap into the front's stack file (deployed from a commit)" },
  gate: { load: () => require("./gate").main, what: "the data-safety gate over a preview or a plan diff" },
  "account-check": { load: () => require("./account-check").main, what: "check the AWS account of the credentials in use" },
  templates: { load: () => require("./templates").main, what: "write or check the committed .env.template" },
  bench: { load: () => require("./bench").main, what: "time the compiled commands against the SDK's floor" },
  stacks: { load: () => require("./stacks").main, what: "list the stack files and their tier (--matrix: the workflows' job matrices)" },
  rotate: { load: () => require("./rotate").main, what: "rotate a stack's generated credential through the data-safety gate" },
  refresh: { load: () => require("./refresh").main, what: "refresh a non-production stack's database from another's, anonymized" },
  sweep: { load: () => require("./sweep").main, what: "destroy review stacks idle past a TTL (a dry run unless --yes)" },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return `${[
    "Usage: mina-infra <command> [options]",
    "       mina-infra help <command>     a command's options (the same as mina-infra <command> --help)",
    "       mina-infra --version",
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.what}`),
    "",
    "Every command takes --help and --json (with --json, a failure is one JSON document on standard output too).",
    "Durations take a unit: 500ms, 5s, 10m, 1h, 3d. Relative paths are relative to where you stand.",
    "Exit codes: 0 ok; 1 a check failed, or the command refused or failed; 2 usage error (the command line is wrong).",
  ].join("\n")}\n`;
}

/** The package's version, from its package.json. */
function version(): string {
  return (JSON.parse(fs.readFileSync(path.join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/** A usage error of the bin itself: one line (and one JSON document with --json), exit 2. */
function usageError(message: string, args: readonly string[]): void {
  process.stderr.write(`error: ${message}\n`);
  if (wantsJson(args, process.env)) process.stdout.write(jsonError(EXIT.usage, message));
  process.exitCode = EXIT.usage;
}

const unknownCommand = (name: string) => `no command named ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(", ")})`;

/** Runs `mina-infra NAME ARGS...` as this process. */
function dispatch(argv: string[]): void {
  const [name, ...args] = argv;
  keepOutputErrorsQuiet();
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${version()}\n`);
    process.exitCode = EXIT.ok;
    return;
  }
  if (name === "help" && args[0] !== undefined) {
    if (Object.hasOwn(COMMANDS, args[0])) runCli(COMMANDS[args[0]].load(), ["--help"], args[0]);
    else usageError(unknownCommand(args[0]), args);
    return;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    process.exitCode = name === undefined ? EXIT.usage : EXIT.ok;
    return;
  }
  if (Object.hasOwn(COMMANDS, name)) runCli(COMMANDS[name].load(), args, name);
  else usageError(unknownCommand(name), argv);
}

if (require.main === module) dispatch(process.argv.slice(2));
