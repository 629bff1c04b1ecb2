/**
 * Runs the Pulumi CLI for the operations that manage stacks (sweep, rotate): the
 * binary is `MINA_PULUMI_BIN` or `pulumi`, as for `env` (cli/lib/outputs.ts). A failure
 * comes back as one line: what ran, and Pulumi's own first error line.
 */
import { spawnSync } from "node:child_process";
import { CommandError } from "../lib/errors";

export interface PulumiResult {
  readonly ok: boolean;
  readonly stdout: string;
  /** One line: why it failed (empty when it did not). */
  readonly problem: string;
}

/** The command as a person would type it, for messages. */
export const shownCommand = (args: readonly string[]): string => ["pulumi", ...args].join(" ");

/**
 * Runs `pulumi ARGS`. A missing CLI or a CLI that is not logged in throws (no
 * other call can succeed either); any other failure is returned, for the caller to
 * name in its own line.
 */
export function runPulumi(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs?: number): PulumiResult {
  const bin = env.MINA_PULUMI_BIN ?? "pulumi";
  const r = spawnSync(bin, [...args], { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...(timeoutMs ? { timeout: timeoutMs } : {}) });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === "ENOENT")
      throw new CommandError(`the Pulumi CLI is not installed (no "${bin}" on PATH); install it and log in (pulumi login)`);
    return { ok: false, stdout: r.stdout ?? "", problem: `${shownCommand(args)} did not finish: ${r.error.message}` };
  }
  if (r.status === 0) return { ok: true, stdout: r.stdout, problem: "" };
  const err = `${r.stderr ?? ""}\n${r.stdout ?? ""}`;
  if (/not logged in|PULUMI_ACCESS_TOKEN must be set|pulumi login/i.test(r.stderr ?? "")) {
    throw new CommandError(`the Pulumi CLI is not logged in: run \`pulumi login\` (or set PULUMI_ACCESS_TOKEN), then retry`);
  }
  const lines = err
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const first = lines.find((l) => /^error:/i.test(l)) ?? lines[0] ?? "";
  const why = first.replace(/^error:\s*/i, "") || `exit ${r.status ?? r.signal}`;
  return { ok: false, stdout: r.stdout, problem: `${shownCommand(args)} failed: ${why}` };
}
