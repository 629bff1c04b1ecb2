/**
 * The project file, `Pulumi.yaml`, read the way Pulumi reads it: where the stack
 * files live (`stackConfigDir`), the project-level config every stack inherits, and
 * every setting that decides which program runs (`runtime` and its options, `main`,
 * the package manifest's entry). Anything it does not understand is refused: a key
 * Pulumi would honour and this code ignored is exactly how a check gets bypassed.
 *
 * Pulumi looks for `Pulumi.json`, `Pulumi.yaml` and `Pulumi.yml`, in that order,
 * and reads a stack's settings from `Pulumi.<stack>` with the project file's own
 * extension. This project is `Pulumi.yaml` with `Pulumi.<stack>.yaml` files: every
 * other project file, and every file named like a stack file with another
 * extension, is refused by name, since Pulumi would read the one first, and no
 * check would read the other.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { PROJECT } from "./naming";
import { firstLine } from "../lib/errors";
import { ConfigError } from "./errors";

/** A config value as a project or stack file holds it (YAML's value, or the engine's decoded one). */
export type RawValue = unknown;

/** The project file this project has; the others Pulumi would look for are refused. */
export const PROJECT_FILE = "Pulumi.yaml";

/** The names Pulumi looks for a project file under, in its order: the first that exists is the project. */
export const PROJECT_FILE_NAMES = ["Pulumi.json", "Pulumi.yaml", "Pulumi.yml"] as const;

/** The program every check reviews (`npm run plan` runs what it declares): the entry Pulumi must run. */
export const PROGRAM_ENTRY = "index.ts";

/** The Node.js runtime options this project uses, and the values it understands. */
const RUNTIME_OPTIONS: Readonly<Record<string, { readonly accepts: (v: unknown) => boolean; readonly why: string }>> = {
  typescript: { accepts: (v) => v === true, why: "must be true (or left out): the program is TypeScript, run with ts-node" },
  packagemanager: { accepts: (v) => v === "npm", why: "must be npm (or left out): the project's dependencies are locked in package-lock.json" },
};

/** Top-level keys of a project file that this project refuses, and why. */
const REFUSED_PROJECT_KEYS: Readonly<Record<string, string>> = {
  plugins: "links local plugin binaries that Pulumi would run instead of the released providers and language host: this project uses none; remove it",
  packages: "declares packages whose SDKs Pulumi generates into the project: this project uses none; remove it",
};

/** The top-level keys of a Pulumi project file (Pulumi's project file reference). */
export const PROJECT_FILE_KEYS = [
  "name",
  "runtime",
  "description",
  "main",
  "stackConfigDir",
  "config",
  "backend",
  "options",
  "template",
  "plugins",
  "packages",
  "author",
  "website",
  "license",
] as const;

/** The attributes of a typed project-level config entry (`key: {type, default, value...}`). */
const CONFIG_ENTRY_KEYS = ["type", "description", "default", "value", "items", "secret"];

export interface ProjectFile {
  /** The project directory (where `Pulumi.yaml` is, or was looked for). */
  readonly dir: string;
  /** The project file Pulumi reads, as named in messages (refused unless `Pulumi.yaml`); `undefined` when there is none. */
  readonly file?: string;
  /** Where the stack files are: `stackConfigDir`, or the project directory. */
  readonly stackDir: string;
  /** Project-level config values, keys qualified (`mina:logLevel`), that every stack inherits. */
  readonly config: Readonly<Record<string, RawValue>>;
  /** Problems that do not stop locating the stack files; reported by every stack's validation. */
  readonly problems: readonly ConfigError[];
  /** Whether the project file names the program itself (`main:`), so that the package manifest's entry is not read. */
  readonly mainSet?: boolean;
}

const cache = new Map<string, { mtimeMs: number; project: ProjectFile }>();

/** The project files present in `dir`, in the order Pulumi looks for them. */
export function projectFilesIn(dir: string): string[] {
  return PROJECT_FILE_NAMES.filter((f) => fs.existsSync(path.join(dir, f)));
}

