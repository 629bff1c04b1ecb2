/** Upstash rule: an environment's Redis database accepts TLS connections only. */
import { isUnknown, type Rule } from "./types";

export const REDIS_DATABASE = "upstash:index/redisDatabase:RedisDatabase";

/** `tls` is true on every Upstash Redis database. */
export function upstashTls(): Rule {
  return {
    name: "upstash-tls",
    description: "Every Upstash Redis database has TLS on.",
    scope: "resource",
    checkResource(r) {
      if (r.type !== REDIS_DATABASE) return [];
      const v = r.props.tls;
      if (isUnknown(v) || v === true) return [];
      return [`tls is ${v === undefined ? "not set" : String(v)}; the Redis database accepts TLS connections only (rediss://)`];
    },
  };
}
