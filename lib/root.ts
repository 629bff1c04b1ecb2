/**
 * Where things are: the package this code ships in, and the Pulumi project a
 * command works on (found as Pulumi finds it: the nearest `Pulumi.yaml` at or
 * above the current directory).
 */
import * as fs from "node:fs";
import * as path from "node:path";

let cached: string | undefined;

/** The directory of this package's package.json (the checkout, whether run from source or from dist/). */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).name === "mina-infra") {
      cached = dir;
      return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the mina-infra package above ${__dirname}`);
    dir = up;
  }
}

/**
 * The project a command works on by default: the nearest directory at or above `cwd`
 * with a project file, as Pulumi finds it (Pulumi.json, Pulumi.yaml or Pulumi.yml;
 * config/project.ts refuses all but Pulumi.yaml), else this package's.
 */
export function defaultProjectDir(cwd: string): string {
  let dir = path.resolve(cwd);
  for (;;) {
    if (["Pulumi.json", "Pulumi.yaml", "Pulumi.yml"].some((f) => fs.existsSync(path.join(dir, f)))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return packageRoot();
    dir = up;
  }
}

/** A path as the user should read it: relative to where they stand when that is shorter and inside. */
export function shownPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}
