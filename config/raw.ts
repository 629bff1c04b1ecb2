/**
 * Raw stack configuration, before validation, from either source:
 * - a `Pulumi.<stack>.yaml` file (the offline plan, tests, audits), where secrets are ciphertext;
 * - the Pulumi engine at `pulumi up` time, where secrets arrive decrypted.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { ConfigError, ConfigErrors } from "./errors";
import { ENVIRONMENT_PATTERN, PROJECT } from "./naming";
import { type RawValue, readProject } from "./project";

/**
 * A value stored with `pulumi config set --secret`. Plaintext is known only under
 * the engine; offline the stack file's ciphertext is kept (never printed) so two
 * stack files holding the same ciphertext can be told apart from two secrets.
 */
export class SecureValue {
  declare readonly ciphertext?: string;
  constructor(
    readonly plaintext?: string,
    ciphertext?: string,
  ) {
    // Not enumerable: a ciphertext never reaches a message, a plan or JSON by accident.
    if (ciphertext !== undefined) Object.defineProperty(this, "ciphertext", { value: ciphertext, enumerable: false });
  }
  toJSON(): string {
    return "[secret]";
  }
  toString(): string {
    return "[secret]";
  }
}

/** What a stack file says outside `config:`: every field Pulumi reads there. */
export interface StackFileMeta {
  /** Top-level keys no stack file has (refused by validation). */
  readonly unknownKeys: readonly string[];
  /** Pulumi ESC environments the stack imports (`environment:`). */
  readonly environmentImports: readonly string[];
  /** Why the `environment:` field cannot be read, when it cannot. */
  readonly environmentProblem?: string;
  readonly secretsProvider?: string;
  readonly encryptedKey?: string;
  readonly encryptionSalt?: string;
  /** A digest of every `secure:` ciphertext in the file, by key: enough to find a copy, nothing to print. */
  readonly ciphertexts: readonly { readonly key: string; readonly digest: string }[];
  /** A field of the wrong type (e.g. `secretsprovider: [..]`), by key. */
  readonly malformed: readonly { readonly key: string; readonly detail: string }[];
}

export interface RawStackConfig {
  /** Stack (= environment) name. */
  readonly stack: string;
  /** The stack file named in every error, e.g. `Pulumi.staging.yaml`. */
  readonly file: string;
  /** Fully qualified keys (`mina:databaseMode`, `aws:region`) to values. */
  readonly values: Readonly<Record<string, RawValue>>;
  /** The stack file's other fields, when read from a file. */
  readonly meta?: StackFileMeta;
  /** Set when the stack file cannot be read: the one-line reason. Its values are then empty. */
  readonly unreadable?: string;
  /** Project-level config keys (from `Pulumi.yaml`) that this stack inherits and does not override. */
  readonly inherited?: readonly string[];
}

export { ConfigError, ConfigErrors };

/** The top-level fields of a stack file (Pulumi's stack settings file reference). */
export const STACK_FILE_KEYS = ["config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt"] as const;

/**
 * Anything Pulumi could read as a stack file of this project: `Pulumi.<anything>.yaml`
 * (stack files take the project file's extension; other extensions are refused by
 * config/project.ts).
 */
const PULUMI_YAML = /^Pulumi\.(.+)\.yaml$/;

/** A committed template (`Pulumi.review.template.yaml`, read by `env:new`): never a stack file. */
export const TEMPLATE_FILE = /^Pulumi\.([a-z][a-z0-9-]*)\.template\.yaml$/;

/**
 * The stack a file name holds: `Pulumi.<stack>.yaml` where `<stack>` can name an
 * environment (`ENVIRONMENT_PATTERN`); undefined for any other file, a template
 * (`Pulumi.review.template.yaml` is not a stack named `review.template`) included.
 */
export function stackOfFileName(name: string): string | undefined {
  const stack = PULUMI_YAML.exec(name)?.[1];
  return stack !== undefined && ENVIRONMENT_PATTERN.test(stack) ? stack : undefined;
}

/** Qualifies `foo` as `mina:foo`, as Pulumi does for keys without a namespace. */
export function qualify(key: string): string {
  return key.includes(":") ? key : `${PROJECT}:${key}`;
}

/**
 * Lists the stacks of a project from its `Pulumi.<stack>.yaml` files (in `stackConfigDir`
 * when set), sorted. Only names that can name an environment are stacks (`stackOfFileName`);
 * the other `Pulumi.*.yaml` files are in `misnamedStackFiles`.
 */
export function listStackFiles(dir: string): { stack: string; file: string }[] {
  const stackDir = readProject(dir).stackDir;
  return fs
    .readdirSync(stackDir)
    .map((f) => ({ f, stack: stackOfFileName(f) }))
    .filter((x): x is { f: string; stack: string } => x.stack !== undefined)
    .map((x) => ({ stack: x.stack, file: path.join(stackDir, x.f) }))
    .sort((a, b) => a.stack.localeCompare(b.stack));
}

