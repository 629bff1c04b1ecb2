/**
 * What a deploy job checks before it touches a stack: the deploy guard (no
 * destroy, no protection bypass, in the command or in the environment) and the
 * AWS account check (the credentials are for the account the stack file pins).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseStackFile, stackFilePath } from "../config";
import { GateInputError } from "./gate";

// ---------------------------------------------------------------- deploy guard

/** Pulumi commands a deploy job may run. Anything else (destroy above all) is refused. */
export const DEPLOY_COMMANDS: readonly string[] = ["up", "update", "preview"];

/** Words that bypass protection or tear a stack down. */
const FORBIDDEN = [
  { re: /\bdestroy\b/i, what: "destroy" },
  { re: /ignore[-_]?protect/i, what: "a protection bypass (ignore-protect)" },
  { re: /\bunprotect\b/i, what: "unprotect" },
  { re: /--exclude-protected/i, what: "--exclude-protected" },
  { re: /\bstack\s+rm\b|--remove\b/i, what: "stack removal" },
  { re: /--target-replace|--replace\b/i, what: "a forced replacement" },
];

/**
 * Refuses a deploy whose command, or whose environment, destroys a stack or
 * bypasses resource protection. Returns the reasons (empty = allowed).
 */
export function guardDeploy(stack: string, command: string, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const out: string[] = [];
  // The command as the workflow writes it, with or without the leading `pulumi`.
  const shown = command.trim();
  const cmd = shown.replace(/^pulumi\s+/, "");
  if (!DEPLOY_COMMANDS.includes(cmd.split(/\s+/)[0] ?? "")) out.push(`command "${shown}" is not one of ${DEPLOY_COMMANDS.join(", ")}`);
  for (const f of FORBIDDEN) if (f.re.test(cmd)) out.push(`command "${shown}" asks for ${f.what}`);
  for (const [k, v] of Object.entries(env)) {
    if (!/^PULUMI_|IGNORE[-_]?PROTECT/i.test(k)) continue;
    if (/IGNORE[-_]?PROTECT|DESTROY/i.test(k) && v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false") {
      out.push(`environment variable ${k} is set`);
    }
  }
  return out.map(
    (r) =>
      `refusing to deploy stack ${stack}: ${r}; no workflow destroys a stack or bypasses protection${stack === "production" ? " (production least of all)" : ""}`,
  );
}

/**
 * The guard for a credential rotation (`npm run rotate`), the one sanctioned use
 * of a forced replacement: the deploy guard, after taking out `--replace URN`
 * pairs whose URN is of this stack. Any other replacement flag
 * (`--target-replace`, a bare `--replace`, another stack's URN) is still refused.
 */
export function guardRotation(stack: string, command: string, env: Readonly<Record<string, string | undefined>> = {}): string[] {
  const own = `urn:pulumi:${stack}::`;
  const out: string[] = [];
  const rest = command.trim().replace(/(^|\s)--replace(?:=|\s+)(\S+)/g, (all, lead: string, urn: string) => {
    if (urn.startsWith(own)) return lead;
    out.push(`refusing to rotate on stack ${stack}: --replace ${urn.slice(0, 80)} is not a resource of this stack`);
    return all;
  });
  return [...out, ...guardDeploy(stack, rest, env)];
}

// ---------------------------------------------------------------- account check

/** The AWS account ids a stack file pins (`aws:allowedAccountIds`). */
export function allowedAccountIds(dir: string, stack: string): string[] {
  let file: string | undefined;
  try {
    // The stack file where Pulumi reads it (stackConfigDir honoured).
    file = stackFilePath(dir, stack);
  } catch (e) {
    throw new GateInputError(String((e as Error).message).split("\n")[0]);
  }
  if (!file) throw new GateInputError(`no stack file Pulumi.${stack}.yaml in ${dir}`);
  let raw;
  try {
    raw = parseStackFile(fs.readFileSync(file, "utf8"), stack, path.basename(file));
  } catch (e) {
    throw new GateInputError(String((e as Error).message).split("\n")[0]);
  }
  const ids = raw.values["aws:allowedAccountIds"];
  const list = (Array.isArray(ids) ? ids : ids === undefined ? [] : [ids]).map((x) => String(x).trim());
  if (list.length === 0) throw new GateInputError(`Pulumi.${stack}.yaml pins no aws:allowedAccountIds: refusing to use unpinned credentials`);
  return list;
}

/** Null when the credentials' account is the stack's; else the message naming both accounts. */
export function checkAccount(stack: string, actual: string, allowed: readonly string[]): string | null {
  const a = actual.trim();
  if (allowed.includes(a)) return null;
  return `AWS account mismatch for stack ${stack}: the credentials are for account ${a || "(none)"}, but Pulumi.${stack}.yaml pins aws:allowedAccountIds ${allowed.join(", ")}`;
}
