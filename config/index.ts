/** Config entry point: load a stack's config from a stack file (offline) or from the engine, validated. */
import * as fs from "node:fs";
import * as path from "node:path";
import { firstLine } from "../lib/errors";
import { ConfigError } from "./errors";
import { readProject, type ProjectFile } from "./project";
import { ConfigErrors, fromEngine, listStackFiles, parseStackFile, type RawStackConfig, stackFilePath } from "./raw";
import type { ValidatedStack } from "./stackConfig";
import { validateStack } from "./validation/validate";

export * from "./raw";
export * from "./validation/validate";
export * from "./stackConfig";
export * from "./naming";
export * from "./variables";
export { readProject } from "./project";
export type { ProjectFile } from "./project";

/**
 * Every stack file of a project, with the project-level config each inherits.
 * A stack file that cannot be read is kept, marked `unreadable`: validation of
 * every other stack then fails closed naming it, since its identifiers are unknown.
 */
export function readAllStacks(dir: string): RawStackConfig[] {
  return readStacksLeniently(dir).stacks;
}

/**
 * Reads every stack file it can. An unreadable one is reported against its stack
 * (and kept as an `unreadable` entry) instead of hiding the others, whose identities
 * still make foreign values fail.
 */
export function readStacksLeniently(dir: string): { stacks: RawStackConfig[]; errors: Map<string, Error> } {
  const project = readProject(dir);
  const stacks: RawStackConfig[] = [];
  const errors = new Map<string, Error>();
  for (const { stack, file } of listStackFiles(dir)) {
    try {
      stacks.push(withProjectConfig(parseStackFile(fs.readFileSync(file, "utf8"), stack, path.basename(file)), project));
    } catch (e) {
      const error = e instanceof ConfigError ? e : new ConfigError(path.basename(file), undefined, firstLine(e));
      errors.set(stack, error);
      stacks.push({ stack, file: path.basename(file), values: {}, unreadable: error.message });
    }
  }
  return { stacks, errors };
}

/** Project-level values apply to every stack that does not set the key itself (Pulumi's precedence). */
export function withProjectConfig(raw: RawStackConfig, project: ProjectFile): RawStackConfig {
  const inherited = Object.keys(project.config).filter((k) => !(k in raw.values));
  if (inherited.length === 0) return raw;
  const values = { ...raw.values };
  for (const k of inherited) values[k] = project.config[k];
  return { ...raw, values, inherited };
}

/** Offline: validates `Pulumi.<stack>.yaml` against its siblings; missing secrets are listed, not refused. */
export function loadStackOffline(dir: string, stack: string, siblings = readAllStacks(dir)): ValidatedStack {
  const own = siblings.find((s) => s.stack === stack);
  if (!own) throw new ConfigError(`Pulumi.${stack}.yaml`, undefined, `no such stack file in ${readProject(dir).stackDir}`);
  return validateStack(own, { siblings, project: readProject(dir), requireSecrets: false });
}

/**
 * Under the engine: the values come decrypted from the engine (project-level and
 * ESC values included); what the stack file says outside `config:` (ESC imports,
 * secrets provider, ciphertexts) is read from the file itself. Every required
 * secret must be set. Any problem is a `ConfigError(s)`, one line each.
 */
export function loadStackFromEngine(dir: string, stack: string, all: Record<string, string>, isSecret: (key: string) => boolean): ValidatedStack {
  const project = readProject(dir);
  const siblings = readAllStacks(dir);
  const file = stackFilePath(dir, stack);
  if (!file) {
    // Config held by the service instead of a file cannot be checked against the other stack files.
    throw new ConfigError(
      `Pulumi.${stack}.yaml`,
      undefined,
      `no such stack file in ${project.stackDir}: every stack's config lives in its own stack file, where the other stacks are checked against it`,
    );
  }
  const own = siblings.find((s) => s.stack === stack);
  if (own?.unreadable) throw new ConfigErrors([new ConfigError(own.file, undefined, own.unreadable.replace(/^[^:]+: /, ""))]);
  const raw = { ...fromEngine(stack, all, isSecret), file: path.basename(file), meta: own?.meta };
  return validateStack(raw, { siblings, project, requireSecrets: true });
}
