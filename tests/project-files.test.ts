/**
 * The project is read the way Pulumi reads it: which project file (Pulumi looks for
 * Pulumi.json, Pulumi.yaml, Pulumi.yml, in that order), which stack files (named
 * after the project file's extension), which program (`main:`, the runtime and its
 * options, the package manifest's entry). What this project does not use is refused
 * in one line naming the file (and the key), for every stack, offline and under the
 * engine, and through the bin.
 */
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ConfigErrors, listStackFiles, loadStackFromEngine, loadStackOffline, readProject } from "../config";
import { defaultProjectDir } from "../lib/root";
import { run as runCommand, spawnCli } from "./cli";
import { projectErrors, REPO, tempProject } from "./helpers";

const read = (f: string) => fs.readFileSync(path.join(REPO, f), "utf8");
const PROJECT_YAML = read("Pulumi.yaml");
const PACKAGE_JSON = JSON.stringify({ name: "mina-infra", main: "index.ts" });

/** A copy of this project's files (no secrets are needed offline), with some added, replaced or (undefined) removed. */
function files(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    "Pulumi.yaml": PROJECT_YAML,
    "Pulumi.staging.yaml": read("Pulumi.staging.yaml"),
    "Pulumi.production.yaml": read("Pulumi.production.yaml"),
    "package.json": PACKAGE_JSON,
    ...extra,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

const errorsIn = projectErrors;

/** A project file with one more top-level text. */
const projectWith = (text: string) => PROJECT_YAML.replace(/^runtime:[\s\S]*?(?=^config:)/m, "") + text;

describe("project files: the one Pulumi reads is Pulumi.yaml, and no other", () => {
  it("accepts this project as it is, and a copy of it", () => {
    assert.deepEqual(readProject(REPO).problems, []);
    assert.deepEqual(errorsIn(files()), []);
    assert.deepEqual(errorsIn(files(), "production"), []);
  });

  it("refuses a Pulumi.json beside Pulumi.yaml, which Pulumi would read instead, for every stack", () => {
    for (const json of [JSON.stringify({ name: "mina", runtime: "nodejs" }), "{}", JSON.stringify({ name: "mina", runtime: "nodejs", stackConfigDir: "." })]) {
      for (const stack of ["staging", "production"]) {
        const lines = errorsIn(files({ "Pulumi.json": json }), stack);
        assert.ok(
          lines.includes(
            "Pulumi.json: is the project file Pulumi reads (it looks for Pulumi.json, Pulumi.yaml, Pulumi.yml, in that order), so every check would review Pulumi.yaml while another project runs: remove it; this project's file is Pulumi.yaml",
          ),
          `${json}\n${lines.join("\n")}`,
        );
      }
    }
  });

  it("refuses a Pulumi.yml beside Pulumi.yaml, and one instead of it", () => {
    assert.deepEqual(errorsIn(files({ "Pulumi.yml": PROJECT_YAML })), [
      "Pulumi.yml: a second project file beside Pulumi.yaml, which Pulumi reads instead (it looks for Pulumi.json, Pulumi.yaml, Pulumi.yml, in that order), so nothing reads this one: remove it",
    ]);
    // Alone, it is the project file Pulumi reads (its settings honoured), and it is refused by name.
    const alone = errorsIn(files({ "Pulumi.yaml": undefined, "Pulumi.yml": PROJECT_YAML }));
    assert.deepEqual(alone, [
      "Pulumi.yml: this project's file is Pulumi.yaml, with stack files Pulumi.<stack>.yaml (Pulumi names stack files after the project file's extension): rename it to Pulumi.yaml",
    ]);
  });

  it("reads a Pulumi.json alone as Pulumi does (found from below it, its settings honoured) and refuses it", () => {
    const { dir, cleanup } = tempProject(
      files({ "Pulumi.yaml": undefined, "Pulumi.json": JSON.stringify({ name: "mina", runtime: "nodejs", stackConfigDir: "stacks" }) }),
    );
    try {
      fs.mkdirSync(path.join(dir, "stacks", "deeper"), { recursive: true });
      for (const f of ["Pulumi.staging.yaml", "Pulumi.production.yaml"]) fs.renameSync(path.join(dir, f), path.join(dir, "stacks", f));
      assert.equal(defaultProjectDir(path.join(dir, "stacks", "deeper")), dir);
      assert.deepEqual(
        listStackFiles(dir).map((s) => s.stack),
        ["production", "staging"],
      );
      const project = readProject(dir);
      assert.equal(project.file, "Pulumi.json");
      assert.equal(project.stackDir, path.join(dir, "stacks"));
      assert.throws(
        () => loadStackOffline(dir, "staging"),
        (e: unknown) => e instanceof ConfigErrors && e.errors.some((x) => /^Pulumi\.json: this project's file is Pulumi\.yaml/.test(x.message)),
      );
    } finally {
      cleanup();
    }
  });

  it("names each of three project files", () => {
    const lines = errorsIn(files({ "Pulumi.json": JSON.stringify({ name: "mina", runtime: "nodejs" }), "Pulumi.yml": PROJECT_YAML }));
    assert.ok(
      lines.some((l) => l.startsWith("Pulumi.json: is the project file Pulumi reads")),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => l.startsWith("Pulumi.yml: a second project file beside Pulumi.json, which Pulumi reads instead")),
      lines.join("\n"),
    );
  });
});

describe("stack files: Pulumi.<stack>.yaml, the project file's extension, and no other", () => {
  const neverRead = (f: string, yaml: string) =>
    `${f}: is never read: Pulumi reads ${yaml} beside it (stack files take the project file's extension, .yaml); remove it`;
  const renameTo = (f: string, yaml: string) =>
    `${f}: is never read: Pulumi reads a stack's settings from Pulumi.<stack>.yaml (stack files take the project file's extension), so neither Pulumi nor any check would see what it says; rename it to ${yaml}, or remove it`;

  it("refuses a .yml or .json stack file beside the .yaml one, and alone, naming each, for every stack", () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ "Pulumi.staging.yml": "config: {}\n" }, [neverRead("Pulumi.staging.yml", "Pulumi.staging.yaml")]],
      [{ "Pulumi.production.json": '{"config": {}}' }, [neverRead("Pulumi.production.json", "Pulumi.production.yaml")]],
      [{ "Pulumi.demo.yml": read("Pulumi.staging.yaml") }, [renameTo("Pulumi.demo.yml", "Pulumi.demo.yaml")]],
      [{ "Pulumi.pr-7.json": "{}" }, [renameTo("Pulumi.pr-7.json", "Pulumi.pr-7.yaml")]],
      [{ "Pulumi.review.template.yml": "config: {}\n" }, [renameTo("Pulumi.review.template.yml", "Pulumi.review.template.yaml")]],
      [{ "Pulumi.Bad_Name.yml": "x" }, [renameTo("Pulumi.Bad_Name.yml", "Pulumi.Bad_Name.yaml")]],
      [
        { "Pulumi.staging.json": "{}", "Pulumi.staging.yml": "config: {}\n" },
        [neverRead("Pulumi.staging.json", "Pulumi.staging.yaml"), neverRead("Pulumi.staging.yml", "Pulumi.staging.yaml")],
      ],
    ];
    for (const [extra, expected] of cases) {
      for (const stack of ["staging", "production"]) assert.deepEqual(errorsIn(files(extra), stack), expected, `${Object.keys(extra)} (${stack})`);
      const { dir, cleanup } = tempProject(files(extra));
      try {
        // Never a stack: nothing lists it.
        assert.deepEqual(
          listStackFiles(dir).map((s) => s.stack),
          ["production", "staging"],
        );
      } finally {
        cleanup();
      }
    }
  });

  it("looks where Pulumi looks: in stackConfigDir", () => {
    const project = files({ "Pulumi.yaml": `${PROJECT_YAML}stackConfigDir: stacks\n`, "Pulumi.staging.yaml": undefined, "Pulumi.production.yaml": undefined });
    const lines = errorsIn(project, "staging", (dir) => {
      fs.mkdirSync(path.join(dir, "stacks"));
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.staging.yaml"), read("Pulumi.staging.yaml"));
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.production.yaml"), read("Pulumi.production.yaml"));
      fs.writeFileSync(path.join(dir, "stacks", "Pulumi.staging.yml"), "config: {}\n");
    });
    assert.deepEqual(lines, [neverRead("Pulumi.staging.yml", "Pulumi.staging.yaml")]);
  });

  it("refuses them under the engine too (pulumi up)", () => {
    const { dir, cleanup } = tempProject(files({ "Pulumi.staging.yml": "config: {}\n" }));
    try {
      assert.throws(
        () => loadStackFromEngine(dir, "staging", {}, () => false),
        (e: unknown) => e instanceof ConfigErrors && e.errors.some((x) => x.message === neverRead("Pulumi.staging.yml", "Pulumi.staging.yaml")),
      );
    } finally {
      cleanup();
    }
  });
});

