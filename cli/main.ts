#!/usr/bin/env node
/**
 * mina-infra COMMAND [options]: the one entry point of the compiled commands
 * (`npx mina-infra plan --stack staging`). Each command is loaded only when asked
 * for, so a command pays for its own dependencies alone.
 */
import { keepOutputErrorsQuiet, type Main, runCli } from "./lib/run";

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
    "",
    "Commands:",
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.what}`),
    "",
    "mina-infra <command> --help shows a command's options.",
  ].join("\n")}\n`;
}

/** Runs `mina-infra NAME ARGS...` as this process. */
function dispatch([name, ...args]: string[]): void {
  keepOutputErrorsQuiet();
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    process.exitCode = name === undefined ? 2 : 0;
    return;
  }
  if (!(name in COMMANDS)) {
    process.stderr.write(`error: no command named ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(", ")})\n`);
    process.exitCode = 2;
    return;
  }
  runCli(COMMANDS[name].load(), args, name);
}

if (require.main === module) dispatch(process.argv.slice(2));
