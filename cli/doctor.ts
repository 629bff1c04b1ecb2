/**
 * mina-infra doctor --stack NAME [--only ITEM,...] [--resolver HOST[:PORT]] [--timeout 5s] [--json]
 *
 * What must be true before the stack's first `pulumi up`, checked live, one line an
 * item with ✓ or ✗ and what to do. Exit 1 when any item fails. Secrets come from
 * the environment (DB_SERVER_ADMIN_PASSWORD, UPSTASH_API_KEY, SENTRY_AUTH_TOKEN),
 * never from a flag, and never appear in the output. The deploy workflow runs
 * `--only placeholders` before anything else.
 */
import { Route53Client } from "@aws-sdk/client-route-53";
import { STSClient } from "@aws-sdk/client-sts";
import { loadStackOffline, readAllStacks } from "../config";
import { deriveNames } from "../config/naming";
import { sharingOfRaw, tierMates } from "../config/tiers";
import { DOCTOR_ITEMS, type DoctorItem, runDoctor } from "../doctor/doctor";
import { projectDir, requireStacks } from "./lib/project";
import { command, durationOption, runCli, UsageError } from "./lib/run";

export const main = command<{ stack: string; only?: string; resolver?: string; timeout: number; json?: boolean; dir?: string }>(
  "doctor",
  (c) =>
    c
      .description(
        "Check, live, what must be true before a stack's first pulumi up: no example values, the AWS account and hosted zone (delegated), the database admin role, the Upstash and Sentry credentials. Secrets from DB_SERVER_ADMIN_PASSWORD, UPSTASH_API_KEY, SENTRY_AUTH_TOKEN.",
      )
      .requiredOption("--stack <name>", "the stack to check")
      .option("--only <items>", `comma-separated items to check (${DOCTOR_ITEMS.join(", ")}); default: all`)
      .option("--resolver <host[:port]>", "the DNS resolver to ask (default: the system's)")
      .addOption(durationOption("--timeout <duration>", "bound of each network call", { default: "5s", min: 100 }))
      .option("--json", "print the results as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const timeoutMs = o.timeout;
    const items = (o.only
      ?.split(",")
      .map((s) => s.trim())
      .filter(Boolean) ?? [...DOCTOR_ITEMS]) as DoctorItem[];
    const unknown = items.filter((i) => !(DOCTOR_ITEMS as readonly string[]).includes(i));
    if (unknown.length > 0 || items.length === 0) throw new UsageError(`--only takes ${DOCTOR_ITEMS.join(", ")}; got "${o.only}"`);
    if (o.resolver !== undefined && !/^[A-Za-z0-9.:[\]-]+$/.test(o.resolver)) throw new UsageError(`--resolver must be HOST or HOST:PORT, got "${o.resolver}"`);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const siblings = readAllStacks(dir);
    const raw = siblings.find((s) => s.stack === o.stack)!;
    const { config } = loadStackOffline(dir, o.stack, siblings);
    const region = config.aws.region;
    // The environments this one shares nothing with: another tier's, and every other one when this is production's.
    const mine = sharingOfRaw(raw);
    const foreignRedisDatabases = siblings
      .filter((s) => s.stack !== o.stack && !tierMates(mine, sharingOfRaw(s)))
      .map((s) => ({ environment: s.stack, name: deriveNames(s.stack).redisDatabase }));
    const results = await runDoctor({ raw, config, env: io.env, resolver: o.resolver, timeoutMs, foreignRedisDatabases }, items, {
      sts: () => new STSClient({ region, maxAttempts: 2 }),
      route53: () => new Route53Client({ region, maxAttempts: 2 }),
    });
    const failed = results.filter((r) => !r.ok).length;
    if (o.json) io.stdout.write(`${JSON.stringify({ stack: o.stack, ok: failed === 0, results }, null, 2)}\n`);
    else {
      io.stdout.write(`doctor ${o.stack}\n`);
      for (const r of results) io.stdout.write(`${r.ok ? "✓" : "✗"} ${r.item}: ${r.reason}${r.fix ? `\n    → ${r.fix}` : ""}\n`);
      io.stdout.write(failed === 0 ? `all ${results.length} checks passed\n` : `${failed} of ${results.length} checks failed\n`);
    }
    return failed === 0 ? 0 : 1;
  },
);

if (require.main === module) runCli(main);
