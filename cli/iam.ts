/**
 * mina-infra iam --stack NAME [--repository OWNER/REPO] [--out FILE] [--json]
 *
 * The stack's deploy role as code: its least-privilege permissions policy (from
 * the resource types the program declares for that stack, plus what the deploy
 * jobs run), its trust policy (GitHub's OIDC provider, subject pinned to the
 * stack's GitHub environment), the permissions boundary its app user carries, and
 * the OIDC provider itself. Prints them as one JSON document; `--out` writes it.
 */
import { loadStackOffline, readAllStacks } from "../config";
import { writeFileAtomic } from "../lib/atomicWrite";
import { appBoundaryArn } from "../config/naming";
import { boundaryPolicy, type DeployScope, deployPolicy, GITHUB_OIDC_HOST, trustPolicy, UnknownResourceTypes } from "../iam/policy";
import { planStack } from "../plan/plan";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, runCli, UsageError } from "./lib/run";
import * as path from "node:path";

export const main = command<{ stack: string; repository?: string; out?: string; json?: boolean; dir?: string }>(
  "iam",
  (c) =>
    c
      .description(
        "Print (or write with --out) the stack's deploy role: least-privilege permissions from what the program declares, the trust policy pinned to the stack's GitHub environment, the app user's permissions boundary and the GitHub OIDC provider.",
      )
      .requiredOption("--stack <name>", "the stack whose deploy role it is")
      .option("--repository <owner/repo>", "the GitHub repository whose deploy jobs assume the role (default: $GITHUB_REPOSITORY)")
      .option("--out <file>", "write the JSON document here (atomically) instead of printing it")
      .option("--json", "print JSON (the default output is JSON too; kept for a uniform interface)")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const repository = o.repository ?? io.env.GITHUB_REPOSITORY;
    if (!repository)
      throw new UsageError("--repository OWNER/REPO is required (or GITHUB_REPOSITORY): the trust policy names the repository whose jobs may assume the role");
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(repository)) throw new UsageError(`--repository must be OWNER/REPO, got "${repository}"`);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const siblings = readAllStacks(dir);
    const { config } = loadStackOffline(dir, o.stack, siblings);
    const plan = await planStack(dir, o.stack, siblings);
    if (!plan.ok) throw new CommandError(`the program cannot plan ${o.stack}: ${plan.errors[0] ?? "unknown error"}`);
    const accounts = config.aws.allowedAccountIds;
    if (accounts.length !== 1)
      throw new CommandError(`${config.file} allows ${accounts.length} accounts (aws:allowedAccountIds): a deploy role lives in one; pin exactly one`);
    const scope: DeployScope = {
      environment: config.environment,
      account: accounts[0],
      region: config.aws.region,
      names: config.names,
      zoneId: config.dns.zoneId,
      shareDomain: config.dns.shareDomain,
      repository,
      githubEnvironment: o.stack,
    };
    let permissions;
    try {
      permissions = deployPolicy(
        scope,
        plan.resources.map((r) => r.type),
      );
    } catch (e) {
      if (e instanceof UnknownResourceTypes) throw new CommandError(e.message);
      throw e;
    }
    const doc = {
      stack: o.stack,
      account: scope.account,
      oidcProvider: {
        url: `https://${GITHUB_OIDC_HOST}`,
        clientIdList: ["sts.amazonaws.com"],
        note: "one per account: aws iam create-open-id-connect-provider --url https://token.actions.githubusercontent.com --client-id-list sts.amazonaws.com",
      },
      role: { name: `mina-${config.environment}-deploy`, path: config.names.iamPath, trustPolicy: trustPolicy(scope), permissionsPolicy: permissions },
      appUserBoundary: {
        name: config.names.appBoundaryPolicy,
        path: config.names.iamPath,
        arn: appBoundaryArn(config.names, scope.account),
        policy: boundaryPolicy(scope),
      },
    };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (o.out) {
      const target = path.resolve(io.cwd, o.out);
      writeFileAtomic(target, text, 0o644);
      io.stdout.write(
        o.json
          ? `${JSON.stringify({ stack: o.stack, file: target })}\n`
          : `wrote ${o.out}: the deploy role of ${o.stack} (${permissions.Statement.length} statements)\n`,
      );
    } else io.stdout.write(text);
    return 0;
  },
);

if (require.main === module) runCli(main);