describe("the program Pulumi runs is index.ts: main, the runtime and its options, the package manifest", () => {
  it("refuses a main: other than the program every check reviews, in any form", () => {
    for (const main of ["other.ts", "./src/index.ts", "dist/index.js", "index.js", ".", "./", "bin/", "../index.ts", "index"]) {
      const lines = errorsIn(files({ "Pulumi.yaml": `${PROJECT_YAML}main: ${JSON.stringify(main)}\n` }));
      assert.deepEqual(
        lines,
        [`Pulumi.yaml: main: is ${JSON.stringify(main)}: Pulumi would run that instead of index.ts, the program every check reviews; remove it`],
        main,
      );
    }
    for (const main of ["index.ts", "./index.ts"]) assert.deepEqual(errorsIn(files({ "Pulumi.yaml": `${PROJECT_YAML}main: ${main}\n` })), [], main);
    // With main: set, Pulumi does not read the manifest's entry.
    assert.deepEqual(errorsIn(files({ "Pulumi.yaml": `${PROJECT_YAML}main: index.ts\n`, "package.json": JSON.stringify({ main: "other.ts" }) })), []);
  });

  it("refuses another runtime, nodeargs, and any option this project does not use", () => {
    const cases: [string, string][] = [
      ["", "Pulumi.yaml: runtime: is not set: Pulumi needs it, and this program runs on nodejs"],
      ["runtime: python\n", 'Pulumi.yaml: runtime: is "python"; this program runs on nodejs'],
      ["runtime:\n  name: bun\n", 'Pulumi.yaml: runtime: is "bun"; this program runs on nodejs'],
      [
        "runtime:\n  name: nodejs\n  options:\n    nodeargs: --require ./other.js\n",
        "Pulumi.yaml: runtime: options: nodeargs passes arguments to node, which can load code before the program (--require, --import) or change how it runs: this project uses none; remove it",
      ],
      [
        "runtime:\n  name: nodejs\n  options:\n    nodeargs: ''\n",
        "Pulumi.yaml: runtime: options: nodeargs passes arguments to node, which can load code before the program (--require, --import) or change how it runs: this project uses none; remove it",
      ],
      [
        "runtime:\n  name: nodejs\n  options:\n    typescript: false\n",
        "Pulumi.yaml: runtime: options: typescript is false; it must be true (or left out): the program is TypeScript, run with ts-node",
      ],
      [
        "runtime:\n  name: nodejs\n  options:\n    packagemanager: pnpm\n",
        'Pulumi.yaml: runtime: options: packagemanager is "pnpm"; it must be npm (or left out): the project\'s dependencies are locked in package-lock.json',
      ],
      [
        "runtime:\n  name: nodejs\n  options:\n    tsconfig: other.json\n",
        'Pulumi.yaml: runtime: options: unknown option "tsconfig" (this project uses typescript, packagemanager)',
      ],
      ["runtime:\n  name: nodejs\n  options: [typescript]\n", "Pulumi.yaml: runtime: options: expected a mapping"],
      ["runtime:\n  name: nodejs\n  binary: ./prebuilt\n", "Pulumi.yaml: runtime: unknown key binary (known: name, options)"],
    ];
    for (const [runtime, expected] of cases) assert.deepEqual(errorsIn(files({ "Pulumi.yaml": projectWith(runtime) })), [expected], runtime);
    for (const runtime of [
      "runtime: nodejs\n",
      "runtime:\n  name: nodejs\n",
      "runtime:\n  name: nodejs\n  options:\n    typescript: true\n    packagemanager: npm\n",
    ]) {
      assert.deepEqual(errorsIn(files({ "Pulumi.yaml": projectWith(runtime) })), [], runtime);
    }
  });

  it("refuses a package manifest that names another entry, in every way Pulumi's Node.js runtime reads one", () => {
    const cases: [Record<string, string>, string[]][] = [
      [
        { "package.json": JSON.stringify({ main: "other.ts" }) },
        ['package.json: main: is "other.ts", which Pulumi\'s Node.js runtime would run; every check reviews index.ts: set it to index.ts'],
      ],
      [
        { "package.json": JSON.stringify({ main: "./dist/index.js" }) },
        ['package.json: main: is "./dist/index.js", which Pulumi\'s Node.js runtime would run; every check reviews index.ts: set it to index.ts'],
      ],
      [
        { "package.json": JSON.stringify({ name: "mina-infra" }) },
        ["package.json: main: is not set, so Node would run the directory's index.js; every check reviews index.ts: set it to index.ts"],
      ],
      [
        { "package.json": JSON.stringify({ main: "index.ts", exports: "./other.ts" }) },
        ["package.json: exports: Pulumi's Node.js runtime runs the entry it names before main, and every check reviews index.ts: remove it"],
      ],
      [
        { "package.json": JSON.stringify({ main: "index.ts", exports: { ".": { require: "./other.ts" } } }) },
        ["package.json: exports: Pulumi's Node.js runtime runs the entry it names before main, and every check reviews index.ts: remove it"],
      ],
      [
        { "package.yaml": "main: other.ts\n" },
        [
          "package.yaml: Pulumi's Node.js runtime reads it as the package manifest when there is no package.json: this project's manifest is package.json alone; remove it",
        ],
      ],
    ];
    for (const [extra, expected] of cases) assert.deepEqual(errorsIn(files(extra)), expected, JSON.stringify(extra));
    assert.match(errorsIn(files({ "package.json": "{ not json" }))[0], /^package\.json: not valid JSON: /);
    assert.deepEqual(errorsIn(files({ "package.json": JSON.stringify({ main: "./index.ts" }) })), []);
  });

  it("refuses plugins, packages, unknown options and the old string config:", () => {
    const cases: [string, string][] = [
      [
        "plugins:\n  providers:\n    - name: aws\n      path: ./bin\n",
        "Pulumi.yaml: plugins: links local plugin binaries that Pulumi would run instead of the released providers and language host: this project uses none; remove it",
      ],
      [
        "packages:\n  x: github.com/example/x\n",
        "Pulumi.yaml: packages: declares packages whose SDKs Pulumi generates into the project: this project uses none; remove it",
      ],
      ["options:\n  refresh: never\n", 'Pulumi.yaml: options: refresh is "never"; the only value Pulumi knows is always'],
      ["options:\n  deleteBeforeReplace: true\n", 'Pulumi.yaml: options: unknown option "deleteBeforeReplace" (known: refresh)'],
    ];
    for (const [text, expected] of cases) assert.deepEqual(errorsIn(files({ "Pulumi.yaml": PROJECT_YAML + text })), [expected], text);
    assert.deepEqual(errorsIn(files({ "Pulumi.yaml": `${PROJECT_YAML}options:\n  refresh: always\n` })), []);
    const old = PROJECT_YAML.replace(/^config:[\s\S]*$/m, "config: stacks\n");
    assert.deepEqual(errorsIn(files({ "Pulumi.yaml": old })), [
      'Pulumi.yaml: config: is a string, Pulumi\'s old name for stackConfigDir (where the stack files are): write stackConfigDir: "stacks" instead',
    ]);
  });
});

