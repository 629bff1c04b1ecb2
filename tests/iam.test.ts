/**
 * The deploy role, proven offline with an IAM policy simulator
 * (@cloud-copilot/iam-simulate): every action the program needs for a stack is
 * allowed on that stack's resources; the same actions on another environment's
 * resources (names, IAM path, tags, record names) are denied, in another account and
 * in the same one; and the role can neither create an IAM user without the
 * boundary, nor touch the boundary, nor reach for `iam:*`.
 */
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { strict as assert } from "node:assert";
import { loadStackOffline, readAllStacks } from "../config";
import { appBoundaryArn, deriveNames } from "../config/naming";
import { type DeployScope, DEPLOY_ACTIONS, deployPolicy, type PolicyDocument, type Statement } from "../iam/policy";
import { planStack } from "../plan/plan";
import { run, spawnCliAsync } from "./cli";
import { REPO } from "./helpers";

const REPOSITORY = "mina/mina-infra";

function scopeOf(stack: string, account?: string): DeployScope {
  const { config } = loadStackOffline(REPO, stack);
  return {
    environment: config.environment,
    account: account ?? config.aws.allowedAccountIds[0],
    region: config.aws.region,
    names: config.names,
    zoneId: config.dns.zoneId,
    shareDomain: config.dns.shareDomain,
    repository: REPOSITORY,
    githubEnvironment: stack,
  };
}

/** Another environment in the same account, zone and region: what a tier-mate looks like. */
function tierMate(of: DeployScope, environment: string): DeployScope {
  const names = deriveNames(environment);
  return { ...of, environment, names, shareDomain: `${environment}.mina.app`, githubEnvironment: environment };
}

/** A concrete resource for an ARN pattern: each `*` becomes a name of the scope's own. */
const concrete = (pattern: string, s: DeployScope) =>
  pattern.replace(/\*/g, pattern.includes(":user/") || pattern.includes(":group/") ? s.names.bucketUser : "x1");

/** The request context a statement's conditions read, as the scope's own deploy would send it. */
function context(st: Statement, s: DeployScope): Record<string, string | string[]> {
  const ctx: Record<string, string | string[]> = {};
  const keys = Object.values(st.Condition ?? {}).flatMap((c) => Object.keys(c));
  if (keys.includes("iam:PermissionsBoundary")) ctx["iam:PermissionsBoundary"] = appBoundaryArn(s.names, s.account);
  if (keys.includes("aws:RequestTag/environment")) ctx["aws:RequestTag/environment"] = s.environment;
  if (keys.includes("aws:ResourceTag/environment")) ctx["aws:ResourceTag/environment"] = s.environment;
  if (keys.includes("route53:ChangeResourceRecordSetsNormalizedRecordNames")) ctx["route53:ChangeResourceRecordSetsNormalizedRecordNames"] = [s.shareDomain];
  return ctx;
}