/**
 * Reads a project directory's project file, the one Pulumi would read. A directory
 * without one is a bare folder of stack files (tests, scratch copies): no project
 * config, stacks beside it; files named like stack files with another extension
 * than `.yaml` are still refused. Throws a one-line `ConfigError` when the file
 * cannot say where the stacks are.
 */
export function readProject(dir: string): ProjectFile {
  const abs = path.resolve(dir);
  const present = projectFilesIn(abs);
  if (present.length === 0) return withFileProblems({ dir: abs, stackDir: abs, config: {}, problems: [] }, present);
  const found = path.join(abs, present[0]);
  const mtimeMs = fs.statSync(found).mtimeMs;
  const hit = cache.get(found);
  let project: ProjectFile;
  if (hit && hit.mtimeMs === mtimeMs) project = hit.project;
  else {
    project = parseProjectFile(fs.readFileSync(found, "utf8"), abs, present[0]);
    cache.set(found, { mtimeMs, project });
  }
  return withFileProblems(project, present);
}

/**
 * The project with the problems of the files around it, read afresh on every call
 * (a file may appear between two): other project files, stack files Pulumi would
 * not read, and the package manifest's choice of the program.
 */
function withFileProblems(project: ProjectFile, present: readonly string[]): ProjectFile {
  const problems = [...otherProjectFileProblems(present), ...strayStackFileProblems(project.stackDir)];
  if (project.file !== undefined && !project.mainSet) problems.push(...manifestProblems(project.dir));
  return problems.length === 0 ? project : { ...project, problems: [...project.problems, ...problems] };
}

/** Project files other than `Pulumi.yaml`: the one Pulumi would read first, or a second one it never reads. */
function otherProjectFileProblems(present: readonly string[]): ConfigError[] {
  const order = `it looks for ${PROJECT_FILE_NAMES.join(", ")}, in that order`;
  return present
    .filter((f) => f !== PROJECT_FILE)
    .map((f) => {
      if (f !== present[0])
        return new ConfigError(
          f,
          undefined,
          `a second project file beside ${present[0]}, which Pulumi reads instead (${order}), so nothing reads this one: remove it`,
        );
      if (present.includes(PROJECT_FILE)) {
        return new ConfigError(
          f,
          undefined,
          `is the project file Pulumi reads (${order}), so every check would review ${PROJECT_FILE} while another project runs: remove it; this project's file is ${PROJECT_FILE}`,
        );
      }
      return new ConfigError(
        f,
        undefined,
        `this project's file is ${PROJECT_FILE}, with stack files Pulumi.<stack>.yaml (Pulumi names stack files after the project file's extension): rename it to ${PROJECT_FILE}`,
      );
    });
}

/** Anything Pulumi could read as another project's stack file: `Pulumi.<anything>.yml` or `.json`. */
const OTHER_STACK_FILE = /^Pulumi\.(.+)\.(yml|json)$/;

/**
 * Files named like a stack file with another extension than `.yaml`. Pulumi reads a
 * stack's settings from `Pulumi.<stack>` with the project file's extension, so beside
 * `Pulumi.yaml` it never reads them, and no check does either: refused by name.
 */
function strayStackFileProblems(stackDir: string): ConfigError[] {
  let names: string[];
  try {
    names = fs.readdirSync(stackDir);
  } catch {
    return [];
  }
  return names
    .filter((f) => OTHER_STACK_FILE.test(f))
    .sort()
    .map((f) => {
      const yaml = `Pulumi.${OTHER_STACK_FILE.exec(f)![1]}.yaml`;
      const detail = names.includes(yaml)
        ? `is never read: Pulumi reads ${yaml} beside it (stack files take the project file's extension, .yaml); remove it`
        : `is never read: Pulumi reads a stack's settings from Pulumi.<stack>.yaml (stack files take the project file's extension), so neither Pulumi nor any check would see what it says; rename it to ${yaml}, or remove it`;
      return new ConfigError(f, undefined, detail);
    });
}

/** The entries that name the program: `index.ts`, as written in a manifest or `main:`. */
function isProgramEntry(v: unknown): boolean {
  return typeof v === "string" && path.posix.normalize(v.replace(/\\/g, "/")) === PROGRAM_ENTRY;
}

