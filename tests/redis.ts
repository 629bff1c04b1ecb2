/**
 * Redis database indexes for tests on the machine's Redis. Test files run in
 * parallel, and an index with no environment marker is free only until a test
 * claims it, so looking for one is not enough: each test reserves the indexes it
 * uses with a key of its own in database 0 (SET NX, expiring in case a run dies),
 * so no two test files ever pick the same index, and releases them when done.
 */
import { createClient } from "@redis/client";
import { REDIS_MARKER_KEY } from "../verify/live";

const reservation = (index: number) => `mina-tests:reserved-index:${index}`;

const redisClient = (index: number) => createClient({ socket: { host: "127.0.0.1", port: 6379, reconnectStrategy: false }, database: index });

/** Runs `fn` with a connection to database `index` of the machine's Redis, then closes it. */
export async function withRedis<T>(index: number, fn: (r: ReturnType<typeof redisClient>) => Promise<T>): Promise<T> {
  const r = redisClient(index);
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.destroy();
  }
}

/** Reserves, for `owner`, a database index (1-15) that holds no environment marker and is not in `taken`. */
export async function reserveRedisIndex(owner: string, taken: readonly number[] = []): Promise<number> {
  return withRedis(0, async (r) => {
    for (let i = 15; i >= 1; i--) {
      if (taken.includes(i)) continue;
      if ((await r.set(reservation(i), owner, { condition: "NX", expiration: { type: "EX", value: 600 } })) !== "OK") continue;
      await r.select(i);
      const marked = await r.exists(REDIS_MARKER_KEY);
      await r.select(0);
      if (marked === 0) return i;
      await r.del(reservation(i));
    }
    throw new Error("no Redis database index (1-15) is free: each holds an environment marker or is reserved by a running test");
  });
}

/** Gives back every index `owner` reserved. */
export async function releaseRedisIndexes(owner: string): Promise<void> {
  await withRedis(0, async (r) => {
    for (let i = 1; i <= 15; i++) if ((await r.get(reservation(i))) === owner) await r.del(reservation(i));
  });
}
