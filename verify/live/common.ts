/**
 * What the live checks share: the checklist line, bounded waits, and error
 * messages cut to one line with every secret of the URL masked.
 */
import { ENVIRONMENT_PATTERN } from "../../config/naming";

/** One line of the checklist. */
export interface CheckResult {
  item: string;
  ok: boolean;
  reason: string;
}

export const DEFAULT_TIMEOUT_MS = 5000;

export function assertEnvironment(environment: string): void {
  if (!ENVIRONMENT_PATTERN.test(environment)) {
    throw new Error(`"${environment}" is not a valid environment name (lowercase letters, digits, single hyphens)`);
  }
}

export function positiveTimeout(timeoutMs: number | undefined): number {
  const t = timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(t) || t <= 0) throw new Error(`timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  return Math.ceil(t);
}

/**
 * A one-line error message without stack trace, with every secret masked.
 * Node reports a refused connection to a name with several addresses as an
 * AggregateError with an empty message: its inner errors are used instead.
 */
export function describeError(err: unknown, secrets: readonly string[]): string {
  let message: string;
  if (err instanceof AggregateError && !err.message) {
    message = err.errors.map((e) => (e instanceof Error ? e.message : String(e))).join("; ");
  } else if (err instanceof Error) {
    message = err.message;
    const detail = (err as { detail?: unknown }).detail;
    if (typeof detail === "string" && detail) message += ` (${detail})`;
  } else {
    message = String(err);
  }
  if (!message) {
    const code = (err as { code?: unknown } | null)?.code;
    message = typeof code === "string" ? code : "unknown error";
  }
  for (const secret of secrets) {
    if (secret) message = message.split(secret).join("***");
  }
  message = message.split(/\r?\n/)[0]!.trim();
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}

/** What to mask in messages: the raw URL and the password as written and decoded. */
export function urlSecrets(rawUrl: string, parsed?: { secrets: readonly string[] }): string[] {
  return [rawUrl, ...(parsed?.secrets ?? [])].filter((s) => s.length > 0);
}

/** Runs `work`, rejecting with a timeout error after `ms` (the timer never keeps the process alive). */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