/**
 * Files named like a stack file whose name cannot name an environment (`Pulumi.Staging.yaml`,
 * `Pulumi.pr_1.yaml`), templates aside. No stack of this program can use them (its
 * validation refuses such a stack name), and the plan names each one rather than skip it.
 */
export function misnamedStackFiles(dir: string): { stack: string; file: string }[] {
  const stackDir = readProject(dir).stackDir;
  return fs
    .readdirSync(stackDir)
    .filter((f) => PULUMI_YAML.test(f) && stackOfFileName(f) === undefined && !TEMPLATE_FILE.test(f))
    .map((f) => ({ stack: PULUMI_YAML.exec(f)![1], file: path.join(stackDir, f) }))
    .sort((a, b) => a.stack.localeCompare(b.stack));
}

/** Parses the text of a stack file. Secure values become `SecureValue`s without plaintext. */
export function parseStackFile(text: string, stack: string, file: string): RawStackConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    const first = String((e as Error).message)
      .split("\n")[0]
      .replace(/[:\s]+$/, "");
    throw new ConfigError(file, undefined, `not valid YAML: ${first}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(file, undefined, "expected a mapping at the top level");
  const top = doc as Record<string, unknown>;
  const config = top.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError(file, "config", "expected a mapping of config keys");
  }
  const ciphertexts: { key: string; digest: string }[] = [];
  const values: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) values[qualify(k)] = fromYaml(v, qualify(k), ciphertexts);
  return { stack, file, values, meta: metaOf(top, ciphertexts) };
}

function metaOf(top: Record<string, unknown>, ciphertexts: { key: string; digest: string }[]): StackFileMeta {
  const malformed: { key: string; detail: string }[] = [];
  const str = (key: string): string | undefined => {
    const v = top[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    malformed.push({ key, detail: "expected a string" });
    return undefined;
  };
  const { imports, problem } = environmentImports(top.environment);
  return {
    unknownKeys: Object.keys(top).filter((k) => !(STACK_FILE_KEYS as readonly string[]).includes(k)),
    environmentImports: imports,
    ...(problem ? { environmentProblem: problem } : {}),
    secretsProvider: str("secretsprovider"),
    encryptedKey: str("encryptedkey"),
    encryptionSalt: str("encryptionsalt"),
    ciphertexts,
    malformed,
  };
}

/**
 * The ESC environments a stack imports. Pulumi accepts a list of names, or an
 * environment definition; only its `imports` list is understood here: an inline
 * definition with values of its own would feed config that no stack file shows.
 */
function environmentImports(v: unknown): { imports: string[]; problem?: string } {
  if (v === undefined || v === null) return { imports: [] };
  const list = (x: unknown): string[] | undefined => (Array.isArray(x) && x.every((i) => typeof i === "string") ? (x as string[]) : undefined);
  const direct = list(v);
  if (direct) return { imports: direct };
  if (typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const other = Object.keys(o).filter((k) => k !== "imports");
    const imports = list(o.imports ?? []);
    if (other.length === 0 && imports) return { imports };
    if (other.length > 0) {
      return {
        imports: imports ?? [],
        problem: `an inline environment definition (${other.join(", ")}) is refused: its values would reach the stack's config unseen; import named ESC environments only`,
      };
    }
  }
  return { imports: [], problem: "expected a list of ESC environment names" };
}

function fromYaml(v: unknown, key: string, ciphertexts: { key: string; digest: string }[]): RawValue {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.secure === "string") {
      ciphertexts.push({ key, digest: createHash("sha256").update(o.secure.trim()).digest("hex") });
      return new SecureValue(undefined, o.secure);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromYaml(x, key, ciphertexts)]));
  }
  if (Array.isArray(v)) return v.map((x) => fromYaml(x, key, ciphertexts));
  return v;
}

/** The stack file of `stack` in a project (in `stackConfigDir` when set), or undefined: `Pulumi.<stack>.yaml`, the one Pulumi reads. */
export function stackFilePath(dir: string, stack: string): string | undefined {
  const file = path.join(readProject(dir).stackDir, `Pulumi.${stack}.yaml`);
  return fs.existsSync(file) ? file : undefined;
}

/**
 * Builds raw config from what the Pulumi engine passes the program: every value is a
 * string (objects and lists JSON-encoded); secrets are decrypted and flagged.
 */
export function fromEngine(stack: string, all: Record<string, string>, isSecret: (key: string) => boolean): RawStackConfig {
  const values: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(all)) {
    values[k] = isSecret(k) ? new SecureValue(v) : decodeEngineValue(v);
  }
  return { stack, file: `Pulumi.${stack}.yaml`, values };
}

function decodeEngineValue(v: string): RawValue {
  const t = v.trim();
  if (t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}
