/**
 * Masking an env file's values in a CI log. GitHub Actions hides every string a
 * step registers with `::add-mask::` from the rest of the job's log; the deploy
 * job registers the env file's values right after writing it, and `migrate` passes
 * its child's output through the same list before printing it.
 *
 * Every value is masked, with one reviewed exception: a value that is only a
 * boolean, a whole number, a log level or the environment's own name carries no
 * secret, and masking it would hide every `true`, `200` or `staging` in the log.
 * A credential inside a URL is masked on its own too, as written and decoded, so
 * that a library printing the URL another way still shows no password.
 */
import { LOG_LEVELS } from "../config/defaults";
import { VARIABLES } from "../config/variables";

/** Values that can hold no secret, whatever their variable. */
function harmless(value: string, environment: string | undefined): boolean {
  return /^(true|false|\d{1,6})$/i.test(value) || (LOG_LEVELS as readonly string[]).includes(value) || (environment !== undefined && value === environment);
}

/** The password and user of a URL, as written and decoded (empty when the value is not a URL with credentials). */
function urlCredentials(value: string): string[] {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/?#]*)@/i.exec(value);
  if (!m) return [];
  const parts = m[1].split(":");
  const out: string[] = [];
  for (const part of parts.slice(parts.length > 1 ? 1 : 0)) {
    out.push(part);
    try {
      out.push(decodeURIComponent(part));
    } catch {
      // not percent-encoded: as written only
    }
  }
  return out;
}

/**
 * The strings to mask for an env file's values: each value (each line of a
 * multi-line one), and the credentials inside URLs; longest first, so that a
 * replacement never leaves part of a longer secret behind.
 */
export function maskedValues(env: Readonly<Record<string, string>>): string[] {
  const environment = env.ENVIRONMENT;
  const secretNames = new Set(VARIABLES.filter((v) => v.secret).map((v) => v.name));
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    for (const piece of [value, ...value.split(/\r?\n/), ...urlCredentials(value)]) {
      const s = piece.trim();
      if (s === "") continue;
      // A secret variable's value is masked whatever it looks like.
      if (!secretNames.has(name) && harmless(s, environment)) continue;
      out.add(s);
    }
  }
  return [...out].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** The `::add-mask::` workflow commands for an env file's values, one line each. */
export function githubMaskCommands(env: Readonly<Record<string, string>>): string {
  return maskedValues(env)
    .map((v) => `::add-mask::${v}\n`)
    .join("");
}

/** `text` with every masked value replaced by `***`. */
export function maskText(text: string, masked: readonly string[]): string {
  let out = text;
  for (const m of masked) out = out.split(m).join("***");
  return out;
}
