/**
 * mina-infra bench [--runs N] [--json]
 *
 * Times the compiled commands as a user runs them (node and the `mina-infra`
 * bin, no npm in between) against the floor they cannot beat, and prints each
 * figure beside its floor and the ratio:
 * - plan of the project's stacks, against loading Node with the Pulumi SDK and
 *   the providers under the mock runtime and declaring nothing (target 1.3x);
 * - plan of 20 generated stack files, against the same plan of 2 (target 2x);
 * - how long `pulumi up` takes to load the program through Pulumi's own ts-node,
 *   transpile-only (as configured) and type-checked, for reference.
 * Medians of several runs; progress on a terminal only.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { packageRoot } from "../lib/root";
import { command, CommandError, type Io, runCli, wholeNumberOption } from "./lib/run";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Wall time of one run of a compiled script, in milliseconds. */
function wall(script: string, args: string[], okCodes = [0]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [script, ...args], { cwd: packageRoot(), encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (!okCodes.includes(r.status ?? -1))
    throw new CommandError(`${path.basename(script)} ${args.join(" ")} exited ${r.status}: ${(r.stderr || "").trim().split("\n")[0]}`);
  return ms;
}

/** A project of `n` non-production stack files, each with identifiers of its own. */
export function syntheticProject(n: number): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mina-bench-${n}-`));
  fs.copyFileSync(path.join(packageRoot(), "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  for (let i = 1; i <= n; i++) {
    const name = `env${String(i).padStart(2, "0")}`;
    fs.writeFileSync(
      path.join(dir, `Pulumi.${name}.yaml`),
      [
        "config:",
        "  aws:region: us-east-1",
        "  aws:allowedAccountIds:",
        `    - "${String(400000000000 + i)}"`,
        `  upstash:email: upstash-${name}@mina.app`,
        "  mina:databaseMode: server",
        `  mina:dbServerHost: pg-${name}.internal.mina.app`,
        `  mina:dbServerAdminUser: ${name}_admin`,
        "  mina:deployRunner:",
        "    - self-hosted",
        `    - mina-${name}`,
        `  mina:shareDomain: ${name}.mina.app`,
        `  mina:dnsZoneId: Z0${name.toUpperCase()}ZONE`,
        `  mina:appHost: 203.0.113.${100 + i}`,
        "",
      ].join("\n"),
    );
  }
  return dir;
}

export const main = command<{ runs: string; json?: boolean }>(
  "bench",
  (c) =>
    c
      .description("Time the compiled commands against their floor (Node with the Pulumi SDK and providers) and print the ratios (medians).")
      .option("--runs <n>", "runs per measurement", "5")
      .option("--json", "print figures as JSON"),
  async ({ opts, io }) => {
    const runs = wholeNumberOption("--runs", opts.runs, 1);
    const dist = path.join(packageRoot(), "dist", "cli");
    const bin = path.join(dist, "main.js");
    if (!fs.existsSync(bin)) throw new CommandError("no compiled commands in dist/: run npm run build first");
    const say = (s: string) => io.progress && io.stderr.write(`${s}\n`);
    const measure = (what: string, f: () => number, n = runs) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        say(`${what}: run ${i + 1} of ${n}`);
        xs.push(f());
      }
      return Math.round(median(xs));
    };
    const two = syntheticProject(2);
    const twenty = syntheticProject(20);
    try {
      const floorMs = measure("floor (SDK + providers, nothing declared)", () => wall(path.join(dist, "lib", "floor.js"), []));
      const planMs = measure("plan, this project's stacks", () => wall(bin, ["plan", "--json"], [0, 1]));
      const plan2Ms = measure("plan, 2 generated stacks", () => wall(bin, ["plan", "--json", "--dir", two]));
      const plan20Ms = measure("plan, 20 generated stacks", () => wall(bin, ["plan", "--json", "--dir", twenty]));
      const load = (check: boolean) =>
        measure(
          `program load through Pulumi's ts-node${check ? ", type-checked" : ""}`,
          () => {
            const r = spawnSync(process.execPath, [path.join(dist, "lib", "tsnodeLoad.js"), ...(check ? ["--check"] : [])], {
              cwd: packageRoot(),
              encoding: "utf8",
            });
            if (r.status !== 0) throw new CommandError(`program load failed: ${(r.stderr || "").trim().split("\n")[0]}`);
            return JSON.parse(r.stdout).loadMs as number;
          },
          Math.max(1, Math.min(runs, 3)),
        );
      const figures = {
        runs,
        plan: { ms: planMs, floorMs, ratio: Number((planMs / floorMs).toFixed(2)), target: 1.3 },
        scale: { ms20: plan20Ms, ms2: plan2Ms, ratio: Number((plan20Ms / plan2Ms).toFixed(2)), target: 2 },
        programLoad: { transpileOnlyMs: load(false), typeCheckedMs: load(true) },
      };
      report(io, opts.json === true, figures);
      return 0;
    } finally {
      fs.rmSync(two, { recursive: true, force: true });
      fs.rmSync(twenty, { recursive: true, force: true });
    }
  },
);

function report(
  io: Io,
  json: boolean,
  f: {
    runs: number;
    plan: { ms: number; floorMs: number; ratio: number; target: number };
    scale: { ms20: number; ms2: number; ratio: number; target: number };
    programLoad: { transpileOnlyMs: number; typeCheckedMs: number };
  },
): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(f, null, 2)}\n`);
    return;
  }
  const mark = (ratio: number, target: number) => (ratio <= target ? "✓" : "✗");
  io.stdout.write(
    `${[
      `medians of ${f.runs} runs, compiled commands run through the mina-infra bin (node dist/cli/main.js)`,
      `plan, this project's stacks: ${f.plan.ms} ms   floor (node + SDK + providers): ${f.plan.floorMs} ms   ratio ${f.plan.ratio} (target <= ${f.plan.target}) ${mark(f.plan.ratio, f.plan.target)}`,
      `plan, 20 stack files:        ${f.scale.ms20} ms   plan of 2 stack files:           ${f.scale.ms2} ms   ratio ${f.scale.ratio} (target <= ${f.scale.target}) ${mark(f.scale.ratio, f.scale.target)}`,
      `program load as pulumi up does it (Pulumi's ts-node): transpile-only ${f.programLoad.transpileOnlyMs} ms, type-checked ${f.programLoad.typeCheckedMs} ms`,
    ].join("\n")}\n`,
  );
}

if (require.main === module) runCli(main);