describe("through the bin: the plan fails, naming the file", function () {
  this.timeout(120_000);

  it("a Pulumi.json, a Pulumi.<stack>.yml and a main: each fail npm run plan in one line naming the file (the first through the bin)", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ "Pulumi.json": "{}" }, "Pulumi.json: is the project file Pulumi reads"],
      [{ "Pulumi.staging.yml": "config: {}\n" }, "Pulumi.staging.yml: is never read: Pulumi reads Pulumi.staging.yaml beside it"],
      [{ "Pulumi.yaml": `${PROJECT_YAML}main: other.ts\n` }, 'Pulumi.yaml: main: is "other.ts"'],
    ];
    for (const [i, [extra, line]] of cases.entries()) {
      const { dir, cleanup } = tempProject(files(extra));
      try {
        const r = i === 0 ? spawnCli("plan", ["--dir", dir, "--stack", "staging"]) : await runCommand("plan", ["--dir", dir, "--stack", "staging"]);
        assert.equal(r.status, 1, r.stdout + r.stderr);
        assert.ok(
          r.stdout.split("\n").some((l) => l.trim().startsWith(line)),
          r.stdout,
        );
        assert.doesNotMatch(r.stdout + r.stderr, /^\s+at /m, "no stack trace");
      } finally {
        cleanup();
      }
    }
  });
});
