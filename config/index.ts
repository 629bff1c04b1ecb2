/** Config entry point: load a stack's config from a stack file (offline) or from the engine, validated. */
import * as path from "path";
import { ConfigErrors, fromEngine, listStackFiles, parseStackFile, RawStackConfig, readStackFile } from "./raw";
import { validateStack, ValidatedStack } from "./validate";
import * as fs from "fs";

export * from "./raw";
export * from "./validate";
export * from "./naming";
export * from "./variables";

/** Reads every stack file of a project directory (unvalidated), for identities and audits. Throws on the first unreadable one. */
export function readAllStacks(dir: string): RawStackConfig[] {
  const { stacks, errors } = readStacksLeniently(dir);
  if (errors.size > 0) throw [...errors.values()][0];
  return stacks;
}

/**
 * Reads every stack file it can: an unreadable one is reported against its stack
 * instead of hiding the others (whose identities still make foreign values fail).
 */
export function readStacksLeniently(dir: string): { stacks: RawStackConfig[]; errors: Map<string, Error> } {
  const stacks: RawStackConfig[] = [];
  const errors = new Map<string, Error>();
  for (const { stack, file } of listStackFiles(dir)) {
    try {
      stacks.push(parseStackFile(fs.readFileSync(file, "utf8"), stack, path.basename(file)));
    } catch (e) {
      errors.set(stack, e as Error);
    }
  }
  return { stacks, errors };
}

/** Offline: validates `Pulumi.<stack>.yaml` against its siblings; missing secrets are listed, not refused. */
export function loadStackOffline(dir: string, stack: string, siblings = readAllStacks(dir)): ValidatedStack {
  return validateStack(readStackFile(dir, stack), { siblings, requireSecrets: false });
}

/** Under the engine: every required secret must be set. */
export function loadStackFromEngine(
  dir: string,
  stack: string,
  all: Record<string, string>,
  isSecret: (key: string) => boolean,
): ValidatedStack {
  return validateStack(fromEngine(stack, all, isSecret), { siblings: readAllStacks(dir), requireSecrets: true });
}

export { ConfigErrors };
