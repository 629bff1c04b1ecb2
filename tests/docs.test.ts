/**
 * The documentation: the generated reference pages are what docs/generate.ts
 * writes now (config keys, variables, every command and option), every page is
 * reachable from the README and the docs index, every relative link resolves to
 * a file and a heading, and the README stays short.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KEYS } from "../config/schema";
import { VARIABLES } from "../config/variables";
import { generate, PAGES, parseHelp } from "../docs/generate";
import { run } from "./cli";
import { REPO } from "./helpers";

const read = (file: string) => fs.readFileSync(path.join(REPO, file), "utf8");

/** Every Markdown file of the documentation, relative to the repository. */
function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(REPO, dir), { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      return e.isDirectory() ? walk(p) : e.name.endsWith(".md") ? [p] : [];
    });
  return ["README.md", ...walk("docs")];
}

/** The text outside fenced blocks and code spans, where links and headings are. */
function prose(text: string): string {
  return text.replace(/^\s{0,3}```[^\n]*\n[\s\S]*?^\s{0,3}```[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "code");
}

/** GitHub's anchor for a heading: lowercased, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const fenced = text.replace(/^\s{0,3}```[^\n]*\n[\s\S]*?^\s{0,3}```[^\n]*$/gm, "");
  for (const [, heading] of fenced.matchAll(/^#{1,6} (.*?)#*\s*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** The relative links of a Markdown file: [text](target), outside code. */
function links(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}

describe("the documentation", function () {
  this.timeout(60000);

  describe("generated reference pages (npm run docs)", () => {
    for (const page of PAGES) {
      it(`${page.file} is what docs/generate.ts writes now`, async () => {
        assert.ok(fs.existsSync(path.join(REPO, page.file)), `${page.file} is missing: run npm run docs`);
        assert.equal(read(page.file), await page.render(), `${page.file} differs from the code: run npm run docs`);
      });
    }

    it("npm run docs -- --check passes on the committed pages and names a stale one", async () => {
      const sink = () => {
        let text = "";
        return { write: (s: string) => (text += s), text: () => text };
      };
      const ok = sink();
      assert.equal(await generate(REPO, true, ok, ok), 0, ok.text());
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mina-docs-"));
      try {
        for (const page of PAGES) {
          fs.mkdirSync(path.dirname(path.join(dir, page.file)), { recursive: true });
          fs.copyFileSync(path.join(REPO, page.file), path.join(dir, page.file));
        }
        fs.appendFileSync(path.join(dir, "docs/reference/commands.md"), "drift\n");
        const out = sink();
        const err = sink();
        assert.equal(await generate(dir, true, out, err), 1);
        assert.equal(err.text(), "error: docs/reference/commands.md differs from the code; run npm run docs\n");
        assert.equal(out.text(), "");
        assert.ok(read("docs/reference/commands.md") !== fs.readFileSync(path.join(dir, "docs/reference/commands.md"), "utf8"));
        assert.equal(await generate(dir, false, out, err), 0);
        assert.equal(out.text(), "wrote docs/reference/commands.md\n");
        assert.equal(fs.readFileSync(path.join(dir, "docs/reference/commands.md"), "utf8"), read("docs/reference/commands.md"));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("has a table row for every config key", () => {
      const page = read("docs/reference/config-keys.md");
      for (const key of Object.keys(KEYS)) assert.match(page, new RegExp(`^\\| \`${key}\` \\|`, "m"), key);
    });

    it("has a table row for every emitted variable, saying whether it is secret", () => {
      const page = read("docs/reference/variables.md");
      for (const v of VARIABLES) assert.match(page, new RegExp(`^\\| \`${v.name}\` \\| ${v.secret ? "yes" : "no"} \\|`, "m"), v.name);
      assert.match(page, /^\| `FEATURE_<NAME>` \| no \|/m);
    });

    it("documents every command and every option its --help lists, with the exit codes", async () => {
      const page = read("docs/reference/commands.md");
      assert.match(page, /`0` ok; `1` a check failed or the command refused.*`2` a usage error/s);
      const { COMMANDS } = require("../cli/main") as typeof import("../cli/main");
      for (const name of Object.keys(COMMANDS)) {
        const start = page.indexOf(`\n## \`${name}\`\n`);
        assert.ok(start > 0, `no section for ${name}`);
        const next = page.indexOf("\n## ", start + 1);
        const section = page.slice(start, next < 0 ? undefined : next);
        const row = page.split("\n").find((l) => l.startsWith(`| [\`${name}\`]`));
        assert.ok(row, `no summary row for ${name}`);
        const help = await run(name, ["--help"]);
        assert.equal(help.status, 0);
        const options = [...help.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]).filter((o) => o !== "--help");
        assert.ok(options.length > 0, name);
        for (const o of options) {
          assert.ok(section.includes(`| \`${o}`), `${name}: ${o} has no row in its section`);
          assert.ok(row.includes(`\`${o}\``), `${name}: ${o} is not in the summary`);
        }
      }
    });

    it("reads commander's help whatever width it was wrapped at", () => {
      const wide = parseHelp(
        "Usage: x [options] <file>\n\nDoes a thing, and another thing.\n\nArguments:\n  file        the file\n\nOptions:\n  --a <n>     first option, with a long text\n  -h, --help  display help for command\n",
      );
      const narrow = parseHelp(
        "Usage: x [options] <file>\n\nDoes a thing, and\nanother thing.\n\nArguments:\n  file        the file\n\nOptions:\n  --a <n>     first option,\n              with a long text\n  -h, --help  display help for\n              command\n",
      );
      assert.deepEqual(narrow, wide);
      assert.deepEqual(wide, {
        usage: "x [options] <file>",
        description: ["Does a thing, and another thing."],
        arguments: [{ term: "file", text: "the file" }],
        options: [
          { term: "--a <n>", text: "first option, with a long text" },
          { term: "-h, --help", text: "display help for command" },
        ],
      });
    });
  });

  describe("pages and links", () => {
    it("the README has at most 200 lines", () => {
      const lines = read("README.md").split("\n").length - 1;
      assert.ok(lines <= 200, `README.md has ${lines} lines`);
    });

    it("every page of docs/ is linked from the docs index, and the README links the index", () => {
      const index = links(read("docs/README.md")).map((l) => path.join("docs", l.split("#")[0]));
      for (const file of markdownFiles().filter((f) => f.startsWith("docs/") && f !== "docs/README.md")) {
        assert.ok(index.includes(file), `${file} is not linked from docs/README.md`);
      }
      assert.ok(links(read("README.md")).includes("docs/README.md"), "README.md links docs/README.md");
    });

    it("every guide and reference page is linked from the README", () => {
      const linked = new Set(links(read("README.md")).map((l) => l.split("#")[0]));
      for (const file of markdownFiles().filter((f) => /^docs\/(guides|reference)\//.test(f) || f === "docs/bootstrap.md")) {
        assert.ok(linked.has(file), `${file} is not linked from README.md`);
      }
    });

    for (const file of markdownFiles()) {
      it(`every relative link of ${file} resolves, to a heading where it names one`, () => {
        for (const link of links(read(file))) {
          const [target, anchor] = link.split("#");
          const resolved = target === "" ? file : path.normalize(path.join(path.dirname(file), target));
          assert.ok(!resolved.startsWith(".."), `${file}: ${link} leaves the repository`);
          assert.ok(fs.existsSync(path.join(REPO, resolved)), `${file}: ${link}: no such file ${resolved}`);
          if (anchor !== undefined && resolved.endsWith(".md"))
            assert.ok(anchors(read(resolved)).has(anchor), `${file}: ${link}: ${resolved} has no heading #${anchor}`);
        }
      });
    }

    it("every source file a page names in backticks exists (from the repository's root, or from the page's folder)", () => {
      for (const file of markdownFiles()) {
        for (const [, named] of read(file).matchAll(/`((?:\.?[\w-]+\/)+[\w.-]+\.(?:ts|cjs|json|ya?ml|md))`/g)) {
          const found = [named, path.join(path.dirname(file), named)].some((p) => fs.existsSync(path.join(REPO, p)));
          assert.ok(found, `${file}: names \`${named}\`, which does not exist`);
        }
      }
    });

    it("every Markdown file closes its code fences and names only npm scripts that exist", () => {
      const pkg = JSON.parse(read("package.json"));
      for (const file of markdownFiles()) {
        const text = read(file);
        assert.equal((text.match(/^\s{0,3}```/gm) ?? []).length % 2, 0, `${file}: a code fence is not closed`);
        for (const [, script] of text.matchAll(/npm run (?:-s )?([a-z][a-z:-]*[a-z])/g)) assert.ok(pkg.scripts[script], `${file}: npm run ${script}`);
      }
    });
  });
});
