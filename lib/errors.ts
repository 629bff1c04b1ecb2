/** Failures a command reports in one line, never with a stack trace. */

/** Bad usage: the command exits 2. */
export class UsageError extends Error {}

/** A failure whose message is already the whole story: the command exits 1. */
export class CommandError extends Error {}
