/** The project a command works on, and the stacks it has: checked once, with one clear line. */
import * as path from "node:path";
import { listStackFiles } from "../../config";
import { defaultProjectDir, shownPath } from "../../lib/root";
import type { Io } from "./run";
import { UsageError } from "./run";

/** `--dir`, resolved where the user stands; by default the nearest directory with a Pulumi.yaml. */
export function projectDir(io: Io, dir: string | undefined): string {
  return dir ? path.resolve(io.cwd, dir) : defaultProjectDir(io.cwd);
}

/** The project's stacks; refuses a directory with none, and any name that is not one of them. */
export function requireStacks(io: Io, dir: string, names: readonly string[]): string[] {
  let stacks: string[];
  try {
    stacks = listStackFiles(dir).map((s) => s.stack);
  } catch (e) {
    throw new UsageError(String((e as Error).message).split("\n")[0]);
  }
  if (stacks.length === 0)
    throw new UsageError(`no stack files (Pulumi.<stack>.yaml) in ${shownPath(dir, io.cwd) || "."}; pass --dir with the project directory`);
  const unknown = names.filter((n) => !stacks.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`no stack named ${unknown.join(", ")} (stacks: ${stacks.join(", ")})`);
  }
  return stacks;
}

/**
 * The stacks a `--stack <name...>` option names: repeatable, several after one
 * flag, commas splitting too (`--stack a b`, `--stack a --stack b`, `--stack a,b`).
 */
export function stackNames(values: readonly string[] | undefined): string[] | undefined {
  return values
    ?.flatMap((s) => s.split(","))
    .map((s) => s.trim())
    .filter(Boolean);
}
