/**
 * Markdown safety: a value in the plan, the plan diff or the gate's Markdown (a
 * resource or stack name, a ref, a provider input, a diagnostic) cannot change the
 * comment's structure. Each renderer runs twice, with plain values and with hostile
 * ones, and the two outputs must have the same structure line by line.
 */
import { strict as assert } from "node:assert";
import { decide, type DangerousOp, renderDecisionMarkdown } from "../gate/gate";
import { md, oneLine } from "../lib/markdown";
import type { Plan, PlannedResource, StackPlan } from "../plan/plan";
import { diffPlans, renderPlanDiffMarkdown } from "../plan/diff";
import { renderMarkdown } from "../plan/render";

/** Values that try to break out: each is put in front of every value of a rendering. */
const HOSTILE = [
  "`",
  "``code`` ",
  "<!-- ",
  "x\n# heading\n",
  "\r\n## heading ",
  "# ",
  "| a | b |\n|---|---|\n",
  "</details>\n\n",
  "<details><summary>hidden</summary>",
  "</summary></details><!--",
  "*bold* _it_ ~~strike~~ [link](https://example.invalid) ![img](x) ",
  "> [!WARNING]\n> ",
  "- ",
  "1. ",
  "    indented ",
  "```\n",
  "\\`",
  "a\u2028b\u202ecba\u200b\u0000 ",
  "<script>alert(1)</script>",
];

/** Counts a character outside backslash escapes. */
function count(line: string, ch: string): number {
  let n = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === ch) n++;
  }
  return n;
}

/**
 * What each line is: how it starts (heading, quote, list, table, fence, HTML) and
 * how many unescaped structural characters it holds. Inside a fenced block only
 * whether a line could close the fence counts.
 */
