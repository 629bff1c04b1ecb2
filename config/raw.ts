/**
 * Raw stack configuration, before validation, from either source:
 * - a `Pulumi.<stack>.yaml` file (the offline plan, tests, audits), where secrets are ciphertext;
 * - the Pulumi engine at `pulumi up` time, where secrets arrive decrypted.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { PROJECT } from "./naming";

/** A value stored with `pulumi config set --secret`. Plaintext is known only under the engine. */
export class SecureValue {
  constructor(readonly plaintext?: string) {}
  toJSON(): string {
    return "[secret]";
  }
  toString(): string {
    return "[secret]";
  }
}

export type RawValue = unknown;

export interface RawStackConfig {
  /** Stack (= environment) name. */
  readonly stack: string;
  /** The stack file named in every error, e.g. `Pulumi.staging.yaml`. */
  readonly file: string;
  /** Fully qualified keys (`mina:databaseMode`, `aws:region`) to values. */
  readonly values: Readonly<Record<string, RawValue>>;
}

/** A config problem that names the file and the key; printed as one line, never with a stack trace. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly key: string | undefined, readonly detail: string) {
    super(key ? `${file}: ${key}: ${detail}` : `${file}: ${detail}`);
    this.name = "ConfigError";
  }
}

/** Several config problems at once: a user fixes them in one pass. */
export class ConfigErrors extends Error {
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors.map((e) => e.message).join("\n"));
    this.name = "ConfigErrors";
  }
}

const STACK_FILE = /^Pulumi\.(.+)\.ya?ml$/;

/** Qualifies `foo` as `mina:foo`, as Pulumi does for keys without a namespace. */
export function qualify(key: string): string {
  return key.includes(":") ? key : `${PROJECT}:${key}`;
}

/** Lists the stacks of a project directory from its `Pulumi.<stack>.yaml` files, sorted. */
export function listStackFiles(dir: string): { stack: string; file: string }[] {
  return fs
    .readdirSync(dir)
    .map((f) => ({ f, m: STACK_FILE.exec(f) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ stack: x.m![1], file: path.join(dir, x.f) }))
    .sort((a, b) => a.stack.localeCompare(b.stack));
}

/** Parses the text of a stack file. Secure values become `SecureValue`s without plaintext. */
export function parseStackFile(text: string, stack: string, file: string): RawStackConfig {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    const first = String((e as Error).message).split("\n")[0];
    throw new ConfigError(file, undefined, `not valid YAML: ${first}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(file, undefined, "expected a mapping at the top level");
  const config = (doc as Record<string, unknown>).config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new ConfigError(file, "config", "expected a mapping of config keys");
  }
  const values: Record<string, RawValue> = {};
  for (const [k, v] of Object.entries(config as Record<string, unknown>)) values[qualify(k)] = fromYaml(v);
  return { stack, file, values };
}

function fromYaml(v: unknown): RawValue {
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.secure === "string") return new SecureValue();
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromYaml(x)]));
  }
  if (Array.isArray(v)) return v.map(fromYaml);
  return v;
}

/** Reads `Pulumi.<stack>.yaml` from a project directory. */
export function readStackFile(dir: string, stack: string): RawStackConfig {
  const candidates = [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`].map((f) => path.join(dir, f));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) throw new ConfigError(path.basename(candidates[0]), undefined, `no such stack file in ${dir}`);
  return parseStackFile(fs.readFileSync(file, "utf8"), stack, path.basename(file));
}

/**
 * Builds raw config from what the Pulumi engine passes the program: every value is a
 * string (objects and lists JSON-encoded); secrets are decrypted and flagged.
 */
export function fromEngine(
  stack: string,
  all: Record<string, string>,
  isSecret: (key: string) => boolean,
): RawStackConfig {
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
