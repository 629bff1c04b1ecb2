/**
 * This machine: loopback addresses, and the one environment that may reach its
 * servers without TLS. Every deployed environment talks to Upstash and to its
 * PostgreSQL server over TLS; `local` (verify/local.ts) runs against the
 * PostgreSQL and Redis on 127.0.0.1, which speak plain TCP.
 */
import { isIP } from "node:net";

/** The environment verify/local.ts sets up on this machine's servers. */
export const LOCAL_ENVIRONMENT = "local";

/** What a loopback address is, for messages. */
export const LOOPBACK_ADDRESSES = "127.0.0.0/8, ::1, localhost";

/**
 * Whether `host` is this machine: an IPv4 address in 127.0.0.0/8, the IPv6
 * address ::1 (in any spelling) or the name `localhost`. The host is read as
 * lib/connectionUrl.ts normalises it; case, a trailing dot and IPv6 brackets are
 * tolerated. Anything else is not loopback: `0.0.0.0`, `::ffff:127.0.0.1`,
 * `foo.localhost`, `127.0.0.1.example.com`.
 */
export function isLoopbackHost(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.split(".")[0] === "127";
  if (isIP(h) === 6) {
    try {
      return new URL(`http://[${h}]`).hostname === "[::1]";
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Whether a connection without TLS (redis://, sslmode=disable) is acceptable:
 * only for the environment named exactly `local`, and only to a loopback host.
 * `LOCAL`, `local-x` or `staging` on 127.0.0.1 still need TLS.
 */
export function plainTransportAccepted(environment: string, host: string): boolean {
  return environment === LOCAL_ENVIRONMENT && isLoopbackHost(host);
}
