import * as pulumi from "@pulumi/pulumi";
import * as upstash from "@upstash/pulumi";
import type { Names } from "../config/naming";
import type { Protection } from "../config/protection";
import type { Secret } from "../config/stackConfig";
import { secretInput } from "./secretInput";
import { buildRedisUrl } from "./urls";

export interface CacheArgs {
  readonly names: Names;
  readonly protection: Protection;
  /** Upstash primary region, e.g. `us-east-1`. */
  readonly primaryRegion: string;
  /** This stack's own Upstash credentials. */
  readonly upstashEmail: string;
  readonly upstashApiKey: Secret;
  /** Monthly budget in US dollars (config: mina:redisBudget). */
  readonly budget: number;
}

/**
 * The Redis database's arguments, decided in plain code. TLS is always on. The budget
 * caps the month's pay-as-you-go bill; without one the provider's default ($20) would
 * throttle a busy production cache.
 */
export function redisDatabaseArgs(names: Names, primaryRegion: string, budget: number) {
  return { databaseName: names.redisDatabase, region: "global", primaryRegion, tls: true, eviction: false, budget };
}

/** An Upstash Redis database of the environment's own; emits `REDIS_URL` as `rediss://`. */
export class Cache extends pulumi.ComponentResource {
  /** `REDIS_URL`, secret. */
  readonly url: pulumi.Output<string>;
  readonly databaseName: string;

  constructor(name: string, args: CacheArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mina:index:Cache", name, {}, opts);
    this.databaseName = args.names.redisDatabase;
    const provider = new upstash.Provider(
      `${name}-upstash`,
      {
        email: args.upstashEmail,
        apiKey: secretInput(args.upstashApiKey),
      },
      { parent: this },
    );
    const db = new upstash.RedisDatabase(`${name}-redis`, redisDatabaseArgs(args.names, args.primaryRegion, args.budget), {
      parent: this,
      provider,
      protect: args.protection.protect,
    });
    this.url = pulumi.secret(
      pulumi.all([db.password, db.endpoint, db.port]).apply(([password, endpoint, port]) => buildRedisUrl({ password, endpoint, port })),
    );
    this.registerOutputs({ url: this.url, databaseName: this.databaseName });
  }
}
