/** Reads an env file (verify, audit, migrate, swap), with one-line errors. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseEnvFile } from "./format";
import { CommandError, UsageError } from "../lib/errors";

/** Reads `file` (an absolute path); `shown` is how the user wrote it, for the message. */
export function readEnvFile(file: string, shown = file): Record<string, string> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // A file the command line names that is not there: the command line is wrong.
    if (code === "ENOENT") throw new UsageError(`cannot read ${shown}: no such file`);
    throw new CommandError(`cannot read ${shown}: ${code ?? (e as Error).message}`);
  }
  return parseEnvFile(text);
}

/** `.env.staging.local` / `.env.staging` -> `staging`; undefined when the name says nothing. */
export function stackFromFileName(file: string): string | undefined {
  const m = /^\.env\.([a-z][a-z0-9-]*?)(?:\.local)?$/.exec(path.basename(file));
  return m ? m[1] : undefined;
}
