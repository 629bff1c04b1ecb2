/** Config problems: each names the file and the key, and prints as one line, never with a stack trace. */

/** A config problem that names the file and the key. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly key: string | undefined,
    readonly detail: string,
  ) {
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
