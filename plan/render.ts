/** Renders a plan as text for a terminal or as Markdown for a pull request comment. */
import { md, oneLine } from "../lib/markdown";
import type { Plan, StackPlan } from "./plan";

/** `aws:s3/bucketPolicy:BucketPolicy` -> `aws:s3:BucketPolicy`; `random:index/randomBytes:RandomBytes` -> `random:RandomBytes`. */
export const shortType = (type: string) => {
  const [pkg, mod, name] = type.split(":");
  if (name === undefined) return type;
  const m = mod.split("/")[0];
  return m === "index" || m === "" ? `${pkg}:${name}` : `${pkg}:${m}:${name}`;
};

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd(),
  );
}

function outputsLine(s: StackPlan): string {
  return Object.entries(s.outputs)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`)
    .join("  ");
}

export function renderText(plan: Plan): string {
  const out: string[] = [plan.note, ""];
  for (const s of plan.stacks) {
    out.push(`== ${s.stack} (${s.file})${s.ok ? `: profile ${s.profile}, database mode ${s.databaseMode}` : ""}`);
    if (!s.ok) {
      out.push("  ✗ invalid config:", ...s.errors.map((e) => `    ${e}`), "");
      continue;
    }
    const custom = s.resources.filter((r) => r.custom || r.type.startsWith("pulumi:providers:"));
    out.push(`  Resources (${custom.length} declared, plus ${s.resources.length - custom.length} components):`);
    out.push(
      ...table([
        ["TYPE", "NAME", "PHYSICAL NAME", "PROTECTED"],
        ...custom.map((r) => [shortType(r.type), r.name, r.physicalName ?? "-", r.protected ? "yes" : "no"]),
      ]).map((l) => `    ${l}`),
    );
    out.push(`  Env variables (${s.variables.length}; values never shown):`);
    out.push(`    ${s.variables.map((v) => (v.secret ? `${v.name} (secret)` : v.name)).join(", ")}`);
    if (s.missingSecrets.length > 0) {
      out.push("  Secret config still to set before `pulumi up`:", ...s.missingSecrets.map((m) => `    ${m.command}`));
    } else out.push("  Secret config: all required secrets are set.");
    for (const n of s.notes ?? []) out.push(`  ${n}`);
    out.push(`  Outputs: ${outputsLine(s)}`);
    if (s.violations.length > 0) {
      out.push(`  ✗ Policy violations (${s.violations.length}):`, ...s.violations.map((v) => `    [${v.rule}] ${v.resource}: ${v.message}`));
    } else out.push("  ✓ Policy pack: no violations.");
    out.push("");
  }
  out.push(...renderAuditText(plan));
  return `${out.join("\n")}\n`;
}

function renderAuditText(plan: Plan): string[] {
  if (plan.audit.ok) {
    return [
      "== Isolation audit across all stacks: ✓ no two stacks share a physical name, account id, domain, database, bucket or Redis database (beyond the account and hosted zone the non-production tier shares)",
    ];
  }
  const out = ["== Isolation audit across all stacks: ✗"];
  for (const u of plan.audit.unaudited) out.push(`  ✗ not audited: ${u.file} (${u.reason})`);
  if (plan.audit.conflicts.length > 0)
    out.push("  ✗ shared between stacks:", ...plan.audit.conflicts.map((c) => `    ${c.kind} "${c.value}": ${c.stacks.join(", ")}`));
  return out;
}

export function renderMarkdown(plan: Plan): string {
  const out: string[] = ["## mina-infra plan", "", `> ${plan.note}`, ""];
  out.push(`**Result:** ${plan.ok ? "✅ every stack valid, no policy violations, isolation audit passed" : "❌ see below"}`, "");
  for (const s of plan.stacks) {
    out.push(`### ${md(s.stack, "code")} (${md(s.file)})`);
    if (!s.ok) {
      out.push("", "❌ **Invalid config**", "", ...s.errors.map((e) => `- ${md(e, "code")}`), "");
      continue;
    }
    const custom = s.resources.filter((r) => r.custom || r.type.startsWith("pulumi:providers:"));
    out.push("", `Profile ${md(s.profile, "code")}, database mode ${md(s.databaseMode, "code")}, ${custom.length} resources.`, "");
    if (s.violations.length > 0)
      out.push(`❌ **Policy violations**`, "", ...s.violations.map((v) => `- ${md(v.rule, "code")} ${md(v.resource)}: ${md(v.message)}`), "");
    out.push("<details><summary>Resources</summary>", "", "| Type | Name | Physical name | Protected |", "|---|---|---|---|");
    for (const r of custom)
      out.push(
        `| ${md(shortType(r.type), "code")} | ${md(r.name)} | ${r.physicalName ? md(r.physicalName, "code") : "-"} | ${r.protected ? "🔒 yes" : "no"} |`,
      );
    out.push("", "</details>", "");
    out.push(`**Env variables** (values never shown): ${s.variables.map((v) => md(v.name, "code")).join(", ")}`, "");
    if (s.missingSecrets.length > 0) {
      // Each line starts with `pulumi config set`, so no line can close the fence once it is on one line.
      out.push("**Secret config still to set before `pulumi up`:**", "", "```sh", ...s.missingSecrets.map((m) => oneLine(m.command)), "```", "");
    }
    for (const n of s.notes ?? []) out.push(`- ${md(n)}`, "");
  }
  out.push("### Isolation audit", "");
  if (plan.audit.ok)
    out.push(
      "✅ No two stacks share a physical name, account id, domain, database, bucket or Redis database (beyond the account and hosted zone the non-production tier shares).",
    );
  else {
    const { unaudited } = plan.audit;
    if (unaudited.length > 0) out.push("❌ Not audited:", "", ...unaudited.map((u) => `- ${md(u.file)}: ${md(u.reason, "code")}`), "");
    if (plan.audit.conflicts.length > 0)
      out.push(
        "❌ Shared between stacks:",
        "",
        ...plan.audit.conflicts.map((c) => `- ${md(c.kind)} ${md(c.value, "code")}: ${c.stacks.map((x) => md(x)).join(", ")}`),
      );
  }
  return `${out.join("\n")}\n`;
}
