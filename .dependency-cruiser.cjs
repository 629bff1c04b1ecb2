/**
 * The arrows between folders: which folder may import which. `npm run deps` checks
 * them (dependency-cruiser); docs/reference/layout.md states them in words, from
 * each rule's `comment` (`npm run layout` writes it, tests/layout.test.ts keeps it
 * in step). Tests may import anything; the rules are for the source folders.
 */

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circles: every chain of imports ends.",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-circular-folders",
      severity: "error",
      scope: "folder",
      comment:
        "No circles between folders either: when a folder imports another, that one imports nothing of the first, directly or through a third. The arrows run one way (a folder and its own sub-folders aside).",
      from: {},
      to: { circular: true },
    },
    {
      name: "lib-is-a-leaf",
      severity: "error",
      comment: "`lib/` imports nothing of the project but `lib/`: its helpers know no config, stack or command.",
      from: { path: "^lib/" },
      to: { dependencyTypes: ["local"], pathNot: "^lib/" },
    },
    {
      name: "config-imports-only-lib",
      severity: "error",
      comment: "`config/` imports only `config/` and `lib/`: reading and validating stack files needs nothing that acts on a stack.",
      from: { path: "^config/" },
      to: { dependencyTypes: ["local"], pathNot: "^(config|lib)/" },
    },
    {
      name: "nothing-imports-cli",
      severity: "error",
      comment: "Nothing imports `cli/`: the commands are the top; what two commands share lives in `cli/lib/`, and what anything else needs lives below `cli/`.",
      from: { path: "^", pathNot: "^(cli|tests)/" },
      to: { path: "^cli/" },
    },
    {
      name: "only-cli-runs-ops",
      severity: "error",
      comment: "Only `cli/` imports `ops/`: an operation on deployed stacks runs because a command asked for it.",
      from: { path: "^", pathNot: "^(cli|ops|tests)/" },
      to: { path: "^ops/" },
    },
    {
      name: "no-unresolvable",
      severity: "error",
      comment: "Every import resolves: to a file of the project, a Node.js module or an installed package.",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "no-orphans",
      severity: "error",
      comment: "No orphan files: each source file imports or is imported by another (the entry points aside).",
      from: { orphan: true, pathNot: ["(^|/)\\.[^/]+\\.(?:c|m)?js$", "\\.d\\.ts$", "^index\\.ts$", "^policy/index\\.ts$"] },
      to: {},
    },
  ],
  options: {
    // `npm run deps` cruises the whole repository: every folder but these.
    exclude: { path: "^(node_modules|dist|bin|tests|docs)/|^policy/node_modules/" },
    doNotFollow: { path: "node_modules" },
    // Type-only imports count: a circle of types is still a circle.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    moduleSystems: ["cjs", "es6"],
  },
};