/**
 * Without `main:` in the project file, Pulumi's Node.js runtime runs the entry the
 * package manifest names (`package.json`, else `package.yaml`): its `exports`, else
 * its `main`, else the directory's `index.js`. So the manifest must name index.ts.
 */
function manifestProblems(dir: string): ConfigError[] {
  const out: ConfigError[] = [];
  if (fs.existsSync(path.join(dir, "package.yaml"))) {
    out.push(
      new ConfigError(
        "package.yaml",
        undefined,
        "Pulumi's Node.js runtime reads it as the package manifest when there is no package.json: this project's manifest is package.json alone; remove it",
      ),
    );
  }
  const file = path.join(dir, "package.json");
  if (!fs.existsSync(file)) return out;
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    return [...out, new ConfigError("package.json", undefined, `not valid JSON: ${firstLine(e)}`)];
  }
  if (!isMapping(manifest)) return [...out, new ConfigError("package.json", undefined, "expected an object at the top level")];
  if (manifest.exports !== undefined) {
    out.push(
      new ConfigError(
        "package.json",
        "exports",
        `Pulumi's Node.js runtime runs the entry it names before main, and every check reviews ${PROGRAM_ENTRY}: remove it`,
      ),
    );
  }
  if (!isProgramEntry(manifest.main)) {
    const what =
      manifest.main === undefined
        ? "is not set, so Node would run the directory's index.js"
        : `is ${JSON.stringify(manifest.main)}, which Pulumi's Node.js runtime would run`;
    out.push(new ConfigError("package.json", "main", `${what}; every check reviews ${PROGRAM_ENTRY}: set it to ${PROGRAM_ENTRY}`));
  }
  return out;
}

/** Parses the text of a project file found in `dir`. */
export function parseProjectFile(text: string, dir: string, file = "Pulumi.yaml"): ProjectFile {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ConfigError(file, undefined, `not valid YAML: ${firstLine(e).replace(/[:\s]+$/, "")}`);
  }
  if (!isMapping(doc)) throw new ConfigError(file, undefined, "expected a mapping at the top level");
  const problems: ConfigError[] = [];
  const fail = (key: string | undefined, detail: string) => problems.push(new ConfigError(file, key, detail));

  for (const key of Object.keys(doc)) {
    if (!(PROJECT_FILE_KEYS as readonly string[]).includes(key)) {
      fail(key, `unknown top-level key of a project file (known: ${PROJECT_FILE_KEYS.join(", ")})`);
    }
  }
  if (doc.name !== PROJECT) {
    fail("name", `is ${JSON.stringify(doc.name ?? null)}; this program reads the config namespace "${PROJECT}", so the project must be named "${PROJECT}"`);
  }
  for (const [key, why] of Object.entries(REFUSED_PROJECT_KEYS)) if (doc[key] !== undefined) fail(key, why);
  runtimeProblems(doc.runtime, fail);
  if (doc.main !== undefined && !isProgramEntry(doc.main)) {
    fail("main", `is ${JSON.stringify(doc.main)}: Pulumi would run that instead of ${PROGRAM_ENTRY}, the program every check reviews; remove it`);
  }
  if (doc.options !== undefined && doc.options !== null) {
    if (!isMapping(doc.options)) fail("options", "expected a mapping (refresh: always)");
    else {
      for (const [k, v] of Object.entries(doc.options)) {
        if (k !== "refresh") fail("options", `unknown option ${JSON.stringify(k)} (known: refresh)`);
        else if (v !== "always") fail("options", `refresh is ${JSON.stringify(v)}; the only value Pulumi knows is always`);
      }
    }
  }
  if (typeof doc.config === "string") {
    // Pulumi still honours the old spelling: a string `config:` is the stack files' directory.
    throw new ConfigError(
      file,
      "config",
      `is a string, Pulumi's old name for stackConfigDir (where the stack files are): write stackConfigDir: ${JSON.stringify(doc.config)} instead`,
    );
  }

  let stackDir = dir;
  if (doc.stackConfigDir !== undefined) {
    const rel = doc.stackConfigDir;
    if (typeof rel !== "string" || rel.trim() === "") throw new ConfigError(file, "stackConfigDir", "expected a directory path");
    if (path.isAbsolute(rel)) throw new ConfigError(file, "stackConfigDir", `"${rel}" is absolute; give a directory inside the project, relative to ${file}`);
    const resolved = path.resolve(dir, rel);
    const inside = path.relative(dir, resolved);
    if (inside.startsWith("..") || path.isAbsolute(inside)) {
      throw new ConfigError(file, "stackConfigDir", `"${rel}" is outside the project; stack files live inside it, where every check reads them`);
    }
    if (!fs.existsSync(resolved) || !fs.statSync(resolved).isDirectory()) {
      throw new ConfigError(file, "stackConfigDir", `"${rel}" is not a directory`);
    }
    stackDir = resolved;
  }

  const config: Record<string, RawValue> = {};
  if (doc.config !== undefined && doc.config !== null) {
    if (!isMapping(doc.config)) {
      fail("config", "expected a mapping of config keys");
    } else {
      for (const [k, entry] of Object.entries(doc.config)) {
        const key = k.includes(":") ? k : `${PROJECT}:${k}`;
        const value = projectConfigValue(entry, (detail) => fail(key, detail));
        if (value !== undefined) config[key] = value;
      }
    }
  }
  return { dir, file, stackDir, config, problems, ...(doc.main !== undefined ? { mainSet: true } : {}) };
}

