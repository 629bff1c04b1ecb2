/** Failures a command reports in one line, never with a stack trace. */

/** Bad usage: the command exits 2. */
export class UsageError extends Error {}

/** A failure whose message is already the whole story: the command exits 1. */
export class CommandError extends Error {}

/** The first line of an error's message (or of any text), for one-line reports. */
export function firstLine(e: unknown): string {
  return String(e instanceof Error ? e.message : e).split("\n")[0];
}
