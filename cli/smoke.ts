/**
 * mina-infra smoke --stack NAME [--url URL] [--path /api/version] [--timeout 5s] [--retries N] [--json]
 *
 * The smoke check after a deploy: GET the stack's version endpoint (by default
 * https://<its share domain>/api/version) and require a 200 that reports the
 * stack's own environment. Retries with backoff while a deploy rolls out. A
 * blue/green front has no app of its own: its share domain is answered by one of
 * its two colours, and only by them.
 */
import { loadStackOffline, readAllStacks } from "../config";
import { frontAnswer, smokeCheck } from "../verify/smoke";
import { projectDir, requireStacks } from "./lib/project";
import { command, CommandError, durationOption, progress, runCli, UsageError, wholeNumberOption } from "./lib/run";

export const main = command<{ stack: string; url?: string; path: string; timeout: number; retries: string; json?: boolean; dir?: string }>(
  "smoke",
  (c) =>
    c
      .description("GET the stack's version endpoint and require a 200 that reports the stack's own environment (retried while a deploy rolls out).")
      .requiredOption("--stack <name>", "the stack whose host is checked")
      .option("--url <url>", "the URL to check (default: https://<share domain><path>)")
      .option("--path <path>", "the version endpoint's path", "/api/version")
      .addOption(durationOption("--timeout <duration>", "bound of each request", { default: "5s", min: 100 }))
      .option("--retries <n>", "further attempts after an error, a timeout or a 5xx, with backoff", "5")
      .option("--json", "print the result as JSON")
      .option("--dir <dir>", "project directory (default: the nearest with a Pulumi.yaml)"),
  async ({ opts: o, io }) => {
    const timeoutMs = o.timeout;
    const retries = wholeNumberOption("--retries", o.retries, 0);
    if (!o.path.startsWith("/")) throw new UsageError(`--path must start with /, got "${o.path}"`);
    const dir = projectDir(io, o.dir);
    requireStacks(io, dir, [o.stack]);
    const { config } = loadStackOffline(dir, o.stack, readAllStacks(dir));
    const url = o.url ?? `https://${config.dns.shareDomain}${o.path}`;
    progress(io, o.json === true)(`checking ${url} (up to ${retries + 1} attempts)…`);
    const front = config.dns.front;
    const result = front
      ? frontAnswer(o.stack, front, url, await smokeCheck(url, front.colours[front.live].stack, { timeoutMs, retries }))
      : await smokeCheck(url, o.stack, { timeoutMs, retries });
    if (o.json) io.stdout.write(`${JSON.stringify({ stack: o.stack, url, ...result }, null, 2)}\n`);
    if (!result.ok) throw new CommandError(`smoke check of ${o.stack} failed: ${result.reason}`);
    if (!o.json) io.stdout.write(`✓ ${result.reason}\n`);
    return 0;
  },
);

if (require.main === module) runCli(main);