/** Refuses a runtime other than Node.js, and any runtime option this project does not use (`nodeargs` runs code before the program). */
function runtimeProblems(runtime: unknown, fail: (key: string, detail: string) => void): void {
  if (runtime === undefined || runtime === null) {
    fail("runtime", "is not set: Pulumi needs it, and this program runs on nodejs");
    return;
  }
  const name = isMapping(runtime) ? runtime.name : runtime;
  if (name !== "nodejs") fail("runtime", `is ${JSON.stringify(name ?? null)}; this program runs on nodejs`);
  if (!isMapping(runtime)) return;
  const other = Object.keys(runtime).filter((k) => k !== "name" && k !== "options");
  if (other.length > 0) fail("runtime", `unknown key${other.length > 1 ? "s" : ""} ${other.join(", ")} (known: name, options)`);
  const options = runtime.options;
  if (options === undefined || options === null) return;
  if (!isMapping(options)) {
    fail("runtime", "options: expected a mapping");
    return;
  }
  for (const [k, v] of Object.entries(options)) {
    const known = RUNTIME_OPTIONS[k];
    if (k === "nodeargs")
      fail(
        "runtime",
        `options: nodeargs passes arguments to node, which can load code before the program (--require, --import) or change how it runs: this project uses none; remove it`,
      );
    else if (!known) fail("runtime", `options: unknown option ${JSON.stringify(k)} (this project uses ${Object.keys(RUNTIME_OPTIONS).join(", ")})`);
    else if (!known.accepts(v)) fail("runtime", `options: ${k} is ${JSON.stringify(v)}; it ${known.why}`);
  }
}

/**
 * The value a project-level config entry gives every stack: a plain value, or the
 * `value` (else `default`) of a typed entry. Secrets cannot live in a project file.
 */
function projectConfigValue(entry: unknown, fail: (detail: string) => void): RawValue | undefined {
  if (!isMapping(entry)) return entry;
  if ("secure" in entry) {
    fail("a secret in the project file would be every stack's secret; set it per stack with pulumi config set --secret");
    return undefined;
  }
  const unknown = Object.keys(entry).filter((k) => !CONFIG_ENTRY_KEYS.includes(k));
  // A mapping that is not a typed entry is a plain object value (for example a list of feature flags).
  if (unknown.length === Object.keys(entry).length) return entry;
  if (unknown.length > 0) {
    fail(`unknown attribute${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} of a typed config entry (known: ${CONFIG_ENTRY_KEYS.join(", ")})`);
    return undefined;
  }
  return entry.value !== undefined ? entry.value : entry.default;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