function skeleton(text: string): string[] {
  let fence = false;
  return text.split("\n").map((line) => {
    if (/^\s{0,3}(```|~~~)/.test(line)) {
      fence = !fence;
      return "fence";
    }
    if (fence) return "in fence";
    const lead = /^\s*(#{1,6}(?=\s|$)|>|[-*+](?=\s)|\d+[.)](?=\s)|\||<)?/.exec(line)![1] ?? "";
    const indent = /^ {4}/.test(line) ? "indented" : "";
    // A code span's content is literal (md puts no backtick or backslash in one): only what is outside counts.
    // Entities (`&lt;`, `&#32;`) are text too.
    const outside = line.replace(/(?<!\\)`[^`\\]*`/g, "`code`").replace(/&#?[a-z0-9]+;/gi, "&");
    return [lead, indent, ...["|", "*", "_", "[", "]", "~", "<", ">", "#"].map((c) => `${c}${count(outside, c)}`)].join(" ");
  });
}

/**
 * The same structure as the plain rendering; outside fenced blocks (whose content is
 * literal, and which the skeleton shows are not closed early) no HTML comment, the
 * same HTML tags, and code spans balanced on every line.
 */
function assertSafe(text: string, plain: string, what: string) {
  assert.deepEqual(skeleton(text), skeleton(plain), what);
  const unfenced = (t: string) => t.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, "");
  const outside = unfenced(text);
  assert.ok(!outside.includes("<!--"), `${what}: no HTML comment`);
  for (const tag of ["<details>", "</details>", "<summary>", "</summary>", "<script"]) {
    assert.equal(outside.split(tag).length, unfenced(plain).split(tag).length, `${what}: ${tag}`);
  }
  for (const [i, line] of outside.split("\n").entries()) assert.equal(count(line, "`") % 2, 0, `${what}: backticks balanced on line ${i + 1}: ${line}`);
}

function assertSafeFor(render: (v: (s: string) => string) => string, what: string) {
  const plain = render((s) => s);
  for (const h of HOSTILE)
    assertSafe(
      render((s) => `${h}${s}`),
      plain,
      `${what} with ${JSON.stringify(h)}`,
    );
}

const resource = (v: (s: string) => string, name: string, extra: Partial<PlannedResource> = {}): PlannedResource => ({
  type: `example:index/thing:${v("Thing")}`,
  name: v(name),
  physicalName: v(`${name}-physical`),
  protected: false,
  stateful: true,
  custom: true,
  inputsHash: "0",
  ...extra,
});

function stack(v: (s: string) => string, name: string, resources: PlannedResource[], extra: Partial<StackPlan> = {}): StackPlan {
  return {
    stack: v(name),
    file: `Pulumi.${v(name)}.yaml`,
    ok: true,
    errors: [],
    environment: v(name),
    profile: v("profile"),
    databaseMode: v("mode"),
    resources,
    variables: [{ name: v("VARIABLE"), secret: false }],
    missingSecrets: [{ key: v("mina:key"), command: `pulumi config set --secret ${v("mina:key")} <value> --stack ${v(name)}` }],
    outputs: {},
    violations: [{ rule: v("rule"), resource: v("resource"), message: v("message") }],
    ...extra,
  };
}

const planOf = (stacks: StackPlan[], conflicts: Plan["audit"]["conflicts"] = []): Plan => ({
  note: "offline",
  stacks,
  audit: { ok: conflicts.length === 0, conflicts, unaudited: [] },
  ok: false,
});

describe("markdown: values cannot change the structure", () => {
  it("md escapes text and keeps code spans closed", () => {
    assert.equal(md("mina-staging-bucket"), "mina-staging-bucket");
    assert.equal(md("mina-audio", "code"), "`mina-audio`");
    assert.equal(md("a`b", "code"), "a\\`b");
    assert.equal(md("p|q", "code"), "p\\|q");
    assert.equal(md("<!--", "code"), "&lt;!--");
    assert.equal(md("<!-- x -->"), "&lt;!-- x --&gt;");
    assert.equal(md("x\n# y"), "x ↵ \\# y");
    assert.equal(md("# y"), "\\# y");
    assert.equal(md("- y"), "\\- y");
    assert.equal(md("1. y"), "1\\. y");
    assert.equal(md("  y"), "&#32;&#32;y");
    assert.equal(md("</details>"), "&lt;/details&gt;");
    assert.equal(oneLine("a\r\nb\u202ec"), "a ↵ b\ufffdc");
  });

  it("in the plan (stack, file, errors, resources, variables, secret commands, audit)", () => {
    assertSafeFor(
      (v) =>
        renderMarkdown(
          planOf(
            [
              stack(v, "staging", [resource(v, "bucket"), resource(v, "user", { physicalName: undefined, protected: true })]),
              stack(v, "broken", [], { ok: false, errors: [v("error one"), v("error two")] }),
            ],
            [{ kind: v("physical name"), value: v("shared"), stacks: [v("a"), v("b")] }],
          ),
        ),
      "plan",
    );
  });

  it("in the plan diff (base ref, stacks, resources, physical names, notes, provider inputs, problems)", () => {
    assertSafeFor((v) => {
      const provider = (region: string): PlannedResource => ({
        ...resource(v, "aws"),
        type: "pulumi:providers:aws",
        physicalName: undefined,
        providerInputs: { [v("region")]: { value: v(region) }, [v("token")]: { secret: true, fingerprint: region } },
      });
      const under = (r: PlannedResource) => ({ ...r, provider: `pulumi:providers:aws::${v("aws")}` });
      const base = planOf([
        stack(v, "one", [provider("us-east-1"), under(resource(v, "kept")), resource(v, "removed"), resource(v, "renamed")]),
        stack(v, "gone", [resource(v, "old")]),
      ]);
      const head = planOf([
        stack(v, "one", [provider("eu-west-1"), under(resource(v, "kept")), resource(v, "renamed", { physicalName: v("new-name") }), resource(v, "added")]),
        stack(v, "new", [resource(v, "fresh")]),
      ]);
      return renderPlanDiffMarkdown(diffPlans(base, head, { base: v("origin/main"), baseCommit: "0123456789abcdef0123456789abcdef01234567" }), head);
    }, "plan diff");
  });

  it("in the gate (stack, type, name, detail, incomplete input, approval label, a malformed approved commit)", () => {
    assertSafeFor((v) => {
      const ops: DangerousOp[] = (["delete", "replace", "rotates a credential", "may be replaced"] as const).map((kind, i) => ({
        stack: v("staging"),
        kind,
        op: "delete",
        type: `example:index/thing:${v("Thing")}`,
        name: v(`name${i}`),
        source: "preview",
        detail: v("replaced because of: bucket"),
      }));
      const byLabel = decide(ops, [], { approvalLabel: v("allow-data-loss"), incomplete: [v("p.json: the preview reported an error: boom")] });
      const byCommit = decide(ops, [], { commit: "0123456789abcdef0123456789abcdef01234567", approvedCommit: v("not-a-sha") });
      const approved = decide(ops, [v("ok")], { approvalLabel: v("ok") });
      return [byLabel, byCommit, approved].map(renderDecisionMarkdown).join("\n");
    }, "gate");
  });
});
