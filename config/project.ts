/**
 * The project file, `Pulumi.yaml`, read the way Pulumi reads it: where the stack
 * files live (`stackConfigDir`) and the project-level config every stack inherits.
 * Anything it does not understand is refused: a key Pulumi would honour and this
 * code ignored is exactly how a check gets bypassed.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "./naming";
import { firstLine } from "../lib/errors";
import { ConfigError } from "./errors";
import type { RawValue } from "./raw";

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
  /** `Pulumi.yaml` (or `Pulumi.yml`), as named in messages; `undefined` when there is none. */
  readonly file?: string;
  /** Where the stack files are: `stackConfigDir`, or the project directory. */
  readonly stackDir: string;
  /** Project-level config values, keys qualified (`mina:logLevel`), that every stack inherits. */
  readonly config: Readonly<Record<string, RawValue>>;
  /** Problems that do not stop locating the stack files; reported by every stack's validation. */
  readonly problems: readonly ConfigError[];
}

const cache = new Map<string, { mtimeMs: number; project: ProjectFile }>();

function projectFileIn(dir: string): string | undefined {
  return ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
}

/**
 * Reads a project directory's `Pulumi.yaml`. A directory without one is a bare
 * folder of stack files (tests, scratch copies): no project config, stacks beside it.
 * Throws a one-line `ConfigError` when the file cannot say where the stacks are.
 */
export function readProject(dir: string): ProjectFile {
  const abs = path.resolve(dir);
  const found = projectFileIn(abs);
  if (!found) return { dir: abs, stackDir: abs, config: {}, problems: [] };
  const mtimeMs = fs.statSync(found).mtimeMs;
  const hit = cache.get(found);
  if (hit && hit.mtimeMs === mtimeMs) return hit.project;
  const project = parseProjectFile(fs.readFileSync(found, "utf8"), abs, path.basename(found));
  cache.set(found, { mtimeMs, project });
  return project;
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
  return { dir, file, stackDir, config, problems };
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