async function decide(policy: PolicyDocument, action: string, resource: string, account: string, ctx: Record<string, string | string[]>): Promise<string> {
  const r = await runSimulation(
    {
      request: { principal: `arn:aws:iam::${account}:role/mina/deploy`, action, resource: { resource, accountId: account }, contextVariables: ctx },
      identityPolicies: [{ name: "deploy", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: undefined,
    } as never,
    {},
  );
  if (r.resultType === "error") throw new Error(`${action} on ${resource}: ${JSON.stringify(r.errors)}`);
  return r.overallResult;
}

/** Every (action, resource, context) an Allow statement of `policy` grants for scope `s`. */
function grants(policy: PolicyDocument, s: DeployScope): { sid: string; action: string; resource: string; ctx: Record<string, string | string[]> }[] {
  return policy.Statement.filter((st) => st.Effect === "Allow" && st.Resource !== "*").flatMap((st) =>
    (st.Resource as string[]).flatMap((pattern) => st.Action.map((action) => ({ sid: st.Sid, action, resource: concrete(pattern, s), ctx: context(st, s) }))),
  );
}

describe("iam: the deploy role's policy, proven with a policy simulator", function () {
  this.timeout(120_000);
  const types: Record<string, string[]> = {};
  before(async () => {
    const siblings = readAllStacks(REPO);
    for (const stack of ["staging", "production"]) types[stack] = (await planStack(REPO, stack, siblings)).resources.map((r) => r.type);
  });

  it("has reviewed actions for every AWS resource type the program declares (a type added without them fails here)", () => {
    for (const [stack, list] of Object.entries(types)) {
      const aws = [...new Set(list.filter((t) => t.startsWith("aws:") && !t.startsWith("aws:index/provider")))];
      assert.ok(aws.length > 5, stack);
      for (const t of aws) assert.ok(t in DEPLOY_ACTIONS, `${stack}: ${t} has no entry in DEPLOY_ACTIONS`);
    }
    assert.throws(
      () => deployPolicy(scopeOf("staging"), [...types.staging, "aws:lambda/function:Function"]),
      /no reviewed IAM actions for aws:lambda\/function:Function: add them to DEPLOY_ACTIONS/,
    );
  });

  for (const stack of ["staging", "production"]) {
    it(`${stack}: allows every action the deploy needs on its own resources, and denies each on another environment's (other account, and same account)`, async () => {
      const mine = scopeOf(stack);
      const policy = deployPolicy(mine, types[stack]);
      const own = grants(policy, mine);
      assert.ok(own.length > 40, `${own.length} grants`);
      for (const g of own) assert.equal(await decide(policy, g.action, g.resource, mine.account, g.ctx), "Allowed", `${g.sid}: ${g.action} on ${g.resource}`);
      for (const other of [scopeOf(stack === "staging" ? "production" : "staging"), tierMate(mine, `${stack}-blue`)]) {
        const theirs = grants(deployPolicy(other, types[stack]), other);
        assert.equal(theirs.length, own.length);
        for (const g of theirs) {
          // The same action on the other environment's resource, with its tags and record names.
          const where = g.resource === own[theirs.indexOf(g)].resource ? undefined : g.resource;
          if (where === undefined) continue; // a resource both name alike (the shared zone): its condition decides, below
          assert.notEqual(await decide(policy, g.action, where, other.account, g.ctx), "Allowed", `${g.sid}: ${g.action} on ${where}`);
        }
      }
    });
  }

  it("lets a tier-mate's deploy role change only its own record names in a shared zone, and only its own tagged security groups", async () => {
    const staging = scopeOf("staging");
    const blue = tierMate(staging, "staging-blue");
    const policy = deployPolicy(staging, types.staging);
    const zone = `arn:aws:route53:::hostedzone/${staging.zoneId}`;
    assert.equal(
      await decide(policy, "route53:ChangeResourceRecordSets", zone, staging.account, {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [staging.shareDomain],
      }),
      "Allowed",
    );
    assert.notEqual(
      await decide(policy, "route53:ChangeResourceRecordSets", zone, staging.account, {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [blue.shareDomain],
      }),
      "Allowed",
    );
    assert.notEqual(
      await decide(policy, "route53:ChangeResourceRecordSets", zone, staging.account, {
        "route53:ChangeResourceRecordSetsNormalizedRecordNames": [staging.shareDomain, blue.shareDomain],
      }),
      "Allowed",
    );
    const production = scopeOf("production");
    const prodPolicy = deployPolicy(production, types.production);
    const sg = `arn:aws:ec2:us-east-1:${production.account}:security-group/sg-0123456789abcdef0`;
    assert.equal(
      await decide(prodPolicy, "ec2:AuthorizeSecurityGroupIngress", sg, production.account, { "aws:ResourceTag/environment": "production" }),
      "Allowed",
    );
    assert.notEqual(
      await decide(prodPolicy, "ec2:AuthorizeSecurityGroupIngress", sg, production.account, { "aws:ResourceTag/environment": "staging" }),
      "Allowed",
    );
  });

  it("cannot mint an administrator: no user without the boundary, no change to the boundary, no role, no managed policy, no iam:* on *", async () => {
    const s = scopeOf("staging");
    const policy = deployPolicy(s, types.staging);
    const user = `arn:aws:iam::${s.account}:user/mina/staging/mina-audio-staging`;
    assert.equal(await decide(policy, "iam:CreateUser", user, s.account, { "iam:PermissionsBoundary": appBoundaryArn(s.names, s.account) }), "Allowed");
    assert.notEqual(await decide(policy, "iam:CreateUser", user, s.account, {}), "Allowed");
    assert.notEqual(
      await decide(policy, "iam:CreateUser", user, s.account, { "iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess" }),
      "Allowed",
    );
    assert.notEqual(
      await decide(policy, "iam:CreateUser", `arn:aws:iam::${s.account}:user/admins/eve`, s.account, {
        "iam:PermissionsBoundary": appBoundaryArn(s.names, s.account),
      }),
      "Allowed",
    );
    assert.notEqual(await decide(policy, "iam:DeleteUserPermissionsBoundary", user, s.account, {}), "Allowed");
    assert.notEqual(await decide(policy, "iam:CreatePolicyVersion", appBoundaryArn(s.names, s.account), s.account, {}), "Allowed");
    const role = `arn:aws:iam::${s.account}:role/mina/staging/x`;
    for (const [action, resource] of [
      ["iam:CreateRole", role],
      ["iam:PassRole", role],
      ["iam:PutRolePolicy", role],
      ["iam:AttachUserPolicy", user],
      ["iam:PutUserPolicy", `arn:aws:iam::${s.account}:user/admins/eve`],
      ["iam:CreatePolicy", `arn:aws:iam::${s.account}:policy/mina/staging/admin`],
    ]) {
      assert.notEqual(await decide(policy, action, resource, s.account, {}), "Allowed", action);
    }
    assert.ok(!policy.Statement.some((st) => st.Effect === "Allow" && st.Action.some((a) => a === "*" || a === "iam:*")), "no wildcard action");
    assert.ok(
      !policy.Statement.some((st) => st.Effect === "Allow" && st.Resource === "*" && st.Action.some((a) => !/:(Describe|List|Get)/.test(a))),
      "only read calls on *",
    );
  });

  it("is a command: prints the role, its trust pinned to the stack's GitHub environment, and refuses without a repository (through the bin)", async () => {
    const r = await run("iam", ["--stack", "production", "--repository", REPOSITORY]);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(
      doc.role.trustPolicy.Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"],
      "repo:mina/mina-infra:environment:production",
    );
    assert.equal(doc.appUserBoundary.arn, "arn:aws:iam::123456789012:policy/mina/production/mina-production-app-boundary");
    assert.equal(doc.oidcProvider.url, "https://token.actions.githubusercontent.com");
    const none = await spawnCliAsync("iam", ["--stack", "production"], { env: { PATH: process.env.PATH } });
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^error: --repository OWNER\/REPO is required/);
  });

  it("gives the app's IAM user, under the environment's own path, the boundary the deploy role must attach (program under the mock runtime)", async () => {
    const { runUnderMocks } = require("../plan/mockRuntime") as typeof import("../plan/mockRuntime");
    const { defineEnvironment } = require("../components/environment") as typeof import("../components/environment");
    for (const stack of ["staging", "production"]) {
      const { config } = loadStackOffline(REPO, stack);
      const { resources } = await runUnderMocks("mina", stack, () => defineEnvironment(config));
      const users = resources.filter((r) => r.type === "aws:iam/user:User");
      assert.equal(users.length, 1);
      // The mock runtime's invented account: a real deploy puts the credentials' account here.
      assert.equal(users[0].inputs.permissionsBoundary, `arn:aws:iam::000000000000:policy/mina/${stack}/mina-${stack}-app-boundary`);
      assert.equal(users[0].inputs.path, `/mina/${stack}/`);
      for (const g of resources.filter((r) => r.type === "aws:iam/group:Group")) assert.equal(g.inputs.path, `/mina/${stack}/`);
    }
  });
});
