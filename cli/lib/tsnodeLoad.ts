/**
 * Loads the program's modules the way `pulumi up` does for a TypeScript project:
 * through the ts-node that @pulumi/pulumi vendors, with this project's tsconfig.
 * `--check` forces type-checking, to show what transpile-only saves.
 */
import * as path from "node:path";
import { packageRoot } from "../../lib/root";

const root = packageRoot();
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const tsnode = require(path.join(pulumiDir, "vendor", "ts-node@7.0.1")) as { register(o: object): void };
const ts = require("typescript") as {
  readConfigFile(p: string, r: (p: string) => string | undefined): { config: { compilerOptions: { noCheck?: boolean } } };
  sys: { readFile(p: string): string | undefined };
};

const tsconfig = path.join(root, "tsconfig.json");
const noCheck = ts.readConfigFile(tsconfig, ts.sys.readFile).config.compilerOptions.noCheck === true;
const transpileOnly = process.argv.includes("--check") ? false : noCheck;
tsnode.register({ compiler: require.resolve("typescript"), transpileOnly, project: tsconfig, skipProject: false, compilerOptions: {} });
const t0 = process.hrtime.bigint();
require(path.join(root, "components", "environment.ts"));
require(path.join(root, "config", "index.ts"));
process.stdout.write(`${JSON.stringify({ transpileOnly, loadMs: Number(process.hrtime.bigint() - t0) / 1e6 })}\n`);
