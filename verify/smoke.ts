/**
 * The smoke check: `GET /api/version` on an environment's host answers 200 within a
 * timeout and reports that environment (the staging guide's check that staging says
 * `"environment": "staging"`). A redirect, an error status, a body that is not the
 * expected JSON, or another environment's answer fails, in one line naming both.
 * Retries with backoff while a deploy is still rolling out (errors, timeouts, 5xx).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Front } from "../config/stackConfig";

export interface SmokeResult {
  readonly ok: boolean;
  /** One line: what was asked and what came back. */
  readonly reason: string;
  readonly status?: number;
  /** The environment the answer reports, when it reports one. */
  readonly environment?: string;
  /** The app version the answer reports (`"version"`), when it reports one: the deploy job migrates at it. */
  readonly version?: string;
  readonly attempts: number;
}

export interface SmokeOptions {
  /** Bound of each request, in milliseconds (default 5000). */
  readonly timeoutMs?: number;
  /** Further attempts after a retryable failure (default 0). */
  readonly retries?: number;
  /** First wait between attempts, doubled each time (default 1000 ms). */
  readonly backoffMs?: number;
}

/** One attempt; `retry` says whether another attempt could change the answer. */
async function attempt(url: URL, expected: string, timeoutMs: number): Promise<Omit<SmokeResult, "attempts"> & { retry: boolean }> {
  const where = `GET ${url.href}`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why = err.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.message.split("\n")[0]);
    return { ok: false, retry: true, reason: `${where}: ${why}` };
  }
  if (res.status >= 300 && res.status < 400) {
    const location = res.headers.get("location") ?? "(no Location)";
    let host = location;
    try {
      host = new URL(location, url).host;
    } catch {
      // keep the header as it is
    }
    return {
      ok: false,
      retry: false,
      status: res.status,
      reason: `${where} answered ${res.status}, a redirect to ${host}: the version endpoint must answer itself`,
    };
  }
  if (res.status !== 200) return { ok: false, retry: res.status >= 500, status: res.status, reason: `${where} answered ${res.status}` };
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return { ok: false, retry: false, status: 200, reason: `${where} answered 200 but not JSON` };
  }
  const environment = body && typeof body === "object" ? (body as { environment?: unknown }).environment : undefined;
  if (typeof environment !== "string") return { ok: false, retry: false, status: 200, reason: `${where} answered 200 with no "environment"` };
  if (environment !== expected) {
    return {
      ok: false,
      retry: false,
      status: 200,
      environment,
      reason: `${where} reports environment "${environment}", but this is ${expected}'s host: another environment is answering here`,
    };
  }
  const reported = (body as { version?: unknown }).version;
  const version = typeof reported === "string" && reported !== "" ? reported : undefined;
  return {
    ok: true,
    retry: false,
    status: 200,
    environment,
    ...(version !== undefined ? { version } : {}),
    reason: `${where} answered 200, environment "${environment}"`,
  };
}

/** Runs the smoke check against `url` for `expected`, with retries for a deploy still rolling out. */
export async function smokeCheck(url: string, expected: string, opts: SmokeOptions = {}): Promise<SmokeResult> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, reason: `${JSON.stringify(url)} is not a URL`, attempts: 0 };
  }
  if (target.protocol !== "https:" && target.protocol !== "http:") return { ok: false, reason: `${url}: only http(s) URLs are checked`, attempts: 0 };
  const timeoutMs = opts.timeoutMs ?? 5000;
  const retries = opts.retries ?? 0;
  let wait = opts.backoffMs ?? 1000;
  for (let i = 0; ; i++) {
    const { retry, ...result } = await attempt(target, expected, timeoutMs);
    if (result.ok || !retry || i >= retries) return { ...result, attempts: i + 1 };
    await sleep(wait);
    wait *= 2;
  }
}

/**
 * A front's smoke result, checked against its live colour: an answer from its
 * other colour passes too (a resolver's answer cached from before a swap, for up
 * to the records' TTL, or the canary share), saying so; any other environment fails.
 */
export function frontAnswer(stack: string, front: Front, url: string, result: SmokeResult): SmokeResult {
  const live = front.colours[front.live].stack;
  const other = front.colours[front.live === "blue" ? "green" : "blue"].stack;
  if (result.ok) return { ...result, reason: `${result.reason}: ${stack}'s live colour` };
  if (result.status === 200 && result.environment === other) {
    return {
      ...result,
      ok: true,
      reason: `GET ${url} answered 200, environment "${other}": ${stack}'s other colour (a resolver's answer from before a swap, or the canary share); ${live} is live`,
    };
  }
  if (result.environment !== undefined) {
    return {
      ...result,
      reason: `GET ${url} reports environment "${result.environment}", but ${stack} is a blue/green front answered by ${live} or ${other} only: another environment is answering here`,
    };
  }
  return result;
}
